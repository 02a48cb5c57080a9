"""Early stopping of boosters inside folds: leak-free, recorded, and carried to the refit."""

import math

import lightgbm
import numpy as np
import pytest
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier, XGBRegressor

from stackkit import StackingClassifier, StackingRegressor
from stackkit._early_stopping import VALIDATION_FRACTION

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
def test_refit_trains_the_folds_mean_rounds_scaled_to_all_rows(data, name):
    X, y = data
    user_estimator = boosters()[name]
    before = user_estimator.get_params()
    stack = StackingClassifier([(name, user_estimator)], cv=5).fit(X, y)
    rounds = stack.best_iterations_[name]
    assert rounds.shape == (5,) and (rounds < ROUNDS).all()
    n_train = len(y) * 4 // 5
    n_fit = n_train - math.ceil(VALIDATION_FRACTION * n_train)
    refit = stack.estimators_[0]
    assert refit.n_estimators == round(rounds.mean() * len(y) / n_fit)
    assert refit.get_params()["early_stopping_rounds" if name == "xgb" else
                              "early_stopping_round"] in (None, 0)
    assert user_estimator.get_params() == before


def test_hist_gradient_boosting_refit_uses_its_own_split_rows(data):
    X, y = data
    stack = StackingClassifier([("hgb", boosters()["hgb"])], cv=5).fit(X, y)
    n_train = len(y) * 4 // 5
    n_fit = n_train - math.ceil(0.1 * n_train)  # its default validation_fraction
    refit = stack.estimators_[0]
    assert not refit.early_stopping
    assert refit.max_iter == round(stack.best_iterations_["hgb"].mean() * len(y) / n_fit)
    assert refit.n_iter_ == refit.max_iter


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
