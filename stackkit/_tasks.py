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
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from ._boosters import DeadlineStop, restore_threads, set_thread_budget
from ._early_stopping import Stopped, split_for_stopping, stopper
from ._gpu import place_on_device, restore_devices
from ._oof import to_columns
from ._plane import float_dtype, predict_rows, take_rows
from ._results import TaskOutput
from ._source import frozen_output, is_frozen
from .exceptions import FoldFitError


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

    @property
    def is_refit(self):
        """Whether this is a full refit (on every row; a frozen task is none)."""
        return self.fold is None and not self.frozen

    @property
    def where(self):
        """The task's part of its estimator's work, for messages (e.g. ``"fold 2/5"``)."""
        if self.frozen:
            return "its frozen predictions"
        return "the full refit" if self.fold is None else f"fold {self.fold + 1}/{self.n_folds}"


def make_tasks(named_estimators, methods, plan, *, refit, fit_params, keep_folds=False):
    """Return the flat task list: frozen predictions and full refits, then the folds.

    ``fit_params`` maps each estimator name to ``(params, per_row_names)``. A frozen
    estimator (:func:`~stackkit._source.is_frozen`) gets one frozen task instead of
    its folds and refit. Fold models come back when there is no refit, or with
    ``keep_folds`` (under a time budget, where a refit may be skipped and the fold
    models then stand in for it).
    """
    rows = [(None, plan.every_row, None)] if refit else []
    rows += [(fold, train, test) for fold, (train, test) in enumerate(plan.folds)]
    estimators = list(enumerate(zip(named_estimators, methods)))
    frozen = [Task(i, name, est, method, None, len(plan.folds), np.arange(0),
                   np.arange(plan.n_rows), keep_model=True, fit_params={}, row_params=(),
                   frozen=True)
              for i, ((name, est), method) in estimators if is_frozen(est)]
    return frozen + [
        Task(i, name, est, method, fold, len(plan.folds), train, test,
             keep_model=fold is None or not refit or keep_folds, fit_params=fit_params[name][0],
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
        by_fold += [result.with_predictions(replace(result.task, fold=fold, test=test),
                                            result.predictions[test])
                    for fold, (_, test) in enumerate(plan.folds)]
    return by_fold


def params_for_rows(params, row_params, rows):
    """``params`` with the per-row ones sliced to ``rows``."""
    return {key: take_rows(value, rows) if key in row_params else value
            for key, value in params.items()}


def run_task(task, X, y, target_kind, n_threads, device=None, catch=False, deadline=None):
    """Fit a clone of the task's estimator on its training rows and predict its test rows.

    Runs with at most ``n_threads`` threads: thread parameters the user left at ``None``
    are set to it on the clone (and restored after predicting), and BLAS/OpenMP pools are
    limited by threadpoolctl. ``device`` (a GPU lane's device number) is given to the
    clone's GPU parameters that name no device, and taken back after predicting; a lane
    runs in a thread of the calling process, so there threadpoolctl's process-wide
    limit is not set (it would race with the other threads). Returns a
    :class:`~stackkit._results.TaskOutput` (the task itself is not sent back: the
    caller has it). A failure raises :class:`FoldFitError`, or with ``catch`` comes
    back as the record's ``error`` (``on_error="warn"``). With a ``deadline`` (a
    ``time.time()`` of the time budget), a booster (or a pipeline's last step) stops
    growing trees once its next round would end past it, keeping those it has; the
    record then says ``truncated``.
    """
    started = time.time()
    try:
        with threadpool_limits(limits=n_threads) if device is None else nullcontext():
            outcome = _fit_and_predict(task, X, y, target_kind, n_threads, device, deadline)
    except Exception as exc:
        message = (f"estimator {task.name!r} ({type(task.estimator).__name__}) failed on "
                   f"{task.where} ({len(task.train)} training rows): "
                   f"{type(exc).__name__}: {exc}")
        if not catch:
            raise FoldFitError(message) from exc
        return TaskOutput(model=None, predictions=None, fit_time=np.nan, predict_time=np.nan,
                          started=started, finished=time.time(), error=message)
    model, predictions, fit_time, predict_time, stopped, truncated = outcome
    return TaskOutput(model=model, predictions=predictions, fit_time=fit_time,
                      predict_time=predict_time, started=started, finished=time.time(),
                      stopped=stopped, truncated=truncated)


def _fit_and_predict(task, X, y, target_kind, n_threads, device, deadline):
    if task.frozen:  # fitted elsewhere: predict every row, change nothing on the model
        start = time.perf_counter()
        raw = frozen_output(task.estimator, task.method, X)
        predictions = to_columns(raw, task.method, target_kind, dtype=float_dtype(X))
        return task.estimator, predictions, 0.0, time.perf_counter() - start, None, False
    model = clone(task.estimator)
    placed = {} if device is None else place_on_device(model, device)
    user_threads = set_thread_budget(model, n_threads)
    start = time.perf_counter()
    with DeadlineStop(model, deadline) as deadline_stop:
        stopped = _fit(model, task, X, y, target_kind, deadline_stop.fit_params)
    fit_time = time.perf_counter() - start
    predictions, predict_time = None, 0.0
    if task.test is not None:
        start = time.perf_counter()
        predictions = predict_rows(model, task.method, X, task.test, target_kind,
                                   float_dtype(X))
        predict_time = time.perf_counter() - start
    restore_devices(model, placed)
    restore_threads(model, user_threads)  # after predicting: LightGBM ignores threadpoolctl
    return (model if task.keep_model else None, predictions, fit_time, predict_time, stopped,
            deadline_stop.truncated)


def _fit(model, task, X, y, target_kind, with_callbacks):
    """Fit ``model`` on the task's training rows, early-stopped if it asks for it.

    ``with_callbacks`` adds the time budget's callback to the fit parameters. Returns
    :class:`~stackkit._early_stopping.Stopped` for an early-stopped model.
    """
    adapter = stopper(model, task.fit_params)
    if adapter is None or not adapter.needs_eval_set:
        model.fit(take_rows(X, task.train), take_rows(y, task.train),
                  **with_callbacks(params_for_rows(task.fit_params, task.row_params,
                                                   task.train)))
        return None if adapter is None else adapter.stopped(model)
    fit_rows, eval_rows = split_for_stopping(X, y, task.train, target_kind)
    weights = task.fit_params.get("sample_weight")
    rounds = adapter.fit(
        model,
        (take_rows(X, fit_rows), take_rows(y, fit_rows)),
        (take_rows(X, eval_rows), take_rows(y, eval_rows)),
        None if weights is None else take_rows(weights, eval_rows),
        with_callbacks(params_for_rows(task.fit_params, task.row_params, fit_rows)),
    )
    return Stopped(int(rounds))


