"""What a source model (trained on another dataset) is, and the stack's checks of it.

A source is frozen (never refit) or continued by a warm-started booster
(:class:`~stackkit._boosters.warm_start.WarmStartedBooster`); what each library calls
its booster, rounds and best iteration is in its module of :mod:`stackkit._boosters`.
Read by :mod:`stackkit.transfer` and by the stack's checks
(:func:`check_sources`); nothing here fits a model.
"""

import numpy as np

from sklearn.base import BaseEstimator
from sklearn.frozen import FrozenEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from ._boosters import for_estimator
from ._boosters.warm_start import WarmStartedBooster
from ._plane import column_names


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


def frozen_output(model, method, X, **params):
    """A frozen model's raw output for ``X``, predicted labels turned into class codes.

    ``params`` go to the model's ``method`` (the metadata routed to it).

    Fold models learn the stack's codes 0..K-1, a frozen classifier its source's
    labels; the stack checked those are the target's (sorted) labels, so a label's
    position in ``classes_`` is its code.
    """
    raw = getattr(model, method)(X, **params)
    if method == "predict" and np.ndim(raw) == 1 and getattr(model, "classes_", None) is not None:
        return np.searchsorted(model.classes_, raw)
    return raw


def is_template_booster(obj):
    """Whether ``obj`` is an unfitted XGBoost/LightGBM estimator (not a fitted source)."""
    if not _can_warm_start(for_estimator(obj)) or not hasattr(obj, "get_params"):
        return False
    try:
        check_is_fitted(obj)
    except NotFittedError:
        return True
    return False


def _can_warm_start(library):
    return library is not None and library.init_param is not None


def library_of(model, what):
    """The :class:`~stackkit._boosters.Library` of ``model`` (the WarmStart ``what``).

    Raises unless it is a library a booster can be warm-started in (XGBoost, LightGBM).
    """
    library = for_estimator(model)
    if not _can_warm_start(library):
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
    if found is not library:
        raise TypeError(f"WarmStart source is a {found.name} model but estimator is "
                        f"{library.name}; a booster continues only from a model of its "
                        "own library")
    booster = model
    if hasattr(model, "get_params"):  # a scikit-learn wrapper, not a raw Booster
        check_is_fitted(model, msg=f"WarmStart source {type(model).__name__} is not fitted")
        booster = library.raw_booster(model)
    best = library.best_iteration(model)
    if not best or best >= library.rounds(booster):
        return booster
    return library.cut(booster, best)


def rounds(booster):
    """Boosting rounds a raw XGBoost or LightGBM booster holds."""
    return for_estimator(booster).rounds(booster)


def source_features(model):
    """``(column names or None, number of columns)`` a fitted model was trained on."""
    library = for_estimator(model)
    if library is not None and not hasattr(model, "get_params"):  # a raw Booster
        return library.booster_features(model)
    names = getattr(model, "feature_names_in_", None)  # LightGBM raises if it saw none
    return (None if names is None else list(names)), getattr(model, "n_features_in_", None)


def column_mismatch(model, X):
    """What is wrong with ``X``'s columns for a model trained on other columns, or None."""
    names, n_features = source_features(model)
    columns = column_names(X)
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
    library = for_estimator(model)
    if library is not None and not hasattr(model, "get_params"):
        return None, library.booster_classes(model)
    return None, None


def column_differences(expected, given):
    """``(missing, extra)``: names in ``expected`` not in ``given``, and the reverse."""
    expected, given = [str(c) for c in expected], [str(c) for c in given]
    return ([name for name in expected if name not in set(given)],
            [name for name in given if name not in set(expected)])


# -- the stack's checks of its sources -------------------------------------------------


def check_sources(named_estimators, X, target):
    """Check every frozen or warm-started base estimator's source against the target data.

    Raises, naming the estimator, when a frozen model is not fitted or cannot serve a
    multi-output target, when a source was trained on other columns than ``X``'s, or
    when a classifier source knows other classes than the target's labels.
    """
    for name, est in named_estimators:
        if is_frozen(est):
            _check_frozen(name, est, target)
            source = source_model(est)
        elif isinstance(est, WarmStartedBooster):
            source = source_model(est.booster_source())
            template = library_of(est.booster_template(), "estimator")
            source_booster(est.booster_source(), template)
        else:
            continue
        problem = column_mismatch(source, X)
        if problem:
            raise ValueError(f"estimator {name!r}: its source model does not fit X: {problem}")
        _check_classes(name, source, target)


def _check_frozen(name, est, target):
    try:
        check_is_fitted(est)
    except NotFittedError as exc:
        raise NotFittedError(f"estimator {name!r} is frozen but its model is not fitted; fit "
                             "it on the source data before freezing it") from exc
    if target.multi_output and not get_tags(est).target_tags.multi_output:
        raise ValueError(f"estimator {name!r} is frozen and predicts a single output; the "
                         f"target is {target.kind}, and a frozen model cannot be refit per "
                         "output")


def _check_classes(name, source, target):
    """A classifier source must know exactly the target's labels (or as many classes)."""
    if target.kind not in ("binary", "multiclass"):
        return
    labels, n_classes = source_classes(source)
    expected = np.asarray(target.classes)
    if labels is not None:
        same = len(labels) == len(expected) and np.array_equal(np.asarray(labels), expected)
        if not same:
            raise ValueError(
                f"estimator {name!r}: its source model was trained on the classes "
                f"{np.asarray(labels).tolist()}, the target's are {expected.tolist()}; a "
                "source model for another label set cannot serve this stack (encode the "
                "target as the source's labels were, or leave this source out)")
    elif n_classes is not None and n_classes != len(expected):
        raise ValueError(
            f"estimator {name!r}: its source model predicts {n_classes} classes, the "
            f"target has {len(expected)} ({expected.tolist()})")
