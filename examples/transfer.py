"""Transfer learning in a stack: reuse a model trained on a large source domain.

The recipe, for a small target dataset and a model already trained elsewhere:

1. ``freeze(source)``: the source model joins the stack as it is. It is never refit
   (``task_log_`` shows one ``"frozen"`` task, no fold fits); its predictions of every
   target row are its meta-features, which leaks nothing since it never saw them.
2. ``WarmStart(LGBMClassifier(n_estimators=...), source=source)``: a booster that
   continues from the source's trees on each training fold, for at most
   ``n_estimators`` new rounds, early-stopped on rows stackkit holds out of the fold.
3. The final estimator learns how much to trust each on the target data.

The data are synthetic so that the example runs anywhere: one classification problem
split by a feature (``x0``) into a large source domain and a small, shifted target
domain. ``benchmarks/bench_transfer.py`` measures the same on real data (adult split by
sex, California housing split by distance to the ocean)::

    python examples/transfer.py
    python examples/transfer.py --target-rows 1000
"""

import argparse

import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from stackkit import StackingClassifier
from stackkit.transfer import WarmStart, freeze


def make_domains(seed=0):
    """Source rows (``x0 <= 0.5``) and target rows (``x0 > 0.5``) of one problem."""
    X, y = make_classification(n_samples=6000, n_features=10, n_informative=6, flip_y=0.05,
                               random_state=seed)
    X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    target = (X.x0 > 0.5).to_numpy()
    return X[~target], y[~target], X[target], y[target]


def booster(n_estimators, **params):
    return LGBMClassifier(n_estimators=n_estimators, learning_rate=0.05, num_leaves=15,
                          verbose=-1, **params)


def make_stack(config, source):
    """``"target only"``, ``"+ frozen source"`` or ``"+ warm start"``."""
    estimators = [("linear", make_pipeline(StandardScaler(), LogisticRegression())),
                  ("lgbm", booster(300, early_stopping_round=20))]
    if config != "target only":
        estimators.append(("source", freeze(source)))
    if config == "+ warm start":
        estimators.append(("warm", WarmStart(booster(200, early_stopping_round=20), source)))
    return StackingClassifier(estimators, cv=5)


def main(target_rows=300, seed=0):
    """Holdout ROC AUC on the target domain of the three stacks, fit on ``target_rows``."""
    X_source, y_source, X_target, y_target = make_domains(seed)
    source = booster(200).fit(X_source, y_source)  # trained once, elsewhere
    X_train, X_test, y_train, y_test = train_test_split(
        X_target, y_target, train_size=target_rows, stratify=y_target, random_state=seed)
    scores = {}
    for config in ("target only", "+ frozen source", "+ warm start"):
        stack = make_stack(config, source).fit(X_train, y_train)
        scores[config] = roc_auc_score(y_test, stack.predict_proba(X_test)[:, 1])
    frozen_fits = stack.task_log_.query("estimator == 'source'").n_train.sum()
    assert frozen_fits == 0  # the frozen source was never trained on target rows
    return scores


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-rows", type=int, default=300)
    args = parser.parse_args()
    for config, auc in main(args.target_rows).items():
        print(f"{config:>16}: target holdout ROC AUC {auc:.4f}")
