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

A warm-started booster (:class:`~stackkit._boosters.warm_start.WarmStartedBooster`, such
as :class:`~stackkit.transfer.WarmStart`) stops early as its template booster asks; its
rounds are those it added to the source model's (the refit adds their mean too). What
each library calls its early stopping, and how it is fit with an evaluation set, is in
its module of :mod:`stackkit._boosters`.
"""

from dataclasses import dataclass, replace

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from ._boosters import for_estimator
from ._boosters.warm_start import WarmStartedBooster
from ._plane import plane_for, take_rows

VALIDATION_FRACTION = 0.1  # share of a fold's training rows held out for early stopping
SEED = 0  # seed of the inner validation split


@dataclass(frozen=True)
class Stopped:
    """How an early-stopped fold model ended: the rounds it kept."""

    rounds: int


@dataclass(frozen=True)
class _Stopper:
    """The early stopping of one model: its library's, read through a warm start if any.

    ``template_param`` is a warm-started booster's template parameter, else None.
    """

    library: type
    template_param: str | None = None

    @property
    def rounds_param(self):
        prefix = f"{self.template_param}__" if self.template_param else ""
        return prefix + self.library.rounds_param

    @property
    def needs_eval_set(self):
        return self.library.needs_eval_set

    def fit(self, model, fit_data, eval_data, eval_weight, fit_params):
        """Fit ``model`` early-stopped on ``eval_data``; return the new rounds it kept."""
        template = model.booster_template() if self.template_param else model
        self.library.fit_with_eval_set(model, template, fit_data, eval_data, eval_weight,
                                       fit_params)
        return self._kept(model)

    def stopped(self, model):
        """How the fitted model ended: the rounds it kept."""
        return Stopped(self._kept(model))

    def without_stopping(self, params):
        """The settings that turn early stopping off, for a model with ``params``."""
        if not self.template_param:
            return self.library.without_stopping(params)
        inner = params[self.template_param].get_params(deep=False)
        return {f"{self.template_param}__{key}": value
                for key, value in self.library.without_stopping(inner).items()}

    def _kept(self, model):
        """Rounds ``model`` kept, not counting those of a warm start's source."""
        if not self.template_param:
            return self.library.kept_rounds(model)
        return self.library.kept_rounds(model.fitted_booster()) - model.source_rounds()


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


def split_for_stopping(X, y, rows, target_kind):
    """A fold's training ``rows`` of ``X``: ``(rows to fit, rows to evaluate stopping on)``.

    Rows in memory are positions, split by :func:`inner_split`; rows on a cluster are
    a lazy filter, narrowed by the split plan's held-out column
    (:meth:`~stackkit._dask_plane.FoldRows.for_stopping`).
    """
    if plane_for(X).on_cluster:
        return rows.for_stopping()
    return inner_split(rows, take_rows(y, rows), target_kind)


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
    """The early-stopping adapter of ``estimator`` if it asks for early stopping, else None.

    A warm-started booster (:class:`~stackkit._boosters.warm_start.WarmStartedBooster`)
    stops early as its template asks, when stackkit gives it the evaluation set.
    """
    if isinstance(estimator, WarmStartedBooster):
        inner = stopper(estimator.booster_template(), fit_params)
        if inner is None or not inner.needs_eval_set:
            return None
        return _Stopper(inner.library, estimator.template_param)
    library = for_estimator(estimator)
    if library is None or not library.requested(estimator.get_params(deep=False), fit_params):
        return None
    return _Stopper(library)


def how_to_turn_off(booster, fit_params):
    """The settings that turn off ``booster``'s early stopping, as text for an error."""
    if isinstance(booster, WarmStartedBooster):
        booster = booster.booster_template()
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
    fit_params = adapter.library.without_stopping_callbacks(task.fit_params)
    return replace(task, estimator=estimator, fit_params=fit_params)


def refit_rounds(stops):
    """Rounds for the refit on all rows: the mean of those the fold models kept.

    Never more than the user asked for, since no fold model keeps more. Scaling the
    mean by the ratio of rows (all rows over a fold model's fit rows, 1.39 with 5
    folds) looks natural but made holdout scores worse on real tables: measured by
    ``benchmarks/bench_refit_rounds.py``, figures in the README.
    """
    return max(1, round(float(np.mean([stop.rounds for stop in stops]))))


def best_iterations(results):
    """Per early-stopped estimator, the rounds each fold model kept, in fold order."""
    folds = sorted((r for r in results if r.stopped and r.task.fold is not None),
                   key=lambda r: r.task.fold)
    names = dict.fromkeys(r.task.name for r in folds)
    return {name: np.array([r.stopped.rounds for r in folds if r.task.name == name])
            for name in names}
