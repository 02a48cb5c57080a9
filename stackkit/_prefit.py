"""``cv="prefit"``: scikit-learn's spelling of a stack whose base estimators are all frozen.

With ``cv="prefit"`` each base estimator is used as :class:`~sklearn.frozen.FrozenEstimator`
would use it (never refit; its predictions of every training row are its meta-features),
and ``estimators_`` holds the user's own estimators, as in scikit-learn.
"""

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

from ._source import is_frozen
from ._split import SplitPlan


class PrefitEstimator(FrozenEstimator):
    """The ``FrozenEstimator`` that ``cv="prefit"`` puts around a base estimator."""


def freeze_all(named_estimators):
    """``named_estimators`` with each one not frozen yet wrapped in :class:`PrefitEstimator`.

    Raises ``NotFittedError``, naming the estimator, for one that is not fitted.
    """
    for name, est in named_estimators:
        try:
            check_is_fitted(est)
        except NotFittedError as exc:
            raise NotFittedError(
                f"cv='prefit' but base estimator {name!r} ({type(est).__name__}) is not "
                "fitted; fit it first, or give cv a number of folds to fit it out-of-fold"
            ) from exc
    return [(name, est if is_frozen(est) else PrefitEstimator(est))
            for name, est in named_estimators]


def unwrap(model):
    """The user's estimator inside a :class:`PrefitEstimator`; any other model as it is."""
    return model.estimator if isinstance(model, PrefitEstimator) else model


def whole_data_plan(n_rows):
    """One "fold" that tests every row: frozen models predict all of them, nothing is fit."""
    rows = np.arange(n_rows)
    return SplitPlan(((rows, rows),), np.ones(n_rows, dtype=np.int64))
