"""StackingClassifier: labels, stack_method resolution and probabilities."""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.multioutput import MultiOutputClassifier
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import assert_all_finite, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array, column_or_1d

from . import _docs
from ._base import BaseStacking, _final_has
from ._plane import labels_of
from ._target import Target

__all__ = ["StackingClassifier"]


class StackingClassifier(ClassifierMixin, BaseStacking):
    __doc__ = f"""Stack classifiers through out-of-fold predictions.

    Each base estimator is fit on the training part of every fold and predicts the
    held-out part; those out-of-fold predictions are the features of the final
    estimator. Binary, multiclass (any labels) and multilabel (2-D 0/1) targets work.

    Parameters
    ----------
{_docs.PARAMETERS.format(
        default_final="``LogisticRegression()``",
        int_cv="``StratifiedKFold`` (``KFold`` for multilabel targets)",
        stack_method_values='"auto", "predict_proba", "decision_function", "predict" or dict',
        auto_order="predict_proba, decision_function, predict")}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or list of ndarray
        Class labels; for a multilabel target, one ``[0, 1]`` array per label.
{_docs.ATTRIBUTES.format(multi_output_wrapper="``MultiOutputClassifier``")}

    See Also
    --------
    StackingRegressor : The same for regression.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from stackkit import StackingClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> stack = StackingClassifier(
    ...     [("lr", make_pipeline(StandardScaler(), LogisticRegression())),
    ...      ("rf", RandomForestClassifier(n_estimators=50, random_state=0))],
    ...     cv=3,
    ... ).fit(X, y)
    >>> stack.oof_.shape
    (569, 2)
    >>> stack.get_feature_names_out().tolist()
    ['lr__1', 'rf__1']
    >>> float(stack.score(X, y)) > 0.95
    True
    """

    _auto_methods = ("predict_proba", "decision_function", "predict")

    def __init__(self, estimators, final_estimator=None, *, cv=5, stack_method="auto",
                 passthrough=False, refit=True, memory=None, on_error="raise", n_jobs=None,
                 verbose=0, time_limit=None):
        super().__init__(estimators, final_estimator, cv=cv, stack_method=stack_method,
                         passthrough=passthrough, refit=refit, memory=memory,
                         on_error=on_error, n_jobs=n_jobs, verbose=verbose,
                         time_limit=time_limit)

    def _default_final_estimator(self):
        return LogisticRegression()

    def _multi_output_wrapper(self, estimator):
        return MultiOutputClassifier(estimator)

    def _for_multi_output(self, estimator):
        """A classifier tagged ``multi_label`` fits a multilabel target as it is.

        ``RidgeClassifier`` and ``MLPClassifier`` are, and only unwrapped do they keep
        their own multilabel outputs (e.g. ``decision_function``), as in scikit-learn's
        stacks; the others are wrapped in ``MultiOutputClassifier``.
        """
        if get_tags(estimator).classifier_tags.multi_label:
            return estimator
        return super()._for_multi_output(estimator)

    def _prepare_target(self, y):
        y = check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False,
                        input_name="y")
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        _check_object_labels(y)
        assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        kind = type_of_target(y, input_name="y")
        if kind == "multilabel-indicator":
            values = y.astype(np.int64)
            return Target(values, "multilabel", [np.array([0, 1])] * values.shape[1])
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"y is {kind}; StackingClassifier takes binary, multiclass or multilabel "
                "(2-D 0/1) targets"
            )
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(
                f"y has only one class ({encoder.classes_.tolist()[0]!r}); a classifier needs at "
                "least two classes"
            )
        return Target(encoder.transform(y), kind, encoder.classes_)

    def _check_plan(self, plan, target):
        plan.check_classes_in_every_fold(target.values, target.classes)

    @available_if(_final_has("predict"))
    @_docs.with_predict_params("predict")
    def predict(self, X, **predict_params):
        """Predict class labels (a 0/1 matrix for a multilabel target).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            New rows, with the columns seen in fit.
        **predict_params : dict
            PREDICT_PARAMS

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Class labels, as in ``classes_``.
        """
        codes = self._final_output("predict", X, predict_params)
        if self.layout_.target_kind == "multilabel":
            return codes
        return labels_of(self.classes_, codes)

    @available_if(_final_has("predict_proba"))
    @_docs.with_predict_params("predict_proba")
    def predict_proba(self, X, **params):
        """Class probabilities from the final estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            New rows, with the columns seen in fit.
        **params : dict
            PREDICT_PARAMS

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``. For a multilabel target, the
            probability of each label being 1, shape (n_samples, n_labels).
        """
        proba = self._final_output("predict_proba", X, params)
        if isinstance(proba, list):
            return np.column_stack([p[:, -1] for p in proba])
        return proba

    @available_if(_final_has("decision_function"))
    @_docs.with_predict_params("decision_function")
    def decision_function(self, X, **params):
        """Decision values of the final estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            New rows, with the columns seen in fit.
        **params : dict
            PREDICT_PARAMS

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One column per class (one value per row for a binary target).
        """
        return self._final_output("decision_function", X, params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _check_object_labels(y):
    """Say what makes labels of an object array unusable: missing or mixed labels.

    scikit-learn's own message ("Unknown label type ... continuous values") suggests a
    continuous target, labels of mixed types may even fail later with a bare
    ``TypeError`` from sorting them, and pd.NA with one about its truth value.
    """
    if y.dtype != object:
        return
    missing = pd.isna(y)
    if missing.any():
        raise ValueError(f"y has {int(missing.sum())} missing labels (None or NaN); drop "
                         "those rows or give them a label")
    kinds = sorted({_label_kind(value) for value in y.ravel()})
    if len(kinds) > 1:
        raise ValueError(f"Unknown label type: y mixes labels of types {' and '.join(kinds)}; "
                         "give every label the same type, e.g. y.astype(str)")
    if kinds != ["str"]:  # scikit-learn takes an object array of strings only
        raise ValueError(f"Unknown label type: y holds {kinds[0]} labels in an object "
                         f"array; convert it, e.g. y.astype({kinds[0]})")


def _label_kind(value):
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    return "str" if isinstance(value, str) else type(value).__name__
