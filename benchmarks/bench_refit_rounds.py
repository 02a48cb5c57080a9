"""Refit-rounds benchmark: should the early-stopped refit scale the folds' rounds?

With ``refit=True`` an early-stopped booster is refit on all rows for a number of rounds
derived from its fold models. This script measures two choices on the same folds and
the same holdout rows, everything else equal:

- **unscaled**: the folds' mean rounds (what stackkit's refit trains, since this
  measurement);
- **scaled**: the folds' mean rounds times (all rows / rows a fold model was fit on),
  capped at the booster's ``n_estimators`` (what it trained before).

For each dataset and seed: a seeded subsample (``--rows``), an 80/20 holdout (stratified
for binary targets), ``StackingClassifier``/``StackingRegressor`` with one booster of
the preset (``stackkit.presets.default_estimators``: learning rate 0.05, at most 2000
rounds, 50 rounds of patience) over 5 folds with ``refit=False`` to get the rounds each
fold kept, then the booster refit on all training rows twice, early stopping off, for
each number of rounds. It prints the holdout ROC AUC and log loss (binary) or RMSE
(regression) of both refits, and per dataset how often scaling helped and its mean
gain (AUC and log loss in absolute terms, RMSE in percent; positive: scaling helped).

Run it by hand from the repository root (it is not a test; a few minutes on 2 cores)::

    python benchmarks/bench_refit_rounds.py
    python benchmarks/bench_refit_rounds.py --datasets adult --seeds 1 --rows 4000
"""

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.metrics import log_loss, roc_auc_score, root_mean_squared_error
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import bench_fit  # noqa: E402
from stackkit import StackingClassifier, StackingRegressor  # noqa: E402
from stackkit._early_stopping import inner_split, stopper  # noqa: E402
from stackkit.presets import default_estimators  # noqa: E402

DATASETS = "adult,magic_telescope,california_housing,diamonds"
BOOSTERS = ("xgb", "lgbm")
N_FOLDS = 5


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=DATASETS,
                        help=f"comma-separated binary or regression datasets ({DATASETS})")
    parser.add_argument("--rows", type=int, default=10_000,
                        help="rows sampled from each dataset before the holdout split")
    parser.add_argument("--seeds", type=int, default=2,
                        help="seeds per dataset (subsample, holdout and folds)")
    parser.add_argument("--n-jobs", type=int, default=2, help="n_jobs of the fold fits")
    parser.add_argument("--data-dir", type=Path, default=bench_fit.DEFAULT_DATA_DIR)
    return parser.parse_args(argv)


def load_split(name, data_dir, rows, seed):
    """``(X_train, X_test, y_train, y_test, task)``: a seeded subsample, 80/20."""
    if str(data_dir) not in sys.path:
        sys.path.insert(0, str(data_dir))
    from load import load

    X, y, info = load(name)
    task = info["task"]
    if task not in ("binary", "regression"):
        raise SystemExit(f"{name} is {task}; this benchmark takes binary or regression data")
    if len(X) > rows:
        keep = np.sort(np.random.default_rng(seed).choice(len(X), rows, replace=False))
        X, y = X.iloc[keep], y.iloc[keep]
    stratify = y if task == "binary" else None
    splits = train_test_split(X, y, test_size=0.2, random_state=seed, stratify=stratify)
    return (*splits, task)


def fold_rounds(booster, X, y, task, seed, n_jobs):
    """The rounds each fold model kept, and the mean rows the fold models were fit on."""
    if task == "binary":
        cv = StratifiedKFold(N_FOLDS, shuffle=True, random_state=seed)
        stack = StackingClassifier([("b", booster)], cv=cv, refit=False, n_jobs=n_jobs)
    else:
        cv = KFold(N_FOLDS, shuffle=True, random_state=seed)
        stack = StackingRegressor([("b", booster)], cv=cv, refit=False, n_jobs=n_jobs)
    stack.fit(X, y)
    y_codes = np.asarray(y)
    kind = "binary" if task == "binary" else "continuous"
    fit_rows = [len(inner_split(train, y_codes[train], kind)[0])
                for train, _ in cv.split(X, y_codes)]
    return stack.best_iterations_["b"], float(np.mean(fit_rows))


