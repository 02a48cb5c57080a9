"""Choose the "best" portfolio of ``stackkit.presets`` and its final estimator, by measurement.

For every dataset in ``../shared/data`` (all twelve unless ``--datasets``), a seeded
sample of at most ``--max-rows`` rows (3,000; stratified for classification, every class
kept with at least two rows per fold) is cut into the same 5 shuffled folds for every
candidate configuration of its task (:data:`CANDIDATES`, records that
``stackkit.presets.build_estimator`` turns into estimators; a library that is not
installed loses its candidates, and the run records which libraries it had). Each
candidate is fit as a one-model stack (``refit=False``), whose ``oof_`` is the
candidate's out-of-fold prediction; its score (ROC AUC, log loss or RMSE, the manifest's
first suggested metric) and its fit seconds (summed over the folds' tasks) are recorded.

The order is chosen per task by greedy forward selection (TabRepo's zeroshot portfolio):
at each step, every remaining candidate is added to the portfolio so far, the portfolio
is scored on each dataset as the greedy ensemble selection with replacement (Caruana,
25 rounds, log loss or squared error) of its members' out-of-fold predictions, and the
candidate whose portfolio has the best average rank across the task's datasets is taken.
The ensemble, not the best member alone, is scored because the stack combines its
members: a diverse model that is never best on its own still earns its place. Cost: of
the candidates whose average rank is within ``--slack`` (1.0) of the best, the one with
the fewest mean fit seconds is taken, so a cheap configuration that is nearly as good
comes first (under a time limit only the first models of the list run on large data).

Then the final estimators (ensemble selection with 25 rounds, NNLS, the log-loss blend,
logistic regression / RidgeCV, the best model) are compared on the chosen portfolio's
out-of-fold predictions under an inner 5-fold CV of those rows; the best average rank
wins. The script writes ``stackkit/_portfolio.py`` (the records, the final estimator and
what it was built from) and ``benchmarks/results/portfolio_candidates.csv`` and
``portfolio.md``. Out-of-fold predictions are cached in ``--cache-dir`` (a temporary
folder by default, never committed), so a rerun with other selection settings is quick.

Run it from the repository root (about 30 minutes on 2 cores)::

    nice -n 10 python benchmarks/build_portfolio.py
    python benchmarks/build_portfolio.py --datasets credit_g,wine_quality --max-rows 500
"""

import argparse
import datetime
import importlib.metadata
import pprint
import shlex
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import log_loss, roc_auc_score, root_mean_squared_error
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict, train_test_split

from stackkit import StackingClassifier, StackingRegressor
from stackkit.presets import (
    FINAL_FAMILIES, LIBRARIES, TASKS, build_estimator, is_available,
)

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the repository (or beside the folder of worktrees)
DATA_DIR = next((p / "shared" / "data" for p in ROOT.parents[:2]
                 if (p / "shared" / "data").exists()), ROOT.parent / "shared" / "data")
SEED = 0
METRICS = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


def _records(prefix, family, variants, base=None):
    return [{"name": f"{prefix}{suffix}", "family": family, "params": {**(base or {}), **params}}
            for suffix, params in variants]


