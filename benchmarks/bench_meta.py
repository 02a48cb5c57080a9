"""Meta-learner benchmark: each stackkit meta-learner against the default and the best base model.

For each dataset the preset base estimators (``stackkit.presets.default_estimators``:
linear model, extra trees, XGBoost and LightGBM with early stopping) are fit once under
5-fold cross-validation with ``memory=`` a temporary folder; then every final estimator
is fit on the same out-of-fold predictions (the base models come from the cache, so they
are not refit) and scored on a 25% holdout:

- the default final estimator (``LogisticRegression()`` / ``RidgeCV()``);
- ``NNLSClassifier`` / ``NNLSRegressor`` (and its convex variant for regression),
  ``BlendClassifier``, ``EnsembleSelectionClassifier`` / ``...Regressor``,
  ``BestModelClassifier`` / ``...Regressor``;
- each base model alone (its refit model on the holdout), with its out-of-fold score's
  mean and standard deviation over the 5 folds from ``stackkit.report.leaderboard``.

The target: the best meta-learner is at least as good as the best single base model on
every dataset, within that base model's standard deviation over the 5 folds (of its
out-of-fold score). Metrics: ROC AUC (binary), log loss (multiclass), RMSE (regression).
The weights each meta-learner gave are printed, so the table says why.

Run it by hand from the repository root (it is not a test); about 10 minutes on 2 cores::

    python benchmarks/bench_meta.py
    python benchmarks/bench_meta.py --datasets credit_g,wine_quality --max-rows 3000
"""

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import log_loss, roc_auc_score, root_mean_squared_error  # noqa: E402
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split  # noqa: E402

import bench_fit  # noqa: E402
from stackkit import StackingClassifier, StackingRegressor, meta, report  # noqa: E402
from stackkit.presets import default_estimators  # noqa: E402

SCORING = {"binary": "roc_auc", "multiclass": "neg_log_loss",
           "regression": "neg_root_mean_squared_error"}
DATASETS = "credit_g,magic_telescope,adult,connect_4,california_housing,wine_quality,bike_sharing"


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=DATASETS, help=f"default {DATASETS}")
    parser.add_argument("--max-rows", type=int, default=12000,
                        help="a seeded subset of at most this many rows (default 12,000)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=bench_fit.DEFAULT_DATA_DIR)
    return parser.parse_args(argv)


def load(name, args):
    """Train/holdout split of one dataset, at most ``--max-rows`` rows."""
    if str(args.data_dir) not in sys.path:
        sys.path.insert(0, str(args.data_dir))
    from load import load as load_data

    X, y, info = load_data(name)
    if len(X) > args.max_rows:
        keep = np.sort(np.random.default_rng(0).choice(len(X), args.max_rows, replace=False))
        X, y = X.iloc[keep], y.iloc[keep]
    stratify = None if info["task"] == "regression" else y
    return (*train_test_split(X, y, test_size=0.25, random_state=0, stratify=stratify),
            info["task"])


def final_estimators(task):
    """The final estimators compared on one task, by display name."""
    if task == "regression":
        return {"default (RidgeCV)": None, "NNLS": meta.NNLSRegressor(),
                "NNLS convex": meta.NNLSRegressor(sum_to_one=True),
                "ensemble selection": meta.EnsembleSelectionRegressor(),
                "best model": meta.BestModelRegressor()}
    return {"default (LogisticRegression)": None, "NNLS": meta.NNLSClassifier(),
            "log-loss blend": meta.BlendClassifier(),
            "ensemble selection": meta.EnsembleSelectionClassifier(),
            "best model": meta.BestModelClassifier()}


def scorer(task):
    """(score function of y and a fitted model's output on X, higher is better?)."""
    if task == "binary":
        return (lambda y, m, X: roc_auc_score(y, m.predict_proba(X)[:, 1])), True
    if task == "multiclass":
        return (lambda y, m, X: log_loss(y, m.predict_proba(X), labels=m.classes_)), False
    return (lambda y, m, X: root_mean_squared_error(y, m.predict(X))), False


def bench_dataset(name, args, cache):
    """Every final estimator on one dataset; returns table rows and the verdict."""
    X_train, X_test, y_train, y_test, task = load(name, args)
    splitter = KFold if task == "regression" else StratifiedKFold
    folds = list(splitter(5, shuffle=True, random_state=0).split(X_train, y_train))
    stack_class = StackingRegressor if task == "regression" else StackingClassifier
    score, higher = scorer(task)
    rows = []
    for label, final in final_estimators(task).items():
        stack = stack_class(default_estimators(task, device="cpu"), final, cv=folds,
                            memory=cache, n_jobs=args.n_jobs).fit(X_train, y_train)
        weights = getattr(stack.final_estimator_, "weights_", None)
        rows.append({"model": label, "kind": "meta-learner",
                     "holdout": score(y_test, stack, X_test),
                     "weights": "" if weights is None else
                     ", ".join(f"{k} {v:.2f}" for k, v in weights.items() if v > 0.005)})
    board = report.leaderboard(stack, scoring=SCORING[task])
    sign = 1 if higher else -1  # scorers are "higher is better"; the table shows the metric
    for name_ in stack.layout_.names:
        rows.append({"model": name_, "kind": "base model",
                     "fold_mean": sign * board.loc[name_, "fold_mean"],
                     "fold_std": board.loc[name_, "fold_std"],
                     "holdout": score(y_test, stack.named_estimators_[name_], X_test)})
    return task, pd.DataFrame(rows), higher


def verdict(table, higher):
    """Is the best stackkit.meta learner >= the best single base model (within its fold std)?"""
    metas = table[(table.kind == "meta-learner") & ~table.model.str.startswith("default")]
    bases = table[table.kind == "base model"]
    pick = (lambda s: s.idxmax()) if higher else (lambda s: s.idxmin())
    best_meta, best_base = metas.loc[pick(metas.holdout)], bases.loc[pick(bases.fold_mean)]
    gain = (best_meta.holdout - best_base.holdout) * (1 if higher else -1)
    met = gain >= -best_base.fold_std
    return (f"best meta-learner {best_meta.model} {best_meta.holdout:.4f} vs best base model "
            f"{best_base.model} {best_base.holdout:.4f} (fold std {best_base.fold_std:.4f}): "
            f"gain {gain:+.4f} -> target {'met' if met else 'missed'}")


def markdown(name, task, table):
    """One dataset's rows as markdown."""
    metric = {"binary": "ROC AUC", "multiclass": "log loss", "regression": "RMSE"}[task]
    lines = [f"| {name} ({metric}) | kind | holdout | OOF fold mean ± std | weights |",
             "|---|---|---:|---:|---|"]
    for _, r in table.iterrows():
        folds = "" if pd.isna(r.get("fold_mean")) else f"{r.fold_mean:.4f} ± {r.fold_std:.4f}"
        lines.append(f"| {r.model} | {r.kind} | {r.holdout:.4f} | {folds} "
                     f"| {r.get('weights') if isinstance(r.get('weights'), str) else ''} |")
    return "\n".join(lines)


def main(argv=None):
    """Run every dataset, print the tables, the verdicts and the command line."""
    args = parse_args(argv)
    print(bench_fit.environment(), flush=True)
    with tempfile.TemporaryDirectory() as cache:
        for name in args.datasets.split(","):
            task, table, higher = bench_dataset(name, args, cache)
            print("\n" + markdown(name, task, table) + "\n\n" + verdict(table, higher), flush=True)
    print(f"\nafter the run: {bench_fit.machine_load()}")
    print("\ncommand: python " + shlex.join(sys.argv))


if __name__ == "__main__":
    main()
