"""Leak-free early stopping of boosters inside folds, and the refit's number of rounds.

A booster asks for early stopping through its own parameters: XGBoost
``early_stopping_rounds`` (or an ``EarlyStopping`` callback), LightGBM
``early_stopping_round`` or one of its aliases (or an ``early_stopping`` callback in
``fit(callbacks=...)``), scikit-learn's ``HistGradientBoosting*`` ``early_stopping=True``.
XGBoost and LightGBM need an evaluation set: each fold task carves one from its own
training rows (:data:`VALIDATION_FRACTION` of them, stratified for classifiers, seeded
with :data:`SEED`), so the fold's held-out rows never decide when training stops.
``HistGradientBoosting*`` carves its own validation split from the rows it is given,
which are the training rows too.

With ``refit=True`` the full-data model is fit once every fold has finished, for the
mean number of rounds the fold models kept (so never more than the user asked for),
with early stopping off. Scaling that mean up to the larger number of rows was
measured and made holdout scores worse (``benchmarks/bench_refit_rounds.py``).

A :class:`~stackkit.transfer.WarmStart` booster stops early as its inner booster asks;
its rounds are those it added to the source model's (the refit adds their mean too).
"""

import inspect
from dataclasses import dataclass, replace

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from ._compat import booster_library
from .transfer import WarmStart

VALIDATION_FRACTION = 0.1  # share of a fold's training rows held out for early stopping
SEED = 0  # seed of the inner validation split
LIGHTGBM_ALIASES = ("early_stopping_round", "early_stopping_rounds", "early_stopping",
                    "n_iter_no_change")


@dataclass(frozen=True)
class Stopped:
    """How an early-stopped fold model ended: the rounds it kept."""

    rounds: int


class _XGBoost:
    rounds_param = "n_estimators"
    needs_eval_set = True

    @staticmethod
    def requested(params):
        return params.get("early_stopping_rounds") is not None or any(
            _is_xgboost_stopper(cb) for cb in params.get("callbacks") or ())

    @staticmethod
    def fit(model, fit_data, eval_data, eval_weight, fit_params):
        extra = {"verbose": False, **fit_params}
        if eval_weight is not None:
            extra["sample_weight_eval_set"] = [eval_weight]
        model.fit(*fit_data, eval_set=[eval_data], **extra)
        return _new_rounds(model, _booster(model).best_iteration + 1)

    @staticmethod
    def without_stopping(params):
        kept = [cb for cb in params.get("callbacks") or () if not _is_xgboost_stopper(cb)]
        return {"early_stopping_rounds": None, "callbacks": kept or None}


class _LightGBM:
    rounds_param = "n_estimators"
    needs_eval_set = True

    @staticmethod
    def requested(params, fit_params=None):
        return any(_positive(params.get(alias)) for alias in LIGHTGBM_ALIASES) or any(
            _is_lightgbm_stopper(cb) for cb in (fit_params or {}).get("callbacks") or ())

    @staticmethod
    def fit(model, fit_data, eval_data, eval_weight, fit_params):
        extra = dict(fit_params)
        if eval_weight is not None:
            extra["eval_sample_weight"] = [eval_weight]
        template = model.estimator if isinstance(model, WarmStart) else model
        if "eval_X" in inspect.signature(template.fit).parameters:  # LightGBM >= 4.7
            extra.update(eval_X=(eval_data[0],), eval_y=(eval_data[1],))
        else:
            extra["eval_set"] = [eval_data]
        model.fit(*fit_data, **extra)
        return _new_rounds(model, _booster(model).best_iteration_)

    @staticmethod
    def without_stopping(params):
        return {alias: 0 for alias in LIGHTGBM_ALIASES if _positive(params.get(alias))}


class _HistGradientBoosting:
    rounds_param = "max_iter"
    needs_eval_set = False  # it holds out its own validation rows

    @staticmethod
    def requested(params):
        return params.get("early_stopping") is True

    @staticmethod
    def stopped(model):
        """How the fitted model ended: the rounds it kept."""
        return Stopped(model.n_iter_)

    @staticmethod
    def without_stopping(params):
        return {"early_stopping": False}


class _WarmStarted:
    """A :class:`WarmStart`'s adapter: its booster's, with parameters under ``estimator__``."""

    rounds_param = "estimator__n_estimators"
    needs_eval_set = True

    def __init__(self, inner):
        self.fit = inner.fit  # which reads the rounds off the fitted inner booster
        self._inner = inner

    def without_stopping(self, params):
        inner = self._inner.without_stopping(params["estimator"].get_params(deep=False))
        return {f"estimator__{key}": value for key, value in inner.items()}


def _booster(model):
    """The fitted booster: ``model`` itself, or a warm-started one's ``estimator_``."""
    return model.estimator_ if isinstance(model, WarmStart) else model


def _new_rounds(model, kept):
    """Rounds ``model`` kept, not counting those of a warm start's source."""
    return kept - model.n_source_rounds_ if isinstance(model, WarmStart) else kept


