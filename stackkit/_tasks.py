"""Task records and the single worker function that runs one of them.

A task is one (estimator x fold) fit, or one full refit of an estimator on all rows,
or, for a frozen estimator (already fitted elsewhere, never refit), one prediction of
every row without any fit. The worker gets everything it needs explicitly, never
touches the stack, and returns plain numpy predictions.
"""

import time
from contextlib import nullcontext
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from ._boosters import restore_threads, set_thread_budget
from ._early_stopping import Stopped, inner_split, stopper
from ._gpu import place_on_device, restore_devices
from ._oof import to_columns
from ._plane import take_rows
from ._source import frozen_output, is_frozen
from .exceptions import FoldFitError, warn


@dataclass(frozen=True)
class Task:
    """One unit of fold work.

    ``fold`` is the fold number (0-based) or ``None`` for the full refit, in which case
    ``train`` holds every row and ``test`` is ``None``. A ``frozen`` task (also
    ``fold=None``) fits nothing: ``train`` is empty and ``test`` holds every row.
    """

    est_index: int
    name: str
    estimator: object
    method: str
    fold: int | None
    n_folds: int
    train: np.ndarray
    test: np.ndarray | None
    keep_model: bool
    fit_params: dict  # passed to fit; those named in row_params are sliced to train
    row_params: tuple
    frozen: bool = False


@dataclass(frozen=True)
class TaskResult:
    """What a task returns: the predictions on its test rows and, if asked, the model."""

    task: Task
    model: object
    predictions: np.ndarray | None
    fit_time: float
    predict_time: float
    started: float  # wall-clock (time.time) when the worker began and finished the task
    finished: float
    stopped: Stopped | None  # the rounds an early-stopped model kept
    error: str | None = None  # why the task failed (on_error="warn"), else None
    cached: bool = False  # True: read from the memory= cache, not run in this fit
    cache_key: str | None = None  # the task's memory= cache entry (None: caching off)
    device: str | None = None  # where it ran: "cpu" or "gpu:<lane>"; None if read from cache


def make_tasks(named_estimators, methods, plan, *, refit, fit_params):
    """Return the flat task list: frozen predictions and full refits, then the folds.

    ``fit_params`` maps each estimator name to ``(params, per_row_names)``. A frozen
    estimator (:func:`~stackkit._source.is_frozen`) gets one frozen task instead of
    its folds and refit.
    """
    rows = [(None, np.arange(plan.n_rows), None)] if refit else []
    rows += [(fold, train, test) for fold, (train, test) in enumerate(plan.folds)]
    estimators = list(enumerate(zip(named_estimators, methods)))
    frozen = [Task(i, name, est, method, None, len(plan.folds), np.arange(0),
                   np.arange(plan.n_rows), keep_model=True, fit_params={}, row_params=(),
                   frozen=True)
              for i, ((name, est), method) in estimators if is_frozen(est)]
    return frozen + [
        Task(i, name, est, method, fold, len(plan.folds), train, test,
             keep_model=fold is None or not refit, fit_params=fit_params[name][0],
             row_params=fit_params[name][1])
        for fold, train, test in rows
        for i, ((name, est), method) in estimators if not is_frozen(est)
    ]


def frozen_by_fold(results, plan):
    """``results`` with each frozen task's predictions cut into one result per fold.

    Assembly then treats a frozen estimator as any other: rows tested by several folds
    (repeated splits) get its prediction once, rows no fold tests get none.
    """
    by_fold = []
    for result in results:
        if not result.task.frozen or result.predictions is None:
            by_fold.append(result)
            continue
        by_fold += [replace(result, task=replace(result.task, fold=fold, test=test),
                            predictions=result.predictions[test])
                    for fold, (_, test) in enumerate(plan.folds)]
    return by_fold


def params_for_rows(params, row_params, rows):
    """``params`` with the per-row ones sliced to ``rows``."""
    return {key: take_rows(value, rows) if key in row_params else value
            for key, value in params.items()}


def run_task(task, X, y, target_kind, n_threads, device=None, catch=False):
    """Fit a clone of the task's estimator on its training rows and predict its test rows.

    Runs with at most ``n_threads`` threads: thread parameters the user left at ``None``
    are set to it on the clone (and restored after predicting), and BLAS/OpenMP pools are
    limited by threadpoolctl. ``device`` (a GPU lane's device number) is given to the
    clone's GPU parameters that name no device, and taken back after predicting; a lane
    runs in a thread of the calling process, so there threadpoolctl's process-wide
    limit is not set (it would race with the other threads). Returns the fields of a
    :class:`TaskResult` after ``task`` (the task itself is not sent back: the caller
    has it). A failure raises :class:`FoldFitError`, or with ``catch`` comes back as
    the ``error`` field (``on_error="warn"``).
    """
    started = time.time()
    try:
        with threadpool_limits(limits=n_threads) if device is None else nullcontext():
            outcome = _fit_and_predict(task, X, y, target_kind, n_threads, device)
    except Exception as exc:
        where = ("its frozen predictions" if task.frozen else "the full refit"
                 if task.fold is None else f"fold {task.fold + 1}/{task.n_folds}")
        message = (f"estimator {task.name!r} ({type(task.estimator).__name__}) failed on "
                   f"{where} ({len(task.train)} training rows): {type(exc).__name__}: {exc}")
        if not catch:
            raise FoldFitError(message) from exc
        return None, None, np.nan, np.nan, started, time.time(), None, message
    *fitted, stopped = outcome
    return (*fitted, started, time.time(), stopped, None)


