"""Stacks on Dask collections: folds per partition, distributed boosters, lazy OOF and predictions.

One real ``LocalCluster`` of two worker processes serves the whole module. The features
take 16 distinct values each, fewer than XGBoost's 256 bins, so its quantile sketch is
exact on one machine and across workers alike: a distributed booster then grows the same
trees as ``XGBRegressor`` on the same rows, and the only difference left is the order in
which the workers' gradient sums are added (float32 histograms), which the tolerances of
the comparisons below cover.
"""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GroupKFold, KFold, PredefinedSplit, StratifiedKFold

from stackkit import StackingClassifier, StackingRegressor
from stackkit._runner import Runner, backend_hint
from stackkit.meta import EnsembleSelectionRegressor, NNLSClassifier, NNLSRegressor

distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")
da = pytest.importorskip("dask.array")
xgboost = pytest.importorskip("xgboost")
lightgbm = pytest.importorskip("lightgbm")
from lightgbm import DaskLGBMClassifier, DaskLGBMRegressor  # noqa: E402
from xgboost.dask import DaskXGBClassifier, DaskXGBRegressor  # noqa: E402

N_ROWS, N_PARTS = 4000, 8
TREES = dict(n_estimators=8, max_depth=3, learning_rate=0.3, tree_method="hist")


def _table(seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.integers(0, 16, size=(N_ROWS, 6)).astype(np.float64),
                     columns=[f"f{i}" for i in range(6)])
    y = X.f0 - 0.5 * X.f1 + 0.3 * X.f2 * X.f3 / 16 + rng.normal(scale=1.0, size=N_ROWS)
    return X, pd.Series(y, name="y")


def _dask(X, y):
    return dd.from_pandas(X, npartitions=N_PARTS), dd.from_pandas(y, npartitions=N_PARTS)


def _labels(y):
    return pd.Series(np.where(y > y.quantile(0.6), "high",
                              np.where(y > y.quantile(0.3), "mid", "low")), name="label")


def test_no_client_is_a_clear_error_before_any_work():
    """Runs before the cluster fixture exists: no distributed.Client is active."""
    from dask.callbacks import Callback

    ran = []
    X, y = _dask(*_table())
    stack = StackingRegressor([("xgb", DaskXGBRegressor(**TREES))], cv=3)
    with Callback(pretask=lambda key, dsk, state: ran.append(key)):
        with pytest.raises(ValueError, match="no distributed.Client is active"):
            stack.fit(X, y)
    assert ran == []


def _count_tasks(monkeypatch):
    """A list that gets one entry per fold or refit task the runner runs."""
    from stackkit import _runner

    ran = []

    def counted(task, *args, **kwargs):
        ran.append(task.where)
        return run_task(task, *args, **kwargs)

    run_task = _runner.run_task
    monkeypatch.setattr(_runner, "run_task", counted)
    return ran


@pytest.mark.parametrize("estimators, cv, error, match", [
    ([("xgb", DaskXGBRegressor(**TREES)), ("ridge", Ridge())], 3, TypeError,
     r"estimator 'ridge' \(Ridge\) cannot take a Dask collection"),
    ([("xgb", DaskXGBRegressor(**TREES))], GroupKFold(3), ValueError,
     "cannot split a Dask collection"),
    ([("lgbm", DaskLGBMRegressor(early_stopping_round=3, n_estimators=8, verbose=-1))], 3,
     ValueError, r"asks for early stopping \(early_stopping_round\); LightGBM's Dask"),
], ids=["sklearn-estimator", "group-kfold", "early-stopping"])
def test_bad_stacks_fail_before_any_task_runs(new_tasks, monkeypatch, estimators, cv, error,
                                             match):
    """Nothing ran on the cluster (the scheduler saw no task) nor in the runner."""
    tasks = _count_tasks(monkeypatch)
    X, y = _dask(*_table())
    given = new_tasks()
    with pytest.raises(error, match=match):
        StackingRegressor(estimators, cv=cv).fit(X, y)
    assert given() == 0 and tasks == []


def test_a_final_estimator_too_big_to_collect_fails_before_any_fold(client, monkeypatch):
    from stackkit import _dask_fit

    monkeypatch.setattr(_dask_fit, "COLLECT_LIMIT_BYTES", 1000)
    tasks = _count_tasks(monkeypatch)
    X, y = _dask(*_table())
    stack = StackingRegressor([("xgb", DaskXGBRegressor(**TREES))], Ridge(), cv=3)
    with pytest.raises(ValueError, match=r"final_estimator Ridge needs .* in memory"):
        stack.fit(X, y)
    assert tasks == []


