"""Declared parameter constraints: scikit-learn's own check, and one error type per mistake."""

import re
from pathlib import Path

import numpy as np
import pytest
from lightgbm import LGBMClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_param_validation
from xgboost import XGBClassifier

from stackkit import StackingClassifier, StackingRegressor
from stackkit.meta import (
    BestModelClassifier, BestModelRegressor, BlendClassifier, EnsembleSelectionClassifier,
    EnsembleSelectionRegressor, NNLSClassifier, NNLSRegressor,
)
from stackkit.schema import TableSchema
from stackkit.transfer import WarmStart

SOURCE_X = np.random.default_rng(0).normal(size=(40, 5))


def _warm_start(booster=LGBMClassifier):
    quiet = {"verbose": -1} if booster is LGBMClassifier else {"verbosity": 0}
    source = booster(n_estimators=2, **quiet).fit(SOURCE_X, SOURCE_X[:, 0] > 0)
    return WarmStart(booster(n_estimators=2, **quiet), source=source)


# Every stackkit estimator a user fits. FoldAverage is not here: it has no fit (the stack
# builds it from fitted fold models), so it has nothing to validate.
ESTIMATORS = {
    "StackingClassifier": lambda: StackingClassifier([("lr", LogisticRegression())], cv=2),
    "StackingRegressor": lambda: StackingRegressor([("ridge", Ridge())], cv=2),
    "NNLSRegressor": NNLSRegressor, "NNLSClassifier": NNLSClassifier,
    "BlendClassifier": BlendClassifier,
    "EnsembleSelectionClassifier": EnsembleSelectionClassifier,
    "EnsembleSelectionRegressor": EnsembleSelectionRegressor,
    "BestModelClassifier": BestModelClassifier, "BestModelRegressor": BestModelRegressor,
    "WarmStart": _warm_start, "TableSchema": TableSchema,
}


@pytest.mark.parametrize("name", ESTIMATORS)
def test_scikit_learn_checks_the_declared_constraints(name):
    """Every parameter is declared, and a wrong type or value raises scikit-learn's error."""
    # WarmStart takes its booster's tags, and LightGBM's mark it a label transformer
    # (one_d_labels), for which the check would call fit(y) alone; XGBoost's do not.
    estimator = _warm_start(XGBClassifier) if name == "WarmStart" else ESTIMATORS[name]()
    check_param_validation(name, estimator)


CLASSIFY = (np.random.default_rng(1).uniform(size=(30, 4)), np.arange(30) % 2)

# The same mistake on different classes: (class, parameter, value, stackkit's hint or None)
SAME_MISTAKE = {
    "bool as a count": [
        ("StackingClassifier", "n_jobs", True, "n_jobs must be an int"),
        ("StackingRegressor", "verbose", True, "verbose must be a non-negative integer"),
        ("EnsembleSelectionClassifier", "n_iterations", True, "n_iterations must be an integer"),
        ("EnsembleSelectionRegressor", "n_init", True, "n_init must be an integer"),
    ],
    "count out of range": [
        ("StackingClassifier", "cv", 1, "cv must be at least 2 folds"),
        ("StackingRegressor", "n_jobs", 0, "n_jobs must not be 0"),
        ("StackingClassifier", "verbose", -1, "verbose must be a non-negative integer"),
        ("EnsembleSelectionClassifier", "n_iterations", -1, "n_iterations must be an integer >= 0"),
        ("EnsembleSelectionRegressor", "n_init", 0, "n_init must be an integer >= 1"),
    ],
    "text as a flag": [
        ("StackingClassifier", "passthrough", "yes", "passthrough must be True or False"),
        ("StackingRegressor", "refit", "no", "refit must be True or False"),
        ("NNLSRegressor", "sum_to_one", "yes", None),
        ("NNLSClassifier", "sum_to_one", 1, None),
    ],
    "unknown option": [
        ("StackingClassifier", "on_error", "ignore", "on_error must be 'raise' or 'warn'"),
        ("StackingRegressor", "stack_method", "predict_log", None),
        ("BestModelClassifier", "scoring", "no_such_metric", None),
        ("EnsembleSelectionRegressor", "scoring", "no_such_metric", None),
    ],
    "not an estimator": [
        ("StackingClassifier", "final_estimator", "lr",
         "final_estimator must be a scikit-learn estimator"),
        ("StackingRegressor", "estimators", "ridge", "estimators must be a list"),
        ("WarmStart", "estimator", "lgbm", "WarmStart estimator must be an XGBoost or LightGBM"),
    ],
}
ROWS = [pytest.param(mistake, *row, id=f"{mistake}: {row[0]}.{row[1]}={row[2]!r}")
        for mistake, rows in SAME_MISTAKE.items() for row in rows]


@pytest.mark.parametrize("mistake, name, param, value, hint", ROWS)
def test_the_same_mistake_raises_the_same_type_on_every_class(mistake, name, param, value, hint):
    estimator = ESTIMATORS[name]().set_params(**{param: value})
    with pytest.raises(InvalidParameterError) as caught:
        estimator.fit(*CLASSIFY)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, TypeError)
    message = str(caught.value)
    got = re.escape(repr(value))
    assert re.match(rf"^The '{param}' parameter of {name} must be .* Got {got} instead\.",
                    message), message
    if hint is not None:  # stackkit's explanation follows scikit-learn's sentence
        assert re.search(rf"instead\. {re.escape(hint)}", message), message
    assert not any(attr.endswith("_") and not attr.startswith("_") for attr in vars(estimator))


def test_validation_comes_before_any_work_on_the_data():
    """A refused parameter is reported even when X could not be read at all."""
    with pytest.raises(InvalidParameterError, match="'n_jobs' parameter"):
        StackingClassifier([("lr", LogisticRegression())], n_jobs="2").fit("no data", None)
    with pytest.raises(InvalidParameterError, match="'n_init' parameter"):
        EnsembleSelectionClassifier(n_init=0).fit("no data", None)


def test_valid_values_of_numpy_types_still_pass():
    X, y = CLASSIFY
    stack = StackingClassifier([("lr", LogisticRegression())], cv=np.int64(2),
                               passthrough=np.True_, n_jobs=np.int32(1), verbose=np.int64(0))
    assert stack.fit(X, y).oof_.shape == (30, 1)
    meta = np.column_stack([X[:, 0], X[:, 1]])
    assert EnsembleSelectionClassifier(n_iterations=np.int64(2)).fit(meta, y).weights_.size == 2


def test_only_one_module_imports_scikit_learns_private_validation():
    package = Path(__file__).resolve().parents[1] / "stackkit"
    importers = sorted(str(path.relative_to(package)) for path in package.rglob("*.py")
                       if "sklearn.utils._param_validation" in path.read_text())
    assert importers == ["_param_checks.py"]
