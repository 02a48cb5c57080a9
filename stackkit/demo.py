"""Demo: stack four different models on a real dataset and compare with each alone.

Run ``stackkit demo`` or ``python -m stackkit.demo`` (``--help`` lists the options). On the MAGIC Gamma
Telescope data shipped with the package (19,020 rows, see
:func:`stackkit.datasets.load_magic_telescope`) it:

1. draws a seeded, stratified 75/25 split into training and holdout rows;
2. fits each base model alone on the training rows, timing it;
3. fits a :class:`stackkit.StackingClassifier` over the same base models (out-of-fold
   predictions from ``--cv`` folds, then a logistic regression on top);
4. prints each model's holdout ROC AUC, accuracy and fit time, the stack's gain
   over the best base model, and the stack's leaderboard (:mod:`stackkit.report`).

The positive class is ``"gamma"``. ROC AUC is the headline score: the data's
documentation warns that accuracy alone is a poor measure for this problem. Nothing is
read from the network. Booster and forest sizes are modest so that the full run takes
about 15 seconds on an idle two-core machine (``--sample`` makes it shorter). On a
machine busy with other work, multi-threaded boosters can be much slower than that.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import effective_n_jobs
from lightgbm import LGBMClassifier
from sklearn.base import clone
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier

from .classifier import StackingClassifier
from .datasets import load_magic_telescope
from .report import leaderboard

__all__ = ["base_estimators", "load_split", "main", "run"]

POSITIVE_CLASS = "gamma"
HOLDOUT_FRACTION = 0.25


def base_estimators(seed):
    """Make the demo's base models: a linear model, a forest and two boosters.

    No ``n_jobs`` is set: inside the stack each fold task then gets its share of the
    cores, and :func:`with_threads` sets it for the fits alone.

    Parameters
    ----------
    seed : int
        Seed of the randomised models.

    Returns
    -------
    estimators : list of (str, estimator)
        ``logistic``, ``extra_trees``, ``xgboost`` and ``lightgbm``, unfitted.
    """
    return [
        ("logistic", make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))),
        ("extra_trees", ExtraTreesClassifier(n_estimators=150, min_samples_leaf=2,
                                             random_state=seed)),
        ("xgboost", XGBClassifier(n_estimators=200, learning_rate=0.1, max_depth=6,
                                  random_state=seed)),
        ("lightgbm", LGBMClassifier(n_estimators=200, learning_rate=0.1, num_leaves=31,
                                    random_state=seed, verbose=-1)),
    ]


def load_split(sample, seed):
    """Load the data (``sample`` rows if given), code gamma as 1, split 75/25 stratified.

    Parameters
    ----------
    sample : int or None
        Number of rows to draw (seeded, stratified) from the 19,020; None: all.
    seed : int
        Seed of the sample and of the split.

    Returns
    -------
    split : list of [X_train, X_test, y_train, y_test]
        DataFrames of the features and Series of the 0/1 target (1: gamma).
    """
    X, labels = load_magic_telescope()
    y = (labels == POSITIVE_CLASS).astype(np.int64).rename("gamma")
    if sample is not None and sample < len(y):
        X, _, y, _ = train_test_split(X, y, train_size=sample, stratify=y, random_state=seed)
    return train_test_split(X, y, test_size=HOLDOUT_FRACTION, stratify=y, random_state=seed)


def holdout_scores(model, X_test, y_test):
    """ROC AUC and accuracy of a fitted binary classifier on the holdout rows."""
    proba = model.predict_proba(X_test)[:, 1]
    return {
        "roc_auc": roc_auc_score(y_test, proba),
        "accuracy": accuracy_score(y_test, model.predict(X_test)),
    }


def timed_fit(model, X, y):
    """Fit ``model`` and return it with the wall-clock seconds the fit took."""
    start = time.perf_counter()
    model.fit(X, y)
    return model, time.perf_counter() - start


def with_threads(estimator, n_threads):
    """A clone of ``estimator`` that uses ``n_threads`` if it has an ``n_jobs`` parameter."""
    model = clone(estimator)
    if "n_jobs" in model.get_params(deep=False):
        model.set_params(n_jobs=n_threads)
    return model


def evaluate_base(estimators, split, n_threads):
    """Fit each base model alone on the training rows; one result row per model."""
    X_train, X_test, y_train, y_test = split
    rows = []
    for name, estimator in estimators:
        model, seconds = timed_fit(with_threads(estimator, n_threads), X_train, y_train)
        rows.append({"model": name, **holdout_scores(model, X_test, y_test),
                     "fit_time": seconds})
    return rows


def evaluate_stack(estimators, split, cv, n_jobs):
    """Fit the stack on the training rows; return its result row and the fitted stack."""
    X_train, X_test, y_train, y_test = split
    stack = StackingClassifier(estimators, cv=cv, n_jobs=n_jobs)
    stack, seconds = timed_fit(stack, X_train, y_train)
    row = {"model": "stack", **holdout_scores(stack, X_test, y_test), "fit_time": seconds}
    return row, stack


def run(split, *, cv=5, n_jobs=-1, seed=0):
    """Run the whole comparison on ``split``; return the results table and the stack.

    Parameters
    ----------
    split : sequence of [X_train, X_test, y_train, y_test]
        As from :func:`load_split`.
    cv : int, default=5
        Folds of the stack's out-of-fold predictions.
    n_jobs : int, default=-1
        Parallel fold tasks of the stack, and threads of each base model fit alone.
    seed : int, default=0
        Seed of the models.

    Returns
    -------
    results : DataFrame
        One row per base model, then the stack: ``model``, holdout ``roc_auc`` and
        ``accuracy``, and ``fit_time`` in seconds (each base model fit alone with all
        ``n_jobs`` cores; the stack's is the wall time of its whole fit).
    stack : StackingClassifier
        The fitted stack.
    """
    estimators = base_estimators(seed)
    rows = evaluate_base(estimators, split, effective_n_jobs(n_jobs))
    stack_row, stack = evaluate_stack(estimators, split, cv, n_jobs)
    return pd.DataFrame(rows + [stack_row]), stack


def format_table(results):
    """The results as an aligned text table."""
    header = f"{'model':<12} {'ROC AUC':>8} {'accuracy':>9} {'fit (s)':>8}"
    lines = [header, "-" * len(header)]
    for row in results.itertuples(index=False):
        lines.append(f"{row.model:<12} {row.roc_auc:>8.4f} {row.accuracy:>9.4f} "
                     f"{row.fit_time:>8.2f}")
    return "\n".join(lines)


def format_gain(results):
    """One line: the stack's holdout gain over the best base model (by ROC AUC)."""
    base, stack = results.iloc[:-1], results.iloc[-1]
    best = base.loc[base["roc_auc"].idxmax()]
    auc_gain = stack["roc_auc"] - best["roc_auc"]
    acc_gain = 100 * (stack["accuracy"] - best["accuracy"])
    return (f"Stack vs best base model ({best['model']}): {auc_gain:+.4f} ROC AUC, "
            f"{acc_gain:+.2f} accuracy points")


def format_fold_work(stack, wall_time, n_jobs):
    """One line from ``stack.task_log_``: how much fitting the stack did, and in what time."""
    log = stack.task_log_
    n_models = log["estimator"].nunique()
    n_folds = int((log["fold"] != "full").sum()) // n_models
    return (f"The stack made {len(log)} base-model fits ({n_models} models x ({n_folds} "
            f"folds + 1 refit)): {log['fit_time'].sum():.1f} s of fitting in "
            f"{wall_time:.1f} s wall time with {_count(effective_n_jobs(n_jobs), 'worker')}.")


def _count(n, noun):
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def format_setup(split, args):
    """One line describing the data and the split."""
    X_train, X_test = split[0], split[1]
    return (f"MAGIC Gamma Telescope: {len(X_train) + len(X_test):,} rows x "
            f"{X_train.shape[1]} features; stratified split (seed {args.seed}): "
            f"{len(X_train):,} training rows, {len(X_test):,} holdout rows; "
            f"stack cv={args.cv}, n_jobs={args.n_jobs}.")


def parse_args(argv):
    """The command-line options (``argv=None`` reads ``sys.argv``)."""
    parser = argparse.ArgumentParser(prog="python -m stackkit.demo",
                                     description=__doc__.splitlines()[0])
    add_arguments(parser)
    return parser.parse_args(argv)


def add_arguments(parser):
    """Add the demo's options to ``parser`` (shared with ``stackkit demo``)."""
    parser.add_argument("--n-jobs", type=_n_jobs, default=-1,
                        help="parallel fold tasks for the stack, and threads for each base "
                             "model fit alone (-1: all cores; default: %(default)s)")
    parser.add_argument("--cv", type=_at_least(2), default=5,
                        help="folds of the stack's out-of-fold predictions (default: %(default)s)")
    parser.add_argument("--sample", type=_at_least(100), default=None, metavar="N",
                        help="use a seeded stratified sample of N rows for a faster run "
                             "(default: all 19,020 rows)")
    parser.add_argument("--seed", type=_at_least(0), default=0,
                        help="seed of the sample, the split and the models (default: %(default)s)")
    parser.add_argument("--write-data", metavar="DIR", default=None,
                        help="also write the split as DIR/magic_train.csv and "
                             "DIR/magic_holdout.csv (with the class column), to try the "
                             "stackkit command on")


def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _at_least(minimum):
    def parse(text):
        value = _integer(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value
    return parse


def _n_jobs(text):
    value = _integer(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be a positive integer or negative (-1: all cores)")
    return value


def run_demo(args):
    """Run the demo with parsed options ``args``; return the exit status (0)."""
    split = load_split(args.sample, args.seed)
    if args.write_data:
        print(write_split(split, Path(args.write_data)))
    print(format_setup(split, args))
    print("Fitting each base model alone, then the stack ...\n")
    results, stack = run(split, cv=args.cv, n_jobs=args.n_jobs, seed=args.seed)
    print(format_table(results))
    print()
    print(format_gain(results))
    print(format_fold_work(stack, results["fit_time"].iloc[-1], args.n_jobs))
    print("\nThe stack's leaderboard (out-of-fold ROC AUC on the training rows; the stack "
          "row: its final estimator cross-validated on them):")
    board = leaderboard(stack, "roc_auc")[["score", "fold_std", "fit_time", "weight",
                                           "estimate"]]
    print(board.to_string(float_format=lambda v: f"{v:.4f}", na_rep=""))
    return 0


def write_split(split, folder):
    """Write the training and holdout rows, with their labels, as CSV files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    X_train, X_test, y_train, y_test = split
    for name, X, y in (("magic_train", X_train, y_train), ("magic_holdout", X_test, y_test)):
        labels = y.map({1: POSITIVE_CLASS, 0: "hadron"}).rename("class")
        X.assign(**{"class": labels}).to_csv(folder / f"{name}.csv", index=False)
    return f"Wrote {folder / 'magic_train.csv'} and {folder / 'magic_holdout.csv'}."


def main(argv=None):
    """Run the demo from the command line.

    Parameters
    ----------
    argv : list of str, default=None
        The options (``--help`` lists them); None: the process's.

    Returns
    -------
    status : int
        The exit status, 0.
    """
    return run_demo(parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