def _positive(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def _is_xgboost_stopper(callback):
    from xgboost.callback import EarlyStopping  # xgboost is loaded: it made the estimator

    return isinstance(callback, EarlyStopping)


def _is_lightgbm_stopper(callback):
    return hasattr(callback, "stopping_rounds")  # what lightgbm.early_stopping() returns


def inner_split(rows, y_rows, target_kind):
    """Split a fold's training ``rows`` into rows to fit and rows to evaluate stopping on.

    About :data:`VALIDATION_FRACTION` of the rows are held out, seeded with :data:`SEED`.
    For classifiers every class of ``y_rows`` keeps at least one row in the fit rows (a
    booster must see every class, and may only be evaluated on classes it saw): a class
    with one row stays there whole, the others are stratified, or, when there are more
    classes than evaluation rows, one row of each is kept back and the rest shuffled.
    """
    if target_kind in ("binary", "multiclass"):
        fit, evaluate = _class_split(np.asarray(y_rows))
    else:
        fit, evaluate = _shuffle_split(np.arange(len(rows)))
    if not len(evaluate):
        why = "" if len(rows) < 2 else " (each class has one row, which must stay in fit)"
        raise ValueError(
            f"early stopping needs evaluation rows held out of the fold's {len(rows)} "
            f"training rows, and none can be spared{why}; use fewer folds or more rows, "
            "or turn the booster's early stopping off"
        )
    return rows[np.sort(fit)], rows[np.sort(evaluate)]


def _shuffle_split(positions):
    if len(positions) < 2:  # nothing to spare: ShuffleSplit would leave no fit row
        return positions, positions[:0]
    split = ShuffleSplit(n_splits=1, test_size=VALIDATION_FRACTION, random_state=SEED)
    fit, evaluate = next(split.split(positions))
    return positions[fit], positions[evaluate]


def _class_split(y_rows):
    """Positions to fit and to evaluate, every class of ``y_rows`` among those to fit."""
    classes, counts = np.unique(y_rows, return_counts=True)
    single = np.isin(y_rows, classes[counts < 2])
    spread = np.flatnonzero(~single)
    split = StratifiedShuffleSplit(n_splits=1, test_size=VALIDATION_FRACTION,
                                   random_state=SEED)
    try:  # every class here has 2+ rows, so 90% of them leaves each one at least
        fit, evaluate = next(split.split(spread, y_rows[spread]))
        fit, evaluate = spread[fit], spread[evaluate]
    except ValueError:  # fewer evaluation rows than classes: no stratified split
        order = np.random.default_rng(SEED).permutation(spread)
        kept = order[np.unique(y_rows[order], return_index=True)[1]]
        fit, evaluate = _shuffle_split(np.setdiff1d(spread, kept))
        fit = np.concatenate([kept, fit])
    return np.concatenate([np.flatnonzero(single), fit]), evaluate


def stopper(estimator, fit_params=None):
    """The early-stopping adapter of ``estimator`` if it asks for early stopping, else None."""
    if isinstance(estimator, WarmStart):
        inner = stopper(estimator.estimator, fit_params)
        return None if inner is None or not inner.needs_eval_set else _WarmStarted(inner)
    params = estimator.get_params(deep=False)
    library = booster_library(estimator)
    if library == "xgboost":
        return _XGBoost if _XGBoost.requested(params) else None
    if library == "lightgbm":
        return _LightGBM if _LightGBM.requested(params, fit_params) else None
    if type(estimator).__name__.startswith("HistGradientBoosting"):
        return _HistGradientBoosting if _HistGradientBoosting.requested(params) else None
    return None


def how_to_turn_off(booster, fit_params):
    """The settings that turn off ``booster``'s early stopping, as text for an error."""
    if isinstance(booster, WarmStart):
        booster = booster.estimator
    params = booster.get_params(deep=False)
    adapter = stopper(booster, fit_params)
    off = {key: value for key, value in adapter.without_stopping(params).items()
           if key != "callbacks" and params.get(key) != value}
    steps = [", ".join(f"{key}={value!r}" for key, value in off.items())]
    if stopper(clone(booster).set_params(**off), fit_params) is not None:
        steps.append("without an early-stopping callback")
    return " and ".join(step for step in steps if step)


def hold_refits(tasks):
    """Split ``tasks`` into those to run now and the full refits of early-stopped estimators.

    A held refit needs the rounds its estimator's fold models kept, so it runs after them.
    """
    now, held = [], []
    for task in tasks:
        waits = (task.fold is None and not task.frozen
                 and stopper(task.estimator, task.fit_params) is not None)
        (held if waits else now).append(task)
    return now, held


def refits_after_folds(held, results):
    """The held refits, each set to its :func:`refit_rounds`, early stopping off."""
    return [_refit_for_rounds(task, [r.stopped for r in results
                                     if r.task.est_index == task.est_index and r.stopped])
            for task in held]


def _refit_for_rounds(task, stops):
    adapter = stopper(task.estimator, task.fit_params)
    rounds = refit_rounds(stops)
    params = task.estimator.get_params(deep=False)
    estimator = clone(task.estimator).set_params(
        **adapter.without_stopping(params), **{adapter.rounds_param: rounds})
    fit_params = _without_stopping_callbacks(task.fit_params)
    return replace(task, estimator=estimator, fit_params=fit_params)


def refit_rounds(stops):
    """Rounds for the refit on all rows: the mean of those the fold models kept.

    Never more than the user asked for, since no fold model keeps more. Scaling the
    mean by the ratio of rows (all rows over a fold model's fit rows, 1.39 with 5
    folds) looks natural but made holdout scores worse on real tables: measured by
    ``benchmarks/bench_refit_rounds.py``, figures in the README.
    """
    return max(1, round(float(np.mean([stop.rounds for stop in stops]))))


def _without_stopping_callbacks(fit_params):
    if not fit_params.get("callbacks"):
        return fit_params
    kept = [cb for cb in fit_params["callbacks"] if not _is_lightgbm_stopper(cb)]
    return {**fit_params, "callbacks": kept}


def best_iterations(results):
    """Per early-stopped estimator, the rounds each fold model kept, in fold order."""
    folds = sorted((r for r in results if r.stopped and r.task.fold is not None),
                   key=lambda r: r.task.fold)
    names = dict.fromkeys(r.task.name for r in folds)
    return {name: np.array([r.stopped.rounds for r in folds if r.task.name == name])
            for name in names}
