"""Meta-learners: final estimators that weigh the base models and say how.

Each is an ordinary scikit-learn estimator made to be the ``final_estimator`` of a
stack, and each exposes ``weights_``, a pandas Series of one weight per base model:

- :class:`NNLSRegressor`, :class:`NNLSClassifier`: the Super Learner's non-negative
  least squares, optionally a convex combination (``sum_to_one``);
- :class:`BlendClassifier`: the convex blend of class probabilities with the lowest
  log loss (binary and multiclass);
- :class:`EnsembleSelectionClassifier`, :class:`EnsembleSelectionRegressor`: greedy
  ensemble selection with replacement (Caruana et al., 2004), by any scorer;
- :class:`BestModelClassifier`, :class:`BestModelRegressor`: the single best base
  model (the "discrete Super Learner"), a baseline and a guard.

Which columns belong to which base model: a stack passes its
:class:`~stackkit.layout.Layout` to every final estimator whose ``fit`` takes a
``layout`` argument, so these learn the model names and column blocks from the stack,
never from column names. Used on their own, ``fit(X, y)`` without ``layout`` takes
every column as one model's prediction (regression and binary probabilities) or every
``n_classes`` columns as one model's class probabilities (multiclass).
A classification meta-learner blends probabilities: the stack's base models must use
``predict_proba`` (``stack_method="auto"`` does, where they have it). The original
features (``passthrough=True``) are not base-model predictions and are refused.

>>> from sklearn.datasets import load_breast_cancer
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.naive_bayes import GaussianNB
>>> from stackkit import StackingClassifier
>>> from stackkit.meta import BlendClassifier
>>> X, y = load_breast_cancer(return_X_y=True)
>>> stack = StackingClassifier([("lr", LogisticRegression(max_iter=5000)), ("nb", GaussianNB())],
...                            BlendClassifier(), cv=3).fit(X, y)
>>> stack.final_estimator_.weights_.index.tolist()
['lr', 'nb']
>>> bool(abs(stack.final_estimator_.weights_.sum() - 1) < 1e-9)
True
"""

from functools import partial

import numpy as np
from sklearn.metrics import get_scorer_names

from ._base import (
    ProbabilityBlend, SelectionClassifier, SelectionRegressor, ValueBlend, one_hot,
)
from .._param_checks import StrOptions, check_count, integers, validate_params
from ._statistics import (
    ProbabilitySelectionStatistics, ProbabilityStatistics, ValueSelectionStatistics,
    ValueStatistics,
)
from ._weights import least_squares_weights, log_loss_weights

__all__ = [
    "BestModelClassifier", "BestModelRegressor", "BlendClassifier",
    "EnsembleSelectionClassifier", "EnsembleSelectionRegressor", "NNLSClassifier",
    "NNLSRegressor",
]

_SCORING = [None, StrOptions(set(get_scorer_names())), callable]
_SELECTION_CONSTRAINTS = {"n_iterations": [integers(0, None)], "n_init": [integers(1, None)],
                          "scoring": _SCORING}
# stackkit's own check of a refused count, whose message follows scikit-learn's
_COUNT_CHECKS = {"n_iterations": partial(check_count, name="n_iterations", low=0),
                 "n_init": partial(check_count, name="n_init", low=1)}


_PROBABILITY_FIT_DOC = """Fit the weights on the base models' out-of-fold probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Per base model, the positive class's probability (binary) or one column
            per class (multiclass).
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the loss.
        layout : Layout, default=None
            The stack's column layout (passed by the stack).

        Returns
        -------
        self : object
            The fitted meta-learner.
        """


class NNLSRegressor(ValueStatistics, ValueBlend):
    """Non-negative least-squares combination of base-model predictions (Super Learner).

    Parameters
    ----------
    sum_to_one : bool, default=False
        Also constrain the weights to sum to one (a convex combination).

    Attributes
    ----------
    weights_ : Series
        One non-negative weight per base model, indexed by its name.
    model_columns_ : list of slice
        The meta-feature columns of each base model.
    n_features_in_ : int
        Number of meta-feature columns seen in fit.
    """

    _parameter_constraints = {"sum_to_one": ["boolean"]}

    def __init__(self, sum_to_one=False):
        self.sum_to_one = sum_to_one

    def fit(self, X, y, sample_weight=None, layout=None):
        """Fit the weights on the base models' out-of-fold predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One column per base model.
        y : array-like of shape (n_samples,)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the squared error.
        layout : Layout, default=None
            The stack's column layout (passed by the stack); None: one model per column.

        Returns
        -------
        self : object
            The fitted meta-learner.
        """
        validate_params(self)
        names, X, y, weights = self._prepare(X, y, sample_weight, layout)
        self._set_weights(names, least_squares_weights(X, y, weights, sum_to_one=self.sum_to_one))
        return self


class NNLSClassifier(ProbabilityStatistics, ProbabilityBlend):
    """Non-negative least-squares combination of class probabilities (Super Learner).

    The weights minimise the squared error between the blended probabilities and the
    one-hot target; the blend is renormalised to sum to one per row.

    Parameters
    ----------
    sum_to_one : bool, default=True
        Constrain the weights to sum to one (a convex combination).

    Attributes
    ----------
    weights_ : Series
        One non-negative weight per base model, indexed by its name.
    classes_ : ndarray of shape (n_classes,)
    model_columns_ : list of slice
    n_features_in_ : int
    """

    _parameter_constraints = {"sum_to_one": ["boolean"]}

    def __init__(self, sum_to_one=True):
        self.sum_to_one = sum_to_one

    def fit(self, X, y, sample_weight=None, layout=None):
        validate_params(self)
        names, probabilities, codes, weights = self._prepare(X, y, sample_weight, layout)
        n_classes = len(self.classes_)
        A = np.column_stack([p.ravel() for p in probabilities])
        row_weight = None if weights is None else np.repeat(weights, n_classes)
        w = least_squares_weights(A, one_hot(codes, n_classes).ravel(), row_weight,
                                  sum_to_one=self.sum_to_one)
        self._set_weights(names, w)
        return self

    fit.__doc__ = _PROBABILITY_FIT_DOC


