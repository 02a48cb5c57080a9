"""Transfer learning: frozen source models and boosters warm-started from a source."""

import pickle

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import KFold, RepeatedStratifiedKFold, TimeSeriesSplit
from xgboost import XGBClassifier

from stackkit import StackingClassifier, StackingRegressor
from stackkit.exceptions import StackkitWarning
from stackkit.transfer import WarmStart, freeze, is_frozen

SOURCE_ROUNDS = 15


@pytest.fixture(scope="module")
def domains():
    """A source domain (first 600 rows) and a shifted target domain (last 300)."""
    X, y = make_classification(900, 6, n_informative=4, random_state=0)
    X[600:, 0] += 0.5
    return X[:600], y[:600], X[600:], y[600:]


def xgb(n_estimators=SOURCE_ROUNDS, **params):
    return XGBClassifier(n_estimators=n_estimators, max_depth=3, learning_rate=0.3, n_jobs=1,
                         **params)


def lgbm(n_estimators=SOURCE_ROUNDS, **params):
    return LGBMClassifier(n_estimators=n_estimators, num_leaves=7, learning_rate=0.3,
                          verbose=-1, n_jobs=1, **params)


@pytest.fixture(scope="module")
def sources(domains):
    X, y, _, _ = domains
    return {"xgb": xgb().fit(X, y), "lgbm": lgbm().fit(X, y)}


class CountingFrozen(FrozenEstimator):
    """FrozenEstimator that counts the calls of ``fit`` (the stack must make none)."""

    fits = 0

    def fit(self, X, y, *args, **kwargs):
        type(self).fits += 1
        return super().fit(X, y, *args, **kwargs)


class SelfCloning(ClassifierMixin, BaseEstimator):
    """A fitted model following scikit-learn's frozen convention (clone returns itself)."""

    fits = 0

    def __init__(self, model=None):
        self.model = model

    def __sklearn_clone__(self):
        return self

    def __sklearn_is_fitted__(self):
        return True

    def fit(self, X, y):
        type(self).fits += 1
        return self

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    @property
    def classes_(self):
        return self.model.classes_


# -- frozen base models ------------------------------------------------------------------


@pytest.mark.parametrize("refit", [True, False])
def test_frozen_model_is_never_fit_and_predicts_every_row(domains, refit):
    X_s, y_s, X, y = domains
    source = LogisticRegression().fit(X_s, y_s)
    CountingFrozen.fits = 0
    stack = StackingClassifier([("src", CountingFrozen(source)), ("lr", LogisticRegression())],
                               cv=3, refit=refit, n_jobs=1).fit(X, y)
    assert CountingFrozen.fits == 0
    log = stack.task_log_[stack.task_log_.estimator == "src"]
    assert log.fold.tolist() == ["frozen"] and log.n_train.tolist() == [0]
    assert log.fit_time.tolist() == [0.0] and log.n_test.tolist() == [len(y)]
    # its OOF column is the source's prediction of every row (it never saw these labels)
    np.testing.assert_array_equal(stack.oof_[:, 0], source.predict_proba(X)[:, 1])
    assert stack.named_estimators_["src"].estimator is source  # the model itself, unwrapped
    np.testing.assert_allclose(stack.transform(X)[:, 0], source.predict_proba(X)[:, 1])


def test_frozen_by_convention_is_never_fit(domains):
    X_s, y_s, X, y = domains
    SelfCloning.fits = 0
    model = SelfCloning(LogisticRegression().fit(X_s, y_s))
    assert is_frozen(model) and is_frozen(FrozenEstimator(model.model))
    assert not is_frozen(LogisticRegression()) and not is_frozen(WarmStart(lgbm(), None))
    stack = StackingClassifier([("src", model), ("lr", LogisticRegression())], cv=3,
                               n_jobs=1).fit(X, y)
    assert SelfCloning.fits == 0
    assert (stack.task_log_.fold == "frozen").sum() == 1


