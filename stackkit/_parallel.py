"""Running the task list: one joblib ``Parallel`` call with a per-task thread budget."""

from itertools import chain

from joblib import cpu_count, effective_n_jobs
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import threadpool_info

from ._cache import TaskCache
from ._compat import progress_bar
from ._gpu import plan_lanes
from ._schedule import LongestFirst
from .exceptions import warn
from ._tasks import TaskResult, run_task


def thread_budget(n_jobs, n_tasks):
    """Threads each task may use so that concurrent tasks never exceed the cores.

    Never more than the caller's own limit (e.g. inside ``threadpool_limits(1)``).
    """
    concurrent = max(1, min(effective_n_jobs(n_jobs), n_tasks))
    callers_limit = max((pool["num_threads"] for pool in threadpool_info()), default=cpu_count())
    return max(1, min(cpu_count() // concurrent, callers_limit))


def run_tasks(tasks, X, y, *, target_kind, n_jobs, verbose, cache=None, n_gpus=0,
              catch=False):
    """Run every task in one ``Parallel`` call; return their results in task order.

    With a :class:`~stackkit._cache.TaskCache`, tasks whose result is stored are not
    run, and each new result is stored as soon as it arrives, so a fit killed part-way
    resumes from its finished tasks. Tasks are handed out longest-first
    (:class:`LongestFirst`). Results are consumed as they arrive, so the first failing
    task raises at once (a :class:`~stackkit.exceptions.FoldFitError`) and the
    remaining ones are cancelled. The backend comes from the caller's
    ``joblib.parallel_config`` (loky by default; threading, or dask for a cluster).

    Tasks whose estimator asks for a GPU run in ``n_gpus`` lanes: each lane is one job
    that runs its tasks one after another on its device, beside the CPU tasks. With
    ``catch``, a failed task comes back as a result whose ``error`` says why (never
    cached) and the other tasks go on.
    """
    keys, results = _cached_results(tasks, cache, X, y, target_kind)
    todo = [i for i, result in enumerate(results) if result is None]
    pending = [tasks[i] for i in todo]
    cpu, lanes = plan_lanes(pending, n_gpus)
    device = {j: f"gpu:{d}" for d, lane in enumerate(lanes) for j in lane}
    schedule = LongestFirst([pending[j] for j in cpu])
    jobs = chain(([(j, pending[j], d) for j in lane] for d, lane in enumerate(lanes)),
                 ([(cpu[k], task, None)] for k, task in schedule))
    bar = progress_bar(len(tasks), len(tasks) - len(todo), "fold tasks") if verbose else None
    # batch_size=1: tasks are coarse, and batching them would unbalance the workers.
    parallel = Parallel(n_jobs=n_jobs, verbose=0 if bar else verbose, batch_size=1,
                        return_as="generator_unordered")
    n_threads = thread_budget(n_jobs, len(cpu) + len(lanes))
    outputs = parallel(delayed(_run_job)(job, X, y, target_kind, n_threads, catch)
                       for job in jobs)
    try:
        for j, output in chain.from_iterable(outputs):
            i = todo[j]
            results[i] = TaskResult(tasks[i], *output, cache_key=keys[i],
                                    device=device.get(j, "cpu"))
            schedule.observe(tasks[i], results[i].finished - results[i].started)
            if keys[i] is not None and results[i].error is None:
                cache.save(keys[i], output)
            if bar is not None:
                bar.update()
    finally:
        if bar is not None:
            bar.close()
        if cache is not None:
            cache.warn_unwritable()
    return results


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


def _run_job(job, X, y, target_kind, n_threads, catch):
    """Run the ``(index, task, gpu device or None)`` entries of one job in turn."""
    return [(j, run_task(task, X, y, target_kind, n_threads, device, catch))
            for j, task, device in job]
