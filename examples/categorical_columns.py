"""Categorical columns in one stack: native to the boosters, one-hot encoded for the rest.

XGBoost (``enable_categorical=True``) and LightGBM read pandas ``category`` columns
natively, so they sit in the stack as they are (which also keeps their early stopping:
stackkit hands an evaluation set only to a booster placed directly in the stack). An
estimator that needs numbers gets the columns encoded inside its own pipeline:
``make_pipeline(make_column_transformer(OneHotEncoder(...) ...), LogisticRegression())``.
The stack passes the DataFrame to every base estimator unchanged.

Run it from the repository root on the adult census data (48,842 rows, 8 categorical
columns, some with missing values) in ``../shared/data``::

    python examples/categorical_columns.py            # full data, about a minute on 2 cores
    python examples/categorical_columns.py --rows 5000
"""

import argparse
import sys
from pathlib import Path

from lightgbm import LGBMClassifier
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from xgboost import XGBClassifier

from stackkit import StackingClassifier

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


def load_adult(rows=None, data_dir=DATA_DIR):
    """The adult data as a DataFrame with ``category`` columns, and its 0/1 target."""
    sys.path.insert(0, str(data_dir))
    from load import load

    X, y, _ = load("adult")
    if rows is not None:
        X, _, y, _ = train_test_split(X, y, train_size=rows, stratify=y, random_state=0)
    return X, y


def make_stack():
    """A stack whose linear member one-hot encodes and whose boosters read categories."""
    one_hot = make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                       OneHotEncoder(handle_unknown="ignore")),
         make_column_selector(dtype_include="category")),
        (StandardScaler(), make_column_selector(dtype_include="number")),
    )
    estimators = [
        ("linear", make_pipeline(one_hot, LogisticRegression(max_iter=2000))),
        ("xgb", XGBClassifier(enable_categorical=True, tree_method="hist", n_estimators=2000,
                              learning_rate=0.05, early_stopping_rounds=50)),
        ("lgbm", LGBMClassifier(n_estimators=2000, learning_rate=0.05,
                                early_stopping_round=50, verbose=-1)),
    ]
    return StackingClassifier(estimators, n_jobs=2)


def main(rows=None):
    """Fit the stack on 80% of the rows; return holdout ROC AUC per model and the stack's."""
    X, y = load_adult(rows)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y,
                                                        random_state=0)
    stack = make_stack().fit(X_train, y_train)
    scores = {name: roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
              for name, model in stack.named_estimators_.items()}
    scores["stack"] = roc_auc_score(y_test, stack.predict_proba(X_test)[:, 1])
    return scores, stack.best_iterations_


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="a stratified subset")
    scores, rounds = main(parser.parse_args().rows)
    for name, auc in scores.items():
        print(f"{name:>8}: holdout ROC AUC {auc:.4f}")
    print("boosting rounds kept per fold:", {k: v.tolist() for k, v in rounds.items()})
