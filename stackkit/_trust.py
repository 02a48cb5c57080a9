"""The names a model file may ask for: :func:`stackkit.io.load`'s explicit trust list.

A skops file is data plus the names of the types (and a few functions) to build it
from, and skops resolves a name by importing its module and reading the attribute. A
package's module also holds what it imported, so ``sklearn.datasets._base.Path``
resolves to :class:`pathlib.Path`. A name is therefore trusted only when it is on the
list below (or named by the caller) *and* the object it resolves to calls itself by
that very name (its ``__module__`` + ``.`` + ``__qualname__``): an alias is never
trusted, whatever package it passes through. Names not on the list are never imported.
"""

import importlib
import sys
from functools import lru_cache

import numpy as np

BUILTIN_TYPES = (
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.set", "builtins.str",
    "builtins.int", "builtins.float", "builtins.bool", "builtins.slice", "builtins.bytes",
    "builtins.bytearray", "collections.OrderedDict", "collections.defaultdict",
)
STACKKIT_TYPES = (
    "stackkit.classifier.StackingClassifier", "stackkit.regressor.StackingRegressor",
    "stackkit._fold_average.FoldAverage", "stackkit.layout.Layout",
    "stackkit.meta.NNLSRegressor", "stackkit.meta.NNLSClassifier",
    "stackkit.meta.BlendClassifier", "stackkit.meta.EnsembleSelectionClassifier",
    "stackkit.meta.EnsembleSelectionRegressor", "stackkit.meta.BestModelClassifier",
    "stackkit.meta.BestModelRegressor", "stackkit.schema.TableSchema",
    "stackkit.transfer.WarmStart",
)
BOOSTER_TYPES = (
    "xgboost.sklearn.XGBClassifier", "xgboost.sklearn.XGBRegressor",
    "xgboost.sklearn.XGBRFClassifier", "xgboost.sklearn.XGBRFRegressor", "xgboost.core.Booster",
    "lightgbm.sklearn.LGBMClassifier", "lightgbm.sklearn.LGBMRegressor",
    "lightgbm.basic.Booster", "lightgbm.basic._InnerPredictor",
    "catboost.core.CatBoostClassifier", "catboost.core.CatBoostRegressor",
)
# What fitted scikit-learn estimators hold besides estimators and arrays, found by saving
# representative stacks (the presets, every meta-learner, transfer models, pipelines with
# encoders, gradient boosting, neighbours, networks).
SKLEARN_HELPER_TYPES = (
    "sklearn.tree._tree.Tree", "sklearn.utils._bunch.Bunch",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.neighbors._kd_tree.KDTree", "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    *(f"sklearn.metrics._dist_metrics.{metric}Distance{bits}"
      for metric in ("Euclidean", "Manhattan", "Minkowski", "Chebyshev") for bits in (32, 64)),
    *(f"sklearn._loss.link.{link}" for link in (
        "IdentityLink", "Interval", "LogLink", "LogitLink", "HalfLogitLink", "MultinomialLogit")),
    *(f"sklearn._loss.loss.{loss}" for loss in (
        "AbsoluteError", "ExponentialLoss", "HalfBinomialLoss", "HalfGammaLoss",
        "HalfMultinomialLoss", "HalfPoissonLoss", "HalfSquaredError", "HalfTweedieLoss",
        "HalfTweedieLossIdentity", "HuberLoss", "PinballLoss")),
    *(f"sklearn._loss._loss.Cy{loss}" for loss in (
        "AbsoluteError", "ExponentialLoss", "HalfBinomialLoss", "HalfGammaLoss",
        "HalfMultinomialLoss", "HalfPoissonLoss", "HalfSquaredError", "HalfTweedieLoss",
        "HalfTweedieLossIdentity", "HuberLoss", "PinballLoss")),
)
# the splitters a stack's ``cv`` may hold
SPLITTER_TYPES = tuple(f"sklearn.model_selection._split.{splitter}" for splitter in (
    "KFold", "StratifiedKFold", "GroupKFold", "StratifiedGroupKFold", "RepeatedKFold",
    "RepeatedStratifiedKFold", "TimeSeriesSplit", "ShuffleSplit", "StratifiedShuffleSplit",
    "GroupShuffleSplit", "PredefinedSplit", "LeaveOneGroupOut", "LeavePGroupsOut",
    "LeaveOneOut"))
