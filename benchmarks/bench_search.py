"""Search benchmark: what ``memory=`` saves in a grid search and when a stack grows.

Table 1 runs ``GridSearchCV`` over 8 values of the final estimator's ``C`` (outer cv=3,
stacking cv=5, ROC AUC) with the four base estimators of ``bench_fit.py`` (a linear
model, a random forest, XGBoost, LightGBM), once with stackkit and ``memory=`` a fresh
temporary folder and once with ``sklearn.ensemble.StackingClassifier``, in the same run.
stackkit uses ``final_estimator=None`` (its default ``LogisticRegression()``, which a grid
over ``final_estimator__C`` may tune); scikit-learn gets an explicit
``LogisticRegression()``, because its ``StackingClassifier`` cannot set
``final_estimator__C`` while ``final_estimator=None``. Both stacks use ``n_jobs=--n-jobs``;
the search itself runs with ``n_jobs=1``.

Base fits are counted for real: every base estimator is wrapped in :class:`CountedFit`,
which appends a line to a log file at each ``fit``, in whichever worker process it runs.
The class lives in this module, imported as ``bench_search`` (not ``__main__``), and the
benchmarks folder is put on the workers' ``sys.path`` and ``PYTHONPATH``, so the loky
workers can unpickle it. The warm-up checks that the counts come out right.

Table 2 adds a fifth estimator (``HistGradientBoostingClassifier``) to a fitted stackkit
stack with ``memory=`` (``set_params(estimators=five)`` then ``fit``) and compares that with
fitting the five-estimator stack from scratch without a cache.

``--profile`` runs only stackkit's grid search of table 1, under ``cProfile``, and
prints where its time goes: the base fits that ran (the first candidate of each outer
split and the best candidate's refit), the cache keys, the cache reads, the final
estimator's fits, the base predictions when scoring, the fingerprints of X and y.
cProfile slows Python code more than compiled code, so the shares are indicative.

Run it by hand from the repository root (it is not a test); a full run takes about 8
minutes on 2 cores::

    python benchmarks/bench_search.py                       # electricity, full size
    python benchmarks/bench_search.py --quick               # smoke run on a 3,000-row subset
    python benchmarks/bench_search.py --dataset adult --n-jobs 2
    python benchmarks/bench_search.py --profile             # stackkit's search, profiled

Both tables use the 80/20 training rows of ``bench_fit.load_dataset``; the holdout rows
score each search's refit best stack. Run it on an otherwise idle machine: it prints the
load average before and after.
"""

import argparse
import cProfile
import os
import pstats
import shlex
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(BENCH_DIR), os.environ.get("PYTHONPATH")) if p)

import numpy as np  # noqa: E402
from sklearn import ensemble  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin, clone  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402

import bench_fit  # noqa: E402
import stackkit  # noqa: E402

C_GRID = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 10.0]
OUTER_CV = 3
STACK_CV = 5
WARM_UP_ROWS = 500
TARGET = 10  # speed-up over scikit-learn's stack
# where a search's time goes: label -> (module of stackkit, function), cumulative time
PROFILED = {
    "stack fits (all candidates and the best refit)": ("_base.py", "fit"),
    "  base tasks run (not read from the cache)": ("_runner.py", "_run_wave"),
    "  cache keys (hashing estimators and data)": ("_runner.py", "_keys"),
    "  cache reads (checksum, unpickling)": ("_cache.py", "load"),
    "  final estimator fits": ("_base.py", "_fit_final"),
    "base predictions when scoring (cached)": ("_predict.py", "base_predictions"),
    "fingerprints of X and y (in keys above)": ("_plane.py", "fingerprint"),
}


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="electricity",
                        help="a binary dataset from shared/data (default electricity)")
    parser.add_argument("--n-jobs", type=int, default=2,
                        help="n_jobs of both stacks (default 2); GridSearchCV runs n_jobs=1")
    parser.add_argument("--quick", action="store_true",
                        help=f"subsample to {bench_fit.QUICK_ROWS:,} rows (smoke run)")
    parser.add_argument("--data-dir", type=Path, default=bench_fit.DEFAULT_DATA_DIR,
                        help="folder with load.py and manifest.json")
    parser.add_argument("--profile", action="store_true",
                        help="only stackkit's grid search, profiled: where its time goes")
    return parser.parse_args(argv)


