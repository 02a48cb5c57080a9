"""Early stopping of boosters inside folds: leak-free, recorded, and carried to the refit."""

import math

import lightgbm
import numpy as np
import pytest
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.base import clone
from sklearn.datasets import (make_classification, make_multilabel_classification,
                              make_regression)
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier, XGBRegressor

from stackkit import StackingClassifier, StackingRegressor
from stackkit._early_stopping import SEED, VALIDATION_FRACTION, inner_split
from stackkit.presets import default_estimators
from stackkit.transfer import WarmStart

ROUNDS = 400  # more than any fold needs at this learning rate, so every fold stops early


def boosters():
    return {
        "xgb": XGBClassifier(n_estimators=ROUNDS, learning_rate=0.3, max_depth=3,
                             early_stopping_rounds=10, n_jobs=1),
        "lgbm": LGBMClassifier(n_estimators=ROUNDS, learning_rate=0.3, num_leaves=7,
                               early_stopping_round=10, verbose=-1, n_jobs=1),
        "hgb": HistGradientBoostingClassifier(max_iter=ROUNDS, learning_rate=0.3,
                                              early_stopping=True, n_iter_no_change=10,
                                              random_state=0),
    }


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=600, n_features=10, n_informative=5, flip_y=0.1,
                               random_state=0)


@pytest.mark.parametrize("name", ["xgb", "lgbm", "hgb"])
def test_held_out_labels_never_decide_when_a_fold_stops(data, name):
    """Shuffling the labels of fold 1's held-out rows leaves fold 1's OOF rows unchanged."""
    X, y = data
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    test = folds[0][1]
    shuffled = y.copy()
    shuffled[test] = np.random.default_rng(0).permutation(y[test])
    assert (shuffled[test] != y[test]).sum() > 50
    stack = StackingClassifier([(name, boosters()[name])], cv=folds, refit=False)
    original = stack.fit(X, y).oof_[test]
    assert stack.best_iterations_[name][0] < ROUNDS  # it did stop early
    np.testing.assert_array_equal(stack.fit(X, shuffled).oof_[test], original)


@pytest.mark.parametrize("name", ["xgb", "lgbm"])
def test_refit_trains_the_folds_mean_rounds(data, name):
    X, y = data
    user_estimator = boosters()[name]
    before = user_estimator.get_params()
    stack = StackingClassifier([(name, user_estimator)], cv=5).fit(X, y)
    rounds = stack.best_iterations_[name]
    assert rounds.shape == (5,) and (rounds < ROUNDS).all()
    refit = stack.estimators_[0]
    assert refit.n_estimators == round(rounds.mean())
    assert refit.get_params()["early_stopping_rounds" if name == "xgb" else
                              "early_stopping_round"] in (None, 0)
    assert user_estimator.get_params() == before


def test_hist_gradient_boosting_refit_trains_the_folds_mean_rounds(data):
    X, y = data
    stack = StackingClassifier([("hgb", boosters()["hgb"])], cv=5).fit(X, y)
    refit = stack.estimators_[0]
    assert not refit.early_stopping
    assert refit.max_iter == round(stack.best_iterations_["hgb"].mean())
    assert refit.n_iter_ == refit.max_iter


def warm_started(data):
    X, y = data
    source = LGBMClassifier(n_estimators=10, verbose=-1, n_jobs=1).fit(X[:200], y[:200])
    return WarmStart(LGBMClassifier(learning_rate=0.01, verbose=-1, n_jobs=1), source=source)


ASKED = 20  # rounds the user asks for; too few to stop early at the learning rates below


@pytest.mark.parametrize(
    "name, booster, asked",
    [
        ("xgb", lambda _: XGBClassifier(learning_rate=0.05, n_jobs=1),
         {"n_estimators": ASKED, "early_stopping_rounds": 50}),
        ("lgbm", lambda _: LGBMClassifier(learning_rate=0.05, verbose=-1, n_jobs=1),
         {"n_estimators": ASKED, "early_stopping_round": 50}),
        ("hgb", lambda _: HistGradientBoostingClassifier(learning_rate=0.05, random_state=0),
         {"max_iter": ASKED, "early_stopping": True, "n_iter_no_change": 50}),
        ("warm", warm_started,
         {"estimator__n_estimators": ASKED, "estimator__early_stopping_round": 50}),
    ],
)
def test_refit_never_trains_more_rounds_than_asked(data, name, booster, asked):
    """No fold stops early, so each keeps all 20 rounds: the refit trains 20, not 28."""
    estimator = booster(data).set_params(**asked)
    stack = StackingClassifier([(name, estimator)], cv=3).fit(*data)
    assert (stack.best_iterations_[name] == ASKED).all()
    refit = stack.estimators_[0]
    trained = {"xgb": lambda m: m.get_booster().num_boosted_rounds(),
               "lgbm": lambda m: m.booster_.current_iteration(),
               "hgb": lambda m: m.n_iter_,
               "warm": lambda m: m.estimator_.booster_.current_iteration() - 10}[name]
    assert trained(refit) == ASKED


