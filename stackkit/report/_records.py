"""The records a report reads, in memory: a stack fit on a Dask collection holds them lazily.

The report scores with scikit-learn's scorers, which take rows in memory. For a stack fit
on a Dask collection (its ``oof_`` a lazy Dask array), :func:`in_memory` collects the
out-of-fold predictions, the target, the weights and the fold rows once, up to
``stackkit._dask_fit.COLLECT_LIMIT_BYTES`` (above, a clear error), into a copy of the
stack the report reads instead; the stack itself is left as it is.
"""

from .. import _dask_fit
from .._plane import plane_for


def on_cluster(stack):
    """Whether ``stack`` was fit on a Dask collection (its records are lazy)."""
    return plane_for(stack.oof_).on_cluster


def in_memory(stack, *, nested=False):
    """``stack``, or for a fit on a Dask collection a shallow copy with its records collected.

    ``nested`` (the leaderboard's nested cross-validation, which refits the stack on
    rows in memory) is refused for a stack fit on a Dask collection.
    """
    if not on_cluster(stack):
        return stack
    if nested:
        raise ValueError("leaderboard(nested=True) refits the whole stack on rows in memory; "
                         "it is not available for a stack fit on a Dask collection (use the "
                         "default meta-cv estimate)")
    view = object.__new__(type(stack))  # not copy.copy: that would pickle the fitted state
    view.__dict__.update(vars(stack))
    view.oof_, view.oof_target_, view.oof_folds_, view.oof_sample_weight_ = \
        _dask_fit.collect_records(stack.oof_, stack.oof_target_, stack.oof_folds_,
                                  stack.oof_sample_weight_)
    return view
