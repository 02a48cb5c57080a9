"""Bagging benchmark: 8 folds without refits (AutoGluon's bagging) against 5 folds with refits.

The quick preset (``default_estimators(task)``: linear, extra trees, XGBoost, LightGBM,
boosters early-stopped) with the default final estimator, under four settings:
``cv=8, refit=False`` (predictions average the 8 fold models, no extra fit), ``cv=5,
refit=True`` (scikit-learn's semantics: one more model per estimator on all rows), and for
completeness ``cv=5, refit=False`` and ``cv=8, refit=True``. Every fit starts cold (no
cache), so its wall-clock seconds are what a user waits. Printed per table: the holdout
score (ROC AUC for binary, log loss for multiclass, R2 for regression), fit seconds, and
predict seconds per 1,000 rows; then one verdict per task comparing ``cv=8, refit=False``
with ``cv=5, refit=True``.

Each table is subsampled (seed 0) so that the 75/25 split (seed 0) leaves at most
``--max-rows`` training rows (default 10,000, to spare a shared machine). Timings on a
busy machine are noisy: the load average is printed before and after. Run it by hand
from the repository root (not a test)::

    nice -n 10 python benchmarks/bench_bagging.py
    nice -n 10 python benchmarks/bench_bagging.py --datasets credit_g,wine_quality
"""

import argparse
import shlex
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import log_loss, r2_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import KFold, StratifiedKFold  # noqa: E402

import bench_fit  # noqa: E402
from bench_final_estimator import load_split  # noqa: E402
from stackkit import StackingClassifier, StackingRegressor  # noqa: E402
from stackkit.presets import default_estimators  # noqa: E402

DATASETS = "magic_telescope,adult,connect_4,california_housing,wine_quality"
SETTINGS = [(8, False), (5, True), (5, False), (8, True)]  # (folds, refit); the first two compared
METRIC = {"binary": ("ROC AUC", True), "multiclass": ("log loss", False),
          "regression": ("R2", True)}


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=DATASETS, help=f"default {DATASETS}")
    parser.add_argument("--max-rows", type=int, default=10000,
                        help="training rows at most, after the 75/25 split (default 10,000)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=bench_fit.DEFAULT_DATA_DIR)
    return parser.parse_args(argv)


def holdout_score(task, stack, X_test, y_test):
    """The task's metric on the holdout, and the predict seconds per 1,000 rows."""
    start = time.perf_counter()
    output = stack.predict(X_test) if task == "regression" else stack.predict_proba(X_test)
    per_thousand = (time.perf_counter() - start) / len(X_test) * 1000
    if task == "regression":
        return r2_score(y_test, output), per_thousand
    if task == "binary":
        return roc_auc_score(y_test, output[:, 1]), per_thousand
    return log_loss(y_test, output, labels=stack.classes_), per_thousand


def bench_setting(task, data, n_folds, refit, n_jobs):
    """One cold fit under (n_folds, refit): its row of the table."""
    X_train, X_test, y_train, y_test = data
    splitter = KFold if task == "regression" else StratifiedKFold
    stack_class = StackingRegressor if task == "regression" else StackingClassifier
    stack = stack_class(default_estimators(task, device="cpu"),
                        cv=splitter(n_folds, shuffle=True, random_state=0), refit=refit,
                        n_jobs=n_jobs)
    start = time.perf_counter()
    stack.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    score, predict_seconds = holdout_score(task, stack, X_test, y_test)
    return {"setting": f"cv={n_folds}, refit={refit}", "score": score,
            "fit s": fit_seconds, "predict s / 1k rows": predict_seconds}


def bench_dataset(name, args):
    """Every setting on one table; returns its task and rows."""
    X_train, X_test, y_train, y_test, task = load_split(name, args.data_dir, args.max_rows)
    rows = []
    for n_folds, refit in SETTINGS:
        row = bench_setting(task, (X_train, X_test, y_train, y_test), n_folds, refit,
                            args.n_jobs)
        rows.append({"dataset": name, "task": task, "train rows": len(X_train)} | row)
        print(f"  {name}: {row}", flush=True)
    return rows


def verdicts(table):
    """One line per task: cv=8 without refits against cv=5 with refits."""
    lines = []
    for task, rows in table.groupby("task", sort=False):
        metric, higher = METRIC[task]
        bagged = rows[rows.setting == "cv=8, refit=False"].set_index("dataset")
        refit = rows[rows.setting == "cv=5, refit=True"].set_index("dataset")
        gain = (bagged.score - refit.score) * (1 if higher else -1)
        fit_ratio = (bagged["fit s"] / refit["fit s"]).mean()
        predict_ratio = (bagged["predict s / 1k rows"] / refit["predict s / 1k rows"]).mean()
        better = "better" if gain.mean() > 0 else "worse" if gain.mean() < 0 else "level"
        lines.append(
            f"- {task}: cv=8, refit=False is {better} than cv=5, refit=True by "
            f"{gain.mean():+.4f} {metric} on average (per table: "
            + ", ".join(f"{d} {g:+.4f}" for d, g in gain.items())
            + f"); fit time x{fit_ratio:.2f}, predict time x{predict_ratio:.2f}")
    return "\n".join(lines)


def markdown(table):
    """The rows as one markdown table."""
    lines = ["| dataset | task (metric) | train rows | setting | score | fit s "
             "| predict s / 1k rows |", "|---|---|---:|---|---:|---:|---:|"]
    for _, r in table.iterrows():
        lines.append(f"| {r.dataset} | {r.task} ({METRIC[r.task][0]}) | {r['train rows']} "
                     f"| {r.setting} | {r.score:.4f} | {r['fit s']:.1f} "
                     f"| {r['predict s / 1k rows']:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    """Run every table, print the table, the verdicts and the command."""
    args = parse_args(argv)
    print(bench_fit.environment(), flush=True)
    rows = [row for name in args.datasets.split(",") for row in bench_dataset(name, args)]
    table = pd.DataFrame(rows)
    print("\n" + markdown(table) + "\n\n" + verdicts(table))
    print(f"\nafter the run: {bench_fit.machine_load()}")
    print("\ncommand: python " + shlex.join(sys.argv))


if __name__ == "__main__":
    main()