# -- counting fits across processes ----------------------------------------------------


class CountedFit(ClassifierMixin, BaseEstimator):
    """A classifier that appends a line to ``log`` at every ``fit``, then fits a clone.

    Appends of one short line are atomic, so the count is right whichever processes fit.
    """

    def __init__(self, estimator, log):
        self.estimator = estimator
        self.log = log

    def fit(self, X, y, sample_weight=None):
        with open(self.log, "a") as handle:
            handle.write("fit\n")
        params = {} if sample_weight is None else {"sample_weight": sample_weight}
        self.estimator_ = clone(self.estimator).fit(X, y, **params)
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)


def counted(estimators, log_dir, prefix):
    """Wrap each estimator in :class:`CountedFit`, logging to ``<prefix>_<name>.log``."""
    return [(name, CountedFit(est, str(Path(log_dir) / f"{prefix}_{name}.log")))
            for name, est in estimators]


def fit_counts(estimators):
    """``{name: number of fits logged}`` for estimators wrapped by :func:`counted`."""
    counts = {}
    for name, wrapper in estimators:
        log = Path(wrapper.log)
        counts[name] = len(log.read_text().splitlines()) if log.exists() else 0
    return counts


# -- the stacks ------------------------------------------------------------------------


def stack_cv():
    """The stacking folds, the same for both libraries."""
    return StratifiedKFold(STACK_CV, shuffle=True, random_state=bench_fit.SEED)


def make_search(library, estimators, n_jobs, memory=None):
    """``GridSearchCV`` over ``final_estimator__C`` for one library's stack."""
    if library == "stackkit":
        stack = stackkit.StackingClassifier(estimators, cv=stack_cv(), memory=memory,
                                            n_jobs=n_jobs)  # final_estimator=None
    else:  # sklearn cannot set final_estimator__C on final_estimator=None
        stack = ensemble.StackingClassifier(estimators, LogisticRegression(),
                                            cv=stack_cv(), n_jobs=n_jobs)
    return GridSearchCV(stack, {"final_estimator__C": C_GRID}, cv=OUTER_CV,
                        scoring="roc_auc", n_jobs=1)


def minimum_fits(n_estimators):
    """Fewest base fits a search can do: folds + refit per outer split, then the best refit."""
    return OUTER_CV * n_estimators * (STACK_CV + 1) + n_estimators * (STACK_CV + 1)


def uncached_fits(n_estimators):
    """Base fits without a cache: folds + refit per candidate and split, then the best."""
    return (len(C_GRID) * OUTER_CV + 1) * n_estimators * (STACK_CV + 1)


def warm_up(X, y, n_jobs, log_dir):
    """Start the workers and import this module in them, and check that fits are counted.

    Fits both libraries' counted stacks on a few rows; each must log 5 folds + 1 refit
    per estimator, or the counting (or the workers' import of this module) is broken.
    """
    rows = min(len(X), WARM_UP_ROWS)
    for library in ("stackkit", "sklearn"):
        estimators = counted(bench_fit.base_estimators(X, "binary"), log_dir,
                             f"warm_{library}")
        stack = make_search(library, estimators, n_jobs).estimator
        stack.fit(X.iloc[:rows], y.iloc[:rows])
        counts = fit_counts(estimators)
        if set(counts.values()) != {STACK_CV + 1}:
            raise SystemExit(f"fit counting is broken: {library} warm-up logged {counts}")


# -- table 1: grid search --------------------------------------------------------------


