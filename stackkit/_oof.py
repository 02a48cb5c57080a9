"""Meta-feature layout: columns per estimator, their names, and OOF assembly."""

import numpy as np

from ._compat import to_host


def to_columns(raw, method, target_kind, name=None, dtype=np.float64):
    """Turn one estimator's raw output into a 2-D block of meta-feature columns of ``dtype``.

    Binary probabilities keep only the positive class (the other column is redundant).
    Multilabel probabilities given as a list of per-label ``(n, 2)`` arrays keep each
    label's positive column. Device arrays are copied to host numpy first. NaN or
    infinity in the output is a ``ValueError`` (naming estimator ``name`` if given):
    no final estimator should learn from it, and a NaN row of ``oof_`` means a row no
    fold tested.
    """
    raw = [to_host(p) for p in raw] if isinstance(raw, list) else to_host(raw)
    if isinstance(raw, list):
        block = np.column_stack([np.asarray(p)[:, -1] for p in raw]).astype(dtype)
    else:
        block = np.asarray(raw, dtype=dtype)
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


def assemble_oof(results, layout, plan, dtype=np.float64):
    """Scatter fold predictions into the OOF matrix of ``dtype``, rows in the order of X.

    Rows tested by several folds (repeated splits) get the mean; rows no fold tests
    (forward-only splits) are NaN.
    """
    total = np.zeros((plan.n_rows, layout.n_columns), dtype=dtype)
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
        return (total / plan.test_counts[:, None]).astype(dtype, copy=False)