def refit_score(booster, rounds, data):
    """Holdout scores of ``booster`` refit on all training rows for ``rounds``, unstopped."""
    X_train, X_test, y_train, y_test, task = data
    adapter = stopper(booster)
    model = clone(booster).set_params(**adapter.without_stopping(booster.get_params()),
                                      n_estimators=rounds, n_jobs=2)
    model.fit(X_train, y_train)
    if task == "regression":
        return {"rmse": root_mean_squared_error(y_test, model.predict(X_test))}
    proba = model.predict_proba(X_test)[:, 1]
    return {"auc": roc_auc_score(y_test, proba), "log_loss": log_loss(y_test, proba)}


def bench(dataset, seed, booster_name, args):
    """One row of the table: both refits of one booster on one dataset and seed."""
    data = load_split(dataset, args.data_dir, args.rows, seed)
    X_train, _, y_train, _, task = data
    booster = dict(default_estimators(task, device="cpu", random_state=seed))[booster_name]
    rounds, fit_rows = fold_rounds(booster, X_train, y_train, task, seed, args.n_jobs)
    ratio = len(y_train) / fit_rows
    unscaled = max(1, round(rounds.mean()))
    scaled = min(booster.n_estimators, max(1, round(rounds.mean() * ratio)))
    row = {"dataset": dataset, "seed": seed, "booster": booster_name, "task": task,
           "folds": rounds, "ratio": ratio, "unscaled": unscaled, "scaled": scaled,
           "a": refit_score(booster, unscaled, data), "b": refit_score(booster, scaled, data)}
    print(f"  {dataset} seed {seed} {booster_name}: fold rounds {rounds.tolist()}, "
          f"unscaled {unscaled} {row['a']}, scaled {scaled} {row['b']}", flush=True)
    return row


def change(row, metric):
    """Scaled against unscaled, positive when scaling helped (relative for RMSE)."""
    diff = row["b"][metric] - row["a"][metric]
    return {"auc": diff, "log_loss": -diff, "rmse": -diff / row["a"][metric]}[metric]


def details_table(rows):
    """One line per refit pair and metric."""
    lines = ["| dataset | seed | booster | fold rounds (mean ± sd) | rows ratio | unscaled "
             "rounds | scaled rounds | metric | unscaled | scaled | scaling helped by |",
             "|---|---:|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        for metric in r["a"]:
            lines.append(
                f"| {r['dataset']} | {r['seed']} | {r['booster']} | {r['folds'].mean():.0f} ± "
                f"{r['folds'].std():.0f} | {r['ratio']:.3f} | {r['unscaled']} | {r['scaled']} "
                f"| {metric} | {r['a'][metric]:.4f} | {r['b'][metric]:.4f} "
                f"| {_signed(change(r, metric), metric)} |")
    return "\n".join(lines)


def _signed(gain, metric):
    return f"{100 * gain:+.2f}%" if metric == "rmse" else f"{gain:+.4f}"


def summary_table(rows):
    """Per dataset and metric, and over all: how often and by how much scaling helped."""
    lines = ["| dataset | metric | refit pairs | scaling helped in | mean gain of scaling |",
             "|---|---|---:|---:|---:|"]
    groups = [(d, m) for d in dict.fromkeys(r["dataset"] for r in rows)
              for m in ("auc", "log_loss", "rmse")]
    groups += [("all", m) for m in ("auc", "log_loss", "rmse")]
    for dataset, metric in groups:
        gains = [change(r, metric) for r in rows
                 if dataset in ("all", r["dataset"]) and metric in r["a"]]
        if gains:
            lines.append(f"| {dataset} | {metric} | {len(gains)} | "
                         f"{sum(g > 0 for g in gains)} | {_signed(np.mean(gains), metric)} |")
    return "\n".join(lines)


def main(argv=None):
    """Run the benchmark and print the table and the command line."""
    args = parse_args(argv)
    print(bench_fit.environment(), flush=True)
    start = time.perf_counter()
    rows = [bench(dataset, seed, booster, args)
            for dataset in args.datasets.split(",")
            for seed in range(args.seeds)
            for booster in BOOSTERS]
    print("\n" + details_table(rows) + "\n\n" + summary_table(rows))
    print(f"\nwall time {time.perf_counter() - start:.0f} s")
    print(f"\nafter the run: {bench_fit.machine_load()}")
    print("\ncommand: python " + shlex.join(sys.argv))


if __name__ == "__main__":
    main()