def run_search(library, data, args, folder):
    """Run one library's grid search; return its result row."""
    X_train, X_test, y_train, y_test, _ = data
    estimators = counted(bench_fit.base_estimators(X_train, "binary"), folder, library)
    memory = str(Path(folder) / "cache") if library == "stackkit" else None
    search = make_search(library, estimators, args.n_jobs, memory)
    start = time.perf_counter()
    search.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    counts = fit_counts(estimators)
    print(f"    {library:<9} {seconds:8.1f} s  base fits {counts}", flush=True)
    results = search.cv_results_
    row = {"library": library, "seconds": seconds, "fits": sum(counts.values()),
           "n_estimators": len(estimators),
           "fit_seconds": OUTER_CV * results["mean_fit_time"].sum(),
           "first_fit_seconds": OUTER_CV * results["mean_fit_time"][0],
           "cached_fit_seconds": OUTER_CV * results["mean_fit_time"][1:].sum(),
           "score_seconds": OUTER_CV * results["mean_score_time"].sum(),
           "refit_seconds": search.refit_time_,
           "minimum": minimum_fits(len(estimators)) if library == "stackkit" else np.nan,
           "best_C": search.best_params_["final_estimator__C"],
           "cv_auc": search.best_score_, "scores": search.cv_results_["mean_test_score"],
           "holdout_auc": bench_fit.holdout_score(search.best_estimator_, X_test, y_test,
                                                  "binary")}
    if library == "stackkit":  # cross-check: the last fit (best refit) as stackkit saw it
        log = search.best_estimator_.task_log_
        row["final_fit_tasks_run"] = int((~log["cached"]).sum())
    return row


def table_search(data, args):
    """Both grid searches, stackkit first; returns ``{library: row}``."""
    n = len(bench_fit.base_estimators(data[0], "binary"))
    print(f"table 1: GridSearchCV, {len(C_GRID)} candidates x outer cv={OUTER_CV}, "
          f"stacking cv={STACK_CV}, {n} base estimators", flush=True)
    rows = {}
    for library in ("stackkit", "sklearn"):
        with tempfile.TemporaryDirectory(prefix=f"bench_search_{library}_") as folder:
            rows[library] = run_search(library, data, args, folder)
    return rows


def profile_search(data, args):
    """Run stackkit's grid search under cProfile; print where its time goes."""
    profile = cProfile.Profile()
    with tempfile.TemporaryDirectory(prefix="bench_search_profile_") as folder:
        profile.enable()
        row = run_search("stackkit", data, args, folder)
        profile.disable()
    stats = pstats.Stats(profile).stats
    print(f"\nwhere stackkit's search time goes (profiled: {row['seconds']:.1f} s in all)")
    for label, (module, function) in PROFILED.items():
        seconds = sum(entry[3] for (path, _, name), entry in stats.items()
                      if name == function and path.endswith(f"stackkit/{module}"))
        print(f"    {label:<44} {seconds:7.1f} s  {100 * seconds / row['seconds']:5.1f}%")


# -- table 2: adding an estimator ------------------------------------------------------


def fifth_estimator():
    """The estimator added to the fitted stack (handles categorical dtypes and NaN)."""
    return ("hgb", ensemble.HistGradientBoostingClassifier(max_iter=200,
                                                           random_state=bench_fit.SEED))


def timed_stack_fit(stack, X, y):
    """Fit ``stack`` in place; return ``(seconds, tasks run, not read from the cache)``."""
    start = time.perf_counter()
    stack.fit(X, y)
    seconds = time.perf_counter() - start
    return seconds, int((~stack.task_log_["cached"]).sum())