_LGBM = _records("lgbm", "lightgbm", [
    ("", {"num_leaves": 31, "learning_rate": 0.05, "subsample": 0.8, "subsample_freq": 1,
          "colsample_bytree": 0.8}),
    ("_l7_lr10", {"num_leaves": 7, "learning_rate": 0.1}),
    ("_l15_lr10", {"num_leaves": 15, "learning_rate": 0.1, "colsample_bytree": 0.8}),
    ("_l63_mcs10", {"num_leaves": 63, "learning_rate": 0.05, "min_child_samples": 10,
                    "colsample_bytree": 0.6}),
    ("_l127_lr10", {"num_leaves": 127, "learning_rate": 0.1, "min_child_samples": 5,
                    "colsample_bytree": 0.7}),
    ("_l31_l2_mcs50", {"num_leaves": 31, "learning_rate": 0.05, "reg_lambda": 5.0,
                       "min_child_samples": 50, "colsample_bytree": 0.5}),
    ("_xt_l31", {"extra_trees": True, "num_leaves": 31, "learning_rate": 0.05,
                 "colsample_bytree": 0.8}),
    ("_xt_l63_lr10", {"extra_trees": True, "num_leaves": 63, "learning_rate": 0.1,
                      "min_child_samples": 10}),
])
_XGB = _records("xgb", "xgboost", [
    ("", {"max_depth": 6, "learning_rate": 0.05, "subsample": 0.8, "colsample_bytree": 0.8}),
    ("_d3_lr10", {"max_depth": 3, "learning_rate": 0.1}),
    ("_d4_l2_mcw5", {"max_depth": 4, "learning_rate": 0.05, "reg_lambda": 5.0,
                     "min_child_weight": 5, "colsample_bytree": 0.5}),
    ("_d8_mcw3", {"max_depth": 8, "learning_rate": 0.05, "min_child_weight": 3,
                  "colsample_bytree": 0.6, "subsample": 0.8}),
    ("_d10_lr10", {"max_depth": 10, "learning_rate": 0.1, "colsample_bytree": 0.5,
                   "subsample": 0.7}),
    ("_lossguide_l63", {"grow_policy": "lossguide", "max_depth": 0, "max_leaves": 63,
                        "learning_rate": 0.05, "colsample_bytree": 0.8}),
])
_CATBOOST = _records("cat", "catboost", [
    ("_d6", {"depth": 6, "iterations": 400, "learning_rate": 0.08}),
    ("_d4_lr10", {"depth": 4, "iterations": 400, "learning_rate": 0.1}),
    ("_d8_l2_10", {"depth": 8, "iterations": 300, "learning_rate": 0.08, "l2_leaf_reg": 10}),
])
_HGB = _records("hgb", "hist_gradient_boosting", [
    ("_l31_lr10", {"max_leaf_nodes": 31, "learning_rate": 0.1}),
    ("_l15_lr10", {"max_leaf_nodes": 15, "learning_rate": 0.1, "l2_regularization": 1.0}),
    ("_l63_msl10", {"max_leaf_nodes": 63, "learning_rate": 0.05, "min_samples_leaf": 10}),
])
_KNN = _records("knn", "knn", [
    ("5", {"n_neighbors": 5}),
    ("15_dist", {"n_neighbors": 15, "weights": "distance"}),
    ("50_dist", {"n_neighbors": 50, "weights": "distance"}),
])


def _forests(second):
    """ExtraTrees and random-forest variants; ``second``: the task's other split criterion."""
    trees = {"n_estimators": 200}
    return _records("et", "extra_trees", [
        ("_sqrt_l2", {"max_features": "sqrt", "min_samples_leaf": 2}),
        ("_sqrt_l1", {"max_features": "sqrt", "min_samples_leaf": 1}),
        ("_half_l1", {"max_features": 0.5, "min_samples_leaf": 1}),
        ("_all_l5", {"max_features": 1.0, "min_samples_leaf": 5}),
        (f"_sqrt_l1_{second[0]}", {"max_features": "sqrt", "min_samples_leaf": 1, **second[1]}),
    ], trees) + _records("rf", "random_forest", [
        ("_sqrt_l1", {"max_features": "sqrt", "min_samples_leaf": 1}),
        ("_sqrt_l5", {"max_features": "sqrt", "min_samples_leaf": 5}),
        ("_half_l2", {"max_features": 0.5, "min_samples_leaf": 2}),
        (f"_sqrt_l1_{second[0]}", {"max_features": "sqrt", "min_samples_leaf": 1, **second[1]}),
    ], trees)


_LOGISTIC = _records("logreg", "linear", [("_c1", {"C": 1.0}), ("_c01", {"C": 0.1}),
                                          ("_c10", {"C": 10.0})])
_RIDGE = _records("ridge", "linear", [("_cv", {}), ("_cv_wide", {"alphas": [
    0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]})])
