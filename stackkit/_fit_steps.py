"""Where rows in memory and rows on a cluster part: the steps of a fit that depend on it.

:func:`steps_for` is the one place the engine chooses: the rows' plane says whether
they are on a cluster (:attr:`on_cluster`), and the steps are :class:`InMemory` (numpy,
pandas, sparse) or :class:`OnCluster` (Dask collections, built on
:mod:`stackkit._dask_fit`, which imports dask only when called). Both feed
the same task list, runner and worker, and the same layout; they differ in how the
target is encoded, how folds are drawn, how the out-of-fold predictions are assembled,
how the final estimator is fit and how new rows are predicted.
"""

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import has_fit_parameter

from . import _dask_fit as dask_fit
from . import _prefit as prefit
from . import _validation as checks
from ._cache import TaskCache
from ._oof import assemble_oof
from ._dask_plane import DaskRows, active_client, is_dask_collection, weight_column
from ._plane import count_rows, plane_for, take_rows
from ._predict import base_predictions
from ._dask_folds import DaskSplitPlan, dask_target
from ._split import SplitPlan
from ._target import Target
from ._tasks import params_for_rows


def steps_for(X):
    """The fit steps for the rows of ``X``: :class:`InMemory` or :class:`OnCluster`."""
    return OnCluster if plane_for(X).on_cluster else InMemory


class InMemory:
    """The fit steps for rows in memory."""

    @staticmethod
    def target(stack, y, X):
        return stack._prepare_target(y)

    @staticmethod
    def sample_weight(sample_weight, X):
        if is_dask_collection(sample_weight):
            raise TypeError(
                f"sample_weight is a Dask {type(sample_weight).__name__} but X is in memory; "
                "pass X and y as Dask collections with the weights' partitions, or the "
                "weights in memory (a numpy array or pandas Series)")
        return checks.validate_sample_weight(sample_weight, count_rows(X))

    @staticmethod
    def check_memory(named, X, cv, refit):
        """Nothing to check: the rows are in this process already."""

    @staticmethod
    def split_plan(cv, X, target, groups, classifier):
        if cv == "prefit":
            return prefit.whole_data_plan(len(target.values))
        return SplitPlan.from_cv(cv, X, target.values, groups, classifier=classifier)

    @staticmethod
    def check_final(final, layout, plan, dtype, weighted):
        """Nothing to check: the final estimator is fit on rows in memory."""

    @staticmethod
    def assemble_oof(results, layout, plan, dtype):
        return assemble_oof(results, layout, plan, dtype)

    @staticmethod
    def fit_final(final, meta_input, target, final_params, plan, layout, groups):
        final = clone(final)
        rows = np.flatnonzero(plan.tested)
        fit_params = params_for_rows(*final_params, rows)
        if has_fit_parameter(final, "layout"):
            fit_params["layout"] = layout
        if (groups is not None and "groups" not in fit_params
                and has_fit_parameter(final, "groups")):
            # a second layer (a stack) splits its rows by the same groups as the first
            fit_params["groups"] = take_rows(np.asarray(groups), rows)
        final.fit(take_rows(meta_input, rows), target.values[rows], **fit_params)
        return final

    @staticmethod
    def base_predictions(stack, X, base_params):
        return base_predictions(stack.estimators_, stack.stack_method_, X, stack.layout_,
                                TaskCache.from_memory(stack.memory), stack.task_log_,
                                base_params,
                                n_jobs=stack.n_jobs)

    @staticmethod
    def final_output(final, method, meta, params):
        return getattr(final, method)(meta, **params)


class OnCluster:
    """The fit steps for Dask collections (see :mod:`stackkit._dask_fit`)."""

    @staticmethod
    def target(stack, y, X):
        return Target(*dask_target(y, X, classifier=stack._is_clf()))

    @staticmethod
    def sample_weight(sample_weight, X):
        """A Dask column lined up with ``X``, with the in-memory checks of its values."""
        weights = weight_column(sample_weight, X)
        checks.check_weight_values(*dask_fit.weight_summary(weights))
        return weights

    @staticmethod
    def check_memory(named, X, cv, refit):
        """Before any work: the largest fit must fit in the workers' memory limits."""
        n_splits = dask_fit.kfold_settings(cv, classifier=False)[0]
        workers = active_client().scheduler_info()["workers"]
        dask_fit.check_workers_memory(named, X, DaskRows(X).lengths(),
                                      1.0 if refit else 1 - 1 / n_splits, workers)

    @staticmethod
    def split_plan(cv, X, target, groups, classifier):
        return DaskSplitPlan.from_cv(dask_fit.kfold_settings(cv, classifier), X, target)

    @staticmethod
    def check_final(final, layout, plan, dtype, weighted):
        dask_fit.check_final_fits(final, plan.n_rows, layout, dtype, weighted)

    @staticmethod
    def assemble_oof(results, layout, plan, dtype):
        return dask_fit.assemble_oof(results, layout, plan, dtype)

    @staticmethod
    def fit_final(final, meta_input, target, final_params, plan, layout, groups):
        return dask_fit.fit_final(final, meta_input, target, final_params[0], layout)

    @staticmethod
    def base_predictions(stack, X, base_params):
        return dask_fit.base_predictions(stack.estimators_, stack.stack_method_, X,
                                         stack.layout_, stack.oof_.dtype)

    @staticmethod
    def final_output(final, method, meta, params):
        return dask_fit.per_partition(meta, dask_fit.final_block, final, method, params)
