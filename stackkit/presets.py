"""Strong default base estimators: a good first stack in one line.

Two lists: ``"quick"``, four diverse models, and ``"best"``, an ordered portfolio of
15 to 30 configurations per task chosen by ``benchmarks/build_portfolio.py`` (the
records are in the generated module ``stackkit._portfolio``). Every configuration is a
record ``{"name", "family", "params"}`` that :func:`build_estimator` turns into an
unfitted estimator.

>>> from stackkit import StackingClassifier
>>> from stackkit.presets import default_estimators
>>> stack = StackingClassifier(default_estimators("binary", device="cpu"))
>>> [name for name, _ in stack.estimators]
['linear', 'extra_trees', 'xgb', 'lgbm']
"""

import importlib.util

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier, ExtraTreesRegressor, HistGradientBoostingClassifier,
    HistGradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from . import meta
from ._boosters.lightgbm import LightGBM
from ._boosters.xgboost import XGBoost
from ._gpu import visible_gpus
from ._portfolio import FINAL_ESTIMATORS, PORTFOLIO

__all__ = ["build_estimator", "categorical_columns", "default_estimators", "final_estimator",
           "is_available", "numeric_columns", "portfolio_stack"]

TASKS = ("binary", "multiclass", "regression")
DEVICES = ("auto", "cpu", "cuda")
PORTFOLIOS = ("quick", "best")
MAX_ROUNDS = 2000  # an upper bound: early stopping decides the rounds per fold
STOPPING_ROUNDS = 50
# LightGBM's Dask interface has no early stopping, so its rounds are fixed: between those
# the quick preset's early-stopped LightGBM kept on adult (200) and diamonds (377), at the
# same learning rate (README, benchmarks/bench_boosters.py)
DASK_LIGHTGBM_ROUNDS = 300
# portfolio_stack(layers=2): the second layer's models (the portfolio's first ones) and
# its share of a time limit
SECOND_LAYER_SIZE = 8
SECOND_LAYER_SHARE = 0.3
# the library each family needs beyond scikit-learn (an optional one may be missing)
LIBRARIES = {"lightgbm": "lightgbm", "xgboost": "xgboost", "catboost": "catboost"}
QUICK = [
    {"name": "linear", "family": "linear", "params": {}},
    {"name": "extra_trees", "family": "extra_trees",
     "params": {"n_estimators": 300, "min_samples_leaf": 2, "max_features": "sqrt"}},
    {"name": "xgb", "family": "xgboost",
     "params": {"learning_rate": 0.05, "max_depth": 6, "subsample": 0.8,
                "colsample_bytree": 0.8}},
    {"name": "lgbm", "family": "lightgbm",
     "params": {"learning_rate": 0.05, "num_leaves": 31, "subsample": 0.8, "subsample_freq": 1,
                "colsample_bytree": 0.8}},
]