_BOOSTERS = _LGBM + _XGB + _CATBOOST + _HGB
# the candidate configurations of each task, as data
CANDIDATES = {
    "binary": _BOOSTERS + _forests(("entropy", {"criterion": "entropy"})) + _KNN + _LOGISTIC,
    "multiclass": _BOOSTERS + _forests(("entropy", {"criterion": "entropy"})) + _KNN + _LOGISTIC,
    "regression": _BOOSTERS + _forests(("third", {"max_features": 0.33})) + _KNN + _RIDGE,
}
# final estimators compared on the portfolio's out-of-fold predictions (family, params)
FINALS = {
    "ensemble_selection": {"n_iterations": 25}, "nnls": {}, "blend": {}, "linear": {},
    "best_model": {},
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--datasets", default=None, help="comma-separated names (default: all)")
    parser.add_argument("--max-rows", type=int, default=3000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--size", type=int, default=25, help="portfolio length per task")
    parser.add_argument("--slack", type=float, default=1.0,
                        help="average-rank distance within which the cheaper candidate wins")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "stackkit-portfolio-oof")
    parser.add_argument("--module", type=Path, default=ROOT / "stackkit" / "_portfolio.py")
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    return parser.parse_args(argv)


# -- data ------------------------------------------------------------------------------


def load_sample(name, args):
    """``(X, y, task, folds)``: a seeded sample of one dataset and its fold plan."""
    if str(args.data_dir) not in sys.path:
        sys.path.insert(0, str(args.data_dir))
    from load import load

    X, y, info = load(name)
    keep = sample_rows(y.to_numpy(), info["task"] != "regression", args.max_rows, args.folds)
    X, y = X.iloc[keep].reset_index(drop=True), y.iloc[keep].to_numpy()
    splitter = (KFold if info["task"] == "regression" else StratifiedKFold)(
        args.folds, shuffle=True, random_state=SEED)
    return X, y, info["task"], list(splitter.split(X, y))


def sample_rows(y, classify, max_rows, n_folds):
    """Sorted row positions: at most ``max_rows`` (stratified), rare classes topped up."""
    rows = np.arange(len(y))
    if len(y) <= max_rows:
        return rows
    keep, rest = train_test_split(rows, train_size=max_rows, random_state=SEED,
                                  stratify=y if classify else None)
    if classify:  # every class gets two rows per fold where it has them
        rng = np.random.default_rng(SEED)
        for label in np.unique(y):
            missing = min(2 * n_folds, np.sum(y == label)) - np.sum(y[keep] == label)
            if missing > 0:
                extra = rng.choice(rest[y[rest] == label], missing, replace=False)
                keep = np.concatenate([keep, extra])
    return np.sort(keep)


# -- candidates' out-of-fold predictions -----------------------------------------------


def candidate_oof(record, name, X, y, task, folds, args):
    """``(oof, seconds, error)`` of one candidate on one dataset, from the cache if there."""
    key = joblib.hash((record, name, task, args.max_rows, args.folds, SEED))
    path = args.cache_dir / name / f"{record['name']}-{key}.joblib"
    if path.exists():
        return joblib.load(path)
    stack = (StackingRegressor if task == "regression" else StackingClassifier)(
        [(record["name"], build_estimator(record, task, random_state=SEED))],
        cv=folds, refit=False, n_jobs=args.n_jobs)
    try:
        stack.fit(X, y)
        log = stack.task_log_
        outcome = (stack.oof_, float(log.fit_time.sum() + log.predict_time.sum()), None)
    except Exception as exc:  # a failed candidate ranks last; the table says why
        outcome = (None, np.nan, f"{type(exc).__name__}: {exc}"[:200])
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(outcome, path)
    return outcome


def loss(task, y, pred):
    """The dataset's metric as a loss (lower is better): 1 - AUC, log loss, RMSE."""
    if task == "binary":
        return 1.0 - roc_auc_score(y, pred.ravel())
    if task == "multiclass":  # float32 probabilities (XGBoost) sum to one only nearly
        pred = np.clip(pred, 1e-15, 1)
        return log_loss(y, pred / pred.sum(axis=1, keepdims=True), labels=np.arange(pred.shape[1]))
    return root_mean_squared_error(y, pred.ravel())


def metric_value(task, value):
    """A loss back in the metric's own terms (AUC for binary)."""
    return 1.0 - value if task == "binary" else value


# -- the portfolio's score: greedy ensemble selection ----------------------------------


def caruana_loss(task, y, preds, n_iterations=25):
    """The loss of the greedy ensemble selection with replacement of ``preds``.

    ``preds`` is an array (models, rows, columns) of out-of-fold predictions; the
    ensemble is fit by log loss (classification) or squared error (regression) and
    scored by :func:`loss`.
    """
    target = _target_matrix(task, y, preds.shape[2])
    total = np.zeros(preds.shape[1:])
    for step in range(1, n_iterations + 1):
        total = total + preds[int(np.argmin(_fit_loss(task, target, (total + preds) / step)))]
    return loss(task, y, total / n_iterations)


def _target_matrix(task, y, n_columns):
    if task == "multiclass":
        return np.eye(n_columns)[y]
    return np.asarray(y, dtype=float).reshape(-1, 1)


def _fit_loss(task, target, trial):
    """Per model of ``trial`` (models, rows, columns): the selection's own loss."""
    if task == "regression":
        return ((trial - target[None]) ** 2).mean(axis=(1, 2))
    trial = np.clip(trial, 1e-15, 1 - 1e-15)
    if task == "binary":
        return -(target * np.log(trial) + (1 - target) * np.log(1 - trial)).mean(axis=(1, 2))
    return -(target[None] * np.log(trial)).sum(axis=2).mean(axis=1)


def greedy_order(candidates, n_datasets, portfolio_loss, cost, size, slack=0.0):
    """Order ``candidates`` by greedy forward selection on the average rank across datasets.

    Parameters
    ----------
    candidates : list of str
        The candidates' names.
    n_datasets : int
        How many datasets ``portfolio_loss`` scores on.
    portfolio_loss : callable
        ``portfolio_loss(dataset, members) -> float``, lower is better; ``members`` is
        a list of candidate names.
    cost : dict of str to float
        The candidates' fit seconds; of the candidates within ``slack`` of the best
        average rank, the cheapest is taken (then the better rank, then list order).
    size : int
        How many to choose.
    slack : float, default=0.0
        Average-rank distance that counts as a tie.

    Returns
    -------
    order : list of (str, float)
        The chosen candidates with the average rank each had when it was chosen.
    """
    chosen, remaining = [], list(candidates)
    while remaining and len(chosen) < size:
        losses = np.array([[portfolio_loss(d, [name for name, _ in chosen] + [c])
                            for d in range(n_datasets)] for c in remaining])
        ranks = rankdata(np.nan_to_num(losses, nan=np.inf), axis=0).mean(axis=1)
        near = [i for i in range(len(remaining)) if ranks[i] <= ranks.min() + slack]
        pick = min(near, key=lambda i: (cost[remaining[i]], ranks[i], i))
        chosen.append((remaining.pop(pick), float(ranks[pick])))
    return chosen


# -- the run ---------------------------------------------------------------------------


def evaluate_task(task, names, args):
    """Every available candidate's out-of-fold predictions on every dataset of ``task``."""
    records = [r for r in CANDIDATES[task] if is_available(r)]
    data, rows = [], []
    for name in names:
        X, y, _, folds = load_sample(name, args)
        oofs = {}
        for record in records:
            started = time.perf_counter()
            oof, seconds, error = candidate_oof(record, name, X, y, task, folds, args)
            oofs[record["name"]] = oof
            score = np.nan if oof is None else metric_value(task, loss(task, y, oof))
            rows.append({"task": task, "dataset": name, "rows": len(y),
                         "candidate": record["name"], "family": record["family"],
                         "metric": METRICS[task], "score": score, "fit_seconds": seconds,
                         "error": error})
            print(f"{task} {name} {record['name']}: {score:.5f} ({seconds:.1f} s, "
                  f"{time.perf_counter() - started:.1f} s wall) {error or ''}", flush=True)
        data.append((y, _as_models(task, oofs, y)))
    return records, data, pd.DataFrame(rows)


def _as_models(task, oofs, y):
    """Out-of-fold predictions as (rows, columns) per candidate; None where one failed."""
    n_columns = len(np.unique(y)) if task == "multiclass" else 1
    return {name: None if oof is None else np.asarray(oof, dtype=float).reshape(len(y), n_columns)
            for name, oof in oofs.items()}


def choose(task, records, data, table, args):
    """The ordered portfolio of ``task``: list of (record, average rank, mean seconds)."""
    seconds = table.groupby("candidate").fit_seconds.mean().to_dict()

    def portfolio_loss(d, members):
        y, models = data[d]
        if any(models[m] is None for m in members):
            return np.nan
        return caruana_loss(task, y, np.stack([models[m] for m in members]))

    order = greedy_order([r["name"] for r in records], len(data), portfolio_loss,
                         seconds, args.size, args.slack)
    by_name = {r["name"]: r for r in records}
    return [(by_name[name], rank, seconds[name]) for name, rank in order]


def compare_finals(task, names, chosen, data):
    """Each final estimator's inner-CV score on the portfolio's predictions, per dataset."""
    members = [record["name"] for record, _, _ in chosen]
    rows = []
    for name, (y, models) in zip(names, data):
        X = np.hstack([models[m] for m in members])
        splitter = (KFold if task == "regression" else StratifiedKFold)(
            5, shuffle=True, random_state=SEED)
        best_member = min(loss(task, y, models[m]) for m in members)
        for family, params in FINALS.items():
            if family == "blend" and task == "regression":
                continue
            model = FINAL_FAMILIES[family](task != "regression")(**params)
            method = "predict" if task == "regression" else "predict_proba"
            pred = cross_val_predict(model, X, y, cv=splitter, method=method)
            pred = pred[:, 1] if task == "binary" else pred
            rows.append({"task": task, "dataset": name, "final": family,
                         "loss": loss(task, y, pred), "best_member_loss": best_member})
    frame = pd.DataFrame(rows)
    frame["rank"] = frame.groupby("dataset").loss.rank()
    return frame


def libraries():
    """Versions of the libraries the candidates need (None: not installed)."""
    found = {}
    for library in sorted(set(LIBRARIES.values()) | {"scikit-learn"}):
        try:
            found[library] = importlib.metadata.version(library)
        except importlib.metadata.PackageNotFoundError:
            found[library] = None
    return found


def write_module(path, portfolios, finals, built_with):
    """Write the generated module of records (a plain literal) that presets reads."""
    records = {task: [record for record, _, _ in chosen] for task, chosen in portfolios.items()}
    text = ('"""The "best" portfolio of stackkit.presets: ordered configuration records per task.'
            "\n\n"
            f"Generated by benchmarks/build_portfolio.py on {built_with['date']} from "
            f"{len(built_with['datasets'])} datasets\n"
            + textwrap.fill(f"({', '.join(built_with['datasets'])}); do not edit by hand.", 92)
            + "\nRebuild: nice -n 10 python benchmarks/build_portfolio.py\n"
            f'"""\n\n'
            f"BUILT_WITH = {pprint.pformat(built_with, width=96, sort_dicts=False)}\n\n"
            f"FINAL_ESTIMATORS = {pprint.pformat(finals, width=96, sort_dicts=False)}\n\n"
            f"PORTFOLIO = {pprint.pformat(records, width=96, sort_dicts=False)}\n")
    path.write_text(text, encoding="utf-8")


def write_results(folder, table, portfolios, finals_table, built_with, seconds):
    """The per dataset x candidate table (CSV) and the chosen orders (markdown)."""
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / "portfolio_candidates.csv", index=False, float_format="%.6g")
    lines = ["# Portfolio selection (benchmarks/build_portfolio.py)", "",
             f"Run on {built_with['date']} in {seconds / 60:.1f} min (2 cores shared with other "
             f"work, so seconds are noisy): `{built_with['command']}`.",
             f"Libraries: {built_with['libraries']}. Rows per dataset: at most "
             f"{built_with['max_rows']}, {built_with['folds']} folds.", ""]
    for task, chosen in portfolios.items():
        lines += [f"## {task}", "", "| # | candidate | family | average rank when chosen "
                  "| mean fit seconds |", "|---:|---|---|---:|---:|"]
        lines += [f"| {i} | {record['name']} | {record['family']} | {rank:.2f} | {sec:.1f} |"
                  for i, (record, rank, sec) in enumerate(chosen, 1)]
        lines += ["", final_summary(finals_table[finals_table.task == task]), ""]
    (folder / "portfolio.md").write_text("\n".join(lines), encoding="utf-8")


