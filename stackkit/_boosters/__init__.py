"""The boosting libraries stackkit knows, one module each, and how a model finds its own.

A library is recognised by the module its class lives in (as XGBoost's own
``lazy_isinstance``), so looking one up never imports a library the user's code did not
import already. Each library module holds everything stackkit knows of it (threads,
devices, early stopping, warm start, source models); see :class:`._library.Library`.
"""

import time

from sklearn import get_config

from .._dask_plane import is_dask_estimator
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
    restore after fit. A distributed booster's threads are its workers' (left as they are).
    """
    if is_dask_estimator(model):
        return {}
    params = model.get_params(deep=True)
    unset = {}
    for key, value in params.items():
        library = for_estimator(_owner(model, params, key))
        if value is None and library and key.rpartition("__")[2] in library.thread_params:
            unset[key] = None
    for prefix, library in _boosters(model, params):
        # CatBoost lists only the parameters it was given: an absent one is unset too
        names = [f"{prefix}{name}" for name in library.thread_params]
        if names and not any(name in params for name in names):
            unset[names[0]] = None
    model.set_params(**{key: n_threads for key in unset})
    return unset


def _boosters(model, params):
    """``(parameter prefix, library)`` of ``model`` and each estimator nested in it."""
    owners = [("", model)] + [(f"{key}__", value) for key, value in params.items()
                              if hasattr(value, "get_params")]
    return [(prefix, library) for prefix, owner in owners
            if (library := for_estimator(owner)) is not None]


def restore_threads(model, user_threads):
    """Give the fitted model back the user's thread settings (``None``: every core)."""
    params = model.get_params(deep=True)
    for key, value in user_threads.items():
        owner = _owner(model, params, key)
        library = for_estimator(owner)
        library.set_thread_param(owner, key.rpartition("__")[2], value)
        library.restore_threads(owner)


def _owner(model, params, key):
    """The estimator (``model`` or a nested one) that parameter ``key`` belongs to."""
    prefix = key.rpartition("__")[0]
    return params.get(prefix) if prefix else model


class DeadlineWatch:
    """The wall clock against a deadline, asked by a booster after each boosting round.

    :meth:`passed` says True once the next round, expected to take as long as the last
    one (the first: as long as the time since the watch was made), would end past
    ``deadline``; from then on ``truncated`` is True.
    """

    def __init__(self, deadline, clock=time.time):
        self.deadline, self.clock = deadline, clock
        self.truncated = False
        self._last = clock()

    def passed(self):
        now = self.clock()
        step, self._last = now - self._last, now
        self.truncated = self.truncated or now + step > self.deadline
        return self.truncated


class DeadlineStop:
    """Context of one fit: the booster in ``model`` stops growing trees at ``deadline``.

    The booster is ``model`` itself or a pipeline's last step. Its library's callback
    (:meth:`Library.deadline_callback`) joins the user's own callbacks: set on the model
    for the time of the ``with`` block (then the user's are put back), or added to the
    fit parameters by :meth:`fit_params`. Without a deadline, a booster, or a callback
    its library takes, nothing changes and ``truncated`` stays False.
    """

    def __init__(self, model, deadline, clock=time.time):
        self.watch = DeadlineWatch(deadline, clock) if deadline is not None else None
        self._model, self._place, self._callback = model, None, None
        booster, prefix = _last_booster(model) if deadline is not None else (None, "")
        if booster is not None:
            library = for_estimator(booster)
            self._callback = library.deadline_callback(booster, self.watch)
            self._place = library.callbacks_in if self._callback is not None else None
            self._key = f"{prefix}callbacks"
        if prefix and self._place == "fit" and get_config()["enable_metadata_routing"]:
            self._place = None  # a pipeline routes only the metadata its steps requested

    @property
    def truncated(self):
        """Whether the deadline stopped the booster."""
        return self.watch is not None and self.watch.truncated

    def __enter__(self):
        if self._place == "params":
            self._users = self._model.get_params(deep=True)[self._key]
            self._model.set_params(**{self._key: [*(self._users or ()), self._callback]})
        return self

    def __exit__(self, *exc):
        if self._place == "params":
            self._model.set_params(**{self._key: self._users})

    def fit_params(self, params):
        """``params`` (of the model's ``fit``) with the callback, if it goes there."""
        if self._place != "fit":
            return params
        return {**params, self._key: [*(params.get(self._key) or ()), self._callback]}


def _last_booster(model):
    """``(booster, parameter prefix)``: ``model`` or its pipeline's last step; else None."""
    if for_estimator(model) is not None:
        return model, ""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps and isinstance(steps[-1], tuple):
        name, last = steps[-1][0], steps[-1][-1]
        if for_estimator(last) is not None:
            return last, f"{name}__"
    return None, ""


__all__ = ["BOOSTER_LIBRARIES", "DeadlineStop", "DeadlineWatch", "LIBRARIES", "Library",
           "for_estimator", "restore_threads", "set_thread_budget"]