def default_estimators(task, *, portfolio="quick", device="auto", random_state=0, dask=False):
    """A diverse list of base estimators for ``task``, boosters early-stopped.

    ``"quick"``: a linear model (numeric columns imputed and scaled, categorical
    columns one-hot encoded), extra trees (categorical columns ordinal-encoded),
    XGBoost and LightGBM (pandas ``category`` columns used natively; 2000 rounds at
    most at learning rate 0.05, stopped after 50 rounds without improvement on rows
    held out of each training fold). ``"best"``: the ordered portfolio of
    ``stackkit._portfolio`` (LightGBM, XGBoost, CatBoost, scikit-learn's
    histogram gradient boosting, forests, k-NN and linear models, the strongest and
    cheapest first), leaving out the configurations of a library that is not
    installed. Works on numpy arrays and on DataFrames; give string columns the
    ``category`` dtype (``df.astype({"col": "category"})``), which the boosters need.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
        The kind of target.
    portfolio : {"quick", "best"}, default="quick"
        Which list: four models, or the portfolio of 15 to 30 (in priority order,
        the order a time limit drops them from the end).
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where XGBoost trains: ``"cuda"`` puts it on CUDA (``device="cuda"``, a GPU
        lane of the stack); ``"auto"`` does so when a GPU is visible (see
        ``CUDA_VISIBLE_DEVICES``), else uses the CPU. LightGBM stays on the CPU either
        way: its GPU build (``device_type="gpu"``) needs OpenCL, which many CUDA
        machines lack, and is slower than its CPU build on medium data. Ask for it
        with ``stack.set_params(lgbm__device_type="gpu")``.
    random_state : int, default=0
        Seed of every randomised estimator.
    dask : bool, default=False
        For ``X`` and ``y`` as Dask collections on a cluster: the quick list's two
        boosters as their distributed estimators (``xgboost.dask.DaskXGB*``, early-stopped
        per fold as above; ``lightgbm.DaskLGBM*``, whose Dask interface has no early
        stopping, at :data:`DASK_LIGHTGBM_ROUNDS` rounds). Only ``portfolio="quick"``:
        the other models need every row in one process.

    Returns
    -------
    estimators : list of (str, estimator)
        Unfitted, ready for ``StackingClassifier`` or ``StackingRegressor``; with
        ``"quick"``: ``linear``, ``extra_trees``, ``xgb`` and ``lgbm`` (``xgb`` and
        ``lgbm`` with ``dask=True``).
    """
    _check_choice("task", task, TASKS)
    _check_choice("portfolio", portfolio, PORTFOLIOS)
    _check_choice("device", device, DEVICES)
    if not isinstance(dask, bool):
        raise ValueError(f"dask must be True or False; got {dask!r}")
    if dask and portfolio != "quick":
        raise ValueError(f"portfolio={portfolio!r} holds models that need every row in one "
                         "process; with dask=True only portfolio='quick' is available")
    on_gpu = device == "cuda" or (device == "auto" and visible_gpus() > 0)
    if dask:
        return [(record["name"], DASK_FAMILIES[record["family"]](
            task != "regression", dict(record["params"]), on_gpu, random_state))
            for record in QUICK if record["family"] in DASK_FAMILIES]
    records = QUICK if portfolio == "quick" else PORTFOLIO[task]
    return [(record["name"], build_estimator(record, task, on_gpu=on_gpu,
                                             random_state=random_state))
            for record in records if is_available(record)]


def portfolio_stack(task, *, layers=1, time_limit=None, device="auto", random_state=0,
                    n_jobs=None, verbose=0):
    """An unfitted stack of the ``"best"`` portfolio and its measured final estimator.

    The final estimator is the one ``benchmarks/build_portfolio.py`` measured best on
    the portfolio's out-of-fold predictions (``stackkit._portfolio.FINAL_ESTIMATORS``).

    With ``layers=2`` the final estimator is itself a stack, the second layer: the
    portfolio's first :data:`SECOND_LAYER_SIZE` configurations fit on the first
    layer's out-of-fold predictions beside the original columns (``passthrough=True``),
    on the same folds (both layers split the same rows with the same ``cv=5``; a
    ``groups``-aware ``cv`` set on both gets the same ``groups``), under the measured
    final estimator. ``benchmarks/bench_layers.py`` measured it: read the README's
    "Two layers" paragraph before you switch it on.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
        The kind of target.
    layers : {1, 2}, default=1
        One layer of base models, or two.
    time_limit : float, default=None
        Seconds for the whole fit, passed to the stack; None: no budget. With two
        layers, the second gets :data:`SECOND_LAYER_SHARE` of it as its own
        ``time_limit``, which the first layer keeps free.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where XGBoost trains (see :func:`default_estimators`).
    random_state : int, default=0
        Seed of every randomised estimator.
    n_jobs : int, default=None
        The stack's parallel tasks.
    verbose : int, default=0
        The stack's verbosity.

    Returns
    -------
    stack : StackingClassifier or StackingRegressor
        Unfitted, with ``cv=5`` and ``refit=True``.
    """
    from .classifier import StackingClassifier
    from .regressor import StackingRegressor

    if layers not in (1, 2) or isinstance(layers, bool):
        raise ValueError(f"layers must be 1 or 2; got {layers!r}")
    estimators = default_estimators(task, portfolio="best", device=device,
                                    random_state=random_state)
    stack = StackingRegressor if task == "regression" else StackingClassifier
    final = final_estimator(task)
    if layers == 2:
        second_limit = None if time_limit is None else time_limit * SECOND_LAYER_SHARE
        final = stack(estimators[:SECOND_LAYER_SIZE], final, cv=5, refit=True, n_jobs=n_jobs,
                      verbose=verbose, time_limit=second_limit)
    return stack(estimators, final, cv=5, refit=True, n_jobs=n_jobs, verbose=verbose,
                 passthrough=layers == 2, time_limit=time_limit)