def final_summary(frame):
    """The final estimators' losses per dataset, their average rank and the best member."""
    wide = frame.pivot(index="final", columns="dataset", values="loss")
    wide["average rank"] = frame.groupby("final")["rank"].mean()
    wide = wide.sort_values("average rank")
    best = frame.groupby("dataset").best_member_loss.first()
    header = "| final estimator (inner-CV loss) | " + " | ".join(wide.columns) + " |"
    lines = [header, "|---" * (len(wide.columns) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(f"{v:.5f}" if c != "average rank" else f"{v:.2f}"
                                          for c, v in row.items()) + " |"
              for name, row in wide.iterrows()]
    lines.append("| best member (OOF loss) | " + " | ".join(f"{best[c]:.5f}"
                                                        for c in wide.columns[:-1]) + " | |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    started = time.perf_counter()
    sys.path.insert(0, str(args.data_dir))
    from load import names as dataset_names

    wanted = args.datasets.split(",") if args.datasets else dataset_names()
    portfolios, finals, tables, final_tables = {}, {}, [], []
    for task in TASKS:
        names = [n for n in dataset_names(task) if n in wanted]
        if not names:
            continue
        records, data, table = evaluate_task(task, names, args)
        portfolios[task] = choose(task, records, data, table, args)
        compared = compare_finals(task, names, portfolios[task], data)
        winner = compared.groupby("final")["rank"].mean().idxmin()
        finals[task] = {"family": winner, "params": FINALS[winner]}
        tables.append(table)
        final_tables.append(compared)
    built_with = {"date": datetime.date.today().isoformat(), "datasets": wanted,
                  "max_rows": args.max_rows, "folds": args.folds, "size": args.size,
                  "slack": args.slack, "libraries": libraries(),
                  "command": "python " + shlex.join(["benchmarks/build_portfolio.py",
                                                     *(argv or sys.argv[1:])])}
    write_module(args.module, portfolios, finals, built_with)
    write_results(args.results, pd.concat(tables), portfolios, pd.concat(final_tables),
                  built_with, time.perf_counter() - started)
    print((args.results / "portfolio.md").read_text())


if __name__ == "__main__":
    main()
