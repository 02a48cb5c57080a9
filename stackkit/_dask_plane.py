"""Rows on a cluster: the data plane of Dask collections.

:func:`stackkit._plane.plane_for` picks :class:`DaskRows` for a ``dask.dataframe``
DataFrame or Series or a ``dask.array`` Array; this module never imports dask at its top,
so ``import stackkit`` does not either.

What differs from rows in memory, and why:

- **Rows are never collected.** A fold's rows are a lazy filter of ``X`` on a fold
  column (:class:`FoldRows`, what a task's ``train``/``test`` holds instead of row
  positions); the distributed boosters fit on it across the cluster's workers.
- **Partitions are the unit.** Everything made per row (the fold column, the
  out-of-fold predictions, the meta-features of new rows) is computed partition by
  partition and lined up with ``X``'s partitions, whose row counts (:meth:`DaskRows.lengths`,
  one small reduction) make the results Dask arrays of known shape.
- **Only the distributed boosters take the rows** (``xgboost.dask``'s and
  ``lightgbm``'s Dask estimators); a scikit-learn estimator, which would need every row
  in one process, is refused before any work, and so are these boosters on rows in
  memory (:func:`check_estimators_for`). They drive the cluster themselves from this
  process, so their tasks run here one after another (:attr:`DaskRows.runs_in_client`).
- **What cannot hold:** the ``memory=`` cache (it hashes rows), ``passthrough`` (it
  would join ``X``'s columns to the final estimator's input), per-row fit parameters
  other than ``sample_weight``, and ``groups``: each is refused before any work
  (:meth:`DaskRows.check_fit`). ``sample_weight`` is a Dask column lined up with ``X``
  (:func:`weight_column`), cut per fold by the same lazy mask as ``X``'s rows.

The steps of a fit built on these rows (fold plan, out-of-fold assembly, final fit,
predictions) are in :mod:`stackkit._dask_fit`.
"""

from dataclasses import dataclass, replace

import numpy as np

_DASK_MODULES = ("dask.array", "dask.dataframe")
_DASK_ESTIMATOR_MODULES = ("xgboost.dask", "lightgbm.dask")
_LENGTHS = {}  # partition lengths by collection name (a pass over the data each)


def is_dask_collection(X):
    """Whether ``X`` is a Dask DataFrame, Series or Array (checked without importing dask)."""
    return type(X).__module__.startswith(_DASK_MODULES)


def is_dask_estimator(estimator):
    """Whether ``estimator`` is one of the distributed boosters (xgboost/lightgbm Dask)."""
    return type(estimator).__module__.startswith(_DASK_ESTIMATOR_MODULES)


def check_estimators_for(named, on_cluster):
    """Raise, naming the first estimator that cannot take the rows, before any work.

    On a cluster only the distributed boosters can (any other estimator would need
    every row in one process); in memory they cannot (they need Dask collections).
    """
    for name, est in named:
        if is_dask_estimator(est) == on_cluster:
            continue
        if on_cluster:
            raise TypeError(
                f"estimator {name!r} ({type(est).__name__}) cannot take a Dask collection: "
                "X is on a cluster, and only the distributed boosters "
                "(xgboost.dask.DaskXGBClassifier/Regressor, lightgbm.DaskLGBMClassifier/"
                "Regressor) fit on it; drop it or replace it with one of them")
        raise TypeError(
            f"estimator {name!r} ({type(est).__name__}) fits Dask collections, but X is in "
            "memory; pass X and y as Dask collections (dask.dataframe.from_pandas, "
            "dask.array.from_array), or use its in-memory counterpart (XGBClassifier, "
            "LGBMRegressor, ...)")


