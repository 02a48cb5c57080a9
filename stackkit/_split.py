"""The split plan: folds materialised once from ``cv`` and shared by every estimator."""

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import check_cv

from ._plane import count_rows
from .exceptions import warn


@dataclass(frozen=True)
class SplitPlan:
    """The folds of one fit.

    Attributes
    ----------
    folds : tuple of (ndarray, ndarray)
        ``(train_rows, test_rows)`` per fold, as integer row positions.
    test_counts : ndarray of shape (n_rows,)
        How many folds test each row. All ones for a partition (``KFold``), ``r`` for
        ``r`` repeats, zero for rows no fold tests (forward-only splits such as
        ``TimeSeriesSplit``); out-of-fold predictions are averaged over the count.
    """

    folds: tuple
    test_counts: np.ndarray

    @property
    def n_rows(self):
        return len(self.test_counts)

    @property
    def every_row(self):
        """The rows of a full refit: every row, in order."""
        return np.arange(self.n_rows)

    @property
    def tested(self):
        """Boolean mask of the rows that at least one fold tests."""
        return self.test_counts > 0

    @classmethod
    def from_cv(cls, cv, X, y, groups, *, classifier):
        """Call ``cv.split`` exactly once; the ``cv`` object itself is never modified.

        An int ``cv`` means ``StratifiedKFold`` for single-target classification and
        ``KFold`` otherwise, both unshuffled, as in scikit-learn.
        """
        splitter = check_cv(cv, y, classifier=classifier)
        n_rows = count_rows(X)
        folds = tuple(
            (_as_rows(train, n_rows, "train"), _as_rows(test, n_rows, "test"))
            for train, test in splitter.split(X, y, groups)
        )
        if not folds:
            raise ValueError(f"cv={cv!r} produced no splits")
        counts = np.zeros(n_rows, dtype=np.int64)
        for fold, (train, test) in enumerate(folds, start=1):
            if len(train) == 0 or len(test) == 0:
                raise ValueError(f"cv fold {fold}/{len(folds)} has an empty train or test set")
            np.add.at(counts, test, 1)
        plan = cls(folds, counts)
        plan._warn_untested()
        return plan

    def _warn_untested(self):
        n_untested = int(np.sum(~self.tested))
        if n_untested == self.n_rows:
            raise ValueError("cv tests no row, so there are no out-of-fold predictions")
        if n_untested:
            warn(
                f"{n_untested} of {self.n_rows} rows are in no test fold of cv (e.g. the "
                "first block of a TimeSeriesSplit); they have no out-of-fold prediction "
                "(NaN rows in oof_) and are left out of the final estimator's fit"
            )

    def check_classes_in_every_fold(self, y_encoded, classes):
        """Raise if a training fold lacks a class (per label for multilabel targets)."""
        columns = y_encoded.reshape(len(y_encoded), -1)
        for fold, (train, _) in enumerate(self.folds, start=1):
            for k in range(columns.shape[1]):
                labels = classes[k] if columns.shape[1] > 1 else classes
                present = np.unique(columns[train, k])
                if len(present) < len(labels):
                    missing = np.delete(labels, present).tolist()
                    where = f" of label column {k}" if columns.shape[1] > 1 else ""
                    raise ValueError(
                        f"cv training fold {fold}/{len(self.folds)} has no rows of class "
                        f"{missing}{where}; every training fold needs every class. Use "
                        "StratifiedKFold, fewer folds, or merge rare classes"
                    )


def _as_rows(indices, n_rows, what):
    rows = np.asarray(indices)
    if rows.dtype == bool:
        rows = np.flatnonzero(rows)
    if rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer):
        raise ValueError(f"cv yielded {what} indices that are not a 1-D integer array")
    if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
        raise ValueError(f"cv yielded {what} indices outside 0..{n_rows - 1}")
    return rows
