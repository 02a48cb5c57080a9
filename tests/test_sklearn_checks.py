"""scikit-learn's own conformance suite over both stacking estimators."""

import pytest
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks
from xgboost import XGBClassifier, XGBRegressor

from stackkit import StackingClassifier, StackingRegressor

# Each entry is a check that cannot pass by design, with the reason.
BY_DESIGN = {
    "check_transformer_general": (
        "fit_transform returns out-of-fold meta-features (no model saw the row's label), "
        "transform the refit models' predictions; they differ on purpose"
    ),
    "check_transformer_data_not_an_array": (
        "compares fit_transform with transform, which differ on purpose (see above)"
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "a row repeated twice can land in two different folds, so weight 2 and "
        "duplication give different out-of-fold predictions"
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "same as the dense case: duplicated rows are split across folds"
    ),
}

ESTIMATORS = [
    StackingClassifier(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))], cv=3
    ),
    StackingRegressor([("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3, random_state=0))], cv=3),
    StackingClassifier(
        [("xgb", XGBClassifier(n_estimators=5, max_depth=2)),
         ("lgbm", LGBMClassifier(n_estimators=5, min_child_samples=2, verbose=-1))],
        cv=3,
    ),
    StackingRegressor(
        [("xgb", XGBRegressor(n_estimators=5, max_depth=2)),
         ("lgbm", LGBMRegressor(n_estimators=5, min_child_samples=2, verbose=-1))],
        cv=3,
    ),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: BY_DESIGN)
def test_sklearn_conformance(estimator, check):
    check(estimator)
