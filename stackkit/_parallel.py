"""Running the task list: CPU tasks in one joblib ``Parallel`` call, GPU tasks in lanes."""

import threading
from functools import partial

from joblib import cpu_count, effective_n_jobs
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import threadpool_info, threadpool_limits

from ._cache import TaskCache
from ._compat import progress_bar
from ._gpu import GpuLanes, plan_lanes
from ._schedule import LongestFirst
from .exceptions import warn
from ._tasks import TaskResult, run_task


def thread_budget(n_jobs, n_tasks, n_lanes=0):
    """Threads each task may use so that concurrent tasks never exceed the cores.

    ``n_tasks`` CPU tasks share ``n_jobs`` workers, and ``n_lanes`` GPU lanes run beside
    them. Never more than the caller's own limit (e.g. inside ``threadpool_limits(1)``).
    """
    concurrent = max(1, min(effective_n_jobs(n_jobs), n_tasks) + n_lanes)
    callers_limit = max((pool["num_threads"] for pool in threadpool_info()), default=cpu_count())
    return max(1, min(cpu_count() // concurrent, callers_limit))


def run_tasks(tasks, X, y, *, target_kind, n_jobs, verbose, cache=None, n_gpus=0,
              catch=False):
    """Run every task; return their results in task order.

    The CPU tasks go through one ``Parallel`` call, handed out longest-first
    (:class:`LongestFirst`); the backend comes from the caller's
    ``joblib.parallel_config`` (loky by default; threading, or dask for a cluster).
    Tasks whose estimator asks for a GPU run in ``n_gpus`` lanes
    (:class:`~stackkit._gpu.GpuLanes`): a thread of this process per device, running
    its tasks one at a time beside the CPU tasks, whatever ``n_jobs``.

    Each result is taken as it arrives: with a :class:`~stackkit._cache.TaskCache`,
    stored at once (tasks whose result is stored are not run), so a fit killed
    part-way resumes from its finished tasks; and counted in the progress bar. A
    failed task raises a :class:`~stackkit.exceptions.FoldFitError`, the remaining CPU
    tasks are cancelled and each lane stops after its current task (a lane's failure
    is raised when the CPU task being waited for comes back, or once the CPU tasks are
    done). With ``catch``, a failed task comes back as a result whose ``error`` says
    why (never cached) and the other tasks go on.
    """
    keys, results = _cached_results(tasks, cache, X, y, target_kind)
    todo = [i for i, result in enumerate(results) if result is None]
    pending = [tasks[i] for i in todo]
    cpu, lanes = plan_lanes(pending, n_gpus)
    schedule = LongestFirst([pending[j] for j in cpu])
    bar = progress_bar(len(tasks), len(tasks) - len(todo), "fold tasks") if verbose else None
    collector = _Collector(tasks, todo, keys, results, cache, schedule, bar)
    n_threads = thread_budget(n_jobs, len(cpu), len(lanes))
    run = partial(run_task, X=X, y=y, target_kind=target_kind, n_threads=n_threads,
                  catch=catch)
    # batch_size=1: tasks are coarse, and batching them would unbalance the workers.
    parallel = Parallel(n_jobs=n_jobs, verbose=0 if bar else verbose, batch_size=1,
                        return_as="generator_unordered")
    # The whole run holds the budget too: tasks in threads of this process (threading
    # backend) each set and restore the process-wide limit, and overlapping ones would
    # otherwise restore each other's limit and leave the caller's pools shrunk.
    try:
        with threadpool_limits(limits=n_threads), GpuLanes(
                [[(j, pending[j]) for j in lane] for lane in lanes], run,
                collector.add) as gpu_lanes:
            outputs = parallel(delayed(_run_job)(cpu[k], task, X, y, target_kind, n_threads,
                                                 catch)
                               for k, task in schedule)
            for j, output in outputs:
                collector.add(j, output)
                gpu_lanes.raise_failure()
    finally:
        collector.close()
    return results


class _Collector:
    """Takes each finished task's output, from joblib or from a lane's thread.

    Fills ``results`` in place, stores the output in the cache, tells the schedule how
    long the task took and moves the progress bar; thread-safe.
    """

    def __init__(self, tasks, todo, keys, results, cache, schedule, bar):
        self._tasks, self._todo, self._keys, self._results = tasks, todo, keys, results
        self._cache, self._schedule, self._bar = cache, schedule, bar
        self._lock = threading.Lock()

    def add(self, j, output, device=None):
        """Record the output of pending task ``j``, run on the CPU or in lane ``device``."""
        i = self._todo[j]
        result = TaskResult(self._tasks[i], *output, cache_key=self._keys[i],
                            device="cpu" if device is None else f"gpu:{device}")
        with self._lock:
            self._results[i] = result
            self._schedule.observe(result.task, result.finished - result.started)
            if self._keys[i] is not None and result.error is None:
                self._cache.save(self._keys[i], output)
            if self._bar is not None:
                self._bar.update()

    def close(self):
        """Close the progress bar; warn if the cache could not store results."""
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
        if self._cache is not None:
            self._cache.warn_unwritable()


def _cached_results(tasks, cache, X, y, target_kind):
    """Cache keys and stored results per task (None where nothing usable is stored)."""
    if cache is None:
        return [None] * len(tasks), [None] * len(tasks)
    cache.remove_stale_temporaries()
    data_key = TaskCache.data_key(X, y, target_kind)
    keys = [TaskCache.task_key(task, data_key) for task in tasks]
    for name in dict.fromkeys(t.name for t, key in zip(tasks, keys) if key is None):
        warn(f"estimator {name!r} cannot be hashed for the memory= cache (it holds "
             "something that cannot be pickled, e.g. a lambda), so its tasks run uncached")
    stored = [None if key is None else cache.load(key) for key in keys]
    results = [None if output is None else TaskResult(task, *output, cached=True, cache_key=key)
               for task, output, key in zip(tasks, stored, keys)]
    return keys, results


def _run_job(j, task, X, y, target_kind, n_threads, catch):
    """Run one CPU task; its output comes back with its index ``j``."""
    return j, run_task(task, X, y, target_kind, n_threads, catch=catch)
