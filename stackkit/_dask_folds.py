"""Folds of rows on a cluster: the encoded target and a lazy fold-number column.

See :mod:`stackkit._dask_fit` for where these serve. Nothing here collects ``X`` or
``y``: the class labels (one small reduction) and the count of rows per fold and class
(another) are all that reach the client.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._dask_plane import DaskRows, FoldRows, is_array, target_column
from ._early_stopping import SEED, VALIDATION_FRACTION


def dask_target(y, X, *, classifier):
    """``(values, kind, classes)`` of a target on Dask ``X``: labels encoded lazily.

    A classifier's labels become 0..n_classes-1 (``classes`` holds them, sorted); a
    regressor's values become float64.

    ``y`` must be a Dask Series (or one-column DataFrame) for a DataFrame ``X``, a 1-D
    Dask array for an array ``X``, with the same partitions as ``X``.
    """
    y = target_column(y, X)
    if not classifier:
        return y.astype(np.float64), "continuous", None
    classes = np.sort(np.asarray(y.unique().compute()))
    if len(classes) < 2:
        raise ValueError(f"y has only one class ({classes.tolist()[:1]}); a classifier needs "
                         "at least two classes")
    codes = _per_partition(y, _encoded, classes)
    return codes, "binary" if len(classes) == 2 else "multiclass", classes


def _encoded(labels, classes):
    return np.searchsorted(classes, np.asarray(labels)).astype(np.int64)


@dataclass(frozen=True, eq=False)
class DaskSplitPlan:
    """The folds of one fit on Dask rows: a lazy fold column and the counts it gives.

    Attributes
    ----------
    X : Dask collection
        The rows (the fold column is lined up with its partitions).
    fold_column : Dask Series or Array
        Each row's fold number, computed per partition.
    counts : ndarray of shape (n_splits, n_classes)
        Rows of each class (one column for a regressor) in each fold.
    held_out : Dask Series or Array of bool
        The rows a booster's early stopping evaluates on when they are in its training
        folds: about :data:`~stackkit._early_stopping.VALIDATION_FRACTION` of each
        partition (stratified for classifiers), seeded with
        :data:`~stackkit._early_stopping.SEED` apart from the folds.
    held_out_counts : ndarray of shape (n_splits,)
        Rows of :attr:`held_out` in each fold.
    """

    X: object
    fold_column: object
    counts: np.ndarray
    held_out: object
    held_out_counts: np.ndarray

    @classmethod
    def from_cv(cls, settings, X, target):
        """The plan of ``settings = (n_splits, seed or None, stratified)``."""
        n_splits, seed, stratified = settings
        column = _per_partition(target.values, _fold_numbers, n_splits, seed, stratified,
                                numbered=True)
        held_out = _per_partition(target.values, _held_out, stratified, numbered=True,
                                  dtype=bool)
        n_classes = 1 if target.classes is None else len(target.classes)
        codes = target.values if target.classes is not None else None
        counts, held_out_counts = _fold_counts(column, codes, held_out, n_splits, n_classes)
        empty = np.flatnonzero(counts.sum(axis=1) == 0)
        if empty.size:
            raise ValueError(f"cv fold {empty[0] + 1}/{n_splits} has no rows; use fewer folds "
                             "or more rows per partition")
        return cls(X, column, counts, held_out, held_out_counts)

    @property
    def n_rows(self):
        return int(self.counts.sum())

    @property
    def folds(self):
        """``(outside fold k, inside fold k)`` per fold, as :class:`FoldRows`."""
        sizes = self.counts.sum(axis=1)
        held_out = self.held_out_counts.sum()
        return tuple((FoldRows(self.fold_column, k, False, self.n_rows - int(n),
                               self.held_out, int(held_out - held)),
                      FoldRows(self.fold_column, k, True, int(n), self.held_out, int(held)))
                     for k, (n, held) in enumerate(zip(sizes, self.held_out_counts)))

    @property
    def every_row(self):
        return FoldRows(self.fold_column, None, False, self.n_rows)

    @property
    def tested(self):
        return None  # every row is tested once: no mask is needed

    def check_classes_in_every_fold(self, y_encoded, classes):
        """Raise if a training fold lacks a class."""
        outside = self.counts.sum(axis=0) - self.counts
        for fold, present in enumerate(outside > 0, start=1):
            if not present.all():
                raise ValueError(
                    f"cv training fold {fold}/{len(self.counts)} has no rows of class "
                    f"{classes[~present].tolist()}; every training fold needs every class. "
                    "Use more rows per partition, fewer folds, or merge rare classes")


def _held_out(labels, stratified, partition):
    """Whether each of one partition's rows is held out for early stopping.

    One group of ``1 / VALIDATION_FRACTION`` drawn as folds are, from a generator of its
    own stream (drawn from the folds' generator, the groups would follow the folds).
    """
    n_groups = round(1 / VALIDATION_FRACTION)
    return _fold_numbers(labels, n_groups, SEED, stratified, partition, stream=(1,)) == 0


def _fold_numbers(labels, n_splits, seed, stratified, partition, stream=()):
    """Fold numbers of one partition's rows.

    Unshuffled (``seed`` None): contiguous blocks, or per class in row order starting at
    the partition's number (so small partitions do not all fill fold 0 first). Shuffled:
    the same from a generator seeded by ``(seed, partition, *stream)``.
    """
    labels = np.asarray(labels)
    n = len(labels)
    rng = None if seed is None else np.random.default_rng([seed, partition, *stream])
    if not stratified:
        folds = np.arange(n) * n_splits // max(n, 1)
        return folds if rng is None else rng.permutation(folds)
    folds = np.empty(n, dtype=np.int64)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        start = partition if rng is None else rng.integers(n_splits)
        if rng is not None:
            rows = rng.permutation(rows)
        folds[rows] = (np.arange(len(rows)) + start) % n_splits
    return folds


def _fold_counts(column, codes, held_out, n_splits, n_classes):
    """Rows per fold and class, and held-out rows per fold: one reduction."""
    import dask

    folds = DaskRows(column).partitions()
    labels = DaskRows(codes).partitions() if codes is not None else [None] * len(folds)
    held = DaskRows(held_out).partitions()
    parts = dask.compute(*[dask.delayed(_count)(f, c, h, n_splits, n_classes)
                           for f, c, h in zip(folds, labels, held)])
    counts, held_counts = sum(parts)
    return counts, held_counts.sum(axis=1)


def _count(folds, codes, held_out, n_splits, n_classes):
    folds = np.asarray(folds)
    codes = np.zeros(len(folds), dtype=np.int64) if codes is None else np.asarray(codes)
    cells = folds * n_classes + codes
    held_out = np.asarray(held_out, dtype=bool)
    return np.stack([np.bincount(rows, minlength=n_splits * n_classes)
                     .reshape(n_splits, n_classes) for rows in (cells, cells[held_out])])


def _per_partition(column, function, *args, numbered=False, dtype=np.int64):
    """``function(values, *args[, partition])`` on each partition of a 1-D Dask column.

    The result keeps the column's kind and partitions (a Series keeps its index).
    """
    if is_array(column):
        def block(values, block_id=None):
            extra = (block_id[0],) if numbered else ()
            return function(values, *args, *extra)
        return column.map_blocks(block, dtype=dtype)

    def series(values, partition_info=None):
        extra = (partition_info["number"],) if numbered else ()
        return pd.Series(function(values.to_numpy(), *args, *extra), index=values.index)
    return column.map_partitions(series, meta=pd.Series(dtype=dtype))
