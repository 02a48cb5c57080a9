"""``sample_weight`` on stacks of Dask collections, and the report of a Dask-fitted stack.

A real ``LocalCluster`` of two worker processes serves the module (``client`` in
conftest.py). As in test_dask_plane.py, the features take 16 distinct values, fewer
than XGBoost's 256 bins, so its (weighted) quantile sketch is exact on one machine and
across workers alike: a distributed booster grows the trees ``XGBRegressor`` grows on
the same rows and weights, up to the order in which float32 gradient sums are added.
"""

import functools

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import KFold, PredefinedSplit

from stackkit import StackingClassifier, StackingRegressor, report
from stackkit.meta import NNLSClassifier, NNLSRegressor

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
da = pytest.importorskip("dask.array")
xgboost = pytest.importorskip("xgboost")
lightgbm = pytest.importorskip("lightgbm")
from lightgbm import DaskLGBMRegressor  # noqa: E402
from xgboost.dask import DaskXGBClassifier, DaskXGBRegressor  # noqa: E402

N_ROWS, N_PARTS = 2000, 4
TREES = dict(n_estimators=8, max_depth=3, learning_rate=0.3, tree_method="hist")
CV = KFold(4, shuffle=True, random_state=7)


def _table(seed=0):
    """Features, target and weights; a row's weight is read from its feature ``f5``."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.integers(0, 16, size=(N_ROWS, 6)).astype(np.float64),
                     columns=[f"f{i}" for i in range(6)])
    y = X.f0 - 0.5 * X.f1 + 0.3 * X.f2 * X.f3 / 16 + rng.normal(scale=1.0, size=N_ROWS)
    # heavy rows where f0 is high: the weighted fit leans towards them
    weights = np.where(X.f0 > 10, 20.0, 1.0) + X.f5 / 16
    return X, pd.Series(y, name="y"), pd.Series(weights, name="w")


def _dask(*columns, npartitions=N_PARTS):
    return [dd.from_pandas(column, npartitions=npartitions) for column in columns]


def _fold_column(stack):
    return np.asarray(stack.oof_folds_[0].folds.compute())


def _in_memory(X, y, folds, weights, final):
    """The in-memory stack on the same folds as a Dask fit (its fold column)."""
    return StackingRegressor([("xgb", xgboost.XGBRegressor(**TREES))], final,
                             cv=PredefinedSplit(folds)).fit(X, y, sample_weight=weights)


@pytest.fixture(scope="module")
def weighted(client):
    """A weighted Dask fit with an NNLS final estimator, and its in-memory twin."""
    X, y, w = _table()
    stack = StackingRegressor([("xgb", DaskXGBRegressor(**TREES))], NNLSRegressor(),
                              cv=CV).fit(*_dask(X, y), sample_weight=_dask(w)[0])
    local = _in_memory(X, y, _fold_column(stack), w, NNLSRegressor())
    return X, y, w, stack, local


def test_weighted_dask_fit_equals_the_same_folds_in_memory(weighted):
    X, y, w, stack, local = weighted
    np.testing.assert_allclose(stack.oof_.compute(), local.oof_, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(stack.final_estimator_.weights_,
                               local.final_estimator_.weights_, rtol=1e-4)
    predictions = stack.predict(_dask(X)[0]).compute()
    np.testing.assert_allclose(predictions, local.predict(X), rtol=1e-4, atol=1e-4)


def test_weights_change_the_dask_fit(weighted):
    """The in-memory fit without weights, on the same folds, gives other OOF and weights."""
    X, y, _, stack, _ = weighted
    unweighted = _in_memory(X, y, _fold_column(stack), None, NNLSRegressor())
    assert np.abs(stack.oof_.compute() - unweighted.oof_).max() > 0.1
    assert not np.allclose(stack.final_estimator_.weights_,
                           unweighted.final_estimator_.weights_, rtol=1e-3)


def test_a_collected_final_estimator_gets_the_collected_weights(client):
    X, y, w = _table(1)
    Xd, yd, wd = _dask(X, y, w)
    stack = StackingRegressor([("xgb", DaskXGBRegressor(**TREES))], LinearRegression(),
                              cv=KFold(2, shuffle=True, random_state=0)).fit(
        Xd, yd, sample_weight=wd)
    folds = _fold_column(stack)
    local = _in_memory(X, y, folds, w, LinearRegression())
    unweighted = _in_memory(X, y, folds, None, LinearRegression())
    coef = [stack.final_estimator_.intercept_, *stack.final_estimator_.coef_]
    np.testing.assert_allclose(coef, [local.final_estimator_.intercept_,
                                      *local.final_estimator_.coef_], rtol=1e-4, atol=1e-4)
    assert abs(stack.final_estimator_.coef_[0] - unweighted.final_estimator_.coef_[0]) > 1e-3


def test_routed_weights_reach_those_that_request_them(weighted):
    """With metadata routing the weights go where requested: here everywhere, as unrouted."""
    import sklearn

    X, y, w, stack, _ = weighted
    with sklearn.config_context(enable_metadata_routing=True):
        routed = StackingRegressor(
            [("xgb", DaskXGBRegressor(**TREES).set_fit_request(sample_weight=True))],
            NNLSRegressor().set_fit_request(sample_weight=True), cv=CV,
        ).fit(*_dask(X, y), sample_weight=_dask(w)[0])
    np.testing.assert_allclose(routed.oof_.compute(), stack.oof_.compute(), rtol=1e-5)
    np.testing.assert_allclose(routed.final_estimator_.weights_,
                               stack.final_estimator_.weights_, rtol=1e-6)


def _spy_on_fit(monkeypatch, cls):
    """A list that gets ``(X, sample_weight)``, collected, for each ``cls.fit`` call."""
    calls = []
    fit = cls.fit

    @functools.wraps(fit)  # keeps fit's signature: the stack asks it for sample_weight
    def spied(self, X, y, *args, sample_weight=None, **kwargs):
        calls.append(dask.compute(X, sample_weight))
        return fit(self, X, y, *args, sample_weight=sample_weight, **kwargs)

    monkeypatch.setattr(cls, "fit", spied)
    return calls


@pytest.mark.parametrize("booster", [
    DaskXGBRegressor(**TREES), DaskLGBMRegressor(n_estimators=4, num_leaves=4, verbose=-1),
], ids=["xgboost", "lightgbm"])
def test_each_booster_fits_the_weights_of_its_own_rows(client, monkeypatch, booster):
    """Every fold booster gets one weight per training row, that row's own; the refit all."""
    calls = _spy_on_fit(monkeypatch, type(booster))
    X, y, w = _table(2)
    stack = StackingRegressor([("b", booster)], NNLSRegressor(), cv=3).fit(
        *_dask(X, y), sample_weight=_dask(w)[0])
    fold_sizes = [N_ROWS - len(rows) for rows in stack.oof_folds_]
    assert sorted(len(rows) for rows, _ in calls) == sorted([N_ROWS, *fold_sizes])
    for rows, weights in calls:  # a fold's rows drop their index: a row's weight is read
        np.testing.assert_array_equal(weights.to_numpy(),  # from its own features
                                      np.where(rows.f0 > 10, 20.0, 1.0) + rows.f5 / 16)


