"""Meta-feature layout: columns per estimator, their names, and OOF assembly."""

from dataclasses import dataclass

import numpy as np

from ._compat import to_host


def to_columns(raw, method, target_kind, name=None):
    """Turn one estimator's raw output into a 2-D float block of meta-feature columns.

    Binary probabilities keep only the positive class (the other column is redundant).
    Multilabel probabilities given as a list of per-label ``(n, 2)`` arrays keep each
    label's positive column. Device arrays are copied to host numpy first. NaN or
    infinity in the output is a ``ValueError`` (naming estimator ``name`` if given):
    no final estimator should learn from it, and a NaN row of ``oof_`` means a row no
    fold tested.
    """
    raw = [to_host(p) for p in raw] if isinstance(raw, list) else to_host(raw)
    if isinstance(raw, list):
        block = np.column_stack([np.asarray(p)[:, -1] for p in raw]).astype(np.float64)
    else:
        block = np.asarray(raw, dtype=np.float64)
        block = block.reshape(-1, 1) if block.ndim == 1 else block
        if method == "predict_proba" and target_kind == "binary":
            block = block[:, 1:]
    _check_finite(block, method, name)
    return block


def _check_finite(block, method, name):
    if np.isfinite(block).all():
        return
    counts = {"NaN": np.isnan(block).any(axis=1).sum(),
              "infinity": np.isinf(block).any(axis=1).sum()}
    found = " and ".join(f"{what} in {int(n)}" for what, n in counts.items() if n)
    who = "" if name is None else f"base estimator {name!r}: "
    raise ValueError(f"{who}{method} returned {found} of {len(block)} rows; the final "
                     "estimator needs finite meta-features from every base estimator")


@dataclass(frozen=True)
class Layout:
    """Which meta-feature columns belong to which base estimator.

    Attributes
    ----------
    names : tuple of str
        Base estimator names, in stack order.
    widths : tuple of int
        Number of meta-feature columns of each estimator.
    suffixes : tuple of tuple of str
        Per estimator, the column suffixes (a class, label or output); empty for a
        single unnamed column.
    target_kind : str
        The target's kind (binary, multiclass, multilabel, continuous, ...), which
        decides how raw predictions become columns.
    methods : tuple of str
        The method whose output fills each estimator's columns (``predict_proba``,
        ``decision_function`` or ``predict``). For binary probabilities the one
        column is the positive class's.

    A final estimator whose ``fit`` takes a ``layout`` argument receives the stack's
    layout there (see :mod:`stackkit.meta`), so it knows which columns belong to which
    base model without parsing column names.
    """

    names: tuple
    widths: tuple
    suffixes: tuple
    target_kind: str
    methods: tuple

    @classmethod
    def build(cls, names, methods, target_kind, classes, n_outputs):
        suffixes = tuple(
            _suffixes(method, target_kind, classes, n_outputs) for method in methods
        )
        widths = tuple(max(len(s), 1) for s in suffixes)
        return cls(tuple(names), widths, suffixes, target_kind, tuple(methods))

    @property
    def n_columns(self):
        return sum(self.widths)

    def slices(self):
        """One ``slice`` of meta-feature columns per estimator."""
        ends = np.cumsum(self.widths)
        return [slice(int(end - width), int(end)) for end, width in zip(ends, self.widths)]

    def feature_names(self):
        """``<name>__<suffix>`` per column, or ``<name>`` for a single unnamed column."""
        return [
            f"{name}__{suffix}" if suffixes else name
            for name, suffixes in zip(self.names, self.suffixes)
            for suffix in (suffixes or [None])
        ]


def input_feature_names(input_features, known, n_features):
    """Names of the passthrough columns: ``input_features``, checked against those seen in fit.

    ``known`` are the column names seen in fit (None for input without names, which are
    then called ``x0, x1, ...``).
    """
    if input_features is None:
        return list(known) if known is not None else [f"x{i}" for i in range(n_features)]
    input_features = list(input_features)
    if len(input_features) != n_features or (
        known is not None and input_features != list(known)
    ):
        raise ValueError("input_features does not match the columns seen in fit")
    return input_features


def check_passthrough_names(layout, input_names):
    """With ``passthrough=True``, raise if an input column has a meta-feature's name.

    ``input_names`` (from :func:`input_feature_names`) follow the meta-features in
    what the final estimator sees and in ``get_feature_names_out``.
    """
    owners = dict(zip(layout.feature_names(), [
        name for name, width in zip(layout.names, layout.widths) for _ in range(width)]))
    for column in input_names:
        if column in owners:
            raise ValueError(
                f"passthrough=True, but input column {column!r} has the name of a "
                f"meta-feature of estimator {owners[column]!r}; rename the column or the "
                "estimator, so each column the final estimator sees has its own name"
            )


def _suffixes(method, target_kind, classes, n_outputs):
    if target_kind in ("multilabel", "continuous-multioutput"):
        return tuple(str(k) for k in range(n_outputs))
    if method == "predict" or target_kind == "continuous":
        return ()
    if target_kind == "binary":
        return (str(classes[1]),)
    return tuple(str(c) for c in classes)


def assemble_oof(results, layout, plan):
    """Scatter fold predictions into the OOF matrix, rows in the order of X.

    Rows tested by several folds (repeated splits) get the mean; rows no fold tests
    (forward-only splits) are NaN.
    """
    total = np.zeros((plan.n_rows, layout.n_columns))
    slices = layout.slices()
    for result in results:
        if result.predictions is None:
            continue
        block = result.predictions
        if block.shape[1] != layout.widths[result.task.est_index]:
            raise ValueError(
                f"estimator {result.task.name!r} returned {block.shape[1]} columns from "
                f"{result.task.method} on fold {result.task.fold + 1}, expected "
                f"{layout.widths[result.task.est_index]}"
            )
        total[result.task.test, slices[result.task.est_index]] += block
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / plan.test_counts[:, None]
