"""What running a task gives back: the worker's record, the run's result, and their uses.

:class:`TaskOutput` is what the worker returns across the process boundary and what the
``memory=`` cache stores; :class:`TaskResult` adds what the run knows about the task
(ran, cached, failed or skipped; its cache key; where it ran). Both are records with
named fields, never positional tuples, so reordering or adding a field cannot silently
shift values between fields, and a stored record carries its format version.
"""

from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from .exceptions import FoldFitError, warn

# Version of the stored TaskOutput: bump it with any change of its fields. The cache's
# header names it too, and a stored record of another version is a miss.
FORMAT_VERSION = 4
STATUSES = ("ran", "cached", "failed", "skipped")


@dataclass(frozen=True, kw_only=True)
class TaskOutput:
    """What the worker returns for one task, and what the ``memory=`` cache stores.

    Built by keyword only. ``started`` and ``finished`` are wall-clock times
    (``time.time``) of the worker; ``stopped`` holds the rounds an early-stopped model
    kept; ``error`` says why the task failed (``on_error="warn"``), else None;
    ``truncated`` is True when the time budget's deadline stopped a booster growing
    trees (such a record is never cached).
    """

    model: object
    predictions: np.ndarray | None
    fit_time: float
    predict_time: float
    started: float
    finished: float
    stopped: object | None = None  # a stackkit._early_stopping.Stopped
    error: str | None = None
    truncated: bool = False
    # A factory, unlike a plain default, sets the version on the instance (it is pickled).
    format_version: int = field(default_factory=lambda: FORMAT_VERSION, init=False)


_OUTPUT_FIELDS = frozenset(f.name for f in fields(TaskOutput))


def is_current_output(output):
    """Whether ``output`` (e.g. read from the cache) is a :class:`TaskOutput` of this format.

    The version is read from the record itself, not the class: a record stored before the
    field existed would otherwise show the class's default.
    """
    state = getattr(output, "__dict__", None)
    return (type(output) is TaskOutput and state.keys() == _OUTPUT_FIELDS
            and state["format_version"] == FORMAT_VERSION)


@dataclass(frozen=True)
class TaskResult:
    """One task's outcome in a run: its task, the worker's record (None if skipped), facts.

    ``status`` is ``"ran"``, ``"cached"`` (read from the ``memory=`` cache, not run),
    ``"failed"`` (``on_error="warn"``; never cached) or ``"skipped"`` (never run, for
    ``reason``). The record's fields read as attributes (``result.model``, ...); a
    skipped task has no model or predictions and NaN times.
    """

    task: object  # a stackkit._tasks.Task
    output: TaskOutput | None
    status: str
    cache_key: str | None = None  # the task's memory= cache entry (None: caching off)
    device: str | None = None  # where it ran: "cpu" or "gpu:<lane>"; None if not run here
    reason: str | None = None  # why it was skipped

    def __post_init__(self):
        if self.status not in STATUSES or (self.output is None) != (self.status == "skipped"):
            raise ValueError(f"a task result cannot have status {self.status!r} with "
                             f"output {type(self.output).__name__}")

    @classmethod
    def ran(cls, task, output, cache_key=None, device="cpu"):
        """The result of running ``task`` in this fit: failed if its record has an error."""
        status = "failed" if output.error is not None else "ran"
        return cls(task, output, status, cache_key=cache_key, device=device)

    @classmethod
    def skipped(cls, task, reason):
        """The result of a task the run did not start, for ``reason``."""
        return cls(task, None, "skipped", reason=reason)

    model = property(lambda self: self._get("model", None))
    predictions = property(lambda self: self._get("predictions", None))
    fit_time = property(lambda self: self._get("fit_time", np.nan))
    predict_time = property(lambda self: self._get("predict_time", np.nan))
    started = property(lambda self: self._get("started", np.nan))
    finished = property(lambda self: self._get("finished", np.nan))
    stopped = property(lambda self: self._get("stopped", None))
    error = property(lambda self: self._get("error", None))
    truncated = property(lambda self: self._get("truncated", False))
    cached = property(lambda self: self.status == "cached")

    def _get(self, name, missing):
        return missing if self.output is None else getattr(self.output, name)

    def with_predictions(self, task, predictions):
        """This result for another ``task`` (e.g. one fold of a frozen model's predictions)."""
        return replace(self, task=task, output=replace(self.output, predictions=predictions))