class BlendClassifier(ProbabilityBlend):
    """The convex blend of base-model probabilities with the lowest log loss.

    One weight per base model, on the simplex (non-negative, summing to one), applied to
    the model's whole block of class probabilities; binary and multiclass alike. The
    log loss of such a blend is convex in the weights, so the optimum is global.

    Attributes
    ----------
    weights_ : Series
        One weight per base model, indexed by its name; they sum to one.
    classes_ : ndarray of shape (n_classes,)
    model_columns_ : list of slice
    n_features_in_ : int
    """

    _parameter_constraints = {}

    def fit(self, X, y, sample_weight=None, layout=None):
        validate_params(self)
        names, probabilities, codes, weights = self._prepare(X, y, sample_weight, layout)
        rows = np.arange(len(codes))
        truth = np.column_stack([p[rows, codes] for p in probabilities])
        self._set_weights(names, log_loss_weights(truth, weights))
        return self

    fit.__doc__ = _PROBABILITY_FIT_DOC


_SELECTION_DOC = """Greedy ensemble selection with replacement (Caruana et al., 2004).

    Starts from the ``n_init`` best base models by out-of-fold score, then
    ``n_iterations`` times adds (again, if it is already in) the base model whose
    addition makes the best-scoring average, and keeps the best-scoring step of that
    path (so it never scores below its start). A model's weight is its share of the
    picks. As AutoGluon's final layer.

    Parameters
    ----------
    n_iterations : int, default=50
        Number of greedy additions after the initialisation.
    n_init : int, default=1
        Number of best single models the ensemble starts from.
    scoring : str or callable, default=None
        Any scikit-learn scorer (name or callable ``scorer(estimator, X, y)``);
        None: {default}.

    Attributes
    ----------
    weights_ : Series
        Each base model's share of the picks, indexed by its name.
    scores_ : Series
        Each base model's own score under ``scoring``.
    model_columns_ : list of slice
    n_features_in_ : int
    """

_BEST_DOC = """The single base model with the best out-of-fold score (discrete Super Learner).

    A baseline, and a guard: a stack should beat it.

    Parameters
    ----------
    scoring : str or callable, default=None
        Any scikit-learn scorer; None: {default}.

    Attributes
    ----------
    weights_ : Series
        1 for the chosen base model, 0 for the others, indexed by name.
    scores_ : Series
        Each base model's score under ``scoring``.
    model_columns_ : list of slice
    n_features_in_ : int
    """

_FIT_DOC = """Select on the base models' out-of-fold predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The base models' predictions (probabilities for a classifier).
        y : array-like of shape (n_samples,)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the scorer.
        layout : Layout, default=None
            The stack's column layout (passed by the stack).

        Returns
        -------
        self : object
            The fitted meta-learner.
        """


class _EnsembleSelection:
    """The parameters and ``fit`` of both ensemble selections (the task is in the base)."""

    _parameter_constraints = _SELECTION_CONSTRAINTS

    def __init__(self, n_iterations=50, n_init=1, scoring=None):
        self.n_iterations = n_iterations
        self.n_init = n_init
        self.scoring = scoring

    def _rounds(self):
        """The checked ``(n_init, n_iterations)`` of the selection."""
        validate_params(self, _COUNT_CHECKS)
        return self.n_init, self.n_iterations

    def fit(self, X, y, sample_weight=None, layout=None):
        return self._fit_selection(X, y, sample_weight, layout, *self._rounds())

    fit.__doc__ = _FIT_DOC


class EnsembleSelectionClassifier(_EnsembleSelection, ProbabilitySelectionStatistics,
                                  SelectionClassifier):
    __doc__ = _SELECTION_DOC.format(default="``neg_log_loss``")


class EnsembleSelectionRegressor(_EnsembleSelection, ValueSelectionStatistics,
                                 SelectionRegressor):
    __doc__ = _SELECTION_DOC.format(default="``neg_mean_squared_error``")


class _BestModel:
    """The parameter and ``fit`` of both best-model learners: one selection, no rounds."""

    _parameter_constraints = {"scoring": _SCORING}

    def __init__(self, scoring=None):
        self.scoring = scoring

    def _rounds(self):
        """The selection of one model: ``(n_init, n_iterations) = (1, 0)``."""
        validate_params(self)
        return 1, 0

    def fit(self, X, y, sample_weight=None, layout=None):
        return self._fit_selection(X, y, sample_weight, layout, *self._rounds())

    fit.__doc__ = _FIT_DOC


class BestModelClassifier(_BestModel, ProbabilitySelectionStatistics, SelectionClassifier):
    __doc__ = _BEST_DOC.format(default="``neg_log_loss``")


class BestModelRegressor(_BestModel, ValueSelectionStatistics, SelectionRegressor):
    __doc__ = _BEST_DOC.format(default="``neg_mean_squared_error``")
