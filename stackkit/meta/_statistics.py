"""Fitting NNLS weights from sums over rows, so a stack on a Dask collection never collects them.

Non-negative least squares needs only ``A^T A``, ``A^T b`` and ``b^T b`` of its design
matrix ``A`` and target ``b`` (:func:`~stackkit.meta._weights.gram_weights`), or with row
weights ``W`` ``A^T W A``, ``A^T W b`` and ``b^T W b``; each is a sum over rows, so a
stack sums them over partitions and fits from the totals. The weights equal those of
``fit`` on all rows (with the same ``sample_weight``), up to rounding.
"""

import numpy as np
import pandas as pd
from sklearn.utils.metaestimators import available_if

from .._param_checks import validate_params
from ._base import _check_probability_layout, as_probabilities, one_hot
from ._weights import gram_weights, greedy_selection

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
        names = _probability_blocks(self, statistics, layout)
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


def _probability_blocks(learner, statistics, layout):
    """Set a classifier's ``classes_`` (the codes) and ``n_features_in_`` from summed
    statistics; return its model names. At least two classes must have rows."""
    n_classes = _n_classes(learner, layout)
    if np.count_nonzero(statistics["counts"]) < 2:
        raise ValueError("y has fewer than two classes; at least two are needed")
    learner.classes_ = np.arange(n_classes)
    learner.n_features_in_ = layout.n_columns
    return learner._set_blocks(layout, layout.n_columns, 1 if n_classes == 2 else n_classes)


def _n_classes(learner, layout):
    if layout is None:
        raise ValueError(f"{type(learner).__name__}.statistics needs layout= (it says how "
                         "many classes the probability columns hold)")
    _check_probability_layout(type(learner).__name__, layout)
    return 2 if layout.target_kind == "binary" else layout.widths[0]


# Scorers of an average of the base models' outputs that follow from the sums of its
# squared error (binary Brier: scikit-learn scores the positive column only, half the
# sum over both columns)
_VALUE_SCORES = {
    None: lambda sse, sums: -sse / sums["rows"],
    "neg_mean_squared_error": lambda sse, sums: -sse / sums["rows"],
    "neg_root_mean_squared_error": lambda sse, sums: -np.sqrt(sse / sums["rows"]),
    "r2": lambda sse, sums: 1 - sse / (sums["square"] - sums["total"] ** 2 / sums["rows"]),
}
_PROBABILITY_SCORES = {
    "neg_brier_score": lambda sse, sums: -sse / (sums["rows"] * (2 if len(sums["counts"]) == 2
                                                                 else 1)),
}


def _scored_by(scores):
    """Whether a selection learner's ``scoring`` is one of ``scores`` (by name, or None)."""
    return lambda self: (self.scoring is None or isinstance(self.scoring, str)) \
        and self.scoring in scores


class _SelectionFromSums:
    """The greedy selection of :class:`~stackkit.meta._base.Selection`, run on sums.

    An average of the base models' outputs is ``A w`` for a vector ``w`` of shares; its
    squared error is ``w^T (A^T A) w - 2 w^T (A^T b) + b^T b``. So the selection runs
    over shares (each model's own output is its unit vector) and scores each candidate
    from the sums: the same picks as on the rows, up to rounding.
    """

    def _fit_sums(self, statistics, layout, names, scores):
        n_init, n_iterations = self._rounds()
        gram, cross, square = (statistics[key] for key in ("gram", "cross", "square"))
        score_of = scores[self.scoring]

        def score(shares):
            return score_of(shares @ gram @ shares - 2 * shares @ cross + square, statistics)

        units = list(np.eye(len(names)))
        counts, singles = greedy_selection(units, score, n_init=min(n_init, len(units)),
                                           n_iterations=n_iterations)
        self._set_weights(names, counts / counts.sum())
        self.scores_ = pd.Series(singles, index=names, name="score")
        return self


class ValueSelectionStatistics(_SelectionFromSums):
    """``statistics`` / ``fit_statistics`` of a regression selection scored by squared error.

    Available when ``scoring`` is None, ``"neg_mean_squared_error"``,
    ``"neg_root_mean_squared_error"`` or ``"r2"``.
    """

    def statistics(self, X, y, sample_weight=None, layout=None):
        A, b = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        weights = _row_weights(sample_weight, len(b))
        return {**_sums(A, b, weights), "total": np.asarray(weights @ b),
                "rows": np.asarray(weights.sum())}

    def fit_statistics(self, statistics, layout=None):
        self.n_features_in_ = len(statistics["cross"])
        names = self._set_blocks(layout, self.n_features_in_, 1)
        return self._fit_sums(statistics, layout, names, _VALUE_SCORES)

    statistics.__doc__ = _STATISTICS_DOC.format(
        what="values", counts=", ``total`` (``y``'s weighted sum) and ``rows`` (the "
        "weights' sum)")
    fit_statistics.__doc__ = _FIT_STATISTICS_DOC
    statistics = available_if(_scored_by(_VALUE_SCORES))(statistics)
    fit_statistics = available_if(_scored_by(_VALUE_SCORES))(fit_statistics)


class ProbabilitySelectionStatistics(_SelectionFromSums):
    """``statistics`` / ``fit_statistics`` of a classification selection scored by Brier.

    Available when ``scoring="neg_brier_score"`` (the default log loss does not follow
    from sums).
    """

    def statistics(self, X, y, sample_weight=None, layout=None):
        sums = ProbabilityStatistics.statistics(self, X, y, sample_weight, layout)
        return {**sums, "rows": np.asarray(_row_weights(sample_weight, len(y)).sum())}

    def fit_statistics(self, statistics, layout=None):
        names = _probability_blocks(self, statistics, layout)
        return self._fit_sums(statistics, layout, names, _PROBABILITY_SCORES)

    statistics.__doc__ = _STATISTICS_DOC.format(
        what="class codes 0..n_classes-1",
        counts=", ``counts`` (rows per class) and ``rows`` (the weights' sum)")
    fit_statistics.__doc__ = _FIT_STATISTICS_DOC
    statistics = available_if(_scored_by(_PROBABILITY_SCORES))(statistics)
    fit_statistics = available_if(_scored_by(_PROBABILITY_SCORES))(fit_statistics)
