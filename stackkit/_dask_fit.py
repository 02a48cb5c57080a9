"""The steps of a fit on rows on a cluster: folds, out-of-fold assembly, final fit, predictions.

:class:`stackkit._fit_steps.OnCluster` calls these when ``X`` is a Dask collection
(its rows are :class:`~stackkit._dask_plane.DaskRows`). The task list, the
runner and the worker are the same as in memory; what differs:

- **Folds** (:class:`DaskSplitPlan`): a fold-number column computed partition by
  partition from the encoded target, seeded from the cv's ``random_state`` and the
  partition's number (so a lazy column recomputed twice gives the same folds), stratified
  within each partition for classifiers. Only ``KFold``/``StratifiedKFold`` (or an int)
  can be drawn this way; any other splitter is refused before any work. One small
  reduction counts the rows of each class in each fold, to check every training fold
  has every class, as in memory.
- **Early stopping** (XGBoost's Dask estimators; LightGBM's Dask interface has none): a
  second lazy column holds out about a tenth of each partition's rows (stratified,
  seeded apart from the folds); a fold's booster fits on its training rows outside it
  and evaluates on those inside it
  (:meth:`~stackkit._dask_plane.FoldRows.for_stopping`), so the fold's own rows never
  decide when its training stops. The refit keeps the folds' mean rounds.
- **Fold predictions** are deferred: a fold task fits its booster on the cluster and
  hands back the fitted model (as a local, in-memory copy); :func:`assemble_oof` makes the
  out-of-fold predictions one lazy Dask array, chunked as X's partitions, each block
  predicted in its partition by the fold model of each of its rows.
- **The final estimator** fits from statistics reduced across partitions when it can
  (``statistics`` / ``fit_statistics``: the NNLS meta-learners of :mod:`stackkit.meta`,
  and its ensemble selection and best model scored by squared error or Brier score):
  no row reaches the client. Any other final estimator gets the
  out-of-fold predictions collected only up to :data:`COLLECT_LIMIT_BYTES`; above, a
  clear error names it and the size.
- **Predictions** of new rows are lazy: each partition gets its meta-features from
  local copies of the base models, then the final estimator's output.
- **Memory**: before any work, :func:`check_workers_memory` estimates what the largest
  fit holds in each worker (its share of the rows times what the booster's Dask
  interface was measured to hold) and refuses a fit the workers' memory limits cannot
  take, instead of letting a worker die half-way and the boosters' training stall.
"""

import copy
import math

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import has_fit_parameter

from ._dask_plane import DaskRows, is_array, is_dask_collection, local_booster
from ._fold_average import FoldAverage
from ._oof import to_columns

# The most out-of-fold bytes collected to the client for a final estimator that cannot
# fit from reduced statistics (256 MiB: a million rows of 32 float64 columns).
COLLECT_LIMIT_BYTES = 256 * 2**20

# A worker's peak memory while a distributed booster fits, above what it held before, as
# a multiple of its share of X's bytes (benchmarks/measure_dask_memory.py, 20 float32
# columns, y float64, one thread per worker): XGBoost holds the raw parts it is given
# and its DaskQuantileDMatrix; LightGBM the raw parts, their concatenation and its
# Dataset.
MEMORY_FACTORS = {"xgboost": 2.5, "lightgbm": 3.6}


def kfold_settings(cv, classifier):
    """``(n_splits, seed or None, stratified)`` of an int, KFold or StratifiedKFold ``cv``."""
    if isinstance(cv, (int, np.integer)):  # checked by DaskRows.check_fit
        return int(cv), None, classifier
    seed = None
    if cv.shuffle:  # one seed per fit: every recomputation of the lazy column agrees
        state = cv.random_state
        if state is None or isinstance(state, (int, np.integer)):
            seed = int(np.random.default_rng(state).integers(2**31))
        else:  # a RandomState: a copy is drawn from, the user's cv is left as it is
            seed = int(copy.deepcopy(state).randint(2**31))
    return cv.n_splits, seed, isinstance(cv, StratifiedKFold) and classifier


def local_model(model):
    """An in-memory copy of a fitted distributed booster, to predict inside a partition."""
    if isinstance(model, FoldAverage):
        return FoldAverage([local_model(m) for m in model.estimators])
    return local_booster(model)


def assemble_oof(results, layout, plan, dtype):
    """The out-of-fold predictions: one lazy array, chunked as X's partitions, in X's order.

    Each fold result's ``predictions`` is its local fold model (deferred); a block holds,
    for each row, the prediction of the model of the fold that tests it.
    """
    models = [{} for _ in layout.names]
    for result in results:
        if result.predictions is not None:
            models[result.task.est_index][result.task.fold] = result.predictions
    folds = DaskRows(plan.fold_column).partitions()
    return per_partition(plan.X, _oof_block, models, layout, dtype, extra=folds,
                          width=layout.n_columns, dtype=dtype)


