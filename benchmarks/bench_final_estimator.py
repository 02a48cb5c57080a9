"""Final-estimator benchmark: which default never loses to the best base model?

For each table the base models are fit ONCE (5 shuffled folds, seed 0, ``memory=`` a
temporary folder so the larger list reuses the four of the quick list), giving the
out-of-fold meta-features ``oof_`` and, from the refit base models, the holdout's
meta-features. Every final estimator is then compared on those same numbers:

- its OOF-of-OOF score: ``cross_val_predict`` on the meta-features with the SAME folds
  (what the stack's final estimator would score on rows it was not fit on);
- its holdout score: fit on all of ``oof_``, predict the holdout's meta-features.

Against the best base model by OOF score (R2 and RMSE, with the standard deviation of
its per-fold score): a final estimator "passes" a table when its OOF-of-OOF score is at
least the best member's OOF score minus one fold std. Two base lists: ``quick``
(``default_estimators(task)``: linear, extra trees, XGBoost, LightGBM) and ``wide``
(those four plus k-NN on scaled features and a random forest), so the choice is not tied
to one list. Classification tables are run for information (ROC AUC / log loss).

Each table is subsampled (seed 0) so that the 75/25 split (seed 0) leaves at most
``--max-rows`` training rows. Run it by hand from the repository root (not a test)::

    nice -n 10 python benchmarks/bench_final_estimator.py
    nice -n 10 python benchmarks/bench_final_estimator.py --tasks regression --max-rows 5000
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
from sklearn.base import clone  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeCV  # noqa: E402
from sklearn.metrics import log_loss, r2_score, roc_auc_score  # noqa: E402
from sklearn.metrics import root_mean_squared_error  # noqa: E402
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler  # noqa: E402

import bench_fit  # noqa: E402
from stackkit import StackingClassifier, StackingRegressor, meta  # noqa: E402
from stackkit.presets import categorical_columns, default_estimators  # noqa: E402
from stackkit.presets import numeric_columns  # noqa: E402

CLASSIFICATION = "credit_g,magic_telescope,adult,connect_4"
N_FOLDS = 5


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="regression,classification",
                        help="regression and/or classification (default both)")
    parser.add_argument("--regression", default=None,
                        help="regression tables (default: every one in the data folder)")
    parser.add_argument("--classification", default=CLASSIFICATION,
                        help=f"classification tables (default {CLASSIFICATION})")
    parser.add_argument("--max-rows", type=int, default=20000,
                        help="training rows at most, after the 75/25 split (default 20,000)")
    parser.add_argument("--classification-max-rows", type=int, default=5000,
                        help="the same for the classification tables (default 5,000)")
    parser.add_argument("--lists", default="quick,wide", help="base lists (default quick,wide)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=bench_fit.DEFAULT_DATA_DIR)
    return parser.parse_args(argv)


def load_split(name, data_dir, max_rows):
    """(X_train, X_test, y_train, y_test, task): a seeded subsample, then a seeded 75/25 split."""
    if str(data_dir) not in sys.path:
        sys.path.insert(0, str(data_dir))
    from load import load

    X, y, info = load(name)
    n_rows = min(len(X), int(np.ceil(max_rows / 0.75)))
    if n_rows < len(X):
        keep = np.sort(np.random.default_rng(0).choice(len(X), n_rows, replace=False))
        X, y = X.iloc[keep], y.iloc[keep]
    stratify = None if info["task"] == "regression" else y
    return (*train_test_split(X, y, test_size=0.25, random_state=0, stratify=stratify),
            info["task"])


def folds_of(task, X, y):
    """The one fold list every base model and every final estimator uses."""
    splitter = KFold if task == "regression" else StratifiedKFold
    return list(splitter(N_FOLDS, shuffle=True, random_state=0).split(X, y))


def wide_extras(task):
    """k-NN on scaled, one-hot encoded features and a random forest."""
    classify = task != "regression"
    scaled = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
         numeric_columns),
        ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                      OneHotEncoder(handle_unknown="ignore")),
         categorical_columns)])
    ordinal = ColumnTransformer([
        ("numeric", SimpleImputer(strategy="median"), numeric_columns),
        ("categorical", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                       encoded_missing_value=-1), categorical_columns)])
    knn = (KNeighborsClassifier if classify else KNeighborsRegressor)(n_neighbors=15)
    forest = (RandomForestClassifier if classify else RandomForestRegressor)(
        n_estimators=200, min_samples_leaf=2, max_features=0.5, random_state=0)
    return [("knn", make_pipeline(scaled, knn)), ("random_forest", make_pipeline(ordinal, forest))]


def base_list(task, which):
    """The base estimators of list ``which`` ("quick" or "wide")."""
    quick = default_estimators(task, device="cpu")
    return quick if which == "quick" else quick + wide_extras(task)


def meta_features(task, estimators, data, folds, cache, n_jobs):
    """(names, OOF meta-features, holdout meta-features) of one base list, fit once."""
    X_train, X_test, y_train, _ = data
    stack_class = StackingRegressor if task == "regression" else StackingClassifier
    final = LinearRegression() if task == "regression" else LogisticRegression()
    stack = stack_class(estimators, final, cv=folds, memory=cache,
                        n_jobs=n_jobs).fit(X_train, y_train)
    return stack.layout_, stack.oof_, stack.transform(X_test)


def regression_finals():
    """The regression final estimators compared, by display name."""
    return {"RidgeCV (old default)": RidgeCV(),
            "LinearRegression": LinearRegression(),
            "LinearRegression(positive)": LinearRegression(positive=True),
            "NNLS": meta.NNLSRegressor(),
            "NNLS sum_to_one": meta.NNLSRegressor(sum_to_one=True),
            "EnsembleSelection 25": meta.EnsembleSelectionRegressor(n_iterations=25),
            "EnsembleSelection 50": meta.EnsembleSelectionRegressor(n_iterations=50),
            "BestModel": meta.BestModelRegressor()}


def classification_finals():
    """The classification final estimators compared, by display name."""
    return {"LogisticRegression (default)": LogisticRegression(),
            "NNLS": meta.NNLSClassifier(), "Blend": meta.BlendClassifier(),
            "EnsembleSelection 25": meta.EnsembleSelectionClassifier(n_iterations=25),
            "EnsembleSelection 50": meta.EnsembleSelectionClassifier(n_iterations=50),
            "BestModel": meta.BestModelClassifier()}


def metrics(task):
    """{metric name: (function of (y, prediction), higher is better)}."""
    if task == "regression":
        return {"R2": (r2_score, True), "RMSE": (root_mean_squared_error, False)}
    if task == "binary":
        return {"AUC": (lambda y, p: roc_auc_score(y, p[:, 1]), True),
                "logloss": (lambda y, p: log_loss(y, p, labels=[0, 1]), False)}
    return {"logloss": (lambda y, p: log_loss(y, p, labels=np.unique(y)), False)}


def as_prediction(task, block):
    """A base model's meta-feature block as a prediction the metrics read."""
    if task == "regression":
        return block[:, 0]
    if task == "binary":
        return np.column_stack([1 - block[:, 0], block[:, 0]])
    return block / block.sum(axis=1, keepdims=True)


