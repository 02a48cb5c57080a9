"""The order in which tasks are handed to joblib.

Without a time budget the longest estimators go first (:class:`LongestFirst`); under
one, the estimators go in the order they are listed (:class:`InListOrder`).
"""

import threading

import numpy as np


class LongestFirst:
    """Iterate over tasks, handing out the likely-longest one next.

    joblib pulls the next task only when a worker frees up (``pre_dispatch``), so the
    order can use what earlier tasks measured. Full refits go first (they have the
    most rows); then fold tasks of the estimator whose finished tasks took longest,
    with estimators that have no finished task yet counted as longest (their first
    task is still running, which is a sign of a slow one). The slow estimators thus
    start early and the quick ones fill the end, so the last worker does not idle long
    behind one big task, whatever order the user listed the estimators in.

    The iterator runs in joblib's dispatch thread while :meth:`observe` is called from
    the thread that collects results, hence the lock.
    """

    def __init__(self, tasks):
        self._tasks = tasks
        self._pending = list(range(len(tasks)))
        self._seconds = {}
        self._lock = threading.Lock()

    def observe(self, task, seconds):
        """Record how long a finished task took."""
        with self._lock:
            self._seconds.setdefault(task.est_index, []).append(seconds)

    def __iter__(self):
        while True:
            with self._lock:
                if not self._pending:
                    return
                index = min(self._pending, key=self._priority)
                self._pending.remove(index)
            yield index, self._tasks[index]

    def _priority(self, index):
        task = self._tasks[index]
        measured = self._seconds.get(task.est_index)
        seconds = float(np.mean(measured)) if measured else np.inf
        return (task.fold is not None, -seconds, task.est_index, task.fold or 0)


class InListOrder:
    """Iterate over tasks estimator by estimator, in the order the estimators are listed.

    Under a time budget the estimator list is the user's priority: every fold of the
    first estimator is handed out before any of the second, and so on, so the time runs
    out on the last ones; the refits come after every fold, in the same order (a refit
    the budget skips leaves its estimator to its fold models, so more estimators
    first, then refits).
    Measurements do not change the order; the budget reads them
    (:class:`~stackkit._budget.Budget`).
    """

    def __init__(self, tasks):
        self._order = sorted(range(len(tasks)), key=lambda i: _list_position(tasks[i]))
        self._tasks = tasks

    def observe(self, task, seconds):
        """Nothing: the order is fixed."""

    def __iter__(self):
        for index in self._order:
            yield index, self._tasks[index]


def _list_position(task):
    return task.is_refit, task.est_index, task.fold or 0