def test_frozen_regressor_with_repeated_or_forward_splits_and_weights():
    X, y = make_regression(200, 5, noise=5.0, random_state=0)
    source = Ridge().fit(X[:100], y[:100])
    frozen = FrozenEstimator(source)
    first, second = np.arange(100), np.arange(100, 200)
    for cv in (KFold(4), [(first, second), (second, first), (first, second)]):  # rows tested twice
        stack = StackingRegressor([("src", frozen), ("lin", LinearRegression())], cv=cv)
        stack.fit(X, y, sample_weight=np.ones(len(y)))  # frozen models need not take weights
        tested = ~np.isnan(stack.oof_[:, 0])
        np.testing.assert_allclose(stack.oof_[tested, 0], source.predict(X[tested]))
    with pytest.warns(StackkitWarning, match="in no test fold"):
        stack = StackingRegressor([("src", frozen), ("lin", LinearRegression())],
                                  cv=TimeSeriesSplit(3)).fit(X, y)
    assert np.isnan(stack.oof_[:50, 0]).all()  # rows no fold tests: no meta-feature
    assert stack.predict(X).shape == (200,)


def test_frozen_predictions_are_not_averaged_over_repeats(domains):
    X_s, y_s, X, y = domains
    source = LogisticRegression().fit(X_s, y_s)
    cv = RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0)
    stack = StackingClassifier([("src", freeze(source)), ("lr", LogisticRegression())],
                               cv=cv).fit(X, y)
    np.testing.assert_allclose(stack.oof_[:, 0], source.predict_proba(X)[:, 1])


def test_frozen_early_stopped_source_and_user_objects_untouched(domains):
    X_s, y_s, X, y = domains
    source = xgb(200, early_stopping_rounds=5).fit(X_s[:500], y_s[:500], verbose=False,
                                                   eval_set=[(X_s[500:], y_s[500:])])
    before = source.get_params()
    stack = StackingClassifier([("src", freeze(source)), ("lr", LogisticRegression())],
                               cv=3, n_jobs=1).fit(X, y)  # in-process: the user's object
    assert source.get_params() == before  # no thread budget written into the user's model
    np.testing.assert_allclose(stack.oof_[:, 0], source.predict_proba(X)[:, 1], rtol=1e-6)


def test_frozen_labels_become_the_stacks_class_codes_with_predict(domains):
    """Fold models learn codes 0..K-1; a frozen source predicts its own (text) labels."""
    X_s, y_s, X, y = domains
    names = np.array(["no", "yes"])
    source = LogisticRegression().fit(X_s, names[y_s])
    stack = StackingClassifier([("src", freeze(source)), ("lr", LogisticRegression())],
                               cv=3, stack_method="predict", n_jobs=1).fit(X, names[y])
    codes = (source.predict(X) == "yes").astype(float)
    np.testing.assert_array_equal(stack.oof_[:, 0], codes)
    np.testing.assert_array_equal(stack.transform(X)[:, 0], codes)
    assert set(stack.predict(X)) <= {"no", "yes"}


# -- warm-started boosters ---------------------------------------------------------------


@pytest.mark.parametrize("library", ["xgb", "lgbm"])
def test_warm_start_continues_from_the_source(domains, sources, library):
    _, _, X, y = domains
    source = sources[library]
    model = WarmStart((xgb if library == "xgb" else lgbm)(7), source=source).fit(X, y)
    assert model.n_source_rounds_ == SOURCE_ROUNDS
    if library == "xgb":
        booster = model.estimator_.get_booster()
        assert booster.num_boosted_rounds() == SOURCE_ROUNDS + 7
        first = booster[:SOURCE_ROUNDS].inplace_predict(X)
        np.testing.assert_allclose(first, source.predict_proba(X)[:, 1], rtol=1e-5)
        assert source.get_booster().num_boosted_rounds() == SOURCE_ROUNDS  # untouched
    else:
        assert model.estimator_.booster_.current_iteration() == SOURCE_ROUNDS + 7
        first = model.estimator_.predict_proba(X, num_iteration=SOURCE_ROUNDS)
        np.testing.assert_allclose(first, source.predict_proba(X))
        assert source.booster_.current_iteration() == SOURCE_ROUNDS
    np.testing.assert_array_equal(model.classes_, [0, 1])
    assert model.predict_proba(X).shape == (len(y), 2)