def test_lightgbm_early_stopping_callback_and_sample_weight(data):
    X, y = data
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    lgbm = LGBMClassifier(n_estimators=ROUNDS, learning_rate=0.3, verbose=-1, n_jobs=1)
    stack = StackingClassifier([("lgbm", lgbm)], cv=3).fit(
        X, y, sample_weight=weights,
        lgbm__callbacks=[lightgbm.early_stopping(10, verbose=False)])
    assert (stack.best_iterations_["lgbm"] < ROUNDS).all()
    refit = stack.estimators_[0]
    assert refit.n_estimators < ROUNDS and refit.booster_.num_trees() == refit.n_estimators


def test_regression_folds_stop_early_too():
    X, y = make_regression(n_samples=500, n_features=8, noise=20.0, random_state=0)
    estimators = [
        ("xgb", XGBRegressor(n_estimators=ROUNDS, learning_rate=0.3, early_stopping_rounds=10,
                             n_jobs=1)),
        ("lgbm", LGBMRegressor(n_estimators=ROUNDS, learning_rate=0.3, verbose=-1, n_jobs=1,
                               n_iter_no_change=10)),
    ]
    stack = StackingRegressor(estimators, cv=KFold(4, shuffle=True, random_state=0)).fit(X, y)
    assert set(stack.best_iterations_) == {"xgb", "lgbm"}
    assert all((r < ROUNDS).all() for r in stack.best_iterations_.values())
    assert np.corrcoef(stack.predict(X), y)[0, 1] > 0.9


def test_without_early_stopping_nothing_is_recorded(data):
    X, y = data
    xgb = XGBClassifier(n_estimators=20, n_jobs=1)
    stack = StackingClassifier([("xgb", xgb)], cv=3).fit(X, y)
    assert stack.best_iterations_ == {}
    assert stack.estimators_[0].n_estimators == 20


def test_early_stopped_stack_is_served_from_the_cache(data, tmp_path):
    X, y = data
    estimators = [(name, boosters()[name]) for name in ("xgb", "hgb")]
    first = StackingClassifier(estimators, cv=3, memory=str(tmp_path)).fit(X, y)
    second = StackingClassifier(estimators, cv=3, memory=str(tmp_path)).fit(X, y)
    assert second.task_log_["cached"].all()
    assert [e.get_params()["n_estimators" if i == 0 else "max_iter"]
            for i, e in enumerate(second.estimators_)] == \
           [e.get_params()["n_estimators" if i == 0 else "max_iter"]
            for i, e in enumerate(first.estimators_)]
    np.testing.assert_array_equal(second.predict_proba(X), first.predict_proba(X))


@pytest.mark.parametrize(
    "estimator, fit_params, match",
    [
        (boosters()["xgb"], {"xgb__eval_set": [(np.zeros((2, 10)), [0, 1])]},
         r"do not pass xgb__eval_set"),
        (make_pipeline(StandardScaler(), boosters()["xgb"]), {},
         r"'xgb' holds XGBClassifier with early stopping at xgb__xgbclassifier"),
    ],
    ids=["eval-set-passed", "booster-inside-pipeline"],
)
def test_unservable_early_stopping_fails_before_any_fit(data, estimator, fit_params, match):
    X, y = data
    stack = StackingClassifier([("xgb", estimator)], cv=3)
    with pytest.raises(ValueError, match=match):
        stack.fit(X, y, **fit_params)
    assert not hasattr(stack, "estimators_")


def class_distributions(n_cases=300):
    """Seeded class counts of a fold's training rows: singletons, pairs, tiny and big folds."""
    rng = np.random.default_rng(0)
    for _ in range(n_cases):
        n_classes = int(rng.integers(2, 9))
        counts = rng.choice([1, 1, 2, 3, 5, 9, 40, 400], size=n_classes)
        labels = rng.choice(10, size=n_classes, replace=False)
        y_rows = rng.permutation(np.repeat(labels, counts))
        rows = np.sort(rng.choice(3 * len(y_rows), size=len(y_rows), replace=False))
        yield rows, y_rows


def test_inner_split_keeps_every_class_in_the_fit_rows():
    """Every class of a fold's training rows is fit on, so evaluation sees only fitted classes."""
    for rows, y_rows in class_distributions():
        labels = dict(zip(rows, y_rows))
        if np.unique(y_rows, return_counts=True)[1].max() < 2:  # no row can be spared
            with pytest.raises(ValueError, match="none can be spared"):
                inner_split(rows, y_rows, "multiclass")
            continue
        fit, evaluate = inner_split(rows, y_rows, "multiclass")
        assert len(evaluate) >= 1
        np.testing.assert_array_equal(np.sort(np.concatenate([fit, evaluate])), rows)
        assert set(labels[r] for r in fit) == set(y_rows)
        again = inner_split(rows, y_rows, "multiclass")  # seeded: the same split every time
        np.testing.assert_array_equal(again[1], evaluate)