def final_estimator(task):
    """The measured final estimator of the ``"best"`` portfolio for ``task``, unfitted.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}
        The kind of target.

    Returns
    -------
    estimator : estimator
        The final estimator ``benchmarks/build_portfolio.py`` measured best.
    """
    _check_choice("task", task, TASKS)
    record = FINAL_ESTIMATORS[task]
    return FINAL_FAMILIES[record["family"]](task != "regression")(**record["params"])


def build_estimator(record, task, *, on_gpu=False, random_state=0):
    """Turn one configuration record into an unfitted estimator for ``task``.

    Parameters
    ----------
    record : dict
        ``{"name": str, "family": str, "params": dict}``; ``family`` is a key of
        :data:`FAMILIES`, ``params`` the model's own parameters.
    task : {"binary", "multiclass", "regression"}
        The kind of target.
    on_gpu : bool, default=False
        Put XGBoost on CUDA.
    random_state : int, default=0
        Seed of a randomised model.

    Returns
    -------
    estimator : estimator
        The model, inside a pipeline with its column encoder where it needs numbers.
    """
    if record["family"] not in FAMILIES:
        raise ValueError(f"configuration {record['name']!r}: family must be one of "
                         f"{sorted(FAMILIES)}; got {record['family']!r}")
    return FAMILIES[record["family"]](task != "regression", dict(record["params"]), on_gpu,
                                      random_state)


def is_available(record):
    """Whether the library a configuration record needs is installed.

    Parameters
    ----------
    record : dict
        A configuration record (see :func:`build_estimator`).

    Returns
    -------
    available : bool
        False when its family's optional library (CatBoost) is missing.
    """
    library = LIBRARIES.get(record["family"])
    return library is None or _installed(library)


def _installed(library):
    return importlib.util.find_spec(library) is not None


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


def _check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")


def _scaled_one_hot():
    """Numbers imputed and scaled, categories one-hot: for linear models and k-NN."""
    return ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
         numeric_columns),
        ("categorical", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20)),
         categorical_columns),
    ])


def _ordinal():
    """Numbers as they are, categories as integer codes: for trees."""
    return ColumnTransformer([
        ("numeric", "passthrough", numeric_columns),
        ("categorical", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                       encoded_missing_value=-1), categorical_columns),
    ])


def _linear(classify, params, on_gpu, random_state):
    model = LogisticRegression(max_iter=2000, **params) if classify else RidgeCV(**params)
    return make_pipeline(_scaled_one_hot(), model)


def _knn(classify, params, on_gpu, random_state):
    model = KNeighborsClassifier if classify else KNeighborsRegressor
    return make_pipeline(_scaled_one_hot(), model(**params))


def _forest(classes):
    def build(classify, params, on_gpu, random_state):
        forest = classes[0] if classify else classes[1]
        return make_pipeline(_ordinal(), forest(random_state=random_state, **params))
    return build


