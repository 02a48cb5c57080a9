"""Checks of a stack loaded from a file, before any of its state can drive a call or an index.

The trust list (:mod:`stackkit._trust`) decides which types a file may build; it cannot
see values. A stack calls ``getattr(model, method)(X)`` for each ``stack_method_`` entry,
indexes its layout and classes, and reads a cache folder named by ``memory``: all of
that comes from the file, so it is checked here against what ``fit`` would have made.
"""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, is_classifier

from ._base import BaseStacking
from ._fold_average import FoldAverage
from .layout import Layout

TARGET_KINDS = {"classifier": ("binary", "multiclass", "multilabel"),
                "regressor": ("continuous", "continuous-multioutput")}
# scikit-learn's own stacking keeps its methods in ``stack_method_`` too
STACK_METHODS = ("predict_proba", "decision_function", "predict")


def check_loaded(model):
    """Check every stack inside ``model`` (and scikit-learn's stacking methods).

    Also sets ``memory=None`` on every stack found: a cache folder is the loading
    machine's choice, never the file's (cache entries are pickles).

    Raises
    ------
    ValueError
        Naming the attribute that is inconsistent, what was found and what was expected.
    """
    for obj in _objects(model):
        if isinstance(obj, BaseEstimator):
            _check_n_features(obj)
        if isinstance(obj, BaseStacking):
            obj.memory = None
            if hasattr(obj, "estimators_"):
                _check_stack(obj)
        elif isinstance(obj, BaseEstimator) and hasattr(obj, "stack_method_"):
            _check_methods(obj, obj.stack_method_, STACK_METHODS)
        elif isinstance(obj, FoldAverage):
            _check_models(obj, "estimators", obj.estimators, ["predict"])


def _objects(root):
    """Every object reachable from ``root`` through containers and estimators' ``__dict__``."""
    seen, pending = set(), [root]
    while pending:
        obj = pending.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, (list, tuple, set)):
            pending.extend(obj)
        elif isinstance(obj, dict):
            pending.extend(obj.values())
        elif isinstance(obj, BaseEstimator):
            pending.extend(vars(obj).values())


def _check_n_features(estimator):
    n_features = vars(estimator).get("n_features_in_", 0)
    if not isinstance(n_features, (int, np.integer)) or isinstance(n_features, bool) or (
            n_features < 0):
        _fail(estimator, "n_features_in_", f"is {n_features!r}, not a number of columns")


def _check_stack(stack):
    missing = [attr for attr in ("stack_method_", "layout_", "final_estimator_", "task_log_")
               if not hasattr(stack, attr)]
    if missing:
        _fail(stack, "estimators_", f"is set but {', '.join(missing)} missing")
    _check_methods(stack, stack.stack_method_, type(stack)._auto_methods)
    _check_models(stack, "estimators_", stack.estimators_, stack.stack_method_)
    _check_layout(stack)
    final = stack.final_estimator_
    if not callable(getattr(final, "predict", None)):
        _fail(stack, "final_estimator_", f"is a {type(final).__name__}, which has no predict")
    n_inputs = stack.layout_.n_columns + (stack.n_features_in_ if stack.passthrough else 0)
    if getattr(final, "n_features_in_", n_inputs) != n_inputs:
        _fail(stack, "final_estimator_", f"takes {final.n_features_in_} columns, but the "
              f"layout gives it {n_inputs}")
    if not isinstance(stack.task_log_, pd.DataFrame) or not {"estimator", "fold"} <= set(
            stack.task_log_.columns):
        _fail(stack, "task_log_", "is not a table with estimator and fold columns")


def _check_methods(owner, methods, allowed):
    if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
        _fail(owner, "stack_method_", f"is {methods!r}, not a list of method names")
    unknown = sorted(set(methods) - set(allowed))
    if unknown:
        _fail(owner, "stack_method_", f"holds {unknown}; each must be one of {list(allowed)}")


def _check_models(owner, attr, models, methods):
    if not isinstance(models, list) or not models:
        _fail(owner, attr, f"is {type(models).__name__}, not a non-empty list of estimators")
    if len(methods) == 1:
        methods = methods * len(models)
    if len(methods) != len(models):
        _fail(owner, attr, f"holds {len(models)} models but stack_method_ {len(methods)}")
    for model, method in zip(models, methods):
        if not isinstance(model, BaseEstimator) or not callable(getattr(model, method, None)):
            _fail(owner, attr, f"holds a {type(model).__name__}, not an estimator with "
                  f"{method}")


def _check_layout(stack):
    layout = stack.layout_
    kind = "classifier" if is_classifier(stack) else "regressor"
    if not isinstance(layout, Layout) or layout.target_kind not in TARGET_KINDS[kind]:
        _fail(stack, "layout_", f"is {layout!r}, not the layout of a {kind}'s fit")
    classes = getattr(stack, "classes_", None) if kind == "classifier" else None
    if kind == "classifier":
        _check_classes(stack, classes, layout.target_kind)
    try:
        n_outputs = len(classes) if layout.target_kind == "multilabel" else len(
            layout.suffixes[0])
        expected = Layout.build(layout.names, stack.stack_method_, layout.target_kind,
                                classes, n_outputs)
        names_ok = len(set(layout.names)) == len(layout.names) == len(stack.estimators_) and all(
            isinstance(name, str) for name in layout.names)
    except (TypeError, ValueError, IndexError, AttributeError) as exc:
        _fail(stack, "layout_", f"cannot be rebuilt from the file's attributes ({exc})")
    if expected != layout or not names_ok:
        _fail(stack, "layout_", f"is {layout!r}; estimators_, stack_method_ and classes_ "
              f"give {expected!r}")


def _check_classes(stack, classes, target_kind):
    if target_kind == "multilabel":
        ok = isinstance(classes, list) and all(
            isinstance(c, np.ndarray) and c.tolist() == [0, 1] for c in classes)
    else:
        ok = (isinstance(classes, np.ndarray) and classes.ndim == 1 and len(classes) >= 2
              and len(np.unique(classes)) == len(classes))
        final_classes = getattr(stack.final_estimator_, "classes_", None)
        ok = ok and (final_classes is None or np.array_equal(final_classes,
                                                             np.arange(len(classes))))
    if not ok:
        _fail(stack, "classes_", f"is {classes!r}, not the distinct labels the final "
              "estimator's codes index")


def _fail(owner, attr, problem):
    raise ValueError(f"{type(owner).__name__}.{attr} {problem}")
