"""Booster benchmark: early stopping inside folds against a fixed number of rounds.

Fits the preset stack (``stackkit.presets.default_estimators``: a linear model, extra
trees, XGBoost and LightGBM at learning rate 0.05) twice on the same folds, in the
same run:

- **early stopping**: the preset as it is; each booster fold stops after 50 rounds
  without improvement on 10% of its training fold, and the refit trains the folds'
  mean rounds;
- **fixed rounds**: the same boosters with early stopping off, training all
  ``--fixed-rounds`` rounds (default 2000, the preset's cap) in every fold and refit.

It prints the booster fit time (the summed ``fit_time`` of the XGBoost and LightGBM
tasks in ``task_log_``), the stack's wall time, and the holdout score of the stack and
of each refit booster. Target: early stopping cuts booster fit time by >= 30% at equal
(within 0.001 AUC / 0.1% RMSE) or better holdout score. A GPU section fits the preset
with ``device="cuda"`` when a CUDA device is visible and says it is skipped otherwise.

Run it by hand from the repository root (it is not a test)::

    python benchmarks/bench_boosters.py                      # adult, 48,842 rows
    python benchmarks/bench_boosters.py --datasets adult,diamonds
    python benchmarks/bench_boosters.py --quick              # 3,000-row smoke run
"""

import argparse
import shlex
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from sklearn.metrics import roc_auc_score, root_mean_squared_error  # noqa: E402
from sklearn.model_selection import KFold, StratifiedKFold  # noqa: E402

import bench_fit  # noqa: E402
from stackkit import StackingClassifier, StackingRegressor  # noqa: E402
from stackkit._gpu import visible_gpus  # noqa: E402
from stackkit.presets import MAX_ROUNDS, default_estimators  # noqa: E402

BOOSTERS = ("xgb", "lgbm")


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="adult",
                        help="comma-separated binary or regression datasets (default adult)")
    parser.add_argument("--n-jobs", type=int, default=2, help="n_jobs of the stacks")
    parser.add_argument("--fixed-rounds", type=int, default=MAX_ROUNDS,
                        help=f"rounds of the fixed-rounds boosters (default {MAX_ROUNDS})")
    parser.add_argument("--quick", action="store_true", help="3,000-row subsets")
    parser.add_argument("--data-dir", type=Path, default=bench_fit.DEFAULT_DATA_DIR)
    return parser.parse_args(argv)


def make_stack(task, n_jobs, *, fixed_rounds=None, device="cpu"):
    """The preset stack; with ``fixed_rounds`` its boosters train that many rounds, unstopped."""
    estimators = default_estimators(task, device=device)
    if fixed_rounds is not None:
        named = dict(estimators)
        named["xgb"].set_params(early_stopping_rounds=None, n_estimators=fixed_rounds)
        named["lgbm"].set_params(early_stopping_round=0, n_estimators=fixed_rounds)
    if task == "regression":
        return StackingRegressor(estimators, cv=KFold(5, shuffle=True, random_state=0),
                                 n_jobs=n_jobs)
    return StackingClassifier(estimators, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                              n_jobs=n_jobs)


def score(model, X, y, task):
    """Holdout ROC AUC (binary) or RMSE (regression)."""
    if task == "regression":
        return root_mean_squared_error(y, model.predict(X))
    return roc_auc_score(y, model.predict_proba(X)[:, 1])


def run(name, stack, data):
    """Fit one stack; return its row of the table."""
    X_train, X_test, y_train, y_test, task = data
    start = time.perf_counter()
    stack.fit(X_train, y_train)
    wall = time.perf_counter() - start
    log = stack.task_log_
    row = {"stack": name, "wall": wall,
           "booster_fit": log.fit_time[log.estimator.isin(BOOSTERS)].sum(),
           "score": score(stack, X_test, y_test, task)}
    for booster in BOOSTERS:
        row[f"{booster}_score"] = score(stack.named_estimators_[booster], X_test, y_test, task)
        rounds = stack.best_iterations_.get(booster)
        row[f"{booster}_rounds"] = "—" if rounds is None else f"{rounds.mean():.0f}"
    print(f"    {name:<15} wall {wall:6.1f} s, booster fits {row['booster_fit']:6.1f} s, "
          f"holdout {row['score']:.4f}", flush=True)
    return row


def bench_dataset(dataset, args):
    """Both stacks on one dataset (and the GPU preset when a GPU is visible)."""
    data = bench_fit.load_dataset(dataset, args.data_dir, args.quick)
    task = data[-1]
    print(f"{dataset}: {len(data[0]):,} training rows, {len(data[1]):,} holdout rows", flush=True)
    rows = [run("early stopping", make_stack(task, args.n_jobs), data),
            run(f"{args.fixed_rounds} rounds",
                make_stack(task, args.n_jobs, fixed_rounds=args.fixed_rounds), data)]
    if visible_gpus():
        rows.append(run("early stop, GPU", make_stack(task, args.n_jobs, device="cuda"), data))
    else:
        print("    GPU section skipped: no CUDA device is visible on this machine", flush=True)
    return task, rows


def markdown_table(dataset, task, rows):
    """One dataset's results as a markdown table, and the verdict on the target."""
    metric = "AUC" if task == "binary" else "RMSE"
    lines = [f"| {dataset} | wall (s) | booster fits (s) | stack {metric} | xgb {metric} "
             "(mean rounds) | lgbm " + metric + " (mean rounds) |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['stack']} | {r['wall']:.1f} | {r['booster_fit']:.1f} "
                     f"| {r['score']:.4f} | {r['xgb_score']:.4f} ({r['xgb_rounds']}) "
                     f"| {r['lgbm_score']:.4f} ({r['lgbm_rounds']}) |")
    stopped, fixed = rows[0], rows[1]
    cut = 1 - stopped["booster_fit"] / fixed["booster_fit"]
    better = stopped["score"] - fixed["score"]
    if task == "regression":
        better = -better / fixed["score"]
    verdict = "met" if cut >= 0.30 and better >= -0.001 else "missed"
    lines.append(f"\nbooster fit time cut by {100 * cut:.0f}% (target >= 30%); stack score "
                 f"{'+' if better >= 0 else ''}{better:.4f} vs fixed rounds "
                 f"({'relative RMSE gain' if task == 'regression' else 'AUC'}): target {verdict}")
    return "\n".join(lines)


def main(argv=None):
    """Run the benchmark and print the tables and the command line."""
    args = parse_args(argv)
    print(bench_fit.environment(), flush=True)
    tables = [markdown_table(d, *bench_dataset(d, args)) for d in args.datasets.split(",")]
    print("\n" + "\n\n".join(tables))
    print(f"\nafter the run: {bench_fit.machine_load()}")
    print("\ncommand: python " + shlex.join(sys.argv))


if __name__ == "__main__":
    main()
