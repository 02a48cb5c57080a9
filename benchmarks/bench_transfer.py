"""Transfer benchmark: does a model trained on another domain help a stack on a small one?

Each dataset is split by a real attribute into a large *source* domain and a *target*
domain (the attribute itself is then dropped, being constant within a domain):

- ``adult``: source = men (32,650 rows), target = women (16,192 rows); income > 50K,
  whose rate differs (30% against 11%). Metric: ROC AUC on held-out women.
- ``california``: source = districts not within an hour of the ocean (11,504),
  target = ``ocean_proximity == "<1H OCEAN"`` (9,136); median house value. Metric: RMSE.

A LightGBM source model is trained once on the whole source domain (early-stopped on 10%
of it). Then, for each seed and target size n (200, 1000, 5000 rows drawn from the target
domain; 4,000 other target rows held out), three stacks (cv=5) are fit on the n rows and
scored on the held-out rows:

1. ``target only``: a linear model (one-hot encoded categories) and LightGBM;
2. ``+ frozen source``: the same plus ``freeze(source)`` (never refit: zero fold fits);
3. ``+ warm start``: the same plus ``WarmStart(LGBM..., source=source)``, continuing the
   source on each training fold with early stopping.

The source alone (no target data at all) is scored too. Reported: mean ± standard
deviation over the seeds, and the difference to ``target only`` (Δ, paired by seed;
positive is better for AUC, negative for RMSE).

Run it from the repository root (about 1.5 minutes on 2 idle cores, both datasets)::

    python benchmarks/bench_transfer.py
    python benchmarks/bench_transfer.py --datasets adult --seeds 2 --sizes 200,1000
"""

import argparse
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import roc_auc_score, root_mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from stackkit import StackingClassifier, StackingRegressor
from stackkit.transfer import WarmStart, freeze

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
# dataset -> (file, split column, target-domain values, task)
DOMAINS = {
    "adult": ("adult", "sex", ["Female"], "binary"),
    "california": ("california_housing", "ocean_proximity", ["<1H OCEAN"], "regression"),
}
CONFIGS = ("target only", "+ frozen source", "+ warm start")
N_TEST = 4000
BOOSTER = dict(learning_rate=0.05, num_leaves=15, min_child_samples=10, subsample=0.8,
               subsample_freq=1, colsample_bytree=0.8, verbose=-1, random_state=0)


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="adult,california")
    parser.add_argument("--sizes", default="200,1000,5000", help="target training rows")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    return parser.parse_args(argv)


def load_domains(name, data_dir):
    """``(X_source, y_source, X_target, y_target)``, the split column dropped."""
    sys.path.insert(0, str(data_dir))
    from load import load

    file, column, target_values, _ = DOMAINS[name]
    X, y, _ = load(file)
    in_target = X[column].isin(target_values).to_numpy()
    X = X.drop(columns=[column])
    y = y.to_numpy()
    return X[~in_target], y[~in_target], X[in_target], y[in_target]


def booster(task, **params):
    cls = LGBMClassifier if task == "binary" else LGBMRegressor
    return cls(**{**BOOSTER, **params})


def train_source(X, y, task):
    """The source model: LightGBM on the whole source domain, early-stopped on 10% of it."""
    stratify = y if task == "binary" else None
    X_fit, X_val, y_fit, y_val = train_test_split(X, y, test_size=0.1, stratify=stratify,
                                                  random_state=0)
    model = booster(task, n_estimators=2000, early_stopping_round=50, n_jobs=2)
    with warnings.catch_warnings():  # LightGBM >= 4.7 prefers eval_X/eval_y; 4.0 lacks them
        warnings.filterwarnings("ignore", message=".*eval_set.* is deprecated")
        return model.fit(X_fit, y_fit, eval_set=[(X_val, y_val)])


