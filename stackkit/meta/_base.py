"""The machinery shared by the meta-learners of :mod:`stackkit.meta`."""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import get_scorer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._state import PlainState
from ._weights import greedy_selection


class MetaLearner(PlainState, BaseEstimator):
    """Shared checks: the input, and the column block of each base model."""

    def _check_input(self, X, y, sample_weight, *, classify):
        X, y = validate_data(self, X, y, y_numeric=not classify)
        weights = None if sample_weight is None else _check_sample_weight(sample_weight, X)
        return X, y, weights

    def _set_blocks(self, layout, n_features, width):
        """Set ``model_columns_`` and return the model names, from ``layout`` or by ``width``."""
        if layout is None:
            if n_features % width:
                raise ValueError(f"X has {n_features} columns, not a whole number of "
                                 f"{width}-column models; pass layout=")
            names = [f"model{i}" for i in range(n_features // width)]
            self.model_columns_ = [slice(i * width, (i + 1) * width) for i in range(len(names))]
            return names
        if layout.n_columns != n_features:
            raise ValueError(
                f"{type(self).__name__} weighs base-model predictions: the layout covers "
                f"{layout.n_columns} columns but X has {n_features} (passthrough=True adds "
                "the original features, which it cannot weigh)")
        wrong = [name for name, w in zip(layout.names, layout.widths) if w != width]
        if wrong:
            raise ValueError(f"{type(self).__name__} expects {width} column(s) per base model; "
                             f"{wrong[0]!r} has another number (a multi-output target?)")
        self.model_columns_ = layout.slices()
        return list(layout.names)

    def _set_weights(self, names, weights):
        self.weights_ = pd.Series(np.asarray(weights, dtype=float), index=names, name="weight")


class ProbabilityBlend(ClassifierMixin, MetaLearner):
    """Classification meta-learners: each base model gives class probabilities."""

    def _prepare(self, X, y, sample_weight, layout):
        X, y, weights = self._check_input(X, y, sample_weight, classify=True)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y has one class ({self.classes_[0]!r}); at least two are needed")
        if layout is not None:
            _check_probability_layout(type(self).__name__, layout)
        n_classes = len(self.classes_)
        names = self._set_blocks(layout, X.shape[1], 1 if n_classes == 2 else n_classes)
        return names, self._probabilities(X), codes, weights

    def _probabilities(self, X):
        n_classes = len(self.classes_)
        return [as_probabilities(X[:, columns], n_classes) for columns in self.model_columns_]

    def predict_proba(self, X):
        """Class probabilities: the weighted sum of the base models' probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The base models' probabilities, in the layout seen in fit.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; each row sums to one.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        blend = sum(w * p for w, p in zip(self.weights_.to_numpy(), self._probabilities(X)))
        return _normalised(np.asarray(blend, dtype=float))

    def predict(self, X):
        """Predict the most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The base models' probabilities, in the layout seen in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Class labels, as in ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class ValueBlend(RegressorMixin, MetaLearner):
    """Regression meta-learners: each base model gives one column of predictions."""

    def _prepare(self, X, y, sample_weight, layout):
        X, y, weights = self._check_input(X, y, sample_weight, classify=False)
        names = self._set_blocks(layout, X.shape[1], 1)
        return names, X, np.asarray(y, dtype=float), weights

    def predict(self, X):
        """The weighted sum of the base models' predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The base models' predictions, in the layout seen in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The blended predictions.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return X @ self.weights_.to_numpy()


def _check_probability_layout(learner, layout):
    if layout.target_kind not in ("binary", "multiclass"):
        raise ValueError(f"{learner} blends class probabilities of a binary or multiclass "
                         f"target; the stack's target is {layout.target_kind}")
    for name, method in zip(layout.names, layout.methods):
        if method != "predict_proba":
            raise ValueError(f"{learner} blends probabilities, but base estimator {name!r} "
                             f"gives {method}; use stack_method='predict_proba' or another "
                             "final estimator")


def as_probabilities(block, n_classes):
    """A model's block as an (n, n_classes) probability matrix (binary: one column)."""
    if n_classes == 2 and block.shape[1] == 1:
        positive = np.clip(block[:, 0], 0.0, 1.0)
        return np.column_stack([1.0 - positive, positive])
    return _normalised(np.clip(block, 0.0, None))


def _normalised(proba):
    sums = proba.sum(axis=1, keepdims=True)
    uniform = np.full_like(proba, 1.0 / proba.shape[1])
    return np.divide(proba, sums, out=uniform, where=sums > 0)


def one_hot(codes, n_classes):
    return np.eye(n_classes)[codes]


class Selection:
    """Greedy selection by a scorer, shared by the ensemble-selection and best-model learners."""

    def _select(self, names, outputs, y, weights, *, n_init, n_iterations):
        scorer = get_scorer(self._default_scoring if self.scoring is None else self.scoring)
        rows = np.zeros((len(y), 1))  # the scorer's X; the fixed predictions ignore it

        def score(output):
            return scorer(self._answering(output), rows, y, sample_weight=weights)

        counts, singles = greedy_selection(outputs, score, n_init=min(n_init, len(outputs)),
                                           n_iterations=n_iterations)
        self._set_weights(names, counts / counts.sum())
        self.scores_ = pd.Series(singles, index=names, name="score")


class SelectionClassifier(Selection, ProbabilityBlend):
    _default_scoring = "neg_log_loss"

    def _answering(self, proba):
        return FixedClassifier(self.classes_, proba=proba)

    def _fit_selection(self, X, y, sample_weight, layout, n_init, n_iterations):
        names, probabilities, codes, weights = self._prepare(X, y, sample_weight, layout)
        self._select(names, probabilities, self.classes_[codes], weights, n_init=n_init,
                     n_iterations=n_iterations)
        return self


class SelectionRegressor(Selection, ValueBlend):
    _default_scoring = "neg_mean_squared_error"

    def _answering(self, values):
        return FixedRegressor(values)

    def _fit_selection(self, X, y, sample_weight, layout, n_init, n_iterations):
        names, X, y, weights = self._prepare(X, y, sample_weight, layout)
        outputs = [X[:, columns][:, 0] for columns in self.model_columns_]
        self._select(names, outputs, y, weights, n_init=n_init, n_iterations=n_iterations)
        return self


def _given(method):
    return lambda self: getattr(self, method) is not None


class FixedClassifier(ClassifierMixin, BaseEstimator):
    """Gives a scorer fixed outputs, so any scikit-learn scorer can rate given predictions.

    ``proba`` and ``decision`` answer ``predict_proba`` and ``decision_function`` (a
    method without an answer does not exist); ``labels`` answers ``predict``, derived
    from the others when not given.
    """

    def __init__(self, classes, proba=None, decision=None, labels=None):
        self.classes = classes
        self.proba = proba
        self.decision = decision
        self.labels = labels

    @property
    def classes_(self):
        return self.classes

    def __sklearn_is_fitted__(self):
        return True

    @available_if(_given("proba"))
    def predict_proba(self, X):
        return self.proba

    @available_if(_given("decision"))
    def decision_function(self, X):
        return self.decision

    def predict(self, X):
        if self.labels is not None:
            return self.labels
        if self.proba is not None:
            return self.classes[np.argmax(self.proba, axis=1)]
        if self.decision.ndim == 1:
            return self.classes[(self.decision > 0).astype(int)]
        return self.classes[np.argmax(self.decision, axis=1)]


class FixedRegressor(RegressorMixin, BaseEstimator):
    """Gives a scorer fixed predictions."""

    def __init__(self, values):
        self.values = values

    def __sklearn_is_fitted__(self):
        return True

    def predict(self, X):
        return self.values