def test_selection_fits_from_sums_with_no_rows_collected(client, monkeypatch):
    from stackkit import _dask_fit

    final = EnsembleSelectionRegressor(n_iterations=10, scoring="r2")

    monkeypatch.setattr(_dask_fit, "COLLECT_LIMIT_BYTES", 1000)
    X, y = _table()
    stack = StackingRegressor(
        [("xgb", DaskXGBRegressor(**TREES)),
         ("lgbm", DaskLGBMRegressor(n_estimators=5, num_leaves=4, verbose=-1))],
        final, cv=3).fit(*_dask(X, y))
    collected = clone(final).fit(stack.oof_.compute(), y, layout=stack.layout_)
    np.testing.assert_allclose(stack.final_estimator_.weights_, collected.weights_)
    np.testing.assert_allclose(stack.final_estimator_.scores_, collected.scores_, rtol=1e-9)


def test_a_fit_too_large_for_the_workers_memory_fails_before_any_work(new_tasks, monkeypatch):
    """The estimate (rows x bytes a row x the booster's factor) exceeds the workers'
    limits: a clear error, and the scheduler saw no task (arrays: their row counts,
    which the check reads, are known without one)."""
    from stackkit import _dask_fit

    monkeypatch.setattr(_dask_fit, "MEMORY_FACTORS", {"xgboost": 1e6, "lightgbm": 1e6})
    tasks = _count_tasks(monkeypatch)
    X, y = _table()
    X = da.from_array(X.to_numpy(), chunks=(N_ROWS // N_PARTS, 6))
    y = da.from_array(y.to_numpy(), chunks=N_ROWS // N_PARTS)
    given = new_tasks()
    with pytest.raises(ValueError, match=r"too large for the workers' memory: fitting 'xgb' "
                       r"\(DaskXGBRegressor\) on 4,000 rows .* add workers"):
        StackingRegressor([("xgb", DaskXGBRegressor(**TREES))], NNLSRegressor(),
                          cv=3).fit(X, y)
    assert given() == 0 and tasks == []


def _worker(limit, in_use):
    return {"memory_limit": limit, "metrics": {"memory": in_use}}


@pytest.mark.parametrize("room, in_use, train_fraction, fails", [
    (1.1, 0, 1.0, False),
    (0.9, 0, 1.0, True),
    (1.1, 0.2, 1.0, True),  # what a worker already holds counts
    (0.9, 0, 2 / 3, False),  # no refit: the largest fit is on the rows outside one fold
    (None, 0, 1.0, False),  # no memory limit: not checked
    (0, 0, 1.0, False),
], ids=["fits", "too-small", "in-use", "folds-only", "no-limit", "limit-0"])
def test_the_memory_check_compares_the_estimate_with_each_limit(room, in_use,
                                                                train_fraction, fails):
    """No cluster: 1000 float32 rows of 10 columns in 4 partitions, 2 workers, so the
    busiest holds 2 partitions (500 rows, 20,000 bytes); limits are set around what the
    booster's factor asks for with a full refit, below the pause threshold."""
    from lightgbm import DaskLGBMRegressor

    from stackkit._dask_fit import MEMORY_FACTORS, _pause_fraction, check_workers_memory

    X = da.zeros((1000, 10), dtype=np.float32, chunks=(250, 10))
    need = MEMORY_FACTORS["lightgbm"] * 500 * 10 * 4  # with a refit on every row
    limit = room and (need / _pause_fraction()) * room
    workers = {"a": _worker(limit, in_use * need), "b": _worker(limit, 0)}
    check = lambda: check_workers_memory([("lgbm", DaskLGBMRegressor())], X,  # noqa: E731
                                         (250,) * 4, train_fraction, workers)
    if fails:
        with pytest.raises(ValueError, match="worker a has .* add workers"):
            check()
    else:
        check()


@pytest.mark.parametrize("n_parts", [N_PARTS // 2, N_PARTS], ids=["count", "rows"])
def test_y_with_other_partitions_is_a_clear_error(client, n_parts):
    """Another number of partitions, or as many partitions holding other rows."""
    X, y = _table()
    X = dd.from_pandas(X, npartitions=N_PARTS)
    y = dd.from_pandas(y, npartitions=n_parts)
    if n_parts == N_PARTS:
        y = y.repartition(divisions=[0, 1, *y.divisions[2:]])
    with pytest.raises(ValueError, match=r"y must have the same partitions \(rows per "):
        StackingRegressor([("xgb", DaskXGBRegressor(**TREES))], cv=3).fit(X, y)


def test_dask_booster_on_rows_in_memory_is_a_clear_error():
    X, y = _table()
    with pytest.raises(TypeError, match="fits Dask collections, but X is in memory"):
        StackingRegressor([("xgb", DaskXGBRegressor(**TREES))]).fit(X, y)


def _fold_column(stack):
    return np.asarray(stack.oof_folds_[0].folds.compute())


@pytest.fixture(scope="module")
def regression(client):
    X, y = _table()
    stack = StackingRegressor([("xgb", DaskXGBRegressor(**TREES))], NNLSRegressor(),
                              cv=KFold(4, shuffle=True, random_state=7))
    return X, y, stack.fit(*_dask(X, y))


def test_xgboost_stops_early_per_fold_on_rows_held_out_of_its_training_folds(client):
    """Each fold's booster evaluates on the held-out rows of its training folds only.

    The same rows fit and evaluated in memory keep the same rounds and give the same
    out-of-fold predictions; the refit keeps the fold models' mean rounds.
    """
    X, y = _table()
    params = dict(TREES, n_estimators=80, learning_rate=0.6, early_stopping_rounds=3)
    cv = KFold(4, shuffle=True, random_state=7)
    stack = StackingRegressor([("xgb", DaskXGBRegressor(**params))], NNLSRegressor(), cv=cv)
    stack.fit(*_dask(X, y))
    folds = _fold_column(stack)
    held_out = np.asarray(stack.oof_folds_[0].held_out.compute())
    assert 0.08 < held_out.mean() < 0.12
    rounds, oof = [], np.empty(N_ROWS)
    for k in range(4):
        fit, evaluate, test = (folds != k) & ~held_out, (folds != k) & held_out, folds == k
        model = xgboost.XGBRegressor(**params).fit(
            X[fit], y[fit], eval_set=[(X[evaluate], y[evaluate])], verbose=False)
        rounds.append(model.best_iteration + 1)
        oof[test] = model.predict(X[test])
    assert max(rounds) < 80  # every fold stopped early
    np.testing.assert_array_equal(stack.best_iterations_["xgb"], rounds)
    np.testing.assert_allclose(stack.oof_.compute()[:, 0], oof, rtol=1e-4, atol=1e-4)
    refit = stack.named_estimators_["xgb"]
    assert refit.get_booster().num_boosted_rounds() == round(np.mean(rounds))


def test_the_dask_preset_stacks_distributed_boosters(client):
    from stackkit.presets import default_estimators

    X, y = _table(1)
    labels = _labels(y)
    estimators = default_estimators("multiclass", dask=True)
    assert [(name, type(est).__name__) for name, est in estimators] == [
        ("xgb", "DaskXGBClassifier"), ("lgbm", "DaskLGBMClassifier")]
    stack = StackingClassifier(estimators, NNLSClassifier(), cv=3).set_params(
        xgb__learning_rate=0.5, xgb__early_stopping_rounds=5, lgbm__n_estimators=20)
    stack.fit(*_dask(X, labels))
    assert stack.best_iterations_["xgb"].max() < 2000  # stopped early in every fold
    predicted = stack.predict(dd.from_pandas(X, npartitions=N_PARTS)).compute()
    assert (predicted == labels).mean() > 0.6


def test_oof_is_lazy_and_equals_the_same_folds_in_memory(regression):
    X, y, stack = regression
    assert type(stack.oof_).__module__.startswith("dask.array")
    assert stack.oof_.chunks[0] == (N_ROWS // N_PARTS,) * N_PARTS  # X's partitions
    folds = _fold_column(stack)
    local = StackingRegressor([("xgb", xgboost.XGBRegressor(**TREES))], NNLSRegressor(),
                              cv=PredefinedSplit(folds)).fit(X, y)
    np.testing.assert_allclose(stack.oof_.compute(), local.oof_, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(stack.final_estimator_.weights_, local.final_estimator_.weights_,
                               rtol=1e-4)
    predictions = stack.predict(dd.from_pandas(X, npartitions=N_PARTS))
    assert type(predictions).__module__.startswith("dask.array")
    np.testing.assert_allclose(predictions.compute(), local.predict(X), rtol=1e-4, atol=1e-4)


def _plan_folds(X, y, cv, classifier=False, column="fold_column"):
    """The fold column a fit on ``(X, y)`` would draw (no booster is fit), or another."""
    from stackkit._fit_steps import OnCluster

    stack = (StackingClassifier if classifier else StackingRegressor)(
        [("xgb", DaskXGBRegressor())])
    target = OnCluster.target(stack, y, X)
    plan = OnCluster.split_plan(cv, X, target, None, classifier)
    return np.asarray(getattr(plan, column).compute())


def test_fold_assignment_is_reproducible_and_seeded(client, regression):
    X, y, stack = regression
    folds = _fold_column(stack)
    same = _plan_folds(*_dask(X, y), KFold(4, shuffle=True, random_state=7))
    other = _plan_folds(*_dask(X, y), KFold(4, shuffle=True, random_state=8))
    np.testing.assert_array_equal(folds, same)
    assert (folds != other).mean() > 0.5
    assert np.array_equal(np.bincount(folds), [N_ROWS // 4] * 4)  # 500 rows a partition
    unshuffled = _plan_folds(*_dask(X, y), 4)  # contiguous blocks within each partition
    np.testing.assert_array_equal(unshuffled[:N_ROWS // N_PARTS], np.repeat(np.arange(4), 125))


def test_classifier_folds_are_stratified_within_each_partition(client):
    X, y = _table(1)
    labels = _labels(y)
    folds = _plan_folds(*_dask(X, labels), StratifiedKFold(3, shuffle=True, random_state=0),
                        classifier=True)
    for part in np.split(np.arange(N_ROWS), N_PARTS):
        table = pd.crosstab(labels.to_numpy()[part], folds[part]).to_numpy()
        assert (table.max(axis=1) - table.min(axis=1) <= 1).all()


def test_rows_held_out_for_early_stopping_are_stratified_and_spread_over_the_folds(client):
    X, y = _table(1)
    labels = _labels(y)
    rows = _dask(X, labels)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    folds = _plan_folds(*rows, cv, classifier=True)
    held_out = _plan_folds(*rows, cv, classifier=True, column="held_out")
    for part in np.split(np.arange(N_ROWS), N_PARTS):
        per_class = pd.crosstab(labels.to_numpy()[part], held_out[part])
        expected = per_class.sum(axis=1) / 10
        assert (abs(per_class[True] - expected) <= 1).all()
    share_per_fold = pd.Series(held_out).groupby(folds).mean()
    assert share_per_fold.between(0.08, 0.12).all()


def test_classifier_predicts_lazily_and_its_nnls_fits_from_statistics(client):
    X, y = _table(1)
    labels = _labels(y)
    stack = StackingClassifier([("xgb", DaskXGBClassifier(**TREES)),
                                ("lgbm", DaskLGBMClassifier(n_estimators=5, num_leaves=4,
                                                            verbose=-1))],
                               NNLSClassifier(), cv=3).fit(*_dask(X, labels))
    rows = dd.from_pandas(X, npartitions=N_PARTS)
    proba, predicted = stack.predict_proba(rows), stack.predict(rows)
    assert type(predicted).__module__.startswith("dask.array")
    predicted = predicted.compute()
    assert set(predicted) <= {"high", "mid", "low"} and (predicted == labels).mean() > 0.6
    np.testing.assert_allclose(proba.sum(axis=1).compute(), 1.0)
    codes = np.unique(labels, return_inverse=True)[1]
    collected = NNLSClassifier().fit(stack.oof_.compute(), codes, layout=stack.layout_)
    np.testing.assert_allclose(stack.final_estimator_.weights_, collected.weights_, atol=1e-8)


def test_dask_arrays_and_a_small_collected_final_estimator(client):
    X, y = _table(2)
    Xa = da.from_array(X.to_numpy(), chunks=(N_ROWS // 4, 3))
    ya = da.from_array(y.to_numpy(), chunks=N_ROWS // 4)
    stack = StackingRegressor([("xgb", DaskXGBRegressor(**TREES))], LinearRegression(),
                              cv=2, refit=False).fit(Xa, ya)
    meta = stack.transform(Xa)
    assert meta.chunks == ((N_ROWS // 4,) * 4, (1,))
    expected = stack.estimators_[0].estimators[0].predict(Xa).compute()
    assert np.corrcoef(meta[:, 0].compute(), expected)[0, 1] > 0.99
    assert np.corrcoef(stack.predict(Xa).compute(), y)[0, 1] > 0.8


class PeakRows(distributed.WorkerPlugin):
    """The most rows of X (partitions, or a fold's filtered partitions) a worker held at once."""

    name = "peak-rows"

    def __init__(self, columns):
        self.columns = list(columns)

    def setup(self, worker):
        self.worker, self.peak = worker, 0

    def transition(self, key, start, finish, **kwargs):
        held = sum(len(value) for value in list(self.worker.data.values())
                   if isinstance(value, pd.DataFrame) and list(value.columns) == self.columns)
        self.peak = max(self.peak, held)


def test_no_worker_holds_all_rows(client):
    """Measured, not limited: a worker's memory limit below X's few hundred kilobytes is
    below a worker process's own footprint, so each worker counts the rows of X it holds
    in memory (its partitions, and the filtered ones a fold trains on) after every task."""
    X, y = _table(3)
    client.register_plugin(PeakRows(X.columns))
    StackingRegressor([("xgb", DaskXGBRegressor(**TREES))], NNLSRegressor(),
                      cv=2).fit(*_dask(X, y))
    peaks = client.run(lambda dask_worker: dask_worker.plugins["peak-rows"].peak)
    assert len(peaks) == 2 and min(peaks.values()) > 0, peaks
    assert max(peaks.values()) < N_ROWS, peaks
    print("peak rows per worker:", peaks)


def test_the_tasks_run_in_this_process_one_at_a_time():
    X = dd.from_pandas(_table()[0], npartitions=2)
    assert Runner(X, None, "continuous", n_jobs=4).n_jobs == 1
    assert Runner(np.zeros((4, 2)), None, "continuous", n_jobs=4).n_jobs == 4
    assert backend_hint(X) is None  # however large X is: joblib never runs these tasks


def test_import_stackkit_never_imports_dask():
    code = ("import sys, stackkit, stackkit.meta; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("sum_to_one", [False, True])
def test_nnls_from_statistics_of_blocks_equals_nnls_on_all_rows(sum_to_one):
    """No cluster: sums over blocks of rows give the weights of a fit on every row."""
    from stackkit.layout import Layout

    rng = np.random.default_rng(0)
    y = rng.normal(size=600)
    X = np.column_stack([y + rng.normal(scale=s, size=600) for s in (0.3, 0.6, 1.0, 2.0)])
    X[:, 3] = (X[:, 1] + X[:, 2]) / 2  # collinear: the Gram matrix is singular
    layout = Layout.build(list("abcd"), ["predict"] * 4, "continuous", None, 1)
    blocks = [NNLSRegressor().statistics(X[r], y[r], layout=layout)
              for r in np.array_split(np.arange(600), 5)]
    summed = {key: sum(block[key] for block in blocks) for key in blocks[0]}
    from_sums = NNLSRegressor(sum_to_one=sum_to_one).fit_statistics(summed, layout=layout)
    direct = NNLSRegressor(sum_to_one=sum_to_one).fit(X, y, layout=layout)
    np.testing.assert_allclose(from_sums.weights_, direct.weights_, atol=1e-9)
    np.testing.assert_allclose(from_sums.predict(X), direct.predict(X), atol=1e-9)


def test_a_folds_training_rows_hold_no_index(client):
    """Shuffled folds interleave the rows; the filtered rows a booster holds carry no
    index (8 bytes a row in X and again in y)."""
    from stackkit._dask_plane import DaskRows, FoldRows

    X, y = _dask(*_table())
    folds = dd.from_pandas(pd.Series(np.arange(N_ROWS) % 3), npartitions=N_PARTS)
    train = FoldRows(folds, 0, inside=False, n_rows=N_ROWS - N_ROWS // 3)
    for rows in (DaskRows(X).take(train), DaskRows(y).take(train)):
        part = DaskRows(rows).partitions()[0].compute()
        assert len(part) == 333 and isinstance(part.index, pd.RangeIndex)
