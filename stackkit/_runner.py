"""Running a fit's task list: one object owns the run, from cache lookups to results."""

import threading
from dataclasses import dataclass

from joblib import cpu_count, effective_n_jobs
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import threadpool_info, threadpool_limits

from ._cache import TaskCache
from ._compat import progress_bar
from ._early_stopping import hold_refits, refits_after_folds
from ._gpu import GpuLanes, plan_lanes, warn_without_gpus
from ._plane import plane_for
from ._results import TaskResult
from ._schedule import InListOrder, LongestFirst
from ._tasks import run_task
from .exceptions import warn


# From this size of X on, fold tasks prefer threads of this process to worker processes:
# processes each need X sent to them (joblib writes it to a memory map, a copy of X), and
# their fold models pickled back. bench_scale (LogisticRegression, XGBoost, LightGBM on
# x 50 float64 rows): at 1M rows threads took 0.84x the time of processes and 3/4 of their
# peak memory; at 100k rows (38 MB) about the same time and half the memory. Fold work on
# that much data runs in native code that releases the GIL; on a 2 MB table (36k rows)
# threads took up to 1.2x the time, a random forest's and a pipeline's Python holding it.
THREADS_FROM_BYTES = 32 * 2**20


def backend_hint(X):
    """joblib's ``prefer`` for a fit on ``X``: ``"threads"`` from :data:`THREADS_FROM_BYTES`.

    A hint only: a backend the caller chose with ``joblib.parallel_config`` is used as it is.
    None for rows whose tasks run in this process one at a time (on a cluster).
    """
    plane = plane_for(X)
    if plane.runs_in_client:
        return None
    return "threads" if plane.nbytes() >= THREADS_FROM_BYTES else None