@dataclass(frozen=True, eq=False)
class FoldRows:
    """Rows of a Dask fit named by fold: inside fold ``fold``, or outside it.

    ``folds`` is the lazy fold-number column (lined up with X's partitions);
    ``fold=None`` names every row (the full refit). ``n_rows`` is their count.
    ``held_out`` is the lazy column marking the rows early stopping evaluates on
    (:attr:`DaskSplitPlan.held_out`); ``part`` narrows the rows to those early stopping
    fits on (``"fit"``) or evaluates on (``"evaluate"``), see :meth:`for_stopping`.
    """

    folds: object
    fold: int | None
    inside: bool
    n_rows: int
    held_out: object = None
    n_held_out: int = 0
    part: str | None = None

    def __len__(self):
        return self.n_rows

    def mask(self):
        """The lazy boolean column of these rows (None: every row)."""
        mask = None
        if self.fold is not None:
            mask = self.folds == self.fold if self.inside else self.folds != self.fold
        if self.part is None:
            return mask
        part = self.held_out if self.part == "evaluate" else ~self.held_out
        return part if mask is None else mask & part

    def for_stopping(self):
        """These rows split for early stopping: ``(rows to fit, rows to evaluate on)``.

        The rows evaluated on are those of :attr:`held_out` (about a tenth of every
        partition's rows, stratified for classifiers), so a fold's held-out rows never
        decide when its training stops.
        """
        if not self.n_held_out or self.n_held_out == self.n_rows:
            raise ValueError(
                f"early stopping needs evaluation rows held out of the fold's {self.n_rows} "
                "training rows, and none can be spared; use more rows per partition or "
                "turn the booster's early stopping off")
        return (replace(self, part="fit", n_rows=self.n_rows - self.n_held_out),
                replace(self, part="evaluate", n_rows=self.n_held_out))


class DaskRows:
    """A Dask DataFrame, Series or Array: rows partitioned across a cluster."""

    on_cluster = True
    runs_in_client = True  # the boosters drive the cluster from this process

    def __init__(self, X):
        self.X = X

    def validated(self, estimator, reset):
        from sklearn.utils.validation import validate_data

        active_client()
        X = self.X
        if is_array(X):
            if X.ndim != 2:
                raise ValueError(f"X must be a 2-D Dask array; got {X.ndim} dimension(s)")
            if any(np.isnan(X.chunks[0])):
                raise ValueError("X is a Dask array of unknown chunk sizes; call "
                                 "X.compute_chunk_sizes() first")
            X = X.rechunk({1: -1})  # one block per partition of rows
        elif _is_series(X):
            raise ValueError("X must be a Dask DataFrame or 2-D Array; got a Dask Series, "
                             "use X.to_frame()")
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        return X

    def lengths(self):
        """Rows per partition (an array's chunks; a DataFrame's: one small reduction)."""
        if is_array(self.X):
            return tuple(int(n) for n in self.X.chunks[0])
        key = self.X._name
        if key not in _LENGTHS:
            if len(_LENGTHS) > 16:
                _LENGTHS.clear()
            _LENGTHS[key] = tuple(int(n) for n in self.X.map_partitions(len).compute())
        return _LENGTHS[key]

    def n_rows(self):
        return sum(self.lengths())

    def take(self, rows):
        if not isinstance(rows, FoldRows):
            raise TypeError("rows of a Dask collection are taken by fold (FoldRows), "
                            f"not by position; got {type(rows).__name__}")
        mask = rows.mask()
        if mask is None:
            return self.X
        # The boosters pair X's and y's partitions by position, never by index, and
        # hold every row they are given: the index of a fold's interleaved rows is 8
        # bytes a row in X and again in y, for nothing.
        return self.X[mask] if is_array(self.X) else self.X[mask].reset_index(drop=True)

    take_rows = take

    def predict(self, model, method, rows, target_kind, dtype):
        """A fold's predictions, deferred: the fold model as an in-memory copy.

        :func:`stackkit._dask_fit.assemble_oof` predicts each row with it lazily, in
        its partition; nothing is computed here.
        """
        return local_booster(model)

    def labels(self, classes):
        return self.X.map_blocks(lambda codes: classes[codes.astype(np.int64)],
                                 dtype=classes.dtype)

    def partitions(self):
        """One delayed object per partition of rows (a block of every column)."""
        parts = self.X.to_delayed()
        return list(parts[:, 0] if is_array(self.X) and parts.ndim == 2 else np.ravel(parts))

    def content(self):
        raise TypeError("the memory= cache hashes rows in memory; it is not available for "
                        "Dask collections")

    def column_names(self):
        return None if is_array(self.X) else list(self.X.columns)

    def floats_are_32bit(self):
        dtypes = [self.X.dtype] if is_array(self.X) else list(self.X.dtypes)
        floats = [d for d in dtypes if getattr(d, "kind", "") == "f"]
        return bool(floats) and all(d == np.float32 for d in floats)

    def nonfinite_columns(self):
        # Not scanned: only the distributed boosters take these rows, and they all take
        # NaN; passthrough, the one other reader of X, is refused (check_fit).
        return [], []

    def join(self, meta, meta_names, input_names):
        raise ValueError("passthrough=True is not available for Dask collections")

    def check_fit(self, named, settings):
        """Refuse what a fit on Dask rows cannot serve, before any work (see the module)."""
        check_estimators_for(named, on_cluster=True)
        _check_cv(settings.get("cv", 5))
        for name, est in named:
            _check_early_stopping(name, est)
        refused = [(key, why) for key, why in _REFUSED.items() if settings.get(key)]
        if refused:
            key, why = refused[0]
            raise ValueError(f"{key} is not available when X is a Dask collection: {why}")
        for key, value in settings.get("fit_params", {}).items():
            if is_dask_collection(value) or hasattr(value, "shape"):
                raise ValueError(f"fit parameter {key!r} holds rows; per-row fit parameters "
                                 "are not available when X is a Dask collection")


