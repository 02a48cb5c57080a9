"""Base-model predictions of new rows: the meta-features ``transform`` hands on."""

from functools import partial

import numpy as np

from ._cache import TaskCache
from ._oof import to_columns
from ._plane import fingerprint
from ._source import frozen_output


def base_predictions(models, methods, X, layout, cache, task_log):
    """Each fitted base model's meta-feature columns for ``X``, side by side.

    With a :class:`~stackkit._cache.TaskCache`, a model's columns for this ``X`` are
    read from it when stored and stored otherwise, under a key made of the cache keys
    of the tasks that made the model (from ``task_log``), the method and a hash of
    ``X``. A model made by an uncached task is always run. Frozen models (their task's
    ``fold`` is ``"frozen"`` in ``task_log``) have their labels coded as the stack's.
    A cache that cannot be written is read all the same, with one warning.
    """
    keys = [None] * len(models)
    if cache is not None:
        x_key = fingerprint(X)
        keys = [TaskCache.prediction_key(list(task_log.cache_key[task_log.estimator == name]),
                                         method, x_key)
                for name, method in zip(layout.names, methods)]
    frozen = set(task_log.estimator[task_log.fold == "frozen"])
    blocks = []
    for name, model, method, key in zip(layout.names, models, methods, keys):
        predict = partial(_columns, name, model, method, X, layout.target_kind, name in frozen)
        blocks.append(predict() if key is None else cache.fetch(key, predict))
    if cache is not None:
        cache.warn_unwritable()
    return np.hstack(blocks)


def _columns(name, model, method, X, target_kind, frozen):
    raw = frozen_output(model, method, X) if frozen else getattr(model, method)(X)
    return to_columns(raw, method, target_kind, name)