def _fit_and_predict(task, X, y, target_kind, n_threads, device):
    if task.frozen:  # fitted elsewhere: predict every row, change nothing on the model
        start = time.perf_counter()
        raw = frozen_output(task.estimator, task.method, X)
        predictions = to_columns(raw, task.method, target_kind)
        return task.estimator, predictions, 0.0, time.perf_counter() - start, None
    model = clone(task.estimator)
    placed = {} if device is None else place_on_device(model, device)
    user_threads = set_thread_budget(model, n_threads)
    start = time.perf_counter()
    stopped = _fit(model, task, X, y, target_kind)
    fit_time = time.perf_counter() - start
    predictions, predict_time = None, 0.0
    if task.test is not None:
        start = time.perf_counter()
        raw = getattr(model, task.method)(take_rows(X, task.test))
        predictions = to_columns(raw, task.method, target_kind)
        predict_time = time.perf_counter() - start
    restore_devices(model, placed)
    restore_threads(model, user_threads)  # after predicting: LightGBM ignores threadpoolctl
    return model if task.keep_model else None, predictions, fit_time, predict_time, stopped


def _fit(model, task, X, y, target_kind):
    """Fit ``model`` on the task's training rows, early-stopped if it asks for it.

    Returns :class:`~stackkit._early_stopping.Stopped` for an early-stopped model.
    """
    adapter = stopper(model, task.fit_params)
    if adapter is None or not adapter.needs_eval_set:
        model.fit(take_rows(X, task.train), take_rows(y, task.train),
                  **params_for_rows(task.fit_params, task.row_params, task.train))
        return None if adapter is None else adapter.stopped(model)
    fit_rows, eval_rows = inner_split(task.train, take_rows(y, task.train), target_kind)
    weights = task.fit_params.get("sample_weight")
    rounds = adapter.fit(
        model,
        (take_rows(X, fit_rows), take_rows(y, fit_rows)),
        (take_rows(X, eval_rows), take_rows(y, eval_rows)),
        None if weights is None else take_rows(weights, eval_rows),
        params_for_rows(task.fit_params, task.row_params, fit_rows),
    )
    return Stopped(int(rounds))


def drop_failed(named_estimators, methods, results):
    """Leave out every base estimator with a failed task, warning once for each.

    Returns the remaining estimators, their methods, their results (renumbered), and
    ``{name: error}`` of the dropped ones (its first failing fold's, else its refit's).
    Raises if every estimator failed.
    """
    errors = {}
    failed = [r for r in results if r.error]
    for result in sorted(failed, key=lambda r: (r.task.fold is None, r.task.fold or 0)):
        errors.setdefault(result.task.name, result.error)
    if not errors:
        return named_estimators, methods, results, {}
    if len(errors) == len(named_estimators):
        raise FoldFitError("every base estimator failed: " + "; ".join(errors.values()))
    for message in errors.values():
        warn(f"{message}; it is dropped from the stack (on_error='warn')")
    keep = [i for i, (name, _) in enumerate(named_estimators) if name not in errors]
    index = {old: new for new, old in enumerate(keep)}
    kept = [replace(r, task=replace(r.task, est_index=index[r.task.est_index]))
            for r in results if r.task.name not in errors]
    return ([named_estimators[i] for i in keep], [methods[i] for i in keep], kept, errors)


def task_log(results):
    """One row per task: estimator, fold (``"full"`` for the refit), rows and seconds.

    A frozen estimator's one task has ``fold="frozen"``, no training rows and no fit.

    ``started`` and ``finished`` are seconds since the first task of this fit started
    (NaN for tasks read from the cache, marked ``cached``); ``cache_key`` names the
    task's ``memory=`` entry (None when caching is off or the estimator cannot be hashed);
    ``device`` is ``"cpu"`` or the GPU lane ``"gpu:<n>"`` it ran in (None if cached);
    ``error`` says why a task failed (``on_error="warn"``), else None.
    """
    ran = [r for r in results if not r.cached]
    origin = min((r.started for r in ran), default=0.0)
    return pd.DataFrame(
        {
            "estimator": [r.task.name for r in results],
            "fold": [_fold_label(r.task) for r in results],
            "n_train": [len(r.task.train) for r in results],
            "n_test": [0 if r.task.test is None else len(r.task.test) for r in results],
            "fit_time": [r.fit_time for r in results],
            "predict_time": [r.predict_time for r in results],
            "started": [np.nan if r.cached else r.started - origin for r in results],
            "finished": [np.nan if r.cached else r.finished - origin for r in results],
            "cached": [r.cached for r in results],
            "cache_key": [r.cache_key for r in results],
            "device": [r.device for r in results],
            "error": [r.error for r in results],
        }
    )


def _fold_label(task):
    if task.frozen:
        return "frozen"
    return "full" if task.fold is None else task.fold