_REFUSED = {
    "memory": "the cache hashes rows in memory; pass memory=None",
    "passthrough": "it would join X's columns to the final estimator's input; pass "
                   "passthrough=False",
    "groups": "folds are drawn per partition, not by group",
    "time_limit": "the distributed boosters take no deadline; pass time_limit=None",
}

def _check_cv(cv):
    from sklearn.model_selection import KFold, StratifiedKFold

    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        return
    if type(cv) not in (KFold, StratifiedKFold):
        raise ValueError(
            f"cv={cv!r} cannot split a Dask collection; folds are drawn per partition, so "
            "cv must be an int, KFold or StratifiedKFold (n_splits, shuffle, random_state)")


_EARLY_STOPPING = {"early_stopping_rounds", "early_stopping_round", "n_iter_no_change",
                   "early_stopping"}


def _check_early_stopping(name, est):
    """Only XGBoost's Dask estimators stop early on a cluster (on held-out rows of each fold).

    LightGBM's Dask interface trains one model per worker in lockstep; early stopping
    would let each worker stop at its own round, so LightGBM does not offer it.
    """
    if type(est).__module__.startswith("xgboost"):
        return
    asked = sorted(key for key, value in est.get_params(deep=False).items()
                   if key in _EARLY_STOPPING and value not in (None, False, 0))
    if asked:
        raise ValueError(
            f"estimator {name!r} ({type(est).__name__}) asks for early stopping ({asked[0]}); "
            "LightGBM's Dask interface has no early stopping (only XGBoost's Dask "
            f"estimators stop early on a cluster); set {asked[0]}=None and choose "
            "n_estimators")


def local_booster(model):
    """An in-memory copy of a fitted distributed booster, to predict inside a partition."""
    if hasattr(model, "to_local"):  # lightgbm's Dask estimators
        return model.to_local()
    import xgboost

    local = getattr(xgboost, type(model).__name__.removeprefix("Dask"))()
    local.load_model(bytearray(model.get_booster().save_raw()))
    return local