def _oof_block(part, folds, models, layout, dtype):
    folds = np.asarray(folds)
    block = np.zeros((len(folds), layout.n_columns), dtype=dtype)
    for columns, by_fold, method in zip(layout.slices(), models, layout.methods):
        for fold, model in by_fold.items():
            rows = folds == fold
            if rows.any():
                raw = getattr(model, method)(part[rows])
                block[rows, columns] = to_columns(raw, method, layout.target_kind, dtype=dtype)
    return block


def check_final_fits(final, n_rows, layout, dtype, weighted):
    """Before any work: a final estimator that needs the rows must fit in the limit.

    What is collected for it: the out-of-fold predictions, the encoded target (8 bytes
    a row) and, for a weighted fit, the weights (8 more).
    """
    n_bytes = n_rows * (layout.n_columns * np.dtype(dtype).itemsize + 8 + 8 * weighted)
    if not hasattr(final, "fit_statistics") and n_bytes > COLLECT_LIMIT_BYTES:
        with_weights = ", target and weights" if weighted else " and target"
        raise ValueError(
            f"final_estimator {type(final).__name__} needs the out-of-fold predictions"
            f"{with_weights} in memory ({n_bytes / 2**20:.2f} MiB), more than the "
            f"{COLLECT_LIMIT_BYTES / 2**20:.2f} MiB collected from a Dask collection "
            "(stackkit._dask_fit.COLLECT_LIMIT_BYTES); use a meta-learner that fits from "
            "reduced statistics (stackkit.meta.NNLSRegressor / NNLSClassifier, or "
            "EnsembleSelection* / BestModel* scored by squared error or "
            "scoring='neg_brier_score')")


def fit_final(final, oof, target, params, layout):
    """Fit a clone of ``final`` on the lazy ``oof`` and the encoded target, on the client.

    From reduced statistics when it can (each partition's weighted by its rows'
    ``sample_weight`` when ``params`` holds one); otherwise on the collected rows (and
    weights), up to :data:`COLLECT_LIMIT_BYTES`.
    """
    import dask

    final = clone(final)
    with_layout = {"layout": layout} if has_fit_parameter(final, "layout") else {}
    if hasattr(final, "fit_statistics"):
        weights = params.get("sample_weight")
        parts = dask.compute(*[
            dask.delayed(final.statistics)(block, y, **with_layout,
                                           **({} if w is None else {"sample_weight": w}))
            for block, y, w in zip(*_partitions_of(oof, target.values, weights))])
        return final.fit_statistics(_add_up(parts), **with_layout)
    weights = params.get("sample_weight")
    check_final_fits(final, oof.shape[0], layout, oof.dtype, weights is not None)
    X_meta, y, weights = _computed(oof, target.values, weights)
    if weights is not None:  # only the weights are rows; other parameters pass as they are
        params = {**params, "sample_weight": np.asarray(weights)}
    return final.fit(X_meta, np.asarray(y), **params, **with_layout)


def _partitions_of(*columns):
    """Each column's partitions (None: one None per partition), lined up."""
    n_parts = len(DaskRows(columns[0]).lengths())
    return [[None] * n_parts if column is None else DaskRows(column).partitions()
            for column in columns]


def weight_summary(weights):
    """``(all finite, smallest, largest)`` of Dask ``weights``, by one reduction."""
    import dask

    parts = dask.compute(*[dask.delayed(_summary)(part)
                           for part in DaskRows(weights).partitions()])
    finite = all(part[0] for part in parts)
    return finite, min(part[1] for part in parts), max(part[2] for part in parts)


def _summary(values):
    values = np.asarray(values, dtype=np.float64)
    return (bool(np.isfinite(values).all()), np.min(values, initial=np.inf),
            np.max(values, initial=0.0))


def collect_records(oof, target, folds, weights):
    """``(oof, target, test rows of each fold, weights)`` of a Dask fit, in memory.

    What :mod:`stackkit.report` scores with scikit-learn's scorers, which need rows in
    memory: collected by one computation, up to :data:`COLLECT_LIMIT_BYTES`; above,
    a clear error. ``folds`` are the fit's :class:`~stackkit._dask_plane.FoldRows`.
    """
    n_rows, width = oof.shape
    n_bytes = n_rows * (width * oof.dtype.itemsize + 16 + len(folds))
    if n_bytes > COLLECT_LIMIT_BYTES:
        raise ValueError(
            "the report scores a stack fit on a Dask collection from its out-of-fold "
            f"predictions collected to this process: {n_bytes / 2**20:.0f} MiB with the "
            f"target, weights and folds, more than the {COLLECT_LIMIT_BYTES / 2**20:.0f} MiB "
            "of stackkit._dask_fit.COLLECT_LIMIT_BYTES; raise that limit if this process "
            "has the memory, or score a sample of rows with stack.predict")
    oof, target, weights, *masks = _computed(oof, target, weights,
                                             *[rows.mask() for rows in folds])
    return (np.asarray(oof), np.asarray(target), [np.flatnonzero(np.asarray(m)) for m in masks],
            None if weights is None else np.asarray(weights, dtype=np.float64))


