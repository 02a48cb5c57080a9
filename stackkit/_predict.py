"""Base-model predictions of new rows: the meta-features ``transform`` hands on."""

import pickle
from dataclasses import dataclass

import joblib
import numpy as np
from joblib import cpu_count, effective_n_jobs, parallel_config
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import ThreadpoolController

from ._cache import TaskCache
from ._fold_average import FoldAverage
from ._oof import to_columns
from ._plane import count_rows, fingerprint
from ._source import frozen_output

# Below this many rows the models predict one after another in the calling thread.
# Threads cost a fixed few milliseconds per predict (joblib's pool, reading the native
# thread pools to limit them), and a call on few rows is mostly Python (validation,
# wrappers) holding the GIL, so on few rows threads only add that cost; on many rows the
# calls spend their time in numpy, trees and boosters, which release the GIL, and run
# side by side. Measured on a stack of a linear model, a random forest, XGBoost and
# LightGBM (100 trees each, n_jobs=2, 2 busy cores), threads against one call after
# another: 1.3-1.7x the time on 1-300 rows, 1.1-1.5x on 1,000, 1.1-1.2x on 3,000, and
# 0.8x (refit=False) / 1.0x (refit=True) from 10,000 rows on.
PARALLEL_ROWS = 10_000


@dataclass(frozen=True)
class _Part:
    """One model call of one base estimator: a fold model, a merged forest, a refit model."""

    owner: int  # the base estimator's position in the stack
    model: object
    method: str
    params: dict
    frozen: bool


def base_predictions(models, methods, X, layout, cache, task_log, params=None, n_jobs=None):
    """Each fitted base model's meta-feature columns for ``X``, side by side.

    ``params`` maps a base estimator's name to the parameters of its stack method (the
    metadata routed to it); names left out get none; a :class:`FoldAverage` passes them
    to each of its fold models. With a :class:`~stackkit._cache.TaskCache`, a model's
    columns for this ``X`` are read from it when stored and stored otherwise, under a key
    made of the cache keys of the tasks that made the model (from ``task_log``), the
    method and a hash of ``X`` (and of its parameters, when it has some: a model with
    parameters that cannot be hashed is always run). A model made by an uncached task is
    always run. Frozen models (their task's ``fold`` is ``"frozen"`` in ``task_log``)
    have their labels coded as the stack's. A cache that cannot be written is read all
    the same, with one warning.

    The model calls run in up to ``n_jobs`` threads from :data:`PARALLEL_ROWS` rows on,
    one after another below. A :class:`FoldAverage` makes one call per fold model in
    threads (so that they spread over the threads), and one call of its merged forest
    (:mod:`stackkit._forest_merge`) when the calls run one after another (one call
    validates the rows once). The result is the same either way, up to float rounding
    (the merged forest's mean, a forest given threads adding up its trees in the order
    they finish).
    """
    params = [(params or {}).get(name, {}) for name in layout.names]
    keys = _prediction_keys(layout, methods, X, cache, task_log, params)
    blocks = [None if key is None else cache.read(key) for key in keys]
    n_threads = _n_threads(n_jobs, count_rows(X))
    names, folds = task_log["estimator"].to_numpy(), task_log["fold"].to_numpy()
    frozen = set(names[folds == "frozen"])
    parts = [part for i, (name, model) in enumerate(zip(layout.names, models))
             if blocks[i] is None
             for part in _parts(i, model, methods[i], params[i], name in frozen,
                                merge=n_threads == 1)]
    outputs = _call_all(parts, X, n_threads)
    for i, model in enumerate(models):
        if blocks[i] is None:
            raw = _combine(model, methods[i], [out for part, out in zip(parts, outputs)
                                               if part.owner == i])
            blocks[i] = to_columns(raw, methods[i], layout.target_kind, layout.names[i])
            if keys[i] is not None:
                cache.save(keys[i], blocks[i])
    if cache is not None:
        cache.warn_unwritable()
    return np.hstack(blocks)


def _prediction_keys(layout, methods, X, cache, task_log, params):
    if cache is None:
        return [None] * len(methods)
    x_key = fingerprint(X)
    task_keys = _task_keys_by_name(task_log)
    return [_prediction_key(task_keys.get(name, []), method, x_key, kwargs)
            for name, method, kwargs in zip(layout.names, methods, params)]


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


def _n_threads(n_jobs, n_rows):
    """Threads for the model calls: 1 below :data:`PARALLEL_ROWS` rows, else ``n_jobs``."""
    if n_rows < PARALLEL_ROWS:
        return 1
    return max(1, min(effective_n_jobs(n_jobs), cpu_count()))


def _parts(owner, model, method, params, frozen, merge):
    if isinstance(model, FoldAverage):
        return [_Part(owner, part, method, params, False)
                for part in model._parts(method, merge=merge)]
    return [_Part(owner, model, method, params, frozen)]


def _combine(model, method, outputs):
    if isinstance(model, FoldAverage):
        return model._combine(method, outputs)
    return outputs[0]


def _call_all(parts, X, n_threads):
    """Every part's raw output for ``X``, in order, using ``n_threads`` threads in all.

    With more than one thread, up to ``n_threads`` parts run at once in threads that
    share ``X`` (no copy) and the fitted models, and each part may use ``n_threads //
    concurrent parts`` threads of its own (a lone part all of them): BLAS (one pool for
    the process) and OpenMP (a setting per thread) are limited to that, and so is
    joblib's default ``n_jobs``, which a model leaving its ``n_jobs`` at None (a random
    forest over its trees) uses.
    """
    if n_threads == 1 or not parts:  # none when every model's columns were cached
        return [_call(part, X) for part in parts]
    concurrent = min(n_threads, len(parts))
    per_part = max(1, n_threads // concurrent)
    pools = ThreadpoolController()
    with pools.limit(limits=per_part, user_api="blas"):
        if concurrent == 1:
            return [_call_within(pools, per_part, part, X) for part in parts]
        return Parallel(n_jobs=concurrent, backend="threading")(
            delayed(_call_within)(pools, per_part, part, X) for part in parts)


def _call_within(pools, n_threads, part, X):
    with pools.limit(limits=n_threads, user_api="openmp"), parallel_config(n_jobs=n_threads):
        return _call(part, X)


def _call(part, X):
    if part.frozen:
        return frozen_output(part.model, part.method, X, **part.params)
    return getattr(part.model, part.method)(X, **part.params)