def target_column(y, X):
    """``y`` as one Dask column lined up with ``X``, or a clear error.

    A Dask Series (or one-column DataFrame) for a DataFrame ``X``, a 1-D Dask array for
    an array ``X``, with the same rows per partition.
    """
    if not is_dask_collection(y):
        raise TypeError(f"X is a Dask collection, so y must be one too (a Dask Series or "
                        f"1-D array with X's partitions); got {type(y).__name__}")
    y = _as_one_column(y)
    if y.ndim != 1:
        raise ValueError("y must be one column when X is a Dask collection; multi-output "
                         "targets are not available on a cluster")
    if is_array(y) != is_array(X):
        raise TypeError("X and y must be the same kind of Dask collection (DataFrame and "
                        f"Series, or arrays); got {type(X).__name__} and {type(y).__name__}")
    _check_partitions(y, X, "y")
    return y


def weight_column(sample_weight, X):
    """``sample_weight`` as one Dask column lined up with ``X``, or a clear error.

    The kinds and shapes are checked first, from metadata alone (no work on the
    cluster); then the rows per partition, as :func:`target_column` checks ``y``'s.
    """
    if not is_dask_collection(sample_weight):
        raise TypeError(
            "X is a Dask collection, so sample_weight must be one too (a Dask Series for a "
            f"Dask DataFrame X, a 1-D Dask array for a Dask array X, with X's partitions); "
            f"got {type(sample_weight).__name__}")
    if is_array(sample_weight) != is_array(X):
        raise TypeError(
            "sample_weight must be a Dask Series when X is a Dask DataFrame, a 1-D Dask "
            f"array when X is a Dask array; got {type(sample_weight).__name__} for "
            f"{type(X).__name__} X")
    sample_weight = _as_one_column(sample_weight)
    if sample_weight.ndim != 1:
        found = (f"{sample_weight.shape[1]} columns" if sample_weight.ndim == 2
                 else f"{sample_weight.ndim} dimensions")
        raise ValueError(f"sample_weight must be one column; got {found}")
    if getattr(sample_weight.dtype, "kind", "O") not in "biuf":
        raise ValueError(f"sample_weight must hold numbers; got dtype {sample_weight.dtype}")
    if is_array(sample_weight) and any(np.isnan(sample_weight.chunks[0])):
        raise ValueError("sample_weight is a Dask array of unknown chunk sizes; call "
                         "sample_weight.compute_chunk_sizes() first")
    _check_partitions(sample_weight, X, "sample_weight")
    return sample_weight


def _as_one_column(column):
    """A one-column Dask DataFrame or 2-D array as that column; anything else as it is."""
    if getattr(column, "ndim", 1) == 2 and column.shape[1] == 1:
        return column[:, 0] if is_array(column) else column[column.columns[0]]
    return column


def _check_partitions(column, X, name):
    """Raise unless ``column`` has X's partitions: their number (known without work),
    then their rows (one small reduction for a DataFrame)."""
    if _n_partitions(column) != _n_partitions(X) or (
            DaskRows(column).lengths() != DaskRows(X).lengths()):
        raise ValueError(f"{name} must have the same partitions (rows per partition) as X")


def _n_partitions(X):
    return X.numblocks[0] if is_array(X) else X.npartitions


def active_client():
    """The active ``distributed.Client``, or a clear error before any work."""
    try:
        from distributed import default_client
    except ImportError as exc:
        raise ImportError("fitting on Dask collections needs dask.distributed: "
                          "pip install 'dask[distributed]'") from exc
    try:
        return default_client()
    except ValueError as exc:
        raise ValueError(
            "X is a Dask collection but no distributed.Client is active; start one "
            "(distributed.Client('tcp://scheduler:8786'), or a LocalCluster) before fit "
            "and predict") from exc


def is_array(X):
    """Whether a Dask collection ``X`` is a Dask array (not a DataFrame or Series)."""
    return type(X).__module__.startswith("dask.array")


def _is_series(X):
    return type(X).__name__ == "Series"