def _computed(*values):
    """``dask.compute(*values)``, the Dask arrays apart from the rest.

    Dask warns when one computation mixes arrays with DataFrames or Series (the graphs
    of the two are built differently); the fold column they share is computed twice.
    """
    import dask

    arrays = [i for i, value in enumerate(values) if is_dask_collection(value)
              and is_array(value)]
    others = [i for i in range(len(values)) if i not in arrays]
    out = list(values)
    for group in (arrays, others):
        for i, value in zip(group, dask.compute(*[values[i] for i in group])):
            out[i] = value
    return out


def _add_up(parts):
    """The sum of per-partition statistics (dicts of arrays with the same keys)."""
    return {key: sum(part[key] for part in parts) for key in parts[0]}


def base_predictions(models, methods, X, layout, dtype):
    """The lazy meta-features of new rows: local copies of the base models, per partition."""
    local = [local_model(model) for model in models]
    return per_partition(X, _meta_block, local, methods, layout, dtype,
                          width=layout.n_columns, dtype=dtype)


def _meta_block(part, models, methods, layout, dtype):
    return np.hstack([to_columns(getattr(model, method)(part), method, layout.target_kind,
                                 name, dtype=dtype)
                      for model, method, name in zip(models, methods, layout.names)])


def final_block(meta, final, method, params):
    return getattr(final, method)(meta, **params)


def per_partition(X, function, *args, extra=None, width=None, dtype=None):
    """``function(partition, [extra partition,] *args)`` over X's partitions: a lazy array.

    Its shape per partition is ``(rows, width)``; without ``width``, the output's shape
    and dtype are read from ``function`` on one row of zeros (a final estimator's
    ``predict`` gives one column, ``predict_proba`` one per class).
    """
    import dask
    import dask.array as da

    rows = DaskRows(X)
    lengths = rows.lengths()
    if width is None:
        sample = np.asarray(function(np.zeros((1, X.shape[1]), dtype=X.dtype), *args))
        tail, dtype = sample.shape[1:], sample.dtype
    else:
        tail = (width,)
    args = [dask.delayed(arg, traverse=False) for arg in args]  # one copy in the graph
    pairs = zip(rows.partitions(), extra or [None] * len(lengths))
    blocks = [da.from_delayed(
        dask.delayed(function)(part, *([] if more is None else [more]), *args),
        shape=(n, *tail), dtype=dtype) for (part, more), n in zip(pairs, lengths)]
    return da.concatenate(blocks)


def check_workers_memory(named, X, lengths, train_fraction, workers):
    """Raise before any work if the largest fit cannot fit in the workers' memory.

    ``lengths`` are X's rows per partition, ``train_fraction`` the share of them the
    largest task fits on (1 with a full refit), ``workers`` the scheduler's
    ``scheduler_info()["workers"]``. Partitions are assumed spread evenly over the
    workers (the busiest holds the largest ``ceil(partitions / workers)`` of them);
    workers with no memory limit are not checked.
    """
    limited = {address: info for address, info in workers.items() if info.get("memory_limit")}
    if not limited or not named:
        return
    factor, name, est = max((MEMORY_FACTORS[type(est).__module__.split(".")[0]], name, est)
                            for name, est in named)
    busiest = sorted(lengths, reverse=True)[:math.ceil(len(lengths) / len(workers))]
    share = sum(busiest) * train_fraction * _bytes_per_row(X)
    fraction = _pause_fraction()
    room, address = min((info["memory_limit"] * fraction - _in_use(info), address)
                        for address, info in limited.items())
    if factor * share <= room:
        return
    raise ValueError(
        f"X is too large for the workers' memory: fitting {name!r} ({type(est).__name__}) on "
        f"{sum(lengths) * train_fraction:,.0f} rows holds about {factor * share / 2**20:,.0f} "
        f"MiB in a worker ({factor}x its share of X, {share / 2**20:,.0f} MiB, with "
        f"{len(workers)} workers), but worker {address} has {room / 2**20:,.0f} MiB left "
        f"below {fraction:.0%} of its {limited[address]['memory_limit'] / 2**20:,.0f} MiB "
        "memory limit, where it stops working; add workers, give them larger memory "
        "limits, or fit on fewer rows")


def _in_use(info):
    """A worker's process memory when last reported to the scheduler."""
    return info.get("metrics", {}).get("memory", 0)


def _bytes_per_row(X):
    dtypes = [X.dtype] * X.shape[1] if is_array(X) else list(X.dtypes)
    return sum(_itemsize(dtype) for dtype in dtypes)


def _itemsize(dtype):
    try:
        return np.dtype(dtype).itemsize
    except TypeError:  # an extension dtype (categories, strings): at least a pointer
        return getattr(dtype, "itemsize", 8)


def _pause_fraction():
    """The share of its memory limit at which a worker pauses (or dies, if it never does)."""
    import dask

    for key in ("pause", "terminate"):
        fraction = dask.config.get(f"distributed.worker.memory.{key}", False)
        if fraction:
            return float(fraction)
    return 1.0
