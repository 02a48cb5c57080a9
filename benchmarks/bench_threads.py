"""Thread benchmark: does stackkit's per-task thread budget prevent oversubscription?

``stackkit.StackingClassifier(..., n_jobs=2)`` runs every (estimator x fold) fit as one
joblib task and gives each booster whose thread parameter (``n_jobs``) is left at None
``cores // concurrent tasks`` threads. An explicit user setting is kept, so a booster
with ``n_jobs=os.cpu_count()`` reproduces what happens without the budget: every
concurrent task starts one thread per core.

The script fits the same stack (XGBoost and LightGBM, ``--rounds`` rounds each, and a
random forest; ``cv=5``, ``n_jobs=--n-jobs``) in two or more configurations in the same
run, alternating (the order flips at every repeat):

* ``budget``: the boosters' ``n_jobs`` left at None, so stackkit's budget applies;
* ``n_jobs=T``: the boosters get an explicit ``n_jobs=T`` for each ``T`` of
  ``--threads`` (default: the number of cores, i.e. each of the 2 concurrent tasks
  asks for every core, 2x oversubscription on the default ``n_jobs=2``).

While each fit runs, a background thread samples every ``--interval`` milliseconds the
threads of the whole process tree (this process and its joblib/loky workers, found with
``psutil``) and counts those in state ``R`` (running or runnable) in
``/proc/<pid>/task/<tid>/stat``; the sampler's own thread is not counted. A count above
the cores means threads waiting in the run queue. The same maximum and share of samples
above the cores are also given for the worker processes alone, leaving out this
process's dispatching and result-collecting threads, which wake up briefly whenever a
task starts or ends. For each fit the script prints the wall time and the running
threads (mean, maximum, share of samples above the cores), then a markdown table
(wall time, mean and 95th percentile: medians over the repeats; maximum and share above
the cores: over every sample of every repeat) and the command line. Linux only (it
reads ``/proc``). Run it on an otherwise idle machine: it prints the load average before
and after.

Run it by hand from the repository root (it is not a test); a full run takes about 3
minutes on 2 cores::

    python benchmarks/bench_threads.py                    # electricity, full size
    python benchmarks/bench_threads.py --quick            # smoke run on a 3,000-row subset
    python benchmarks/bench_threads.py --threads 2,8 --repeats 5 --rounds 200

The data are the 80/20 training rows of ``bench_fit.load_dataset`` (``../shared/data``).
"""

import argparse
import os
import shlex
import sys
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
from lightgbm import LGBMClassifier  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from xgboost import XGBClassifier  # noqa: E402

import bench_fit  # noqa: E402
import stackkit  # noqa: E402
from stackkit._runner import thread_budget  # noqa: E402