def member_rows(task, layout, oof, meta_test, y_train, y_test, folds):
    """One row per base model: OOF score, per-fold std, holdout score, for every metric."""
    rows = []
    for name, columns in zip(layout.names, layout.slices()):
        train = as_prediction(task, oof[:, columns])
        test = as_prediction(task, meta_test[:, columns])
        row = {"model": name, "kind": "member"}
        for metric, (score, _) in metrics(task).items():
            per_fold = [score(y_train[held], train[held]) for _, held in folds]
            row |= {f"oof {metric}": score(y_train, train), f"std {metric}": np.std(per_fold),
                    f"holdout {metric}": score(y_test, test)}
        rows.append(row)
    return rows


def final_rows(task, oof, meta_test, y_train, y_test, folds):
    """One row per final estimator: OOF-of-OOF (same folds) and holdout scores."""
    finals = regression_finals() if task == "regression" else classification_finals()
    method = "predict" if task == "regression" else "predict_proba"
    rows = []
    for label, final in finals.items():
        inner = cross_val_predict(clone(final), oof, y_train, cv=folds, method=method)
        fitted = clone(final).fit(oof, y_train)
        test = getattr(fitted, method)(meta_test)
        row = {"model": label, "kind": "final"}
        for metric, (score, _) in metrics(task).items():
            row |= {f"oof {metric}": score(y_train, inner),
                    f"holdout {metric}": score(y_test, test)}
        rows.append(row)
    return rows


