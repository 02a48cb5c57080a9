"""The boosting libraries stackkit knows, one module each, and how a model finds its own.

A library is recognised by the module its class lives in (as XGBoost's own
``lazy_isinstance``), so looking one up never imports a library the user's code did not
import already. Each library module holds everything stackkit knows of it (threads,
devices, early stopping, warm start, source models); see :class:`._library.Library`.
"""

from ._library import Library
from .catboost import CatBoost
from .hist_gradient_boosting import HistGradientBoosting
from .lightgbm import LightGBM
from .xgboost import XGBoost

LIBRARIES = (XGBoost, LightGBM, CatBoost, HistGradientBoosting)
# Distributions of the third-party libraries (whose versions decide what a cached model is).
BOOSTER_LIBRARIES = tuple(lib.module for lib in LIBRARIES if lib.module != "sklearn")


def for_estimator(estimator):
    """The :class:`~._library.Library` of ``estimator``'s class, or None for any other."""
    cls = type(estimator)
    root = cls.__module__.split(".", 1)[0]
    for library in LIBRARIES:
        if root == library.module and cls.__name__.startswith(library.class_prefix):
            return library
    return None


def set_thread_budget(model, n_threads):
    """Give every booster in ``model`` (itself or a pipeline step) ``n_threads`` threads.

    A booster's thread parameters left at ``None`` use every core, which oversubscribes
    the machine when several tasks run at once; only those are set, an explicit user
    setting is kept. Returns the changed parameters with their original values, to
    restore after fit.
    """
    params = model.get_params(deep=True)
    unset = {}
    for key, value in params.items():
        library = for_estimator(_owner(model, params, key))
        if value is None and library and key.rpartition("__")[2] in library.thread_params:
            unset[key] = None
    model.set_params(**{key: n_threads for key in unset})
    return unset


def restore_threads(model, user_threads):
    """Give the fitted model back the user's thread settings (``None``: every core)."""
    model.set_params(**user_threads)
    params = model.get_params(deep=True)
    for key in user_threads:
        owner = _owner(model, params, key)
        for_estimator(owner).restore_threads(owner)


def _owner(model, params, key):
    """The estimator (``model`` or a nested one) that parameter ``key`` belongs to."""
    prefix = key.rpartition("__")[0]
    return params.get(prefix) if prefix else model


__all__ = ["BOOSTER_LIBRARIES", "LIBRARIES", "Library", "for_estimator", "restore_threads",
           "set_thread_budget"]
