"""Fitting NNLS weights from sums over rows, so a stack on a Dask collection never collects them.

Non-negative least squares needs only ``A^T A``, ``A^T b`` and ``b^T b`` of its design
matrix ``A`` and target ``b`` (:func:`~stackkit.meta._weights.gram_weights`), or with row
weights ``W`` ``A^T W A``, ``A^T W b`` and ``b^T W b``; each is a sum over rows, so a
stack sums them over partitions and fits from the totals. The weights equal those of
``fit`` on all rows (with the same ``sample_weight``), up to rounding.
"""

import numpy as np

from .._param_checks import validate_params
from ._base import _check_probability_layout, as_probabilities, one_hot
from ._weights import gram_weights

_STATISTICS_DOC = """Compute the sums over the rows of ``X`` and ``y`` that the weights are fit from.

        Add the statistics of several blocks of rows key by key, then call
        :meth:`fit_statistics`: the weights are those :meth:`fit` gives on all the rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A block of the base models' out-of-fold predictions.
        y : array-like of shape (n_samples,)
            Its targets ({what}).
        sample_weight : array-like of shape (n_samples,), default=None
            Its rows' weights, as ``fit`` takes them.
        layout : Layout, default=None
            The stack's column layout (passed by the stack).

        Returns
        -------
        statistics : dict of ndarray
            ``gram`` (``A^T W A``), ``cross`` (``A^T W b``), ``square``
            (``b^T W b``){counts}; ``W`` holds the weights (one per row without).
        """

_FIT_STATISTICS_DOC = """Fit the weights from statistics summed over every block of rows.

        Parameters
        ----------
        statistics : dict of ndarray
            The key-by-key sum of :meth:`statistics` over the blocks.
        layout : Layout, default=None
            The stack's column layout (passed by the stack).

        Returns
        -------
        self : object
            The fitted meta-learner.
        """


class ValueStatistics:
    """``statistics`` / ``fit_statistics`` of a regression NNLS learner."""

    def statistics(self, X, y, sample_weight=None, layout=None):
        A, b = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        return _sums(A, b, _row_weights(sample_weight, len(b)))

    def fit_statistics(self, statistics, layout=None):
        validate_params(self)
        self.n_features_in_ = len(statistics["cross"])
        names = self._set_blocks(layout, self.n_features_in_, 1)
        self._set_weights(names, gram_weights(**statistics, sum_to_one=self.sum_to_one))
        return self

    statistics.__doc__ = _STATISTICS_DOC.format(what="values", counts="")
    fit_statistics.__doc__ = _FIT_STATISTICS_DOC


class ProbabilityStatistics:
    """``statistics`` / ``fit_statistics`` of a classification NNLS learner.

    ``y`` holds class codes ``0..n_classes-1`` (as a stack encodes them) and ``layout``
    is needed: it says how many classes there are.
    """

    def statistics(self, X, y, sample_weight=None, layout=None):
        n_classes = _n_classes(self, layout)
        X, codes = np.asarray(X, dtype=float), np.asarray(y, dtype=np.int64)
        A = np.column_stack([as_probabilities(X[:, columns], n_classes).ravel()
                             for columns in layout.slices()])
        b = one_hot(codes, n_classes).ravel()
        # each row is n_classes rows of A and b: its weight is repeated, as fit does
        weights = np.repeat(_row_weights(sample_weight, len(codes)), n_classes)
        return {**_sums(A, b, weights), "counts": np.bincount(codes, minlength=n_classes)}

    def fit_statistics(self, statistics, layout=None):
        validate_params(self)
        n_classes = _n_classes(self, layout)
        if np.count_nonzero(statistics["counts"]) < 2:
            raise ValueError("y has fewer than two classes; at least two are needed")
        self.classes_ = np.arange(n_classes)
        self.n_features_in_ = layout.n_columns
        names = self._set_blocks(layout, layout.n_columns, 1 if n_classes == 2 else n_classes)
        sums = {key: value for key, value in statistics.items() if key != "counts"}
        self._set_weights(names, gram_weights(**sums, sum_to_one=self.sum_to_one))
        return self

    statistics.__doc__ = _STATISTICS_DOC.format(
        what="class codes 0..n_classes-1", counts=" and ``counts`` (rows per class)")
    fit_statistics.__doc__ = _FIT_STATISTICS_DOC


def _row_weights(sample_weight, n_rows):
    if sample_weight is None:
        return np.ones(n_rows)
    return np.asarray(sample_weight, dtype=float).reshape(n_rows)


def _sums(A, b, weights):
    """``A^T W A``, ``A^T W b`` and ``b^T W b`` for the diagonal ``W`` of ``weights``."""
    weighted = A * weights[:, None]
    return {"gram": weighted.T @ A, "cross": weighted.T @ b,
            "square": np.asarray((weights * b) @ b)}


def _n_classes(learner, layout):
    if layout is None:
        raise ValueError(f"{type(learner).__name__}.statistics needs layout= (it says how "
                         "many classes the probability columns hold)")
    _check_probability_layout(type(learner).__name__, layout)
    return 2 if layout.target_kind == "binary" else layout.widths[0]
