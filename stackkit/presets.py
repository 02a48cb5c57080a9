"""Strong default base estimators: a good first stack in one line.

>>> from stackkit import StackingClassifier
>>> from stackkit.presets import default_estimators
>>> stack = StackingClassifier(default_estimators("binary", device="cpu"))
>>> [name for name, _ in stack.estimators]
['linear', 'extra_trees', 'xgb', 'lgbm']
"""

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from ._boosters.lightgbm import LightGBM
from ._boosters.xgboost import XGBoost
from ._gpu import visible_gpus

__all__ = ["categorical_columns", "default_estimators", "numeric_columns"]

TASKS = ("binary", "multiclass", "regression")
DEVICES = ("auto", "cpu", "cuda")
MAX_ROUNDS = 2000  # an upper bound: early stopping decides the rounds per fold
STOPPING_ROUNDS = 50


def default_estimators(task, *, device="auto", random_state=0):
    """A diverse list of base estimators for ``task``, boosters early-stopped.

    A linear model (numeric columns imputed and scaled, categorical columns one-hot
    encoded), extra trees (categorical columns ordinal-encoded), XGBoost and LightGBM
    (pandas ``category`` columns used natively; 2000 rounds at most at learning rate
    0.05, stopped after 50 rounds without improvement on rows held out of each
    training fold). Works on numpy arrays and on DataFrames; give string columns the
    ``category`` dtype (``df.astype({"col": "category"})``), which the boosters need.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
        The kind of target.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where XGBoost trains: ``"cuda"`` puts it on CUDA (``device="cuda"``, a GPU
        lane of the stack); ``"auto"`` does so when a GPU is visible (see
        ``CUDA_VISIBLE_DEVICES``), else uses the CPU. LightGBM stays on the CPU either
        way: its GPU build (``device_type="gpu"``) needs OpenCL, which many CUDA
        machines lack, and is slower than its CPU build on medium data. Ask for it
        with ``stack.set_params(lgbm__device_type="gpu")``.
    random_state : int, default=0
        Seed of every randomised estimator.

    Returns
    -------
    estimators : list of (str, estimator)
        ``linear``, ``extra_trees``, ``xgb`` and ``lgbm``, unfitted, ready for
        ``StackingClassifier`` or ``StackingRegressor``.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}; got {task!r}")
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}; got {device!r}")
    on_gpu = device == "cuda" or (device == "auto" and visible_gpus() > 0)
    classify = task != "regression"
    return [
        ("linear", _linear(classify)),
        ("extra_trees", _extra_trees(classify, random_state)),
        ("xgb", _xgboost(classify, on_gpu, random_state)),
        ("lgbm", _lightgbm(classify, random_state)),
    ]


def numeric_columns(X):
    """Select the numeric and boolean columns of a DataFrame; every column of an array.

    A column selector for ``ColumnTransformer`` (model files may name it).

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
        The table whose columns are selected.

    Returns
    -------
    columns : list
        Column names (DataFrame) or positions (array).
    """
    if hasattr(X, "select_dtypes"):
        return list(X.select_dtypes(include=["number", "bool"]).columns)
    return list(range(X.shape[1]))


def categorical_columns(X):
    """Select the other columns of a DataFrame (category, string); none of an array.

    A column selector for ``ColumnTransformer`` (model files may name it).

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_features)
        The table whose columns are selected.

    Returns
    -------
    columns : list
        Column names (DataFrame); empty for an array.
    """
    if hasattr(X, "select_dtypes"):
        numeric = set(numeric_columns(X))
        return [column for column in X.columns if column not in numeric]
    return []


def _linear(classify):
    encode = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
         numeric_columns),
        ("categorical", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20)),
         categorical_columns),
    ])
    model = LogisticRegression(max_iter=2000) if classify else RidgeCV()
    return make_pipeline(encode, model)


def _extra_trees(classify, random_state):
    encode = ColumnTransformer([
        ("numeric", "passthrough", numeric_columns),
        ("categorical", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                       encoded_missing_value=-1), categorical_columns),
    ])
    forest = ExtraTreesClassifier if classify else ExtraTreesRegressor
    return make_pipeline(encode, forest(n_estimators=300, min_samples_leaf=2,
                                        max_features="sqrt", random_state=random_state))


def _xgboost(classify, on_gpu, random_state):
    from xgboost import XGBClassifier, XGBRegressor

    booster = XGBClassifier if classify else XGBRegressor
    return booster(n_estimators=MAX_ROUNDS, learning_rate=0.05, max_depth=6, subsample=0.8,
                   colsample_bytree=0.8, early_stopping_rounds=STOPPING_ROUNDS,
                   tree_method="hist", enable_categorical=True,
                   **XGBoost.device_params(gpu=on_gpu), random_state=random_state)


def _lightgbm(classify, random_state):
    from lightgbm import LGBMClassifier, LGBMRegressor

    booster = LGBMClassifier if classify else LGBMRegressor
    return booster(n_estimators=MAX_ROUNDS, learning_rate=0.05, num_leaves=31,
                   subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                   early_stopping_round=STOPPING_ROUNDS, verbose=-1,
                   **LightGBM.device_params(gpu=False), random_state=random_state)