def thread_budget(n_jobs, n_tasks, n_lanes=0):
    """Threads each task may use so that concurrent tasks never exceed the cores.

    ``n_tasks`` CPU tasks share ``n_jobs`` workers, and ``n_lanes`` GPU lanes run beside
    them. Never more than the caller's own limit (e.g. inside ``threadpool_limits(1)``).
    """
    concurrent = max(1, min(effective_n_jobs(n_jobs), n_tasks) + n_lanes)
    callers_limit = max((pool["num_threads"] for pool in threadpool_info()), default=cpu_count())
    return max(1, min(cpu_count() // concurrent, callers_limit))


def admit_every(task):
    """The default admission: every task runs (None: no reason to skip it)."""
    return None


@dataclass(frozen=True)
class _Skip:
    """What the admission said instead of running a task."""

    reason: str


class Runner:
    """Run every task of one fit and return their results (held refits last).

    The runner owns the whole run. Before it, the ``memory=`` cache is read (a task
    whose record is stored is not run) and one progress bar is opened over every task of
    the fit, held refits included, the cached ones counted as done. During it, CPU tasks
    go to joblib handed out longest-first (:class:`~stackkit._schedule.LongestFirst`);
    the backend comes from the caller's ``joblib.parallel_config`` (threading, loky, or
    dask for a cluster); without one, loky's worker processes, or from
    :data:`THREADS_FROM_BYTES` of X on, threads of this process (:func:`backend_hint`).
    Tasks whose estimator asks for a GPU run in ``n_gpus`` lanes
    (:class:`~stackkit._gpu.GpuLanes`): a thread of this process per device, running its
    tasks one at a time beside the CPU tasks, whatever ``n_jobs``.
    Each result is taken as it arrives: stored in the cache at once (so a fit killed
    part-way resumes from its finished tasks), told to the schedule and counted in the
    bar. After it, a cache that could not be written is reported once.

    Just before a task would start (when the schedule hands a CPU task out, or in its
    lane before a GPU task), ``admit(task)`` is asked: None runs the task, a string is
    the reason it is skipped. A skipped task is never run nor cached; its result has
    status ``"skipped"``. A failed task raises a
    :class:`~stackkit.exceptions.FoldFitError` (the remaining CPU tasks are cancelled,
    each lane stops after its current task), or with ``catch`` comes back as a result
    whose ``error`` says why (never cached) and the other tasks go on.

    Early-stopped boosters' full refits are held until their estimator's fold models
    have said how many rounds they kept, then fit for their mean
    (:func:`~stackkit._early_stopping.refits_after_folds`); an estimator with a failed
    or skipped fold gets no refit. They run as a second wave of the same
    ``with Parallel(...)`` context, so the workers are reused and the bar goes on. They
    cannot join the first wave's call: joblib pulls the next task from the task iterator
    in the thread that has just collected a finished task's result, holding joblib's
    lock, so an iterator that waited there for an estimator's last fold would wait for
    a result that only this thread can deliver, which deadlocks (loky and threading
    alike). The cost: a held refit starts once every first-wave task is done, not as
    soon as its own folds are.

    Under a time ``budget`` (a :class:`~stackkit._budget.Budget`) the CPU tasks are
    handed out in the estimators' list order (:class:`~stackkit._schedule.InListOrder`),
    one as each worker frees up (``pre_dispatch="n_jobs"``, so a task is admitted
    when it can start, not queued behind others); after ``admit``, the budget decides
    whether a task starts; each finished task is told to it; and every worker gets its
    deadline, where boosters stop growing trees. A truncated task's record is kept in
    this fit but never cached, and it has no cache key (nor do predictions of its model).
    """

    def __init__(self, X, y, target_kind, *, n_jobs=None, verbose=0, cache=None, n_gpus=0,
                 catch=False, admit=admit_every, budget=None):
        self.X, self.y, self.target_kind = X, y, target_kind
        # Tasks on rows on a cluster drive it from this process, one after another.
        self.n_jobs = 1 if plane_for(X).runs_in_client else n_jobs
        self.verbose, self.cache = verbose, cache
        self.n_gpus, self.catch, self.admit, self.budget = n_gpus, catch, admit, budget
        self.deadline = None if budget is None else budget.deadline
        self._lock = threading.Lock()
        self._data_key = None
        self._unhashable = set()
        self._cpu_running = 0  # CPU jobs handed to joblib whose result is not collected

    def run(self, tasks):
        """Run ``tasks`` (see the class): one :class:`~stackkit._results.TaskResult` per
        task, held refits last (none for an estimator whose folds did not all give one)."""
        warn_without_gpus([(task.name, task.estimator) for task in tasks], self.n_gpus)
        now, held = hold_refits(tasks)
        first = self._look_up(now)
        self._n_workers = effective_n_jobs(self.n_jobs)
        if self.budget is not None:
            self.budget.expect(first.pending + held, self._n_workers)
        progress = _Progress(len(tasks), first.n_cached, self.verbose)
        # batch_size=1: tasks are coarse, and batching them would unbalance the workers.
        parallel = Parallel(n_jobs=self.n_jobs, verbose=0 if progress.shown else self.verbose,
                            prefer=backend_hint(self.X), batch_size=1,
                            return_as="generator_unordered",
                            pre_dispatch="2 * n_jobs" if self.budget is None else "n_jobs")
        try:
            with parallel:
                self._run_wave(parallel, first, progress)
                refits = self._refits(held, first.results)
                progress.forget(len(held) - len(refits))
                second = self._look_up(refits)
                progress.cached(second.n_cached)
                self._run_wave(parallel, second, progress)
        finally:
            progress.close()
            if self.cache is not None:
                self.cache.warn_unwritable()
        return first.results + second.results

    @staticmethod
    def _refits(held, results):
        """The held refits whose estimator's folds all gave a model, set to their rounds."""
        lost = {r.task.name for r in results if r.status in ("failed", "skipped")}
        ready = [task for task in held if task.name not in lost]
        return refits_after_folds(ready, results) if ready else []

    def _look_up(self, tasks):
        """A wave of ``tasks``: their cache keys, and the results the cache holds."""
        keys = self._keys(tasks)
        stored = [None if key is None else _serving(self.cache.load(key), task)
                  for task, key in zip(tasks, keys)]
        results = [None if output is None
                   else TaskResult(task, output, "cached", cache_key=key, device=None)
                   for task, output, key in zip(tasks, stored, keys)]
        return _Wave(tasks, keys, results)

    def _keys(self, tasks):
        if self.cache is None:
            return [None] * len(tasks)
        if self._data_key is None:
            self.cache.remove_stale_temporaries()
            self._data_key = TaskCache.data_key(self.X, self.y, self.target_kind)
        keys = TaskCache.task_keys(tasks, self._data_key)
        for name in dict.fromkeys(t.name for t, key in zip(tasks, keys) if key is None):
            if name not in self._unhashable:
                self._unhashable.add(name)
                warn(f"estimator {name!r} cannot be hashed for the memory= cache (it holds "
                     "something that cannot be pickled, e.g. a lambda), so its tasks run "
                     "uncached")
        return keys

    def _run_wave(self, parallel, wave, progress):
        """Run the wave's tasks not read from the cache: CPU ones by joblib, GPU ones in lanes."""
        if not wave.pending:
            return
        cpu, lanes = plan_lanes(wave.pending, self.n_gpus)
        order = LongestFirst if self.budget is None else InListOrder
        schedule = order([wave.pending[j] for j in cpu])
        n_threads = thread_budget(self.n_jobs, len(cpu), len(lanes))

        def collect(j, outcome, device=None):
            self._collect(wave, j, outcome, device, schedule, progress)

        def run_in_lane(task, device):
            skip = self._admitted(task)
            if skip is not None:
                return skip
            return run_task(task, self.X, self.y, self.target_kind, n_threads, device=device,
                            catch=self.catch, deadline=self.deadline)

        # The whole wave holds the budget too: tasks in threads of this process (threading
        # backend) each set and restore the process-wide limit, and overlapping ones would
        # otherwise restore each other's limit and leave the caller's pools shrunk.
        with threadpool_limits(limits=n_threads), GpuLanes(
                [[(j, wave.pending[j]) for j in lane] for lane in lanes], run_in_lane,
                collect) as gpu_lanes:
            for item in parallel(self._cpu_jobs(cpu, schedule, n_threads, collect)):
                if item is None:  # a worker's place held (see _cpu_jobs)
                    continue
                with self._lock:
                    self._cpu_running -= 1
                collect(*item)
                gpu_lanes.raise_failure()

    def _cpu_jobs(self, cpu, schedule, n_threads, collect):
        """The CPU tasks as joblib jobs, in the schedule's order, skipping those not admitted.

        Runs in joblib's dispatch thread: it must never wait for anything. joblib may
        ask for a job before a worker is free (at some completions it takes two); under
        a budget a no-op job takes that place, so that a task is admitted only when a
        worker can start it, with the costs of the tasks finished so far: a task
        admitted early would wait in joblib's queue and could run past the deadline.
        """
        for k, task in schedule:
            while self._every_worker_busy():
                yield delayed(_hold_place)()
            skip = self._admitted(task)
            if skip is not None:
                collect(cpu[k], skip)
                continue
            with self._lock:
                self._cpu_running += 1
            yield delayed(_run_job)(cpu[k], task, self.X, self.y, self.target_kind,
                                    n_threads, self.catch, self.deadline)

    def _every_worker_busy(self):
        with self._lock:
            return self.budget is not None and self._cpu_running >= self._n_workers

    def _admitted(self, task):
        """None if ``task`` may start, else a :class:`_Skip` with the admission's reason.

        ``admit`` is asked first, then the budget (which counts the task as started).
        """
        reason = self.admit(task)
        if reason is None and self.budget is not None:
            reason = self.budget.admit(task)
        return None if reason is None else _Skip(str(reason))

    def _collect(self, wave, j, outcome, device, schedule, progress):
        """Record the outcome of the wave's pending task ``j`` (from joblib or a lane)."""
        i, task = wave.todo[j], wave.pending[j]
        key = None
        if isinstance(outcome, _Skip):
            result = TaskResult.skipped(task, outcome.reason)
        else:
            key = None if outcome.truncated else wave.keys[i]  # never cache a cut model
            result = TaskResult.ran(task, outcome, cache_key=key,
                                    device="cpu" if device is None else f"gpu:{device}")
        with self._lock:
            wave.results[i] = result
            if result.output is not None:
                schedule.observe(task, result.finished - result.started)
                if self.budget is not None:
                    self.budget.observe(task, outcome)
            if result.status == "ran" and key is not None:
                self.cache.save(key, outcome)
            progress.update()


class _Wave:
    """Tasks run by one joblib call: their keys, results (None until done), those to run."""

    def __init__(self, tasks, keys, results):
        self.keys, self.results = keys, results
        self.todo = [i for i, result in enumerate(results) if result is None]
        self.pending = [tasks[i] for i in self.todo]
        self.n_cached = len(tasks) - len(self.todo)


class _Progress:
    """The run's one progress bar (tqdm) when ``verbose``, over every task of the fit."""

    def __init__(self, total, cached, verbose):
        self._bar = progress_bar(total, cached, "fold tasks") if verbose else None
        self._cached = cached
        self.shown = self._bar is not None

    def update(self):
        if self._bar is not None:
            self._bar.update()

    def cached(self, n):
        """Count ``n`` more tasks read from the cache as done."""
        if self._bar is None or not n:
            return
        self._cached += n
        self._bar.set_postfix_str(f"{self._cached} cached", refresh=False)
        for _ in range(n):
            self._bar.update()

    def forget(self, n):
        """Take ``n`` tasks that will not run (refits of dropped estimators) off the total."""
        if self._bar is not None and n:
            self._bar.total -= n
            self._bar.refresh()

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _serving(output, task):
    """A stored output if it serves ``task``: one without a model serves no task keeping it."""
    if output is None or (task.keep_model and output.model is None):
        return None
    return output


def _hold_place():
    """A job that does nothing: it holds a worker's place until one is free."""
    return None


def _run_job(j, task, X, y, target_kind, n_threads, catch, deadline):
    """Run one CPU task; its output comes back with its index ``j``."""
    return j, run_task(task, X, y, target_kind, n_threads, catch=catch, deadline=deadline)