def table_incremental(data, args):
    """Add a fifth estimator to a fitted cached stack vs fit the five from scratch."""
    X, _, y, _, _ = data
    four = bench_fit.base_estimators(X, "binary")
    five = four + [fifth_estimator()]
    print("table 2: adding a fifth estimator to a fitted stack", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_search_add_") as folder:
        stack = stackkit.StackingClassifier(four, cv=stack_cv(), memory=folder,
                                            n_jobs=args.n_jobs)
        first = timed_stack_fit(stack, X, y)
        added = timed_stack_fit(stack.set_params(estimators=five), X, y)
        oof_added = stack.oof_
    scratch_stack = stackkit.StackingClassifier(five, cv=stack_cv(), n_jobs=args.n_jobs)
    scratch = timed_stack_fit(scratch_stack, X, y)
    rows = {"4 estimators, memory= (first fit)": first,
            "add a 5th, memory= (refit)": added,
            "5 estimators from scratch, no cache": scratch}
    for label, (seconds, tasks) in rows.items():
        print(f"    {label:<38} {seconds:8.1f} s  {tasks:3d} tasks run", flush=True)
    same = np.array_equal(oof_added, scratch_stack.oof_)
    return rows, same


# -- reporting -------------------------------------------------------------------------


def search_markdown(rows, n_rows):
    """Table 1 as markdown."""
    sk = rows["sklearn"]
    lines = [f"| library ({n_rows:,} rows) | search time (s) | speed-up vs sklearn "
             "| base fits | minimum | of which scoring (s) | of which best refit (s) "
             "| best C | CV AUC | holdout AUC |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for library, r in rows.items():
        minimum = "—" if np.isnan(r["minimum"]) else f"{int(r['minimum'])}"
        lines.append(f"| {library} | {r['seconds']:.1f} | {sk['seconds'] / r['seconds']:.2f}x "
                     f"| {r['fits']} | {minimum} | {r['score_seconds']:.1f} "
                     f"| {r['refit_seconds']:.1f} | {r['best_C']:g} | {r['cv_auc']:.4f} "
                     f"| {r['holdout_auc']:.4f} |")
    return "\n".join(lines)


def incremental_markdown(rows):
    """Table 2 as markdown."""
    scratch = rows["5 estimators from scratch, no cache"][0]
    lines = ["| stackkit fit | time (s) | tasks run | speed-up vs scratch |",
             "|---|---:|---:|---:|"]
    for label, (seconds, tasks) in rows.items():
        ratio = "—" if label.startswith("4 ") else f"{scratch / seconds:.2f}x"
        lines.append(f"| {label} | {seconds:.1f} | {tasks} | {ratio} |")
    return "\n".join(lines)


def report_agreement(rows):
    """Print the speed-up, the fit counts against the minimum and whether the results agree."""
    kit, sk = rows["stackkit"], rows["sklearn"]
    ratio = sk["seconds"] / kit["seconds"]
    print(f"speed-up sklearn / stackkit: {ratio:.2f}x (target >= {TARGET}x: "
          f"{'met' if ratio >= TARGET else 'MISSED'})")
    print(f"base fits: stackkit {kit['fits']} (minimum {int(kit['minimum'])}; best-candidate "
          f"refit ran {kit['final_fit_tasks_run']} tasks per its task_log_), sklearn "
          f"{sk['fits']} (expected without a cache: {uncached_fits(sk['n_estimators'])})")
    print(f"stackkit's stack fits: {kit['first_fit_seconds']:.1f} s for the first candidate "
          f"of each outer split (base fits run), {kit['cached_fit_seconds']:.1f} s for the "
          f"{len(C_GRID) - 1} others (read from the cache)")
    for library, r in rows.items():
        print(f"{library} time split: stack fits {r['fit_seconds']:.1f} s, scoring "
              f"{r['score_seconds']:.1f} s (both from cv_results_), best refit "
              f"{r['refit_seconds']:.1f} s")
    print(f"best C agrees: {kit['best_C'] == sk['best_C']} ({kit['best_C']:g} vs "
          f"{sk['best_C']:g}); best CV AUC differs by {kit['cv_auc'] - sk['cv_auc']:+.2e}; "
          f"largest difference over the {len(C_GRID)} candidates: "
          f"{np.max(np.abs(kit['scores'] - sk['scores'])):.2e}")


def main(argv=None):
    """Run both tables and print them, the checks and the command line."""
    args = parse_args(argv)
    print(bench_fit.environment(), flush=True)
    data = bench_fit.load_dataset(args.dataset, args.data_dir, args.quick)
    if data[4] != "binary":
        raise SystemExit(f"{args.dataset} is {data[4]}; this benchmark takes binary data")
    print(f"{args.dataset}: {len(data[0]):,} training rows, n_jobs={args.n_jobs}"
          f"{', quick' if args.quick else ''}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_search_warm_") as folder:
        warm_up(data[0], data[2], args.n_jobs, folder)
    if args.profile:
        profile_search(data, args)
        return
    search_rows = table_search(data, args)
    added_rows, same_oof = table_incremental(data, args)
    print("\n" + search_markdown(search_rows, len(data[0])) + "\n")
    report_agreement(search_rows)
    print("\n" + incremental_markdown(added_rows) + "\n")
    print(f"oof_ of the grown stack equals the scratch stack's: {same_oof}")
    print(f"after the run: {bench_fit.machine_load()}")
    print("\ncommand: python " + shlex.join(sys.argv))


if __name__ == "__main__":
    # Run as the module ``bench_search``, so that CountedFit pickles by reference to an
    # importable module (the workers import it) rather than to ``__main__``.
    import bench_search

    bench_search.main()