def test_warm_start_from_raw_boosters_and_the_best_iteration(domains, sources):
    X_s, y_s, X, y = domains
    for source in (sources["xgb"].get_booster(), sources["lgbm"].booster_):
        template = xgb(3) if isinstance(source, type(sources["xgb"].get_booster())) else lgbm(3)
        assert WarmStart(template, source).fit(X, y).n_source_rounds_ == SOURCE_ROUNDS
    stopped = xgb(300, early_stopping_rounds=3).fit(X_s[:500], y_s[:500], verbose=False,
                                                    eval_set=[(X_s[500:], y_s[500:])])
    assert stopped.get_booster().num_boosted_rounds() > stopped.best_iteration + 1
    model = WarmStart(xgb(2), source=FrozenEstimator(stopped)).fit(X, y)
    assert model.n_source_rounds_ == stopped.best_iteration + 1  # the trees it predicts with


@pytest.mark.parametrize("library", ["xgb", "lgbm"])
def test_warm_start_in_a_stack_with_early_stopping(domains, sources, library):
    _, _, X, y = domains
    stop = {"early_stopping_rounds": 5} if library == "xgb" else {"early_stopping_round": 5}
    template = (xgb if library == "xgb" else lgbm)(200, **stop)
    stack = StackingClassifier([("warm", WarmStart(template, sources[library]))], cv=3)
    stack.fit(X, y)
    new_rounds = stack.best_iterations_["warm"]  # rounds added to the source's
    assert len(new_rounds) == 3 and (new_rounds >= 1).all() and (new_rounds < 200).all()
    refit = stack.named_estimators_["warm"]
    assert refit.estimator.n_estimators == max(1, round(new_rounds.mean()))
    assert refit.estimator.get_params()[next(iter(stop))] in (None, 0)  # stopping off
    assert refit.n_source_rounds_ == SOURCE_ROUNDS
    assert template.n_estimators == 200  # the user's template is untouched


def test_warm_start_clone_params_and_pickle(domains, sources):
    _, _, X, y = domains
    model = WarmStart(lgbm(5), source=sources["lgbm"])
    copy = clone(model)
    assert copy.source is model.source and copy.estimator is not model.estimator
    params = model.get_params()
    assert "estimator__num_leaves" in params and not any(k.startswith("source__") for k in params)
    copy.set_params(estimator__n_estimators=3)
    assert copy.fit(X, y).estimator_.booster_.current_iteration() == SOURCE_ROUNDS + 3
    restored = pickle.loads(pickle.dumps(copy))
    np.testing.assert_array_equal(restored.predict_proba(X), copy.predict_proba(X))
    stack = StackingClassifier([("warm", model)], cv=3).set_params(warm__estimator__n_estimators=2)
    assert stack.fit(X, y).named_estimators_["warm"].estimator_.n_estimators == 2
    assert pickle.loads(pickle.dumps(stack)).predict(X).shape == (len(y),)


@pytest.mark.parametrize("library", ["xgb", "lgbm"])
def test_cache_hits_for_frozen_and_warm_started_models(domains, sources, tmp_path, library):
    """Second fit reads every task from the cache, even with a source reloaded by pickle."""
    _, _, X, y = domains
    template = xgb(4) if library == "xgb" else lgbm(4)

    def stack(source):
        return StackingClassifier([("src", freeze(source)),
                                   ("warm", WarmStart(template, source=source))],
                                  cv=3, memory=tmp_path)

    first = stack(sources[library]).fit(X, y)
    assert not first.task_log_.cached.any() and first.task_log_.cache_key.notna().all()
    second = stack(pickle.loads(pickle.dumps(sources[library]))).fit(X, y)
    assert second.task_log_.cached.all()
    np.testing.assert_array_equal(second.oof_, first.oof_)


