"""The shared stacking estimator: one algorithm, thin classifier/regressor variants."""

import numbers
import time
from abc import ABCMeta, abstractmethod
from functools import partial

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, TransformerMixin
from sklearn.utils import Bunch, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from . import _docs
from . import _param_checks as param_checks
from . import _prefit as prefit
from . import _validation as checks
from ._budget import Budget
from ._cache import TaskCache
from ._display import has_visual_block, visual_block
from ._display import html as display_html
from ._early_stopping import best_iterations
from ._fold_average import FoldAverage
from ._gpu import visible_gpus
from ._fit_steps import steps_for
from ._oof import check_passthrough_names, input_feature_names
from ._params import StackParamsMixin
from ._plane import count_rows, float_dtype, join_columns, plane_for, validate_rows
from ._results import drop_failed, task_log
from ._routing import route_fit, route_prediction, routing_enabled, stack_router
from ._runner import Runner
from ._source import check_sources
from ._state import PlainState
from ._tasks import frozen_by_fold, make_tasks
from .layout import Layout


def _final_has(method):
    """``available_if`` check: the fitted (or, before fit, the configured) final estimator.

    The final estimator's own ``AttributeError`` propagates, so ``available_if`` chains
    it to its "has no attribute" error (``__cause__``), as scikit-learn's stacks do.
    """

    def check(self):
        final = getattr(self, "final_estimator_", None)
        if final is None:
            final = self.final_estimator
            final = self._default_final_estimator() if final is None else final
        getattr(final, method)
        return True

    return check


