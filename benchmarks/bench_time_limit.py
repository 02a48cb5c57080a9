"""How far past its ``time_limit`` a stack's fit returns (not a test).

The stack is the preset's base estimators plus a few slower ones (a random forest, extra
trees, k-nearest neighbours on scaled features, scikit-learn's histogram boosting), so a
short limit must drop some of them. For each limit the script prints the fit's wall
seconds, the overshoot past the limit (in percent), the estimators kept and dropped and
the tasks whose booster the deadline stopped; and the load average, since timings taken
on a shared machine are noisy.

A small fit runs first to start joblib's worker processes: the first parallel fit of a
session pays that start-up (seconds; far more on a loaded machine) inside its budget, and
the budget cannot shorten it. ``--cold`` skips the warm-up to measure that case.

Run it from the repository root::

    python benchmarks/bench_time_limit.py                          # magic_telescope, 10/30/60 s
    python benchmarks/bench_time_limit.py --limits 5,10 --datasets california_housing

The datasets come from ``../shared/data`` next to the repository (``--data-dir``).
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from stackkit import StackingClassifier, StackingRegressor
from stackkit.presets import default_estimators, numeric_columns

ROOT = Path(__file__).resolve().parents[1]


def extra_estimators(task):
    """Slower, diverse estimators after the preset's four (numeric columns only)."""
    clf = task != "regression"
    knn = KNeighborsClassifier(n_neighbors=15) if clf else KNeighborsRegressor(n_neighbors=15)
    return [
        ("hgb", (HistGradientBoostingClassifier if clf else HistGradientBoostingRegressor)(
            max_iter=500, random_state=0)),
        ("rf", (RandomForestClassifier if clf else RandomForestRegressor)(
            n_estimators=300, min_samples_leaf=2, random_state=0)),
        ("knn", make_pipeline(_numeric_only(), SimpleImputer(), StandardScaler(), knn)),
        ("extra_trees_big", (ExtraTreesClassifier if clf else ExtraTreesRegressor)(
            n_estimators=600, random_state=0)),
    ]


def _numeric_only():
    return ColumnTransformer([("numeric", "passthrough", numeric_columns)])


def load_table(name, data_dir, rows):
    sys.path.insert(0, str(data_dir))
    from load import load

    X, y, info = load(name)
    task = info["task"]
    if len(X) > rows:
        X = X.sample(rows, random_state=0)
        y = y.loc[X.index]
    X = X.astype({c: "category" for c in X.columns if X[c].dtype == object})
    return X.reset_index(drop=True), y.reset_index(drop=True), task


def stack_for(task, time_limit, n_jobs):
    cls = StackingRegressor if task == "regression" else StackingClassifier
    estimators = default_estimators(task, device="cpu") + extra_estimators(task)
    return cls(estimators, time_limit=time_limit, n_jobs=n_jobs)


def measure(X, y, task, time_limit, n_jobs):
    stack = stack_for(task, time_limit, n_jobs)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the one line listing the dropped estimators
        stack.fit(X, y)
    seconds = time.perf_counter() - start
    log = stack.task_log_
    return {
        "seconds": seconds,
        "overshoot": 100 * (seconds - time_limit) / time_limit,
        "kept": list(stack.layout_.names),
        "dropped": list(stack.dropped_),
        "truncated": int(log.truncated.sum()),
        "tasks_run": int((log.status == "ran").sum()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="magic_telescope")
    parser.add_argument("--limits", default="10,30,60")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--cold", action="store_true", help="no warm-up fit first")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"n_jobs={args.n_jobs}")
    for name in args.datasets.split(","):
        X, y, task = load_table(name, args.data_dir, args.rows)
        if not args.cold:
            start = time.perf_counter()
            stack_for(task, None, args.n_jobs).set_params(
                estimators=default_estimators(task, device="cpu")[:1], cv=2).fit(
                    X.iloc[::50], y.iloc[::50])
            print(f"warm-up (worker start): {time.perf_counter() - start:.1f} s")
        print(f"\n{name}: {len(X)} rows, {task}")
        print(f"{'limit':>6} {'fit s':>7} {'over %':>7} {'ran':>4} {'cut':>4}  kept | dropped"
              "   (load)")
        for limit in [float(v) for v in args.limits.split(",")]:
            r = measure(X, y, task, limit, args.n_jobs)
            print(f"{limit:6.0f} {r['seconds']:7.1f} {r['overshoot']:+7.1f} {r['tasks_run']:4d} "
                  f"{r['truncated']:4d}  {','.join(r['kept'])} | {','.join(r['dropped'])}"
                  f"   ({os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    main()
