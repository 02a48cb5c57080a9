"""What a source model (trained on another dataset) is: its library, booster, columns.

Read by :mod:`stackkit.transfer` and by the stack's checks; nothing here fits a model.
"""

import json

import numpy as np

from sklearn.base import BaseEstimator
from sklearn.frozen import FrozenEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ._compat import booster_library
from .schema import column_differences

# How each library's fit takes the model to continue from.
INIT_PARAMS = {"xgboost": "xgb_model", "lightgbm": "init_model"}


def is_frozen(estimator):
    """Whether ``estimator`` is frozen: already fitted, and its ``fit`` does nothing.

    Parameters
    ----------
    estimator : estimator
        Any estimator.

    Returns
    -------
    frozen : bool
        True for scikit-learn's ``FrozenEstimator`` and for any estimator following
        its convention, a ``__sklearn_clone__`` that returns the estimator itself.
    """
    if isinstance(estimator, FrozenEstimator):
        return True
    own_clone = getattr(type(estimator), "__sklearn_clone__", None)
    if own_clone is None or own_clone is BaseEstimator.__sklearn_clone__:
        return False
    return estimator.__sklearn_clone__() is estimator


def frozen_output(model, method, X):
    """A frozen model's raw output for ``X``, predicted labels turned into class codes.

    Fold models learn the stack's codes 0..K-1, a frozen classifier its source's
    labels; the stack checked those are the target's (sorted) labels, so a label's
    position in ``classes_`` is its code.
    """
    raw = getattr(model, method)(X)
    if method == "predict" and np.ndim(raw) == 1 and getattr(model, "classes_", None) is not None:
        return np.searchsorted(model.classes_, raw)
    return raw


def is_template_booster(obj):
    """Whether ``obj`` is an unfitted XGBoost/LightGBM estimator (not a fitted source)."""
    if booster_library(obj) not in INIT_PARAMS or not hasattr(obj, "get_params"):
        return False
    try:
        check_is_fitted(obj)
    except NotFittedError:
        return True
    return False


def library_of(model, what):
    """``"xgboost"`` or ``"lightgbm"``: the library of ``model`` (the WarmStart ``what``)."""
    library = booster_library(model)
    if library not in INIT_PARAMS:
        raise TypeError(
            f"WarmStart {what} must be an XGBoost or LightGBM model; got "
            f"{type(model).__name__}"
        )
    return library


def source_model(source):
    """The model inside ``source`` (``FrozenEstimator`` unwrapped)."""
    return source.estimator if isinstance(source, FrozenEstimator) else source


def source_booster(source, library):
    """The source's booster, cut to its best iteration, checked to be of ``library``."""
    model = source_model(source)
    if isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
        raise TypeError(
            "WarmStart source must be a fitted model, not a file path: load it first "
            "(xgboost.Booster(model_file=...), lightgbm.Booster(model_file=...)) so that "
            "its content, not its name, identifies it in the cache"
        )
    found = library_of(model, "source")
    if found != library:
        raise TypeError(f"WarmStart source is a {found} model but estimator is {library}; "
                        "a booster continues only from a model of its own library")
    booster = model
    if hasattr(model, "get_params"):  # a scikit-learn wrapper, not a raw Booster
        check_is_fitted(model, msg=f"WarmStart source {type(model).__name__} is not fitted")
        booster = model.get_booster() if library == "xgboost" else model.booster_
    best = _best_iteration(model)
    if not best or best >= rounds(booster):
        return booster
    if library == "xgboost":
        return booster[:best]
    return type(booster)(model_str=booster.model_to_string(num_iteration=best))


def _best_iteration(model):
    """Rounds an early-stopped model predicts with (None or 0 when it did not stop)."""
    if booster_library(model) == "xgboost":
        try:
            return model.best_iteration + 1
        except AttributeError:
            return None
    return getattr(model, "best_iteration_", None) or getattr(model, "best_iteration", None)


def rounds(booster):
    """Boosting rounds a raw XGBoost or LightGBM booster holds."""
    if booster_library(booster) == "xgboost":
        return booster.num_boosted_rounds()
    return booster.current_iteration()


def source_features(model):
    """``(column names or None, number of columns)`` a fitted model was trained on."""
    if booster_library(model) and not hasattr(model, "get_params"):  # a raw Booster
        if booster_library(model) == "xgboost":
            return model.feature_names, model.num_features()
        names = model.feature_name()
        generic = names == [f"Column_{i}" for i in range(len(names))]
        return (None if generic else names), model.num_feature()
    names = getattr(model, "feature_names_in_", None)  # LightGBM raises if it saw none
    return (None if names is None else list(names)), getattr(model, "n_features_in_", None)


def column_mismatch(model, X):
    """What is wrong with ``X``'s columns for a model trained on other columns, or None."""
    names, n_features = source_features(model)
    columns = list(X.columns) if hasattr(X, "columns") else None
    if names is not None and columns is not None and list(names) != columns:
        missing, extra = column_differences(names, columns)
        if not missing and not extra:
            return (f"X has the source's columns in another order; reorder them as "
                    f"{list(names)}")
        return (f"it was trained on {len(names)} columns; X lacks {missing} and has "
                f"{extra} it never saw. Give the stack X with exactly the source's "
                "columns, or wrap the source in a pipeline that selects them")
    if n_features is not None and n_features != X.shape[1]:
        return f"it was trained on {n_features} columns but X has {X.shape[1]}"
    return None


def source_classes(model):
    """``(class labels or None, number of classes or None)`` of a fitted source model.

    Labels from a scikit-learn classifier's ``classes_``; for a raw booster only the
    number of classes it predicts (None for a regressor or a binary XGBoost booster,
    whose objective alone tells).
    """
    labels = getattr(model, "classes_", None)
    if labels is not None:
        return labels, len(labels)
    library = booster_library(model)
    if library == "lightgbm" and not hasattr(model, "get_params"):
        per_round = model.num_model_per_iteration()
        return None, (per_round if per_round > 1 else None)
    if library == "xgboost" and not hasattr(model, "get_params"):
        n_classes = _xgboost_num_class(model)
        return None, (n_classes if n_classes > 1 else None)
    return None, None


def _xgboost_num_class(booster):
    config = json.loads(booster.save_config())
    return int(config["learner"]["learner_model_param"].get("num_class", 0))