def add_verdict(task, table):
    """Mark each final estimator: OOF-of-OOF >= best member's OOF - one fold std, per metric."""
    members = table[table.kind == "member"]
    for metric, (_, higher) in metrics(task).items():
        column = members[f"oof {metric}"]
        best = members.loc[column.idxmax() if higher else column.idxmin()]
        sign = 1 if higher else -1
        gain = sign * (table[f"oof {metric}"] - best[f"oof {metric}"])
        table[f"pass {metric}"] = [bool(g >= -best[f"std {metric}"]) if kind == "final" else ""
                                   for g, kind in zip(gain, table.kind)]
        table[f"gain {metric}"] = gain
    return table


def bench_table(name, which, max_rows, args, cache):
    """The table of members and final estimators of one dataset and base list."""
    X_train, X_test, y_train, y_test, task = load_split(name, args.data_dir, max_rows)
    folds = folds_of(task, X_train, y_train)
    layout, oof, meta_test = meta_features(task, base_list(task, which),
                                           (X_train, X_test, y_train, y_test), folds, cache,
                                           args.n_jobs)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    rows = member_rows(task, layout, oof, meta_test, y_train, y_test, folds)
    rows += final_rows(task, oof, meta_test, y_train, y_test, folds)
    return task, len(X_train), add_verdict(task, pd.DataFrame(rows))


def markdown(title, task, table):
    """One table as markdown: every score, then the verdict per metric."""
    columns = [c for c in table.columns if c not in ("model", "kind")]
    lines = [f"| {title} | kind | " + " | ".join(columns) + " |",
             "|---|---|" + "---:|" * len(columns)]
    for _, r in table.iterrows():
        cells = [_cell(r[c]) for c in columns]
        lines.append(f"| {r.model} | {r.kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value):
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "NO"
    if pd.isna(value):
        return ""
    return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"


def summary(results):
    """Per final estimator: on how many (table, list) runs it passed each metric."""
    passed = {}
    for table in results:
        for _, r in table[table.kind == "final"].iterrows():
            ok = all(r[c] is True for c in table.columns if c.startswith("pass "))
            passed.setdefault(r.model, []).append(bool(ok))
    return "\n".join(f"- {model}: passes {sum(v)}/{len(v)}" for model, v in passed.items())


def run(names, max_rows, args, cache):
    """Bench every table under every base list; print as it goes; return the tables."""
    results = []
    for name in names:
        for which in args.lists.split(","):
            task, n_train, table = bench_table(name, which, max_rows, args, cache)
            print(f"\n{markdown(f'{name} / {which} ({n_train} train rows)', task, table)}",
                  flush=True)
            results.append(table)
    return results


def main(argv=None):
    """Run the regression (and classification) tables, then the pass counts."""
    args = parse_args(argv)
    print(bench_fit.environment(), flush=True)
    sys.path.insert(0, str(args.data_dir))
    from load import names as dataset_names

    with tempfile.TemporaryDirectory() as cache:
        if "regression" in args.tasks:
            tables = args.regression.split(",") if args.regression else dataset_names("regression")
            results = run(tables, args.max_rows, args, cache)
            print("\nregression, passes (OOF-of-OOF >= best member - one fold std, R2 and RMSE):")
            print(summary(results))
        if "classification" in args.tasks:
            results = run(args.classification.split(","), args.classification_max_rows, args,
                          cache)
            print("\nclassification (for information), passes on every metric:")
            print(summary(results))
    print(f"\nafter the run: {bench_fit.machine_load()}")
    print("\ncommand: python " + shlex.join(sys.argv))


if __name__ == "__main__":
    main()
