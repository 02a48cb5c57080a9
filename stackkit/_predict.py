"""Base-model predictions of new rows: the meta-features ``transform`` hands on."""

from functools import partial

import joblib
import numpy as np

from ._cache import TaskCache
from ._oof import to_columns
from ._source import frozen_output, is_frozen


def base_predictions(models, methods, X, layout, cache=None, task_log=None):
    """Each fitted base model's meta-feature columns for ``X``, side by side.

    With a :class:`~stackkit._cache.TaskCache`, a model's columns for this ``X`` are
    read from it when stored and stored otherwise, under a key made of the cache keys
    of the tasks that made the model (from ``task_log``), the method and a hash of
    ``X``. A model made by an uncached task is always run.
    """
    keys = [None] * len(models)
    if cache is not None:
        x_key = joblib.hash(X)
        keys = [TaskCache.prediction_key(list(task_log.cache_key[task_log.estimator == name]),
                                         method, x_key)
                for name, method in zip(layout.names, methods)]
    blocks = []
    for model, method, key in zip(models, methods, keys):
        predict = partial(_columns, model, method, X, layout.target_kind)
        blocks.append(predict() if key is None else cache.fetch(key, predict))
    return np.hstack(blocks)


def _columns(model, method, X, target_kind):
    raw = frozen_output(model, method, X) if is_frozen(model) else getattr(model, method)(X)
    return to_columns(raw, method, target_kind)
