"""Prediction benchmark: how fast does a fitted stack predict, one row and many rows?

Fits the same four base models (a linear model, a random forest, XGBoost, LightGBM)
over the same 5 folds in three stacks, in the same run:

* ``sklearn``: ``sklearn.ensemble.StackingClassifier`` / ``StackingRegressor``;
* ``refit=True``: ``stackkit``'s stack, one model per base estimator refit on all rows;
* ``refit=False``: ``stackkit``'s stack whose base models are the averages of their fold
  models (:class:`stackkit.FoldAverage`);

and, as the reference for the latency target, each base model (and the final estimator)
fit alone. It then times, interleaved so that load on the machine hits every model alike:

* one row: the median of ``--calls`` calls of the stack's ``predict_proba`` (classifier)
  or ``predict`` (regressor) on a single row, the members' calls of their own stack
  method on the same row, and their sum;
* ``--rows`` rows: the best of ``--repeats`` calls on a table of that many rows.

It prints the times and the ratios that are the targets of issue 14 (refit=False over
refit=True, each stack over scikit-learn's, the one-row latency of a stack over the sum
of its members' latencies) and the load average before and after. On a shared machine
read the ratios, not the absolute times: they are measured side by side in one run.

Run it by hand from the repository root (it is not a test)::

    python benchmarks/bench_predict.py                      # both tasks, 100,000 rows
    python benchmarks/bench_predict.py --quick              # smoke run, small sizes
    python benchmarks/bench_predict.py --task regression --calls 500 --n-jobs 2
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (RandomForestClassifier, RandomForestRegressor,
                              StackingClassifier as SkStackingClassifier,
                              StackingRegressor as SkStackingRegressor)
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import KFold, StratifiedKFold
from xgboost import XGBClassifier, XGBRegressor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import stackkit  # noqa: E402


def members(task, n_trees):
    """The four base models: a linear model, a random forest, XGBoost and LightGBM."""
    if task == "classification":
        return [("lr", LogisticRegression(max_iter=1000)),
                ("rf", RandomForestClassifier(n_estimators=n_trees, min_samples_leaf=5,
                                              random_state=0)),
                ("xgb", XGBClassifier(n_estimators=n_trees, random_state=0)),
                ("lgbm", LGBMClassifier(n_estimators=n_trees, verbose=-1, random_state=0))]
    return [("ridge", RidgeCV()),
            ("rf", RandomForestRegressor(n_estimators=n_trees, min_samples_leaf=5,
                                         random_state=0)),
            ("xgb", XGBRegressor(n_estimators=n_trees, random_state=0)),
            ("lgbm", LGBMRegressor(n_estimators=n_trees, verbose=-1, random_state=0))]


def data(task, n_rows, n_features, seed):
    """A seeded synthetic table (binary classification or regression)."""
    if task == "classification":
        return make_classification(n_rows, n_features, n_informative=n_features // 2,
                                   random_state=seed)
    return make_regression(n_rows, n_features, n_informative=n_features // 2, noise=10.0,
                           random_state=seed)


def fitted_models(task, X, y, args):
    """The three stacks and each member (and the final estimator) fit alone, by name."""
    classification = task == "classification"
    cv = (StratifiedKFold if classification else KFold)(5, shuffle=True, random_state=0)
    base = members(task, args.trees)
    sk_class = SkStackingClassifier if classification else SkStackingRegressor
    kit_class = stackkit.StackingClassifier if classification else stackkit.StackingRegressor
    stacks = {
        "sklearn": sk_class(base, cv=cv, n_jobs=args.n_jobs),
        "refit=True": kit_class(base, cv=cv, n_jobs=args.n_jobs, refit=True),
        "refit=False": kit_class(base, cv=cv, n_jobs=args.n_jobs, refit=False),
    }
    for name, stack in stacks.items():
        started = time.perf_counter()
        stack.fit(X, y)
        print(f"  fit {name}: {time.perf_counter() - started:.1f} s", flush=True)
    alone = {name: clone(est).fit(X, y) for name, est in base}
    meta = stacks["refit=True"].transform(X[:1000])
    final = clone(stacks["refit=True"].final_estimator_)
    alone["final"] = final.fit(meta, y[:1000])
    return stacks, alone, meta[:1]


def one_row_latency(models, rows, calls):
    """Median seconds per call of each ``(model, method, row)``, calls interleaved."""
    times = {name: [] for name in models}
    names = list(models)
    for call in range(calls):
        for name in names[call % len(names):] + names[:call % len(names)]:
            model, method = models[name]
            row = rows[name]
            started = time.perf_counter()
            getattr(model, method)(row)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) for name, t in times.items()}


def many_rows_time(models, X, repeats):
    """Best seconds of ``repeats`` calls on ``X`` for each ``(model, method)``, interleaved."""
    times = {name: [] for name in models}
    for repeat in range(repeats):
        for name in (list(models) if repeat % 2 == 0 else list(models)[::-1]):
            model, method = models[name]
            started = time.perf_counter()
            getattr(model, method)(X)
            times[name].append(time.perf_counter() - started)
    return {name: min(t) for name, t in times.items()}


def run_task(task, args):
    """Fit, time and print one task's table."""
    print(f"\n## {task}: fit on {args.fit_rows:,} x {args.features}, n_jobs={args.n_jobs}, "
          f"{args.trees} trees/rounds per tree model, 5 folds", flush=True)
    X, y = data(task, args.fit_rows, args.features, seed=0)
    X_new, _ = data(task, args.rows, args.features, seed=1)
    stacks, alone, meta_row = fitted_models(task, X, y, args)
    method = "predict_proba" if task == "classification" else "predict"
    timed = {name: (stack, method) for name, stack in stacks.items()}
    rows = {name: X_new[:1] for name in stacks}
    for name, model in alone.items():
        own = method if name != "final" or task == "classification" else "predict"
        timed[f"member {name}"] = (model, own)
        rows[f"member {name}"] = meta_row if name == "final" else X_new[:1]
    print(f"  load before timing: {os.getloadavg()}", flush=True)
    latency = one_row_latency(timed, rows, args.calls)
    bulk = many_rows_time({name: timed[name] for name in stacks}, X_new, args.repeats)
    print(f"  load after timing: {os.getloadavg()}", flush=True)
    report(latency, bulk, args.rows)