def linear(task):
    """A linear model with imputed, one-hot encoded categories and scaled numbers."""
    encode = make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                       OneHotEncoder(handle_unknown="ignore")),
         make_column_selector(dtype_include="category")),
        (make_pipeline(SimpleImputer(), StandardScaler()),
         make_column_selector(dtype_include="number")),
    )
    model = LogisticRegression(max_iter=2000) if task == "binary" else RidgeCV()
    return make_pipeline(encode, model)


def make_stack(config, task, source, n_jobs):
    """The stack of one configuration (see the module docstring)."""
    estimators = [("linear", linear(task)),
                  ("lgbm", booster(task, n_estimators=1000, early_stopping_round=30))]
    if config != "target only":
        estimators.append(("source", freeze(source)))
    if config == "+ warm start":
        estimators.append(("warm", WarmStart(
            booster(task, n_estimators=500, early_stopping_round=30), source=source)))
    stack_class = StackingClassifier if task == "binary" else StackingRegressor
    return stack_class(estimators, cv=5, n_jobs=n_jobs)


def score(model, X, y, task):
    if task == "binary":
        return roc_auc_score(y, model.predict_proba(X)[:, 1])
    return root_mean_squared_error(y, model.predict(X))


def bench_dataset(name, args):
    """One row per (seed, size, configuration), plus the source alone per seed."""
    task = DOMAINS[name][3]
    X_source, y_source, X_target, y_target = load_domains(name, args.data_dir)
    source = train_source(X_source, y_source, task)
    print(f"{name}: source {len(y_source):,} rows ({source.best_iteration_} rounds), "
          f"target {len(y_target):,} rows", flush=True)
    rows = []
    for seed in range(args.seeds):
        X_pool, X_test, y_pool, y_test = train_test_split(
            X_target, y_target, test_size=N_TEST, random_state=seed,
            stratify=y_target if task == "binary" else None)
        rows.append({"seed": seed, "size": 0, "config": "source alone",
                     "score": score(source, X_test, y_test, task), "seconds": 0.0})
        for size in args.sizes:
            sample = np.random.default_rng(seed).choice(len(y_pool), size, replace=False)
            for config in CONFIGS:
                start = time.perf_counter()
                stack = make_stack(config, task, source, args.n_jobs)
                stack.fit(X_pool.iloc[sample], y_pool[sample])
                rows.append({"seed": seed, "size": size, "config": config,
                             "score": score(stack, X_test, y_test, task),
                             "seconds": time.perf_counter() - start})
        print(f"  seed {seed} done", flush=True)
    return pd.DataFrame(rows)


def markdown(name, results):
    """Mean ± std per size and configuration, and the gain over ``target only``."""
    task = DOMAINS[name][3]
    metric = "ROC AUC, higher is better" if task == "binary" else "RMSE, lower is better"
    fmt = "{:.4f}" if task == "binary" else "{:,.0f}"
    alone = results[results.config == "source alone"].score
    lines = [f"**{name}** ({metric}; source alone, no target rows: "
             f"{fmt.format(alone.mean())} ± {fmt.format(alone.std())})",
             "", "| target rows | " + " | ".join(CONFIGS) + " | Δ frozen | Δ warm |",
             "|---:|" + "---:|" * (len(CONFIGS) + 2)]
    for size, group in results[results["size"] > 0].groupby("size"):
        by = {c: group[group.config == c].set_index("seed").score for c in CONFIGS}
        cells = [f"{fmt.format(by[c].mean())} ± {fmt.format(by[c].std())}" for c in CONFIGS]
        gains = [by[c] - by["target only"] for c in CONFIGS[1:]]
        cells += [f"{fmt.replace('{:', '{:+').format(g.mean())} ± {fmt.format(g.std())}"
                  for g in gains]
        lines.append(f"| {size:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",")]
    start = time.perf_counter()
    tables = [markdown(name, bench_dataset(name, args)) for name in args.datasets.split(",")]
    command = shlex.join(["python", "benchmarks/bench_transfer.py", *(argv or sys.argv[1:])])
    print(f"\n{command}  ({args.seeds} seeds; wall time "
          f"{(time.perf_counter() - start) / 60:.1f} min on {args.n_jobs} jobs)\n")
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