def _count_tasks(monkeypatch):
    from stackkit import _runner

    ran = []
    run_task = _runner.run_task
    monkeypatch.setattr(_runner, "run_task",
                        lambda task, *a, **k: ran.append(task.where) or run_task(task, *a, **k))
    return ran


def _shifted_partitions(w):
    """``w`` in N_PARTS partitions whose row counts differ from X's."""
    return dd.concat([dd.from_pandas(w.iloc[:100], npartitions=1),
                      dd.from_pandas(w.iloc[100:], npartitions=N_PARTS - 1)])


# (weights from the pandas w, error, match, whether the check does no work on the cluster)
BAD_WEIGHTS = {
    "numpy": (lambda w: w.to_numpy(), TypeError,
              "X is a Dask collection, so sample_weight must be one too", True),
    "pandas": (lambda w: w, TypeError, "so sample_weight must be one too", True),
    "dask-array": (lambda w: da.from_array(w.to_numpy(), chunks=N_ROWS // N_PARTS), TypeError,
                   "sample_weight must be a Dask Series when X is a Dask DataFrame", True),
    "two-columns": (lambda w: _dask(pd.DataFrame({"a": w, "b": w}))[0], ValueError,
                    "sample_weight must be one column; got 2 columns", True),
    "strings": (lambda w: _dask(w.astype(str))[0], ValueError,
                "sample_weight must hold numbers", True),
    "partitions": (lambda w: _dask(w, npartitions=2 * N_PARTS)[0], ValueError,
                   r"sample_weight must have the same partitions \(rows per partition\)", True),
    "rows-per-partition": (_shifted_partitions, ValueError,
                           r"sample_weight must have the same partitions", False),
    "negative": (lambda w: _dask(w.where(w.index != 7, -1.0))[0], ValueError,
                 "sample_weight must be finite and non-negative", False),
    "nan": (lambda w: _dask(w.where(w.index != 7, np.nan))[0], ValueError,
            "sample_weight must be finite and non-negative", False),
    "zeros": (lambda w: _dask(w * 0.0)[0], ValueError,
              "sample_weight must contain at least one non-zero number", False),
}


@pytest.mark.parametrize("make, error, match, no_work", BAD_WEIGHTS.values(),
                         ids=BAD_WEIGHTS.keys())
def test_bad_weights_fail_before_any_fold(new_tasks, monkeypatch, make, error, match, no_work):
    """Kinds and shapes fail before the scheduler sees a task; rows per partition and
    values (read by a small reduction) before any fold task runs."""
    tasks = _count_tasks(monkeypatch)
    X, y, w = _table()
    weights = make(w)
    given = new_tasks()
    stack = StackingRegressor([("xgb", DaskXGBRegressor(**TREES))], NNLSRegressor(), cv=2)
    with pytest.raises(error, match=match):
        stack.fit(*_dask(X, y), sample_weight=weights)
    assert tasks == []
    if no_work:
        assert given() == 0


@pytest.mark.parametrize("name", ["negative", "nan", "zeros"])
def test_bad_weight_values_give_the_in_memory_error(client, name):
    make = BAD_WEIGHTS[name][0]
    X, y, w = _table()
    with pytest.raises(ValueError) as on_cluster:
        StackingRegressor([("xgb", DaskXGBRegressor(**TREES))], cv=2).fit(
            *_dask(X, y), sample_weight=make(w))
    with pytest.raises(ValueError) as in_memory:
        StackingRegressor([("ridge", Ridge())], cv=2).fit(
            X, y, sample_weight=make(w).compute().to_numpy())
    assert str(on_cluster.value) == str(in_memory.value)


def test_dask_weights_with_rows_in_memory_are_a_clear_error():
    X, y, w = _table()
    with pytest.raises(TypeError, match="sample_weight is a Dask Series but X is in memory"):
        StackingRegressor([("ridge", Ridge())], cv=2).fit(X, y, sample_weight=_dask(w)[0])
    with pytest.raises(TypeError, match="fit parameter 'ridge__sample_weight' is a Dask "
                                        "collection, but X is in memory"):
        StackingRegressor([("ridge", Ridge())], cv=2).fit(
            X, y, ridge__sample_weight=_dask(w)[0])


def test_dask_array_weights(client):
    """Arrays: weights chunked as X's rows, the fit as the same folds in memory."""
    X, y, w = _table(3)
    chunks = N_ROWS // N_PARTS
    Xa, ya, wa = (da.from_array(v.to_numpy(), chunks=chunks) for v in (X, y, w))
    stack = StackingRegressor([("xgb", DaskXGBRegressor(**TREES))], NNLSRegressor(),
                              cv=2).fit(Xa, ya, sample_weight=wa)
    local = _in_memory(X, y, _fold_column(stack), w, NNLSRegressor())
    np.testing.assert_allclose(stack.oof_.compute(), local.oof_, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="same partitions"):
        stack.fit(Xa, ya, sample_weight=wa.rechunk(chunks // 2))


@pytest.mark.parametrize("sum_to_one", [False, True])
@pytest.mark.parametrize("learner", ["regressor", "classifier"])
def test_weighted_statistics_of_blocks_equal_a_weighted_fit_on_all_rows(learner, sum_to_one):
    """No cluster: weighted sums over blocks of rows give the weights of fit(sample_weight)."""
    from stackkit.layout import Layout

    rng = np.random.default_rng(0)
    first = np.arange(600) < 300  # model "a" knows these rows, "b" the others
    weights = rng.exponential(size=600) * np.where(first, 1.0, 10.0)
    if learner == "regressor":
        y = rng.normal(size=600)
        X = np.column_stack([y + rng.normal(scale=np.where(knows, 0.3, 2.0))
                             for knows in (first, ~first)])
        layout = Layout.build(["a", "b"], ["predict"] * 2, "continuous", None, 1)
        make = NNLSRegressor
    else:
        y = rng.integers(0, 3, size=600)
        X = np.hstack([np.where(knows[:, None], 0.7 * np.eye(3)[y], 0.0)
                       + np.where(knows[:, None], 0.3, 1.0) * rng.dirichlet(np.ones(3), 600)
                       for knows in (first, ~first)])
        layout = Layout.build(["a", "b"], ["predict_proba"] * 2, "multiclass",
                              np.arange(3), 1)
        make = NNLSClassifier
    blocks = [make().statistics(X[r], y[r], sample_weight=weights[r], layout=layout)
              for r in np.array_split(np.arange(600), 5)]
    summed = {key: sum(block[key] for block in blocks) for key in blocks[0]}
    from_sums = make(sum_to_one=sum_to_one).fit_statistics(summed, layout=layout)
    direct = make(sum_to_one=sum_to_one).fit(X, y, sample_weight=weights, layout=layout)
    unweighted = make(sum_to_one=sum_to_one).fit(X, y, layout=layout)
    np.testing.assert_allclose(from_sums.weights_, direct.weights_, atol=1e-7)
    assert not np.allclose(from_sums.weights_, unweighted.weights_, atol=1e-4)


# -- the report of a Dask-fitted stack ----------------------------------------------------


def test_leaderboard_of_a_dask_fit_equals_the_same_folds_in_memory(weighted):
    """Scored on the collected OOF, weighted by the fit's weights, as in memory."""
    _, _, _, stack, local = weighted
    board, expected = report.leaderboard(stack), report.leaderboard(local)
    assert board.index.tolist() == ["xgb", "stack"]
    assert board.estimate.tolist() == ["oof", "meta-cv"]
    columns = ["score", "fold_mean", "fold_std", "weight"]
    np.testing.assert_allclose(board[columns].to_numpy(dtype=float),
                               expected[columns].to_numpy(dtype=float), rtol=1e-4, atol=1e-6)
    assert type(stack.oof_).__module__.startswith("dask.array")  # the stack is left lazy


def test_oof_correlation_of_a_dask_fit(client):
    X, y, w = _table(4)
    stack = StackingRegressor([("deep", DaskXGBRegressor(**TREES)),
                               ("stump", DaskXGBRegressor(n_estimators=4, max_depth=1))],
                              NNLSRegressor(), cv=2).fit(*_dask(X, y))
    oof = stack.oof_.compute()
    expected = np.corrcoef(oof[:, 0], oof[:, 1])[0, 1]
    correlation = report.oof_correlation(stack)
    assert correlation.index.tolist() == ["deep", "stump"]
    np.testing.assert_allclose(correlation.loc["deep", "stump"], expected)


def test_a_classifier_report_on_dask(client):
    """Class codes, probabilities and accuracy: the leaderboard of a Dask classifier."""
    X, y, _ = _table(5)
    labels = pd.Series(np.where(y > y.median(), "high", "low"), name="label")
    stack = StackingClassifier([("xgb", DaskXGBClassifier(**TREES))], NNLSClassifier(),
                               cv=2).fit(*_dask(X, labels))
    board = report.leaderboard(stack)
    oof = stack.oof_.compute()[:, 0]
    accuracy = ((oof > 0.5) == (labels == "low")).mean()  # column: the second class ("low")
    np.testing.assert_allclose(board.loc["xgb", "score"], accuracy)
    assert 0.6 < board.loc["stack", "score"] <= 1.0


def test_report_beyond_the_collect_limit_is_a_clear_error(weighted, monkeypatch):
    from stackkit import _dask_fit

    _, _, _, stack, _ = weighted
    monkeypatch.setattr(_dask_fit, "COLLECT_LIMIT_BYTES", 1000)
    with pytest.raises(ValueError, match="collected to this process.*COLLECT_LIMIT_BYTES"):
        report.leaderboard(stack)
    with pytest.raises(ValueError, match="COLLECT_LIMIT_BYTES"):
        report.oof_correlation(stack)


def test_nested_leaderboard_of_a_dask_fit_is_a_clear_error(weighted):
    X, y, _, stack, _ = weighted
    with pytest.raises(ValueError, match="not available for a stack fit on a Dask collection"):
        report.leaderboard(stack, nested=True, X=_dask(X)[0], y=_dask(y)[0])


def test_display_and_attributes_of_a_dask_fit_start_no_work(weighted, new_tasks):
    """The notebook display, repr and fitted attributes read nothing on the cluster."""
    _, _, _, stack, _ = weighted
    given = new_tasks()
    html = stack._repr_html_()
    assert "stackkit.report.leaderboard(stack) collects" in html
    assert "unavailable" not in html
    assert "StackingRegressor" in repr(stack)
    log = stack.task_log_
    assert log.status.eq("ran").all() and len(log) == 1 + CV.n_splits
    assert stack.get_feature_names_out().tolist() == ["xgb"]
    assert stack.oof_.shape == (N_ROWS, 1)
    assert given() == 0


def test_weighted_early_stopping_weighs_the_held_out_rows_too(client):
    """Each fold's booster fits on its weighted rows and stops on the weighted held-out rows."""
    X, y, w = _table()
    params = dict(TREES, n_estimators=80, learning_rate=0.6, early_stopping_rounds=3)
    stack = StackingRegressor([("xgb", DaskXGBRegressor(**params))], NNLSRegressor(), cv=CV)
    stack.fit(*_dask(X, y), sample_weight=_dask(w)[0])
    folds = _fold_column(stack)
    held_out = np.asarray(stack.oof_folds_[0].held_out.compute())
    rounds, oof = [], np.empty(N_ROWS)
    for k in range(CV.n_splits):
        fit, evaluate, test = (folds != k) & ~held_out, (folds != k) & held_out, folds == k
        model = xgboost.XGBRegressor(**params).fit(
            X[fit], y[fit], sample_weight=w[fit], eval_set=[(X[evaluate], y[evaluate])],
            sample_weight_eval_set=[w[evaluate]], verbose=False)
        rounds.append(model.best_iteration + 1)
        oof[test] = model.predict(X[test])
    np.testing.assert_array_equal(stack.best_iterations_["xgb"], rounds)
    np.testing.assert_allclose(stack.oof_.compute()[:, 0], oof, rtol=1e-4, atol=1e-4)


def test_the_collect_limit_counts_the_target_and_the_weights(client, monkeypatch):
    """2,000 rows: the OOF (8 bytes a row), the target (8) and the weights (8)."""
    from stackkit import _dask_fit

    monkeypatch.setattr(_dask_fit, "COLLECT_LIMIT_BYTES", N_ROWS * 20)
    X, y, w = _table()
    stack = StackingRegressor([("xgb", DaskXGBRegressor(**TREES))], Ridge(), cv=CV)
    stack.fit(*_dask(X, y))  # 16 bytes a row: collected
    assert stack.final_estimator_.n_features_in_ == 1
    with pytest.raises(ValueError, match=r"needs the out-of-fold predictions, target and "
                                         r"weights in memory \(0.05 MiB\)"):
        stack.fit(*_dask(X, y), sample_weight=_dask(w)[0])