def report(latency, bulk, n_rows):
    """Print the times, then the ratios of issue 14."""
    members_sum = sum(t for name, t in latency.items()
                      if name.startswith("member ") and name != "member final")
    with_final = members_sum + latency["member final"]
    print(f"\n| model | one row (ms, median) | {n_rows:,} rows (s, best) |")
    print("|---|---:|---:|")
    for name, seconds in latency.items():
        many = f"{bulk[name]:.3f}" if name in bulk else ""
        print(f"| {name} | {seconds * 1e3:.3f} | {many} |")
    print(f"| sum of base members | {members_sum * 1e3:.3f} | |")
    print(f"| sum of base members + final | {with_final * 1e3:.3f} | |")
    print("\n| ratio | one row | many rows |")
    print("|---|---:|---:|")
    for top, bottom in (("refit=False", "refit=True"), ("refit=True", "sklearn"),
                        ("refit=False", "sklearn")):
        print(f"| {top} / {bottom} | {latency[top] / latency[bottom]:.2f}x "
              f"| {bulk[top] / bulk[bottom]:.2f}x |")
    for name in ("refit=True", "refit=False", "sklearn"):
        print(f"| {name} / (members + final) | {latency[name] / with_final:.2f}x | |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("classification", "regression", "both"),
                        default="both")
    parser.add_argument("--fit-rows", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the bulk predict")
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--calls", type=int, default=200, help="one-row calls per model")
    parser.add_argument("--repeats", type=int, default=3, help="bulk calls per model")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.fit_rows, args.rows, args.trees, args.calls, args.repeats = 2000, 5000, 20, 20, 1
    print(f"load average: {os.getloadavg()}, cores: {os.cpu_count()}")
    for task in (("classification", "regression") if args.task == "both" else (args.task,)):
        run_task(task, args)
    print(f"\nload average: {os.getloadavg()}")
    print("command: python benchmarks/bench_predict.py " + " ".join(argv or sys.argv[1:]))


if __name__ == "__main__":
    main()
