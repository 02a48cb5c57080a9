"""Fold forests folded into one forest that predicts exactly their average.

A random forest's (or extra-trees') ``predict_proba`` and regression ``predict`` are the
mean over its trees, so forests with the same number of trees, put end to end, predict
the mean of their means: what :class:`~stackkit.FoldAverage` computes from the fold
models one after another. One forest is one call (one validation of ``X``, one loop over
the trees that the forest's ``n_jobs`` can spread over threads) instead of one per fold.

Only bare forests are merged. A pipeline ending in a forest has preprocessing fit per
fold (a scaler's statistics, an encoder's categories differ between folds), so its trees
do not see the same features. Boosters (XGBoost, LightGBM) are not merged either: their
output is a link of a summed margin, and the mean of the folds' probabilities is not the
link of any one model's margin.
"""

import copy

import numpy as np
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor,
                              RandomForestClassifier, RandomForestRegressor)

# Exact types: a subclass may predict otherwise than as the mean of its trees.
FOREST_TYPES = (RandomForestClassifier, RandomForestRegressor,
                ExtraTreesClassifier, ExtraTreesRegressor)
# What every fold forest must agree on for their trees to stand in one forest.
_SHARED = ("n_features_in_", "feature_names_in_", "n_outputs_", "classes_", "n_classes_")


def merge_forests(forests):
    """One forest whose predictions are the mean of ``forests``' predictions, or None.

    Parameters
    ----------
    forests : list of fitted estimators
        The fold models of one base estimator.

    Returns
    -------
    forest : forest or None
        A shallow copy of the first forest holding every forest's trees, in order (the
        fold models are left as they are); None unless all are fitted forests of the same
        type, with the same number of trees, columns, outputs and classes.
    """
    if not _mergeable(forests):
        return None
    merged = copy.copy(forests[0])
    merged.estimators_ = [tree for forest in forests for tree in forest.estimators_]
    merged.n_estimators = len(merged.estimators_)
    return merged


def _mergeable(forests):
    first = forests[0]
    if type(first) not in FOREST_TYPES or not hasattr(first, "estimators_"):
        return False
    return all(type(forest) is type(first)
               and len(forest.estimators_) == len(first.estimators_)
               and all(_same(getattr(forest, name, None), getattr(first, name, None))
                       for name in _SHARED)
               for forest in forests[1:])


def _same(a, b):
    """Equal attributes; multi-output forests keep one classes array per output."""
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b)))
    return np.array_equal(a, b)
