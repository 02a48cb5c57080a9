"""Running the task list: one joblib ``Parallel`` call with a per-task thread budget."""

from joblib import cpu_count, effective_n_jobs
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import threadpool_info

from ._schedule import LongestFirst
from ._tasks import TaskResult, run_task


def thread_budget(n_jobs, n_tasks):
    """Threads each task may use so that concurrent tasks never exceed the cores.

    Never more than the caller's own limit (e.g. inside ``threadpool_limits(1)``).
    """
    concurrent = max(1, min(effective_n_jobs(n_jobs), n_tasks))
    callers_limit = max((pool["num_threads"] for pool in threadpool_info()), default=cpu_count())
    return max(1, min(cpu_count() // concurrent, callers_limit))


def run_tasks(tasks, X, y, sample_weight, *, target_kind, n_jobs, verbose):
    """Run every task in one ``Parallel`` call; return their results in task order.

    Tasks are handed out longest-first (:class:`LongestFirst`). Results are consumed
    as they arrive, so the first failing task raises at once (a
    :class:`~stackkit.exceptions.FoldFitError`) and the remaining ones are cancelled.
    The backend comes from the caller's ``joblib.parallel_config`` (loky by default;
    threading, or dask for a cluster).
    """
    n_threads = thread_budget(n_jobs, len(tasks))
    schedule = LongestFirst(tasks)
    # batch_size=1: tasks are coarse, and batching them would unbalance the workers.
    parallel = Parallel(n_jobs=n_jobs, verbose=verbose, batch_size=1,
                        return_as="generator_unordered")
    outputs = parallel(
        delayed(_run_indexed)(i, task, X, y, sample_weight, target_kind, n_threads)
        for i, task in schedule
    )
    results = [None] * len(tasks)
    for i, output in outputs:
        results[i] = TaskResult(tasks[i], *output)
        schedule.observe(tasks[i], results[i].finished - results[i].started)
    return results


def _run_indexed(i, task, X, y, sample_weight, target_kind, n_threads):
    return i, run_task(task, X, y, sample_weight, target_kind, n_threads)