class BaseStacking(
    PlainState, StackParamsMixin, TransformerMixin, MetaEstimatorMixin, BaseEstimator,
    metaclass=ABCMeta,
):
    """Out-of-fold stacking. Use :class:`StackingClassifier` or :class:`StackingRegressor`."""

    _required_parameters = ["estimators"]
    _auto_methods = ("predict",)  # the order in which stack_method="auto" tries methods
    _parameter_constraints = param_checks.STACK_CONSTRAINTS

    @abstractmethod
    def __init__(self, estimators, final_estimator=None, *, cv=5, stack_method="auto",
                 passthrough=False, refit=True, memory=None, on_error="raise", n_jobs=None,
                 verbose=0, time_limit=None):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.cv = cv
        self.stack_method = stack_method
        self.passthrough = passthrough
        self.refit = refit
        self.memory = memory
        self.on_error = on_error
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.time_limit = time_limit

    # -- hooks of the subclasses ---------------------------------------------------------

    @abstractmethod
    def _default_final_estimator(self):
        """A fresh, unfitted final estimator used when ``final_estimator=None``."""

    @abstractmethod
    def _prepare_target(self, y):
        """Validate ``y`` and return a :class:`Target`."""

    @abstractmethod
    def _multi_output_wrapper(self, estimator):
        """Wrap an estimator that cannot fit several targets at once."""

    def _check_plan(self, plan, target):
        """Task-specific checks of the folds before any fitting."""

    # -- fit -----------------------------------------------------------------------------

    def fit(self, X, y, sample_weight=None, groups=None, **fit_params):
        """Fit the base estimators out-of-fold, then the final estimator on their predictions.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training data. A pandas DataFrame is passed to the base estimators as it is
            (column names and categorical dtypes kept); a polars DataFrame or pyarrow
            Table is converted to one first.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every base fit (sliced per fold) and to the final estimator. Every
            estimator must accept ``sample_weight``; otherwise a ``TypeError`` is raised
            before any fitting.
        groups : array-like of shape (n_samples,), default=None
            Group labels passed to ``cv.split`` (e.g. for ``GroupKFold``).
        **fit_params : dict
            Parameters of one estimator's ``fit``, named ``<name>__<param>`` (e.g.
            ``lgbm__categorical_feature=[0, 3]``, ``xgb__verbose=False``) or
            ``final_estimator__<param>``. A numpy array, pandas Series or DataFrame, or
            sparse matrix with one entry per row of X is sliced to each task's training
            rows; anything else, lists and tuples included whatever their length, is
            passed whole to every task (give per-row values as an array).
            ``<name>__sample_weight`` is checked and made an array as ``sample_weight``.

        Returns
        -------
        self : object
            The fitted stack.
        """
        self._fit(X, y, sample_weight, groups, fit_params)
        return self

    def fit_transform(self, X, y, sample_weight=None, groups=None, **fit_params):
        """Fit, then return the out-of-fold meta-features of the training rows.

        Unlike ``fit(X, y).transform(X)``, no row's meta-features come from a model that
        saw its label, so a stack used as a ``Pipeline`` step never leaks the training
        labels into the next step. Equals ``oof_`` when ``passthrough=False``; rows no
        fold tested are NaN.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training data, as in :meth:`fit`.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.
        groups : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.
        **fit_params : dict
            As in :meth:`fit`.

        Returns
        -------
        X_meta : ndarray or DataFrame of shape (n_samples, n_meta_features)
            The out-of-fold meta-features (then X's columns if ``passthrough``).
        """
        X = self._fit(X, y, sample_weight, groups, fit_params)
        return self._final_input(self.oof_, X)

    def _fit(self, X, y, sample_weight, groups, fit_params):
        started = time.time()  # time_limit counts from here
        self._forget_fit()
        try:
            return self._fit_all(X, y, sample_weight, groups, fit_params, started)
        except BaseException:
            self._forget_fit()  # validation may have set n_features_in_ already
            raise

    def _fit_all(self, X, y, sample_weight, groups, fit_params, started):
        X, target, weights = self._validate_fit_input(X, y, sample_weight, fit_params)
        cv = param_checks.validate_cv(self.cv)  # a generator is read here, once
        routing = routing_enabled()  # then requests, not the stack, decide who gets weights
        named, methods, final = self._validate_estimators(X, target, None if routing else weights)
        routed, groups = self._route_fit(X, weights, groups, fit_params, routing)
        checks.check_early_stopping(named, routed)
        steps = steps_for(X)  # rows in memory or on a cluster
        plan = steps.split_plan(cv, X, target, groups, self._is_clf())
        self._check_plan(plan, target)
        steps.check_final(final, _layout(named, methods, target), plan, float_dtype(X),
                          weighted="sample_weight" in routed["final_estimator"][0])
        tasks = make_tasks(named, methods, plan, refit=self.refit, fit_params=routed,
                           keep_folds=self.time_limit is not None)
        results = self._run(tasks, X, target, started)
        named, methods, kept, dropped = drop_failed(named, methods, results)
        layout = _layout(named, methods, target)
        oof = steps.assemble_oof(frozen_by_fold(kept, plan), layout, plan, float_dtype(X))
        final = steps.fit_final(final, self._final_input(oof, X, layout), target,
                                routed["final_estimator"], plan, layout, groups)
        self._set_fitted(named, methods, kept, layout, oof, final, target)
        self._set_records(results, dropped, target, plan, weights)
        return X

    def _route_fit(self, X, weights, groups, fit_params, routing):
        """Each estimator's fit parameters ``{name: (params, per_row)}``, and the groups.

        Routing disabled: ``<name>__<param>`` parameters, ``sample_weight`` to all.
        Enabled: every metadata (``sample_weight`` and ``groups`` included) to those
        that requested it.
        """
        if not routing:
            names = self._all_names()
            return checks.route_fit_params(fit_params, weights, names, count_rows(X)), groups
        return route_fit(self, self._all_names(), fit_params, weights, groups, count_rows(X))

    def get_metadata_routing(self):
        """Get the metadata routing of the stack (scikit-learn's metadata routing).

        Each base estimator, by its name, gets ``fit`` and its stack method (called by
        the stack's ``predict``, ``predict_proba``, ``decision_function`` and
        ``transform``); ``final_estimator`` gets ``fit`` and the prediction method of the
        same name; ``cv``, when it is a splitter, gets ``split`` (for ``groups``).

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter` with the routing.
        """
        final = getattr(self, "final_estimator_", None)
        if final is None:
            final = self.final_estimator
        if final is None:
            final = self._default_final_estimator()
        fitted = dict(zip(self.layout_.names, self.stack_method_)) \
            if hasattr(self, "stack_method_") else None
        return stack_router(self, final, fitted, self._auto_methods)

    def _run(self, tasks, X, target, started):
        """Run the tasks (:class:`~stackkit._runner.Runner` owns the run), in the budget."""
        budget = None if self.time_limit is None else Budget(
            self.time_limit, started=started, final_seconds=self._final_time_limit())
        return Runner(X, target.values, target.kind, n_jobs=self.n_jobs, verbose=self.verbose,
                      cache=TaskCache.from_memory(self.memory), n_gpus=visible_gpus(),
                      catch=self.on_error == "warn", admit=self._admit,
                      budget=budget).run(tasks)

    def _final_time_limit(self):
        """A final estimator's own ``time_limit`` (a second layer's), or 0."""
        limit = getattr(self.final_estimator, "time_limit", None)
        return float(limit) if isinstance(limit, numbers.Real) else 0.0

    def _admit(self, task):
        """Asked just before ``task`` starts: None runs it, a string is why it is skipped.

        Every task runs here; the ``time_limit`` budget
        (:class:`~stackkit._budget.Budget`) has its say after this hook, in the runner.
        """
        return None

    def _all_names(self):
        """Every estimator name, dropped ones included (their fit parameters are ignored)."""
        return [name for name, _ in self.estimators]

    def _forget_fit(self):
        """Drop the attributes of an earlier fit, so a failed fit never looks fitted."""
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("_")]:
            delattr(self, attr)

    def _is_clf(self):
        return get_tags(self).estimator_type == "classifier"

    def _validate_fit_input(self, X, y, sample_weight, fit_params):
        param_checks.validate_params(self, {
            **param_checks.STACK_EXPLANATIONS, "memory": TaskCache.from_memory,
            "estimators": partial(checks.validate_estimators, reserved_names=()),
            "final_estimator": partial(checks.validate_final_estimator,
                                       is_classifier_stack=self._is_clf())})
        if not routing_enabled():
            checks.check_metadata_names(fit_params)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        X = self._validate_X(X, reset=True)
        named = checks.validate_estimators(self.estimators, set())
        plane_for(X).check_fit(named, {
            "memory": self.memory is not None, "passthrough": self.passthrough,
            "time_limit": self.time_limit is not None, "cv": self.cv,
            "sample_weight": sample_weight is not None, "fit_params": fit_params})
        steps = steps_for(X)
        # the weights before the target: on a cluster their kinds are checked with no work
        weights = None if sample_weight is None else steps.sample_weight(sample_weight, X)
        steps.check_memory(named, X, self.cv, self.refit)
        target = steps.target(self, y, X)
        if count_rows(target.values) != count_rows(X):
            raise ValueError(
                f"X has {count_rows(X)} rows but y has {count_rows(target.values)}; they must "
                "match"
            )
        return X, target, weights

    def _validate_X(self, X, *, reset):
        return validate_rows(self, X, reset=reset)

    def _validate_estimators(self, X, target, weights):
        named = checks.validate_estimators(self.estimators, set(self._get_param_names()))
        final = self._default_final_estimator() if self.final_estimator is None else self.final_estimator
        checks.validate_final_estimator(final, self._is_clf())
        readers = named + ([("final_estimator", final)] if self.passthrough else [])
        checks.check_missing_values(X, readers)  # with passthrough, the final reads X too
        if self.cv == "prefit":
            named = prefit.freeze_all(named)
        check_sources(named, X, target)
        if target.multi_output:
            named = [(name, self._for_multi_output(est)) for name, est in named]
        if target.multi_output:
            checks.check_layout_learner_target(final, target.kind)
            final = self._for_multi_output(final)
        methods = checks.resolve_stack_methods(named, self.stack_method, self._auto_methods)
        if self.passthrough:
            check_passthrough_names(_layout(named, methods, target), self._input_names())
        if weights is not None:
            checks.check_sample_weight_support(named, "final_estimator", final)
        return named, methods, final

    def _for_multi_output(self, estimator):
        if get_tags(estimator).target_tags.multi_output:
            return estimator
        return self._multi_output_wrapper(estimator)

    def _set_fitted(self, named, methods, results, layout, oof, final, target):
        fitted = [prefit.unwrap(self._fitted_estimator(i, results)) for i in range(len(named))]
        self.estimators_ = fitted
        self.stack_method_ = methods
        self.layout_ = layout
        self.oof_ = oof
        self.best_iterations_ = best_iterations(results)
        self.final_estimator_ = final
        if target.classes is not None:
            self.classes_ = target.classes

    @property
    def named_estimators_(self):
        """The fitted base estimators by name (derived from ``estimators_``)."""
        return Bunch(**dict(zip(self.layout_.names, self.estimators_)))

    def _set_records(self, results, dropped, target, plan, weights):
        """What the report reads: every task (failed ones too), drops, target, folds, weights."""
        self.task_log_ = task_log(results)
        self.dropped_ = dropped
        self.oof_target_ = target.values
        self.oof_folds_ = [test for _, test in plan.folds]
        self.oof_sample_weight_ = weights

    def _fitted_estimator(self, est_index, results):
        mine = [r for r in results if r.task.est_index == est_index and r.model is not None]
        whole = [r.model for r in mine if r.task.fold is None]
        if whole:  # the refit, or a frozen model that stands as it is
            return whole[0]
        # refit=False, or a refit the time budget skipped: the fold models stand in
        return FoldAverage([r.model for r in sorted(mine, key=lambda r: r.task.fold)])

    # -- predict -------------------------------------------------------------------------

    def transform(self, X, **params):
        """Compute the meta-features of new rows: the base models' predictions.

        A pure function of ``X``: with ``refit=True`` the models refit on all rows
        predict; with ``refit=False`` the mean of the fold models.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            New rows, with the columns seen in fit.
        **params : dict
            Metadata for the base estimators' stack methods, routed as each requested
            it (``set_predict_request``, ...). Only with metadata routing enabled
            (``sklearn.set_config(enable_metadata_routing=True)``); otherwise passing
            any is a ``TypeError``.

        Returns
        -------
        X_meta : ndarray or DataFrame of shape (n_samples, n_meta_features)
            The base models' predictions, then X's columns if ``passthrough``.
        """
        check_is_fitted(self)
        base_params, _ = self._route_prediction("transform", params)
        return self._transform(X, base_params)

    def _transform(self, X, base_params):
        X = self._validate_X(X, reset=False)
        meta = self._base_predictions(X, base_params).astype(self.oof_.dtype, copy=False)
        return self._final_input(meta, X)

    def _route_prediction(self, caller, params):
        return route_prediction(self, caller, self.layout_.names, self.stack_method_, params)

    def _base_predictions(self, X, base_params=None):
        return steps_for(X).base_predictions(self, X, base_params)

    def _final_input(self, meta, X, layout=None):
        if not self.passthrough:
            return meta
        layout = layout or self.layout_
        return join_columns(meta, X, layout.feature_names(), self._input_names())

    def _input_names(self):
        """The passthrough columns' names: X's string column names, else x0, x1, ..."""
        return input_feature_names(None, getattr(self, "feature_names_in_", None),
                                   self.n_features_in_)

    def get_feature_names_out(self, input_features=None):
        """Name the meta-features: ``<name>__<class>`` per column, then passthrough names.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Names of the input columns, used only with ``passthrough=True``; by default
            ``feature_names_in_``, or ``x0, x1, ...`` for input without column names.

        Returns
        -------
        feature_names_out : ndarray of str
            One name per column of :meth:`transform`'s output.
        """
        check_is_fitted(self)
        names = self.layout_.feature_names()
        if self.passthrough:
            names += input_feature_names(input_features, getattr(self, "feature_names_in_", None),
                                         self.n_features_in_)
        return np.asarray(names, dtype=object)

    @available_if(_final_has("predict"))
    @_docs.with_predict_params("predict")
    def predict(self, X, **predict_params):
        """Predict with the final estimator on the meta-features of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            New rows, with the columns seen in fit.
        **predict_params : dict
            PREDICT_PARAMS

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs), or tuple
            The final estimator's predictions (what its ``predict`` returns, e.g.
            ``(y_mean, y_std)`` for ``return_std=True``).
        """
        return self._final_output("predict", X, predict_params)

    def _final_output(self, method, X, params):
        check_is_fitted(self)
        base_params, final_params = self._route_prediction(method, params)
        meta = self._transform(X, base_params)
        return steps_for(X).final_output(self.final_estimator_, method, meta, final_params)

    def _html_repr(self):
        """Jupyter: scikit-learn's diagram, then the registered sections once fitted."""
        return display_html(self)

    @available_if(has_visual_block)
    def _sk_visual_block_(self):
        """scikit-learn's diagram protocol: the base estimators side by side, then the final."""
        return visual_block(self)

    # -- tags ----------------------------------------------------------------------------

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        try:
            children = checks.validate_estimators(self.estimators, set())
        except (TypeError, ValueError):
            return tags
        child_tags = [get_tags(est) for _, est in children]
        tags.input_tags.allow_nan = all(t.input_tags.allow_nan for t in child_tags)
        tags.input_tags.sparse = all(t.input_tags.sparse for t in child_tags)
        tags.target_tags.multi_output = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]  # see float_dtype
        return tags


def _layout(named, methods, target):
    return Layout.build([name for name, _ in named], methods, target.kind, target.classes,
                        target.n_outputs)