OTHER_TYPES = (
    "numpy.ndarray", "numpy.dtype", "numpy.random.mtrand.RandomState",
    "numpy.random._generator.Generator",
    "scipy.sparse._csr.csr_matrix", "scipy.sparse._csc.csc_matrix",
    "scipy.sparse._csr.csr_array", "scipy.sparse._csc.csc_array",
)
# Functions are called at predict time (column selectors, FunctionTransformer), so
# only these: stackkit's column selectors and a few element-wise numpy ufuncs.
FUNCTIONS = frozenset({
    "stackkit.presets.numeric_columns", "stackkit.presets.categorical_columns",
    *(f"numpy.{ufunc}" for ufunc in ("log", "log1p", "exp", "expm1", "sqrt", "square",
                                     "absolute")),
})
# How skops builds a node, when it is not a plain type: refused whatever the name.
REFUSED_LOADERS = {
    "MethodNode": "a bound method",
    "ConstructorFromReduceNode": "a constructor called with arguments from the file",
}


@lru_cache(maxsize=1)
def trusted_types():
    """Every type name stackkit trusts (a frozenset of ``module.Qualname``)."""
    from sklearn.utils import all_estimators

    sklearn_estimators = {own_name(cls) for _, cls in all_estimators()}
    scalars = {own_name(scalar) for scalar in set(np.sctypeDict.values())}
    return frozenset({*BUILTIN_TYPES, *STACKKIT_TYPES, *BOOSTER_TYPES, *SKLEARN_HELPER_TYPES,
                      *SPLITTER_TYPES, *OTHER_TYPES, *sklearn_estimators, *scalars})


def own_name(obj):
    """``module.Qualname`` of a class or function, as it names itself."""
    return f"{obj.__module__}.{getattr(obj, '__qualname__', obj.__name__)}"


@lru_cache(maxsize=None)
def resolves_to_itself(name):
    """Whether importing ``name`` gives an object whose own name is ``name`` (no alias)."""
    module, _, attribute = name.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), attribute)
        return own_name(obj) == name
    except (ImportError, AttributeError, ValueError, TypeError):
        return False


def is_trusted(name, kind="type", extra=()):
    """Whether a file may ask for the type (or function, ``kind="function"``) ``name``.

    ``extra`` are further names the caller trusts; they too must not be aliases.
    """
    listed = FUNCTIONS if kind == "function" else trusted_types()
    return (name in listed or name in extra) and resolves_to_itself(name)


def requests(schema):
    """Every ``(loader, name)`` pair a skops ``schema.json`` asks for, in no order.

    Raises ValueError for a node whose loader or name is not a string.
    """
    return {_request(node) for node in typed_nodes(schema)}


def typed_nodes(schema):
    """Every node (a dict with a ``__loader__``) of a skops ``schema.json``.

    Walks all of the JSON, not only where skops looks, so no node can hide.
    """
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            pending.extend(node.values())
            if "__loader__" in node:
                yield node


def _request(node):
    parts = node["__loader__"], node.get("__module__"), node.get("__class__")
    if not all(isinstance(part, str) for part in parts):
        raise ValueError(f"a node of schema.json has a malformed type: {parts!r}")
    loader, module, cls = parts
    return loader, f"{module}.{cls}"


def refusals(asked, extra=()):
    """Why each refused ``(loader, name)`` request is refused, as readable phrases."""
    refused = []
    for loader, name in sorted(asked):
        if loader in REFUSED_LOADERS:
            refused.append(f"{_described(name)} built as {REFUSED_LOADERS[loader]}")
        elif loader == "FunctionNode" and not is_trusted(name, "function", extra):
            refused.append(f"function {_described(name)}")
        elif loader == "TreeNode" and not is_trusted("sklearn.tree._tree.Tree"):
            refused.append("sklearn.tree._tree.Tree")
        elif loader != "FunctionNode" and not is_trusted(name, "type", extra):
            refused.append(_described(name))
    return refused


def _described(name):
    """``name``, saying what it is an alias of when its module is already imported."""
    module, _, attribute = name.rpartition(".")
    try:  # sys.modules only: a name from a file never triggers an import
        own = own_name(getattr(sys.modules[module], attribute))
    except (KeyError, AttributeError):
        return name
    return name if own == name else f"{name} (an alias of {own})"
