"""A second stack layer, by measurement: does it help, and would a holdout check know?

For every table: a seeded 75/25 split (stratified for classification), training rows
capped at ``--max-train-rows`` (a stratified sample). Two stacks of the "best" portfolio
(``stackkit.presets.portfolio_stack``), both cut to its first ``--members``
configurations so that a table takes minutes:

- one layer: the members under the measured final estimator;
- two layers (``layers=2``): the same first layer with ``passthrough=True`` under a
  second layer, the same members again fit on the first layer's out-of-fold predictions
  beside the original columns, on the same folds, under the measured final estimator.

Both are fit on the training rows and scored on the test rows (ROC AUC, log loss, R2).
Then the holdout check a ``layers="auto"`` would make (AutoGluon's dynamic stacking):
both stacks fit again on 8/9 of the training rows (a stratified split, seed 0), scored
on the other 1/9; the check picks two layers only if they score better there. Printed
per table: the test scores, the gain of the second layer, the holdout gain, the check's
pick and what the pick costs against the better of the two on the test rows (its
regret). The first layer's tasks are cached between the two stacks (``memory``), so the
second costs only its second layer.

Run it by hand from the repository root on an otherwise idle machine (not a test)::

    python benchmarks/bench_layers.py                     # 12 tables, ~30 min on 2 cores
    python benchmarks/bench_layers.py --datasets credit_g,wine_quality --members 4
"""

import argparse
import shlex
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import log_loss, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

from stackkit.presets import portfolio_stack

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = HERE.parents[1] / "shared" / "data"
DATASETS = ("credit_g,adult,electricity,magic_telescope,nyc_flights_delay,connect_4,kddcup99,"
            "california_housing,diamonds,bike_sharing,wine_quality,us_births")
HOLDOUT = 1 / 9
TIE = {"binary": 0.0005, "multiclass": 0.001, "regression": 0.0005}  # log loss: relative


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=DATASETS, help="comma-separated names")
    parser.add_argument("--members", type=int, default=6,
                        help="the portfolio's first N configurations, in both layers (6)")
    parser.add_argument("--max-train-rows", type=int, default=3000)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    return parser.parse_args(argv)


def load_split(name, args):
    """``(task, X_train, X_test, y_train, y_test)``: the seeded split, training rows capped."""
    if str(args.data_dir) not in sys.path:
        sys.path.insert(0, str(args.data_dir))
    from load import load

    X, y, info = load(name)
    task = info["task"]
    stratify = None if task == "regression" else y
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=stratify)
    if len(X_train) > args.max_train_rows:
        stratify = None if task == "regression" else y_train
        X_train, _, y_train, _ = train_test_split(
            X_train, y_train, train_size=args.max_train_rows, random_state=0, stratify=stratify)
    return task, X_train, X_test, y_train, y_test


def score(task, stack, X, y):
    """The task's metric, higher is better (log loss negated)."""
    if task == "regression":
        return r2_score(y, stack.predict(X))
    proba = stack.predict_proba(X)
    if task == "binary":
        return roc_auc_score(y, proba[:, 1])
    # a rare class the training sample missed has probability 0 (log loss clips it)
    labels = np.union1d(stack.classes_, np.unique(y))
    full = np.zeros((len(proba), len(labels)))
    full[:, np.searchsorted(labels, stack.classes_)] = proba
    return -log_loss(y, full, labels=labels)


def stacks(task, members, memory, n_jobs):
    """``{1: one-layer stack, 2: two-layer stack}``, both of the first ``members``."""
    built = {}
    for layers in (1, 2):
        stack = portfolio_stack(task, layers=layers, n_jobs=n_jobs)
        stack.set_params(estimators=stack.estimators[:members], memory=memory)
        if layers == 2:
            stack.set_params(final_estimator__estimators=stack.estimators[:members])
        built[layers] = stack
    return built


def fit_and_score(task, members, X_fit, y_fit, X_score, y_score, n_jobs):
    """``{layers: (score, fit seconds)}`` of both stacks fit on one part, scored on another."""
    out = {}
    with tempfile.TemporaryDirectory() as memory:
        for layers, stack in stacks(task, members, memory, n_jobs).items():
            start = time.perf_counter()
            stack.fit(X_fit, y_fit)
            out[layers] = (score(task, stack, X_score, y_score), time.perf_counter() - start)
    return out


def bench_table(name, args):
    """One table's row: test scores of both stacks and the holdout check's pick."""
    task, X_train, X_test, y_train, y_test = load_split(name, args)
    test = fit_and_score(task, args.members, X_train, y_train, X_test, y_test, args.n_jobs)
    fit_rows, check_rows = train_test_split(
        np.arange(len(X_train)), test_size=HOLDOUT, random_state=0,
        stratify=None if task == "regression" else y_train)
    check = fit_and_score(task, args.members, X_train.iloc[fit_rows], y_train.iloc[fit_rows],
                          X_train.iloc[check_rows], y_train.iloc[check_rows], args.n_jobs)
    pick = 2 if check[2][0] > check[1][0] else 1
    best = max(test[1][0], test[2][0])
    return {"dataset": name, "task": task, "rows": len(X_train),
            "one": test[1][0], "two": test[2][0], "gain": test[2][0] - test[1][0],
            "fit_one": test[1][1], "fit_two": test[2][1],
            "holdout_gain": check[2][0] - check[1][0], "pick": pick,
            "regret": best - test[pick][0]}


def tie(row):
    """The table's tie tolerance (log loss: relative to the one-layer loss)."""
    width = TIE[row["task"]]
    return width * abs(row["one"]) if row["task"] == "multiclass" else width


def report(rows):
    """Print the table and the verdict."""
    print(f"{'dataset':20s} {'task':10s} {'rows':>6s} {'1 layer':>9s} {'2 layers':>9s} "
          f"{'gain':>8s} {'fit 1':>6s} {'fit 2':>6s} {'holdout':>8s} {'pick':>4s} {'regret':>7s}")
    for r in rows:
        print(f"{r['dataset']:20s} {r['task']:10s} {r['rows']:6d} {r['one']:9.4f} "
              f"{r['two']:9.4f} {r['gain']:+8.4f} {r['fit_one']:6.0f} {r['fit_two']:6.0f} "
              f"{r['holdout_gain']:+8.4f} {r['pick']:4d} {r['regret']:7.4f}")
    helps = sum(r["gain"] > tie(r) for r in rows)
    hurts = sum(r["gain"] < -tie(r) for r in rows)
    picks = sum(r["pick"] == 2 for r in rows)
    print(f"\nscores: log loss negated, higher is better. Two layers better on {helps}, "
          f"worse on {hurts}, level on {len(rows) - helps - hurts} of {len(rows)} tables; "
          f"the holdout check picks two layers on {picks}; mean regret of its pick "
          f"{np.mean([r['regret'] for r in rows]):.4f} (always one layer: "
          f"{np.mean([max(r['gain'], 0) for r in rows]):.4f})")


def main(argv=None):
    """Run the benchmark."""
    args = parse_args(argv)
    warnings.simplefilter("ignore")  # the boosters' chatter; failures still raise
    print("command: python " + shlex.join(["benchmarks/bench_layers.py", *sys.argv[1:]]))
    rows = []
    for name in args.datasets.split(","):
        rows.append(bench_table(name, args))
        r = rows[-1]
        print(f"  {name}: 1 layer {r['one']:.4f}, 2 layers {r['two']:.4f}, "
              f"holdout gain {r['holdout_gain']:+.4f}", flush=True)
    report(rows)


if __name__ == "__main__":
    main()
