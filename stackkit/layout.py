"""The meta-feature layout: which columns of the stack's meta-features belong to which model.

A fitted stack keeps it as ``layout_``, and passes it to every final estimator whose
``fit`` takes a ``layout`` argument (the meta-learners of :mod:`stackkit.meta`), so a
final estimator knows each base model's columns without parsing column names.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["Layout"]


@dataclass(frozen=True)
class Layout:
    """Which meta-feature columns belong to which base estimator.

    Made by the stack in ``fit`` (see :meth:`build`) and kept as its ``layout_``;
    immutable. A final estimator whose ``fit`` takes a ``layout`` argument receives
    it there, so it knows which columns belong to which base model without parsing
    column names.

    Parameters
    ----------
    names : tuple of str
        Base estimator names, in stack order.
    widths : tuple of int
        Number of meta-feature columns of each estimator.
    suffixes : tuple of tuple of str
        Per estimator, the column suffixes (a class, label or output); empty for a
        single unnamed column.
    target_kind : str
        The target's kind (binary, multiclass, multilabel, continuous,
        continuous-multioutput), which decides how raw predictions become columns.
    methods : tuple of str
        The method whose output fills each estimator's columns (``predict_proba``,
        ``decision_function`` or ``predict``). For binary probabilities the one
        column is the positive class's.

    See Also
    --------
    stackkit.meta : Final estimators that read the layout.

    Examples
    --------
    >>> from stackkit import Layout
    >>> layout = Layout.build(["lr", "tree"], ["predict_proba", "predict"], "binary",
    ...                       classes=["no", "yes"], n_outputs=1)
    >>> layout.feature_names()
    ['lr__yes', 'tree']
    >>> layout.slices()
    [slice(0, 1, None), slice(1, 2, None)]
    """

    names: tuple
    widths: tuple
    suffixes: tuple
    target_kind: str
    methods: tuple

    @classmethod
    def build(cls, names, methods, target_kind, classes, n_outputs):
        """The layout of base estimators ``names`` stacked through ``methods``.

        Parameters
        ----------
        names : sequence of str
            Base estimator names, in stack order.
        methods : sequence of str
            Each estimator's stack method.
        target_kind : str
            The target's kind (binary, multiclass, multilabel, continuous,
            continuous-multioutput).
        classes : array-like or None
            The class labels (classification), which name the probability columns.
        n_outputs : int
            Number of labels or outputs of a multilabel or multi-output target.

        Returns
        -------
        layout : Layout
            One column per class (binary probabilities: the positive class's only),
            label or output, and one column for ``predict`` of a single target.
        """
        suffixes = tuple(
            _suffixes(method, target_kind, classes, n_outputs) for method in methods
        )
        widths = tuple(max(len(s), 1) for s in suffixes)
        return cls(tuple(names), widths, suffixes, target_kind, tuple(methods))

    @property
    def n_columns(self):
        """The total number of meta-feature columns."""
        return sum(self.widths)

    def slices(self):
        """One ``slice`` of meta-feature columns per estimator.

        Returns
        -------
        slices : list of slice
            In stack order.
        """
        ends = np.cumsum(self.widths)
        return [slice(int(end - width), int(end)) for end, width in zip(ends, self.widths)]

    def feature_names(self):
        """``<name>__<suffix>`` per column, or ``<name>`` for a single unnamed column.

        Returns
        -------
        names : list of str
            One name per meta-feature column, in column order.
        """
        return [
            f"{name}__{suffix}" if suffixes else name
            for name, suffixes in zip(self.names, self.suffixes)
            for suffix in (suffixes or [None])
        ]


def _suffixes(method, target_kind, classes, n_outputs):
    if target_kind in ("multilabel", "continuous-multioutput"):
        return tuple(str(k) for k in range(n_outputs))
    if method == "predict" or target_kind == "continuous":
        return ()
    if target_kind == "binary":
        return (str(classes[1]),)
    return tuple(str(c) for c in classes)
