"""The estimator that stands for a base model when the stack is fit with ``refit=False``."""

import numpy as np
from scipy import stats
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils.metaestimators import available_if

from ._forest_merge import merge_forests


def _first_model_has(method):
    return lambda self: hasattr(self.estimators[0], method)


class FoldAverage(BaseEstimator):
    """Average of fitted fold models: what ``estimators_`` holds when ``refit=False``.

    Probabilities, decision values and regression predictions are the mean over the
    fold models; class predictions are the majority vote (ties go to the lowest label).
    Fold models that are random forests or extra-trees of one kind predict as one forest
    holding all their trees, which gives that same mean in one call.

    Parameters
    ----------
    estimators : list of fitted estimators
        One model per fold (per fold and repeat for repeated splits).
    """

    def __init__(self, estimators):
        self.estimators = estimators

    def __sklearn_is_fitted__(self):
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier" if is_classifier(self.estimators[0]) else "regressor"
        return tags

    @property
    def classes_(self):
        """The class labels of the fold models (classification)."""
        return self.estimators[0].classes_

    @property
    def n_features_in_(self):
        """The number of features the fold models were fit on."""
        return self.estimators[0].n_features_in_

    @available_if(_first_model_has("predict_proba"))
    def predict_proba(self, X):
        """Average the fold models' class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or list of ndarray
            The mean probabilities (for a multilabel target, one array per label).
        """
        return self._predict_with("predict_proba", X)

    @available_if(_first_model_has("decision_function"))
    def decision_function(self, X):
        """Average the fold models' decision values.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The mean decision values.
        """
        return self._predict_with("decision_function", X)

    def predict(self, X):
        """Predict the mean (regression) or majority vote (classification) of the fold models.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The mean prediction, or the most voted label (ties: the lowest).
        """
        return self._predict_with("predict", X)

    def _predict_with(self, method, X):
        return self._combine(method, [getattr(part, method)(X) for part in self._parts(method)])

    def _parts(self, method, merge=True):
        """The models whose ``method`` outputs :meth:`_combine` turns into this model's.

        The fold models, or with ``merge`` one forest holding their trees when that gives
        the same mean (not for class votes, which need each fold's own prediction).
        """
        if not merge or (method == "predict" and is_classifier(self.estimators[0])):
            return list(self.estimators)
        merged = merge_forests(self.estimators)
        return list(self.estimators) if merged is None else [merged]

    def _combine(self, method, outputs):
        """This model's ``method`` output from its parts' outputs (in :meth:`_parts` order)."""
        if method == "predict" and is_classifier(self.estimators[0]):
            return stats.mode(np.stack(outputs), axis=0, keepdims=False).mode
        return _mean(outputs)


def _mean(outputs):
    if isinstance(outputs[0], list):  # multilabel: one array per label
        return [np.mean(per_label, axis=0) for per_label in zip(*outputs)]
    return np.mean(outputs, axis=0)
