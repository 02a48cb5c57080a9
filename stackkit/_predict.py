"""Base-model predictions of new rows: the meta-features ``transform`` hands on."""

from functools import partial
import pickle

import joblib
import numpy as np

from ._cache import TaskCache
from ._oof import to_columns
from ._plane import fingerprint
from ._source import frozen_output


def base_predictions(models, methods, X, layout, cache, task_log, params=None):
    """Each fitted base model's meta-feature columns for ``X``, side by side.

    ``params`` maps a base estimator's name to the parameters of its stack method (the
    metadata routed to it); names left out get none. With a
    :class:`~stackkit._cache.TaskCache`, a model's columns for this ``X`` are read from
    it when stored and stored otherwise, under a key made of the cache keys of the tasks
    that made the model (from ``task_log``), the method and a hash of ``X`` (and of its
    parameters, when it has some: a model with parameters that cannot be hashed is
    always run). A model made by an uncached task is always run. Frozen models (their
    task's ``fold`` is ``"frozen"`` in ``task_log``) have their labels coded as the
    stack's. A cache that cannot be written is read all the same, with one warning.
    """
    params = [(params or {}).get(name, {}) for name in layout.names]
    keys = [None] * len(models)
    if cache is not None:
        x_key = fingerprint(X)
        task_keys = _task_keys_by_name(task_log)
        keys = [_prediction_key(task_keys.get(name, []), method, x_key, kwargs)
                for name, method, kwargs in zip(layout.names, methods, params)]
    frozen = set(task_log.estimator[task_log.fold == "frozen"])
    blocks = []
    for name, model, method, key, kwargs in zip(layout.names, models, methods, keys, params):
        predict = partial(_columns, name, model, method, X, layout.target_kind, name in frozen,
                          kwargs)
        blocks.append(predict() if key is None else cache.fetch(key, predict))
    if cache is not None:
        cache.warn_unwritable()
    return np.hstack(blocks)


def _task_keys_by_name(task_log):
    """``{estimator name: its tasks' cache keys, in log order}`` (one pass, no masks)."""
    keys = {}
    for name, key in zip(task_log.estimator, task_log.cache_key):
        keys.setdefault(name, []).append(key)
    return keys


def _prediction_key(task_keys, method, x_key, params):
    """The cache key of a model's predictions; without parameters, the key it always had."""
    if not params:
        return TaskCache.prediction_key(task_keys, method, x_key)
    try:
        return TaskCache.prediction_key(task_keys, method, (x_key, joblib.hash(params)))
    except (pickle.PicklingError, AttributeError, TypeError):
        return None


def _columns(name, model, method, X, target_kind, frozen, params):
    if frozen:
        raw = frozen_output(model, method, X, **params)
    else:
        raw = getattr(model, method)(X, **params)
    return to_columns(raw, method, target_kind, name)
