"""Transfer learning in stacks: frozen source models and boosters warm-started from one.

A *source* model was trained on another dataset (another region, period, product...).
It joins a stack in one of two ways:

- **frozen** (:func:`freeze`, or scikit-learn's ``FrozenEstimator``): never refit. The
  stack runs no fold task for it: one task predicts every training row (``fold`` is
  ``"frozen"`` in ``task_log_``, no fit), and those predictions are its out-of-fold
  meta-features. That leaks nothing, since the source never saw the target rows.
- **warm-started** (:class:`WarmStart`): an XGBoost or LightGBM booster that continues
  training from the source on each training fold for its own number of additional
  rounds (``xgb_model`` / ``init_model``), with early stopping and the cache as for any
  booster.

Before any fold work, the stack checks each source against the target data: the
columns it was trained on against those of ``X``, and for classifiers its classes
against the target's labels (:func:`stackkit._source.check_sources`, which reads a warm
start through the engine's interface
:class:`~stackkit._boosters.warm_start.WarmStartedBooster`).
"""

from functools import partial

from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._boosters.warm_start import WarmStartedBooster
from ._param_checks import HasMethods, validate_params
from ._source import column_mismatch, is_frozen, library_of, rounds, source_booster, source_model

__all__ = ["WarmStart", "freeze", "is_frozen"]


def freeze(model):
    """Wrap a fitted source ``model`` so that a stack uses it without refitting it.

    Parameters
    ----------
    model : fitted estimator
        A model trained on the source data.

    Returns
    -------
    frozen : sklearn.frozen.FrozenEstimator
        ``FrozenEstimator(model)``. In a stack it is never fit: its predictions of every
        training row are its meta-features (``task_log_`` shows one ``"frozen"`` task).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted, which ``FrozenEstimator`` alone would only reveal
        when it first predicts.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from stackkit.transfer import freeze
    >>> X, y = make_classification(random_state=0)
    >>> frozen = freeze(LogisticRegression().fit(X, y))
    >>> frozen.fit(X[:10], 1 - y[:10]) is frozen  # fit is a no-op
    True
    """
    check_is_fitted(model, msg=f"freeze() needs a fitted model; {type(model).__name__} "
                               "is not fitted. Fit it on the source data first")
    return FrozenEstimator(model)


def _inner_has(method):
    return lambda self: hasattr(self.estimator, method)