def test_inner_split_without_rare_classes_is_the_stratified_split():
    y_rows = np.repeat([0, 1, 2], [50, 30, 20])
    rows = np.arange(100) * 2
    _, evaluate = inner_split(rows, y_rows, "multiclass")
    split = StratifiedShuffleSplit(1, test_size=VALIDATION_FRACTION, random_state=SEED)
    np.testing.assert_array_equal(evaluate, rows[np.sort(next(split.split(rows, y_rows))[1])])


@pytest.mark.parametrize("n_rows", [2, 3, 5, 9, 100])
def test_inner_split_of_a_regression_fold_fits_and_evaluates_on_some_rows(n_rows):
    fit, evaluate = inner_split(np.arange(n_rows), np.zeros(n_rows), "continuous")
    assert len(fit) >= 1 and len(evaluate) == math.ceil(VALIDATION_FRACTION * n_rows)
    assert not set(fit) & set(evaluate)


def test_inner_split_of_one_row_says_none_can_be_spared():
    with pytest.raises(ValueError, match="fold's 1 training rows, and none can be spared"):
        inner_split(np.arange(1), np.zeros(1), "continuous")


def rare_class_data():
    """8 classes, one of them a single row in each of two training folds.

    Each rare row sits where the former unstratified fallback (ShuffleSplit, seed 0) held
    rows out for early stopping, so the booster used to be fit without the class and
    evaluated on it.
    """
    X, y = make_classification(n_samples=320, n_features=8, n_informative=6, n_classes=7,
                               n_clusters_per_class=1, random_state=0)
    half = len(y) // 2
    held_out = next(ShuffleSplit(1, test_size=VALIDATION_FRACTION, random_state=SEED)
                    .split(np.arange(half)))[1][0]
    y[[held_out, half + held_out]] = 7
    first, second = np.arange(half), np.arange(half, len(y))
    folds = [(first, second), (second, first)]
    return X, y, folds


def test_the_multiclass_preset_fits_a_class_with_one_row_in_a_training_fold():
    X, y, folds = rare_class_data()
    estimators = default_estimators("multiclass", device="cpu")
    for _, booster in estimators[2:]:
        booster.set_params(n_jobs=1)  # two threads per task crawl on a busy 2-core machine
    stack = StackingClassifier(estimators, cv=folds).fit(X, y)
    assert set(stack.best_iterations_) == {"xgb", "lgbm"}
    assert stack.predict_proba(X).shape == (len(y), 8)
    assert stack.named_estimators_["xgb"].predict_proba(X[y == 7])[:, 7].min() > 0


@pytest.mark.parametrize(
    "booster, fit_params, advice",
    [
        (LGBMClassifier(n_estimators=30, n_iter_no_change=5, verbose=-1, n_jobs=1), {},
         {"n_iter_no_change": 0}),
        (LGBMClassifier(n_estimators=30, verbose=-1, n_jobs=1),
         {"b__callbacks": [lightgbm.early_stopping(5, verbose=False)]}, {}),
    ],
    ids=["lightgbm-alias", "lightgbm-callback"],
)
def test_multilabel_early_stopping_fails_before_any_fit_with_advice_that_works(
        booster, fit_params, advice, monkeypatch):
    """One booster per label column cannot get its own evaluation set: say how to go on."""
    X, Y = make_multilabel_classification(n_samples=200, n_classes=3, random_state=0)
    advice_text = ", ".join(f"{k}={v!r}" for k, v in advice.items()) or \
        "without an early-stopping callback"
    with monkeypatch.context() as patch:
        patch.setattr(type(booster), "fit", lambda *a, **k: pytest.fail("a booster was fit"))
        with pytest.raises(ValueError, match=(
                rf"'b' \({type(booster).__name__}\) asks for early stopping, but y has several "
                rf"columns.*MultiOutputClassifier.*Turn its early stopping off "
                rf"\({advice_text}\) and set n_estimators")):
            StackingClassifier([("b", booster)], cv=3).fit(X, Y, **fit_params)
    followed = StackingClassifier([("b", clone(booster).set_params(**advice))], cv=3)
    assert followed.fit(X, Y).predict(X).shape == Y.shape


def test_multilabel_xgboost_stops_early_on_its_own_evaluation_set():
    """XGBoost fits a multilabel target itself (tagged multi_label, so never wrapped per
    column, as in scikit-learn's stacks): its folds stop early on one inner split of
    their training rows, and the refit trains their mean rounds."""
    X, Y = make_multilabel_classification(n_samples=200, n_classes=3, random_state=0)
    booster = XGBClassifier(n_estimators=30, early_stopping_rounds=5, n_jobs=1)
    stack = StackingClassifier([("b", booster)], cv=3).fit(X, Y)
    refit = stack.named_estimators_["b"]
    assert isinstance(refit, XGBClassifier)
    rounds = stack.best_iterations_["b"]
    assert len(rounds) == 3 and (rounds < 30).all()
    assert refit.get_booster().num_boosted_rounds() == round(rounds.mean())
    assert stack.predict(X).shape == Y.shape