# -- guard rails -------------------------------------------------------------------------


def frame(X, columns=None):
    return pd.DataFrame(X, columns=columns or [f"f{i}" for i in range(X.shape[1])])


def test_source_columns_must_match(domains):
    X_s, y_s, X, y = domains
    source = LogisticRegression().fit(frame(X_s), y_s)
    renamed = frame(X, ["f0", "f1", "f2", "f3", "f4", "new"])
    with pytest.raises(ValueError, match=r"'src'.*lacks \['f5'\] and has \['new'\]"):
        StackingClassifier([("src", freeze(source))]).fit(renamed, y)
    with pytest.raises(ValueError, match="'src'.*another order"):
        StackingClassifier([("src", freeze(source))]).fit(frame(X)[frame(X).columns[::-1]], y)
    with pytest.raises(ValueError, match="'src'.*trained on 6 columns but X has 5"):
        StackingClassifier([("src", freeze(source))]).fit(X[:, :5], y)
    booster = LGBMClassifier(n_estimators=3, verbose=-1).fit(frame(X_s), y_s)
    with pytest.raises(ValueError, match="'warm'.*lacks"):
        StackingClassifier([("warm", WarmStart(lgbm(2), booster))]).fit(renamed, y)


def test_source_for_another_label_set_is_rejected(domains):
    X_s, y_s, X, y = domains
    three = np.where(X_s[:, 1] > 1, 2, y_s)
    source = LogisticRegression().fit(X_s, three)
    with pytest.raises(ValueError, match=r"'src'.*classes \[0, 1, 2\], the target's are \[0, 1\]"):
        StackingClassifier([("src", freeze(source))]).fit(X, y)
    with pytest.raises(ValueError, match=r"'src'.*classes \[0, 1\], the target's are \['a', 'b'\]"):
        StackingClassifier([("src", freeze(LogisticRegression().fit(X_s, y_s)))]).fit(
            X, np.array(["a", "b"])[y])
    booster = lgbm(3).fit(X_s, three).booster_
    with pytest.raises(ValueError, match="'warm'.*predicts 3 classes, the target has 2"):
        StackingClassifier([("warm", WarmStart(lgbm(2), booster))]).fit(X, y)


class CountingLR(LogisticRegression):
    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda s: FrozenEstimator(LogisticRegression()), NotFittedError, "'bad' is frozen but"),
        (lambda s: WarmStart(LogisticRegression(), s["xgb"]), TypeError,
         "must be an XGBoost or LightGBM model; got LogisticRegression"),
        (lambda s: WarmStart(lgbm(), s["xgb"]), TypeError, "source is a xgboost model but"),
        (lambda s: WarmStart(xgb(), "model.json"), TypeError, "not a file path"),
        (lambda s: WarmStart(xgb(), xgb()), NotFittedError, "source XGBClassifier is not fitted"),
    ],
    ids=["unfitted-frozen", "not-a-booster", "other-library", "path", "unfitted-source"],
)
def test_errors_come_before_any_fold_work(domains, sources, make, error, match):
    _, _, X, y = domains
    CountingLR.fits = 0
    with pytest.raises(error, match=match):
        StackingClassifier([("lr", CountingLR()), ("bad", make(sources))], n_jobs=1).fit(X, y)
    assert CountingLR.fits == 0


def test_freeze_needs_a_fitted_model_and_frozen_needs_one_output():
    with pytest.raises(NotFittedError, match="freeze.. needs a fitted model"):
        freeze(Ridge())
    X, y = make_regression(60, 3, n_targets=2, random_state=0)
    single = FrozenEstimator(LGBMRegressor(n_estimators=2, verbose=-1).fit(X, y[:, 0]))
    with pytest.raises(ValueError, match="'src' is frozen and predicts a single output"):
        StackingRegressor([("src", single), ("lin", LinearRegression())]).fit(X, y)