def _hist_gradient_boosting(classify, params, on_gpu, random_state):
    model = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
    return make_pipeline(_ordinal(), model(max_iter=MAX_ROUNDS, early_stopping=True,
                                           n_iter_no_change=STOPPING_ROUNDS,
                                           random_state=random_state, **params))


def _xgboost(classify, params, on_gpu, random_state):
    from xgboost import XGBClassifier, XGBRegressor

    return _early_stopped_xgboost(XGBClassifier if classify else XGBRegressor, params, on_gpu,
                                  random_state)


def _early_stopped_xgboost(booster, params, on_gpu, random_state):
    """An XGBoost estimator (in memory or distributed) of the presets' rounds and settings."""
    return booster(n_estimators=MAX_ROUNDS, early_stopping_rounds=STOPPING_ROUNDS,
                   tree_method="hist", enable_categorical=True,
                   **XGBoost.device_params(gpu=on_gpu), random_state=random_state, **params)


def _lightgbm(classify, params, on_gpu, random_state):
    from lightgbm import LGBMClassifier, LGBMRegressor

    booster = LGBMClassifier if classify else LGBMRegressor
    return booster(n_estimators=MAX_ROUNDS, early_stopping_round=STOPPING_ROUNDS, verbose=-1,
                   **LightGBM.device_params(gpu=False), random_state=random_state, **params)


def _dask_xgboost(classify, params, on_gpu, random_state):
    from xgboost.dask import DaskXGBClassifier, DaskXGBRegressor

    return _early_stopped_xgboost(DaskXGBClassifier if classify else DaskXGBRegressor, params,
                                  on_gpu, random_state)


def _dask_lightgbm(classify, params, on_gpu, random_state):
    from lightgbm import DaskLGBMClassifier, DaskLGBMRegressor

    booster = DaskLGBMClassifier if classify else DaskLGBMRegressor
    return booster(n_estimators=DASK_LIGHTGBM_ROUNDS, verbose=-1, random_state=random_state,
                   **params)


def _catboost(classify, params, on_gpu, random_state):
    # CatBoost's own categorical handling needs the column list up front; the codes of
    # the ordinal encoder work on any table. stackkit gives CatBoost no early stopping.
    from catboost import CatBoostClassifier, CatBoostRegressor

    booster = CatBoostClassifier if classify else CatBoostRegressor
    return make_pipeline(_ordinal(), booster(random_seed=random_state, verbose=0,
                                             allow_writing_files=False, **params))


# family -> builder(classify, params, on_gpu, random_state)
FAMILIES = {
    "linear": _linear, "knn": _knn, "hist_gradient_boosting": _hist_gradient_boosting,
    "extra_trees": _forest((ExtraTreesClassifier, ExtraTreesRegressor)),
    "random_forest": _forest((RandomForestClassifier, RandomForestRegressor)),
    "xgboost": _xgboost, "lightgbm": _lightgbm, "catboost": _catboost,
}
# family -> builder of its distributed estimator, for Dask collections (default_estimators)
DASK_FAMILIES = {"xgboost": _dask_xgboost, "lightgbm": _dask_lightgbm}


def _final_logistic(**params):
    # near-certain probabilities (kddcup99) are almost separable: lbfgs needs more than
    # its default 100 iterations there
    return LogisticRegression(**{"max_iter": 1000, **params})


# final-estimator family -> class (or builder) for (classify)
FINAL_FAMILIES = {
    "ensemble_selection": lambda classify: (meta.EnsembleSelectionClassifier if classify
                                            else meta.EnsembleSelectionRegressor),
    "best_model": lambda classify: (meta.BestModelClassifier if classify
                                    else meta.BestModelRegressor),
    "nnls": lambda classify: meta.NNLSClassifier if classify else meta.NNLSRegressor,
    "blend": lambda classify: meta.BlendClassifier,
    "linear": lambda classify: _final_logistic if classify else RidgeCV,
}
