"""The time budget of a fit (``time_limit=``): a deadline, what finished tasks measured,
and the answer to the runner's question "may this task start?".

Under a budget the estimators are taken in list order (the list is their priority, see
:class:`~stackkit._schedule.InListOrder`): every estimator's folds first, then the
refits. Just before a task starts, :meth:`Budget.admit` estimates when the work it would
commit to ends: the tasks running now, then every fold not started yet of the
estimators up to and including this one in the list, handed to ``n_workers`` workers as
they free up. That work must end by the deadline, which is the time limit less a reserve
(:data:`RESERVE`) for the final estimator, and less the final estimator's own time limit
when it has one (a second layer); otherwise the task and every later task of
its estimator are skipped (the estimator is dropped: no more time is spent on it). The
first estimator's folds are always admitted, so a stack never ends without a base
model; cached tasks never ask, they cost nothing. A refit (``refit=True``) is optional:
it asks the same question for itself (the folds still to start, then the refits up to
its own), and when it cannot finish, its estimator keeps its fold models, which predict
by their average as with ``refit=False``.

A task's cost is estimated from what its estimator's finished tasks measured: seconds
per training row (the fit, and the overhead around it) plus seconds per predicted row.
Before one of its tasks has finished, the prior is the mean of those rates over the
estimators that have; with none measured at all, the cost is unknown and taken as
nothing (the task is admitted). A task running longer than its estimate raises the
estimate of its estimator's other tasks in proportion, and is itself expected to end no
sooner than now.
"""

import heapq
import threading
import time

import numpy as np

# Share of the time limit kept for what follows the base estimators' tasks: the final
# estimator's fit, the assembly of out-of-fold predictions, the records.
RESERVE = 0.05


class Budget:
    """The time budget of one fit.

    Parameters
    ----------
    time_limit : float
        Seconds for the whole fit, from ``started``.
    started : float, default=None
        When the fit started (``clock()`` time); None: now.
    final_seconds : float, default=0
        Seconds kept for a final estimator with a time limit of its own (a second
        layer), beyond the :data:`RESERVE`.
    clock : callable, default=time.time
        The wall clock (the deadline means the same in every worker process).

    Attributes
    ----------
    deadline : float
        The time (of ``clock``) by which the base estimators' tasks must end: the
        limit less the :data:`RESERVE` and ``final_seconds``. Boosters stop growing
        trees there.
    """

    def __init__(self, time_limit, *, started=None, final_seconds=0.0, clock=time.time):
        self.clock = clock
        self.time_limit = float(time_limit)
        self.started = clock() if started is None else started
        self.deadline = self.started + self.time_limit * (1 - RESERVE) - final_seconds
        self._lock = threading.Lock()
        self._workers = 1
        self._waiting = {}  # est_index -> tasks not started yet
        self._running = {}  # id(task) -> (task, admitted at)
        self._rates = {}  # est_index -> list of (seconds per training row, per test row)
        self._refused = {}  # est_index -> the reason its tasks are skipped

    def expect(self, tasks, n_workers):
        """Learn the tasks the run will ask about (those not cached), on ``n_workers``."""
        with self._lock:
            self._workers = max(1, int(n_workers))
            for task in tasks:
                self._waiting.setdefault(task.est_index, []).append(task)

    def admit(self, task):
        """None if ``task`` may start now, else why it is skipped (a string)."""
        with self._lock:
            e = task.est_index
            if e not in self._refused and (e != 0 or task.is_refit):
                now = self.clock()
                end = self._end_of_work(e, now, task.is_refit)
                if end > self.deadline:
                    self._refused[e] = self._reason(e, end, now, task.is_refit)
            self._forget_waiting(task)
            if e in self._refused:
                return self._refused[e]
            self._running[_key(task)] = (task, self.clock())
            return None

    def observe(self, task, output):
        """Record a finished task's costs (``output``: its :class:`TaskOutput`)."""
        with self._lock:
            entry = self._running.pop(_key(task), None)
            if entry is None or output.error is not None:
                return
            seconds = max(self.clock() - entry[1], output.finished - output.started)
            predict = min(output.predict_time, seconds)
            n_test = _n_test(task)
            self._rates.setdefault(task.est_index, []).append(
                ((seconds - predict) / max(1, len(task.train)),
                 predict / n_test if n_test else 0.0))

    # -- the estimate ----------------------------------------------------------------------

    def _end_of_work(self, e, now, with_refits):
        """When the running tasks, then the waiting ones of estimators up to ``e``, end.

        Refits are optional (a skipped one leaves its estimator to its fold models), so
        they count only when a refit asks.
        """
        workers = []  # when each worker is free
        for task, admitted in sorted(self._running.values(), key=lambda entry: entry[1]):
            if len(workers) < self._workers:  # it runs: it ends no sooner than now
                heapq.heappush(workers, max(admitted + self._cost(task, now), now))
            else:  # more tasks than workers (GPU lanes): it waits for one
                heapq.heappush(workers, heapq.heappop(workers) + self._cost(task, now))
        workers += [now] * (self._workers - len(workers))
        heapq.heapify(workers)
        for index in sorted(i for i in self._waiting if i <= e and i not in self._refused):
            for task in self._waiting[index]:
                if task.is_refit and not with_refits:
                    continue
                heapq.heappush(workers, heapq.heappop(workers) + self._cost(task, now))
        return max(workers)

    def _cost(self, task, now):
        """Estimated seconds of ``task`` (0.0 while nothing is known of any estimator)."""
        rates = self._rates_of(task.est_index, now)
        return 0.0 if rates is None else _seconds(task, rates)

    def _rates_of(self, e, now):
        """``(seconds per training row, per test row)`` of estimator ``e``, or None.

        Its own measured mean, else the mean over measured estimators (the prior); then
        raised so that none of its running tasks is expected to cost less than the time
        it has run already.
        """
        measured = self._rates.get(e)
        known = [np.mean(r, axis=0) for r in self._rates.values()]
        rates = (np.mean(measured, axis=0) if measured else
                 np.mean(known, axis=0) if known else np.zeros(2))
        running = [(task, now - admitted) for task, admitted in self._running.values()
                   if task.est_index == e and now > admitted]
        for task, elapsed in running:
            cost = _seconds(task, rates)
            if cost > 0:
                rates = rates * max(1.0, elapsed / cost)
            else:  # nothing known: the time so far, per training row
                rates = np.array([elapsed / max(1, len(task.train)), 0.0])
        return rates if rates.any() else None

    def _forget_waiting(self, task):
        waiting = self._waiting.get(task.est_index, [])
        for i, other in enumerate(waiting):
            if _key(other) == _key(task):
                del waiting[i]
                return

    def _reason(self, e, end, now, with_refits):
        remaining = sum(with_refits or not task.is_refit for task in self._waiting.get(e, ()))
        tasks = "task" if remaining == 1 else "tasks"
        return (f"time_limit: estimated to end in {end - now:.1f} s with its {remaining} "
                f"remaining {tasks}, {max(0.0, self.deadline - now):.1f} s left")


def _key(task):
    """A task's identity: the run may hand out a copy (a held refit set to its rounds)."""
    return task.est_index, task.fold



def _seconds(task, rates):
    return float(rates[0] * len(task.train) + rates[1] * _n_test(task))


def _n_test(task):
    return 0 if task.test is None else len(task.test)