def test_example_runs():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "transfer.py"
    spec = importlib.util.spec_from_file_location("transfer_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    scores = example.main(target_rows=150)
    assert set(scores) == {"target only", "+ frozen source", "+ warm start"}
    assert all(0.5 < auc <= 1.0 for auc in scores.values())


def test_warm_started_regressor_in_a_stack_with_early_stopping():
    X, y = make_regression(400, 6, noise=10.0, random_state=0)
    source = LGBMRegressor(n_estimators=SOURCE_ROUNDS, verbose=-1).fit(X[:200], y[:200])
    warm = WarmStart(LGBMRegressor(n_estimators=200, learning_rate=0.1, verbose=-1,
                                   early_stopping_round=5), source=source)
    stack = StackingRegressor([("warm", warm), ("lin", LinearRegression())], cv=3,
                              n_jobs=1).fit(X[200:], y[200:])
    rounds = stack.best_iterations_["warm"]
    assert len(rounds) == 3 and (rounds >= 1).all() and (rounds <= 200).all()
    refit = stack.named_estimators_["warm"]
    assert refit.n_source_rounds_ == SOURCE_ROUNDS
    assert refit.estimator_.booster_.current_iteration() > SOURCE_ROUNDS
    assert stack.score(X[:200], y[:200]) > 0.5


def test_a_transfer_stack_saves_and_loads_through_stackkit_io(domains, sources, tmp_path):
    from stackkit import io

    _, _, X, y = domains
    stack = StackingClassifier([("src", freeze(sources["lgbm"])),
                                ("warm", WarmStart(lgbm(3), sources["lgbm"])),
                                ("xwarm", WarmStart(xgb(3), sources["xgb"].get_booster()))],
                               cv=3, n_jobs=1).fit(X, y)
    io.dump(stack, tmp_path / "transfer.skops")
    loaded = io.load(tmp_path / "transfer.skops")  # every type on the trust list
    np.testing.assert_array_equal(loaded.predict_proba(X), stack.predict_proba(X))


# -- cv="prefit": scikit-learn's spelling of "every base estimator frozen" ------------------


def test_cv_prefit_is_every_base_estimator_frozen_and_keeps_the_users_models():
    X, y = make_classification(n_samples=120, n_features=5, random_state=0)
    lr = LogisticRegression().fit(X[:60], y[:60])
    ridge = Ridge().fit(X[:60], y[:60])
    prefit = StackingClassifier([("lr", lr), ("ridge", ridge)], cv="prefit").fit(X[60:], y[60:])
    frozen = StackingClassifier([("lr", FrozenEstimator(lr)), ("ridge", FrozenEstimator(ridge))],
                                cv=3).fit(X[60:], y[60:])
    np.testing.assert_allclose(prefit.oof_, frozen.oof_)
    np.testing.assert_allclose(prefit.predict_proba(X[:60]), frozen.predict_proba(X[:60]))
    assert prefit.estimators_[0] is lr and prefit.estimators_[1] is ridge  # as scikit-learn
    assert prefit.task_log_.fold.tolist() == ["frozen", "frozen"]
    explicit = FrozenEstimator(lr)  # an estimator frozen already stays as given
    assert StackingClassifier([("lr", explicit)], cv="prefit").fit(X, y).estimators_[0] is explicit


def test_cv_prefit_with_an_unfitted_estimator_names_it_before_any_fit():
    X, y = make_classification(n_samples=60, n_features=5, random_state=0)
    fitted = LogisticRegression().fit(X, y)
    stack = StackingClassifier([("lr", fitted), ("late", LogisticRegression())], cv="prefit")
    with pytest.raises(NotFittedError, match=r"cv='prefit' but base estimator 'late' "
                                             r"\(LogisticRegression\) is not fitted"):
        stack.fit(X, y)
    assert not hasattr(stack, "estimators_")