class WarmStart(WarmStartedBooster, MetaEstimatorMixin, BaseEstimator):
    """A booster that continues training from a source model instead of from scratch.

    ``fit`` clones ``estimator`` and fits it with the source as XGBoost's ``xgb_model``
    or LightGBM's ``init_model``: the fitted booster holds the source's trees and
    ``estimator.n_estimators`` new rounds grown on the target rows. In a stack it is a
    base estimator like any booster: each fold continues from the source, early
    stopping (the estimator's own ``early_stopping_rounds`` / ``early_stopping_round``)
    gets stackkit's inner validation split, and the refit on all rows trains the mean
    number of *new* rounds the fold models kept (``best_iterations_`` counts new rounds).

    Parameters
    ----------
    estimator : XGBoost or LightGBM estimator
        Unfitted template of the booster; ``n_estimators`` is the number of rounds to
        add. Its parameters are nested as usual (``estimator__learning_rate``).
    source : fitted model of the same library
        The model to continue from: a fitted ``XGBClassifier``/``XGBRegressor`` or
        ``xgboost.Booster``, a fitted ``LGBMClassifier``/``LGBMRegressor`` or
        ``lightgbm.Booster``, possibly wrapped in ``FrozenEstimator``. It is never
        modified, and cloning a ``WarmStart`` shares it rather than unfitting it. An
        early-stopped source continues from its best iteration (the trees it predicts
        with). The cache (``memory=``) hashes its content.

    Attributes
    ----------
    estimator_ : estimator
        The fitted booster (source trees plus new ones).
    n_source_rounds_ : int
        Boosting rounds taken from the source.
    classes_ : ndarray of shape (n_classes,)
        Class labels, for a classifier.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of str
        Column names seen in fit, when the booster records them.

    Examples
    --------
    >>> from lightgbm import LGBMClassifier
    >>> from sklearn.datasets import make_classification
    >>> from stackkit.transfer import WarmStart
    >>> X, y = make_classification(600, random_state=0)
    >>> source = LGBMClassifier(n_estimators=30, verbose=-1).fit(X[:500], y[:500])
    >>> model = WarmStart(LGBMClassifier(n_estimators=10, verbose=-1), source=source)
    >>> model.fit(X[500:], y[500:]).estimator_.booster_.current_iteration()
    40
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"])],
        # a fitted wrapper, a raw Booster, FrozenEstimator...: source_booster checks it
        # in full, with messages naming what is wrong
        "source": "no_validation",
    }

    def __init__(self, estimator, source):
        self.estimator = estimator
        self.source = source

    def __sklearn_clone__(self):
        """A clone with a fresh ``estimator`` template and the same (fitted) ``source``."""
        params = self.get_params(deep=False)
        params["estimator"] = clone(params["estimator"])
        return type(self)(**params)

    def get_params(self, deep=True):
        """Parameters; nested ones of ``estimator`` only (a fitted source is not tuned).

        Parameters
        ----------
        deep : bool, default=True
            Also return ``estimator__<param>`` entries.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=False)
        if deep and hasattr(self.estimator, "get_params"):
            inner = self.estimator.get_params(deep=True)
            params.update({f"estimator__{key}": value for key, value in inner.items()})
        return params

    def fit(self, X, y, sample_weight=None, **fit_params):
        """Continue training the source model on ``X, y``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Target data, with the columns the source was trained on.
        y : array-like of shape (n_samples,)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, passed to the booster's ``fit``.
        **fit_params : dict
            Passed to the booster's ``fit`` (``eval_set``, ``callbacks``, ...).

        Returns
        -------
        self : WarmStart
            The fitted model.
        """
        validate_params(self, {"estimator": partial(library_of, what="estimator")})
        library = library_of(self.estimator, "estimator")
        booster = source_booster(self.source, library)
        problem = column_mismatch(source_model(self.source), X)
        if problem:
            raise ValueError(f"WarmStart source does not fit X: {problem}")
        if sample_weight is not None:
            fit_params["sample_weight"] = sample_weight
        self.estimator_ = clone(self.estimator)
        self.estimator_.fit(X, y, **{library.init_param: booster}, **fit_params)
        self.n_source_rounds_ = rounds(booster)
        for attr in ("classes_", "n_features_in_", "feature_names_in_"):
            vars(self).pop(attr, None)  # of an earlier fit
            try:
                setattr(self, attr, getattr(self.estimator_, attr))
            except AttributeError:  # LightGBM raises for names it did not see
                pass
        return self

    def booster_source(self):
        """The source model, as given.

        Returns
        -------
        source : fitted model
            ``source``, possibly a ``FrozenEstimator``.
        """
        return self.source

    def fitted_booster(self):
        """The fitted booster.

        Returns
        -------
        booster : estimator
            ``estimator_``: the source's trees plus the new ones.
        """
        return self.estimator_

    def source_rounds(self):
        """The boosting rounds taken from the source.

        Returns
        -------
        n_rounds : int
            ``n_source_rounds_``.
        """
        return self.n_source_rounds_

    def predict(self, X):
        """Predict with the fitted booster.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows with the columns seen in fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The booster's predictions.
        """
        check_is_fitted(self)
        return self.estimator_.predict(X)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X):
        """Predict class probabilities with the fitted booster.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Rows with the columns seen in fit.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_inner_has("score"))
    def score(self, X, y, sample_weight=None):
        """Score the fitted booster: its accuracy or R².

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            Test rows.
        y : array-like of shape (n_samples,)
            True values.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
            The booster's own ``score``.
        """
        check_is_fitted(self)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.input_tags = inner.input_tags
        tags.target_tags = inner.target_tags
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        return tags