CORES = joblib.cpu_count()
STACK_CV = 5
WARM_UP_ROWS = 500
BUDGET = "budget"


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="electricity",
                        help="a binary dataset from shared/data (default electricity)")
    parser.add_argument("--n-jobs", type=int, default=2,
                        help="n_jobs of the stack (default 2, the reference machine's cores)")
    parser.add_argument("--threads", default=str(CORES),
                        help="comma-separated explicit booster n_jobs, one configuration "
                             f"each (default {CORES}: every core, as n_jobs=None would be)")
    parser.add_argument("--rounds", type=int, default=300, help="boosting rounds (default 300)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="fits per configuration, alternating (default 3)")
    parser.add_argument("--interval", type=float, default=25.0,
                        help="milliseconds between thread samples (default 25)")
    parser.add_argument("--quick", action="store_true",
                        help=f"subsample to {bench_fit.QUICK_ROWS:,} rows (smoke run)")
    parser.add_argument("--data-dir", type=Path, default=bench_fit.DEFAULT_DATA_DIR,
                        help="folder with load.py and manifest.json")
    return parser.parse_args(argv)


# -- counting running threads ----------------------------------------------------------


def thread_state(pid, tid):
    """The one-letter state of thread ``tid`` of process ``pid``, or None if it is gone.

    The state is the first field after the command name, which is in parentheses and
    may itself contain spaces or parentheses, hence the search from the right.
    """
    try:
        with open(f"/proc/{pid}/task/{tid}/stat") as handle:
            stat = handle.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat[stat.rindex(")") + 2]


def count_running(pid, skip_tid):
    """Threads of process ``pid`` in state ``R``, except ``skip_tid`` (0 if it is gone)."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError):
        return 0  # a worker that exited between the listing and now
    return sum(thread_state(pid, tid) == "R" for tid in tids if int(tid) != skip_tid)


def running_threads(root, skip_tid):
    """``(in root, in its descendants)``: threads in state ``R``, except ``skip_tid``."""
    try:
        children = root.children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    return (count_running(root.pid, skip_tid),
            sum(count_running(child.pid, skip_tid) for child in children))


class RunningThreads:
    """Context manager sampling the running threads of the process tree in the background.

    Parameters
    ----------
    interval : float
        Seconds between two samples.

    Attributes
    ----------
    samples : list of tuple of int
        ``(in this process, in its descendants)``, the running threads at each sample.
    """

    def __init__(self, interval):
        self.interval = interval
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()

    def _sample(self):
        root, me = psutil.Process(), threading.get_native_id()
        while not self._stop.wait(self.interval):
            self.samples.append(running_threads(root, skip_tid=me))


# -- the stacks ------------------------------------------------------------------------


def base_estimators(X, threads, rounds):
    """XGBoost, LightGBM and a random forest; the boosters get ``n_jobs=threads``.

    ``threads=None`` leaves the thread count to stackkit's budget. The forest
    (``bench_fit.random_forest``, one thread) is a realistic neighbour for the boosters
    and the same in every configuration.
    """
    xgb = XGBClassifier(n_estimators=rounds, max_depth=6, learning_rate=0.1,
                        tree_method="hist", n_jobs=threads, random_state=bench_fit.SEED)
    lgbm = LGBMClassifier(n_estimators=rounds, learning_rate=0.05, n_jobs=threads,
                          verbose=-1, random_state=bench_fit.SEED)
    return [("xgb", xgb), ("lgbm", lgbm), ("rf", bench_fit.random_forest(X, "binary"))]


def make_stacks(X, args):
    """Return ``{label: (booster threads per task, unfitted stack)}``, budget first."""
    cv = StratifiedKFold(STACK_CV, shuffle=True, random_state=bench_fit.SEED)
    explicit = [int(t) for t in args.threads.split(",")]
    stacks = {}
    for threads in [None, *explicit]:
        estimators = base_estimators(X, threads, args.rounds)
        stack = stackkit.StackingClassifier(estimators, cv=cv, n_jobs=args.n_jobs)
        if threads is None:  # what stackkit will give each booster task
            budget = thread_budget(args.n_jobs, len(estimators) * (STACK_CV + 1))
            stacks[BUDGET] = (budget, stack)
        else:
            stacks[f"n_jobs={threads}"] = (threads, stack)
    return stacks


# -- measuring -------------------------------------------------------------------------


def warm_up(stacks, X, y):
    """Start the loky workers and import the libraries in them, outside the timings."""
    rows = min(len(X), WARM_UP_ROWS)
    for _, stack in stacks.values():
        clone(stack).fit(X.iloc[:rows], y.iloc[:rows])


def measured_fit(stack, X, y, interval):
    """Fit a fresh clone of ``stack`` while sampling; return ``(seconds, samples)``.

    ``samples`` is an ``(n, 2)`` array: running threads in this process and in the workers.
    """
    fitted = clone(stack)
    with RunningThreads(interval) as sampler:
        start = time.perf_counter()
        fitted.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, np.array(sampler.samples).reshape(-1, 2)


def thread_stats(samples):
    """Statistics of one or more fits' samples (rows of ``(this process, workers)``)."""
    total, workers = samples.sum(axis=1), samples[:, 1]
    return {"mean": total.mean(), "p95": np.percentile(total, 95), "max": int(total.max()),
            "above": np.mean(total > CORES), "workers_max": int(workers.max()),
            "workers_above": np.mean(workers > CORES), "samples": len(samples)}


def fit_all(stacks, X, y, args):
    """Fit every stack ``args.repeats`` times, alternating; return ``{label: [fits]}``.

    The order flips at every repeat (A B, B A, A B, ...), so neither configuration
    always runs first, right after the other, or on warmer caches.
    """
    fits = {label: [] for label in stacks}
    for repeat in range(args.repeats):
        order = list(stacks) if repeat % 2 == 0 else list(stacks)[::-1]
        for label in order:
            seconds, samples = measured_fit(stacks[label][1], X, y, args.interval / 1000)
            fits[label].append((seconds, samples))
            st = thread_stats(samples)
            print(f"    {label:<10} {seconds:7.1f} s  running threads: mean {st['mean']:.2f}, "
                  f"max {st['max']}, {st['above']:.1%} of {st['samples']} samples > {CORES}; "
                  f"workers only: max {st['workers_max']}, {st['workers_above']:.1%} > {CORES}",
                  flush=True)
    return fits


# -- reporting -------------------------------------------------------------------------


def summarize(threads, fits):
    """Medians over the repeats of time, mean and p95; the rest over every sample."""
    per_fit = [thread_stats(samples) for _, samples in fits]
    return {
        **thread_stats(np.concatenate([samples for _, samples in fits])),
        "threads": threads,
        "seconds": np.median([seconds for seconds, _ in fits]),
        "mean": np.median([st["mean"] for st in per_fit]),
        "p95": np.median([st["p95"] for st in per_fit]),
    }


def markdown_table(summary):
    """The results as a markdown table for the README."""
    base = summary[BUDGET]["seconds"]
    lines = [f"| boosters' `n_jobs` | threads per task | fit time (s) | vs budget "
             f"| running threads: mean | p95 | max | samples > {CORES} "
             f"| workers only: max | samples > {CORES} |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, s in summary.items():
        explicit = label.removeprefix("n_jobs=") + " (explicit)"
        what = "None (stackkit's budget)" if label == BUDGET else explicit
        lines.append(
            f"| {what} | {s['threads']} | {s['seconds']:.1f} | {s['seconds'] / base:.2f}x "
            f"| {s['mean']:.2f} | {s['p95']:.0f} | {s['max']} | {s['above']:.1%} "
            f"| {s['workers_max']} | {s['workers_above']:.1%} |")
    return "\n".join(lines)


def verdict(summary):
    """One line per claim: threads within the cores with the budget, and its speed."""
    b = summary[BUDGET]
    lines = [f"budget: at most {b['max']} running threads on {CORES} cores "
             f"({b['above']:.1%} of {b['samples']} samples above the cores); in the workers "
             f"at most {b['workers_max']} ({b['workers_above']:.1%} of samples above)"]
    for label, s in summary.items():
        if label != BUDGET:
            ratio = s["seconds"] / b["seconds"]
            lines.append(f"{label}: {ratio:.2f}x the budget's wall time "
                         f"({'slower' if ratio > 1 else 'not slower'})")
    return "\n".join(lines)


def main(argv=None):
    """Run the benchmark and print the per-fit lines, the table and the command line."""
    args = parse_args(argv)
    if not Path("/proc/self/task").is_dir():
        raise SystemExit("this benchmark reads /proc: it runs on Linux only")
    print(bench_fit.environment(), flush=True)
    X, _, y, _, _ = bench_fit.load_dataset(args.dataset, args.data_dir, args.quick)
    print(f"{args.dataset}: {len(X):,} training rows; n_jobs={args.n_jobs}, "
          f"{args.rounds} rounds, repeats {args.repeats}, sampling every {args.interval:g} ms",
          flush=True)
    stacks = make_stacks(X, args)
    warm_up(stacks, X, y)
    fits = fit_all(stacks, X, y, args)
    summary = {label: summarize(stacks[label][0], fits[label]) for label in stacks}
    print("\n" + markdown_table(summary) + "\n")
    print(verdict(summary))
    print(f"after the run: {bench_fit.machine_load()}")
    print("\ncommand: python " + shlex.join(sys.argv))


if __name__ == "__main__":
    main()