def drop_failed(named_estimators, methods, results):
    """Leave out every base estimator with a failed or skipped task, with a warning.

    Returns the remaining estimators, their methods, their results (renumbered), and
    ``{name: why}`` of the dropped ones (its first failing or skipped fold's, else its
    refit's). A skipped task drops its estimator whatever ``on_error`` (a failed one
    comes back only with ``on_error="warn"``); a refit the time budget skipped does not,
    when the estimator's folds all ran (see :func:`_without_skipped_refits`). Raises if
    every estimator is dropped.
    """
    results = _without_skipped_refits(results)
    lost = sorted((r for r in results if r.status in ("failed", "skipped")),
                  key=lambda r: (r.task.fold is None, r.task.fold or 0))
    first = {}
    for result in lost:
        first.setdefault(result.task.name, result)
    errors = {name: _why_lost(result) for name, result in first.items()}
    if not errors:
        return named_estimators, methods, results, {}
    if len(errors) == len(named_estimators):
        skips = " or was skipped" if any(r.status == "skipped" for r in lost) else ""
        raise FoldFitError(f"every base estimator failed{skips}: " + "; ".join(errors.values()))
    _warn_dropped([name for name, _ in named_estimators if name in errors], first, errors)
    keep = [i for i, (name, _) in enumerate(named_estimators) if name not in errors]
    index = {old: new for new, old in enumerate(keep)}
    kept = [replace(r, task=replace(r.task, est_index=index[r.task.est_index]))
            for r in results if r.task.name not in errors]
    return ([named_estimators[i] for i in keep], [methods[i] for i in keep], kept, errors)


def _without_skipped_refits(results):
    """The results less the refits a time budget skipped of estimators whose folds all ran.

    Such an estimator stays in the stack: its fold models stand in for the refit (the
    way ``refit=False`` predicts), with one warning naming them.
    """
    lost = {r.task.name for r in results
            if r.status in ("failed", "skipped") and r.task.fold is not None}
    spared = [r for r in results if r.status == "skipped" and r.task.is_refit
              and r.task.name not in lost]
    if spared:
        names = ", ".join(repr(r.task.name) for r in spared)
        warn(f"the full refit of {names} was skipped ({spared[0].reason}); the average of "
             "its fold models predicts instead (as with refit=False)")
    return [r for r in results if not any(r is other for other in spared)]


def _warn_dropped(names, first, errors):
    """One warning per failed estimator; one for all the skipped ones together.

    Skips are the time budget's expected work (each reason is in ``dropped_``), so a
    budget that leaves out twenty estimators says so in one line, not twenty.
    """
    skipped = [name for name in names if first[name].status == "skipped"]
    for name in names:
        if name not in skipped:
            warn(f"{errors[name]}; it is dropped from the stack (on_error='warn')")
    if len(skipped) == 1:
        warn(f"{errors[skipped[0]]}; it is dropped from the stack")
    elif skipped:
        listed = ", ".join(repr(name) for name in skipped)
        warn(f"{len(skipped)} base estimators were skipped and are dropped from the stack "
             f"({listed}); dropped_ says why for each, the first: {errors[skipped[0]]}")


def _why_lost(result):
    if result.status == "failed":
        return result.error
    task = result.task
    return (f"estimator {task.name!r} ({type(task.estimator).__name__}) was skipped on "
            f"{task.where}: {result.reason}")


def task_log(results):
    """One row per task: estimator, fold (``"full"`` for the refit), rows and seconds.

    A frozen estimator's one task has ``fold="frozen"``, no training rows and no fit.

    ``started`` and ``finished`` are seconds since the first task of this fit started
    (NaN for tasks read from the cache, marked ``cached``, and for skipped ones);
    ``cache_key`` names the task's ``memory=`` entry (None when caching is off, the
    estimator cannot be hashed or the task was skipped); ``device`` is ``"cpu"`` or the
    GPU lane ``"gpu:<n>"`` it ran in (None if cached or skipped); ``error`` says why a
    task failed (``on_error="warn"``) or was skipped, else None; ``status`` is
    ``"ran"``, ``"cached"``, ``"failed"`` or ``"skipped"``; ``truncated`` is True for a
    booster the time budget's deadline stopped growing trees.
    """
    ran = [r for r in results if r.status in ("ran", "failed")]
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
            "error": [r.error if r.output is not None else r.reason for r in results],
            "status": [r.status for r in results],
            "truncated": [r.truncated for r in results],
        }
    )


def _fold_label(task):
    if task.frozen:
        return "frozen"
    return "full" if task.fold is None else task.fold
