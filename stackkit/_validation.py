"""Every user-facing check of the stacking estimators and its error text.

All of these run in ``fit`` before any fold work starts. The checks of the stack's
own scalar parameters and ``cv`` are in :mod:`stackkit._param_checks`.
"""

import numpy as np
from sklearn.multioutput import MultiOutputClassifier, MultiOutputRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.validation import has_fit_parameter

from ._boosters.warm_start import template_param
from ._dask_plane import is_dask_collection
from ._early_stopping import how_to_turn_off, stopper
from ._param_checks import short_repr
from ._frames import as_pandas
from ._plane import count_rows, holds_rows, nonfinite_columns
from ._source import is_frozen, is_template_booster

STACK_METHODS = ("predict_proba", "decision_function", "predict")
EVAL_SET_PARAMS = {"eval_set", "eval_X", "eval_y"}


def validate_estimators(estimators, reserved_names):
    """Return the ``(name, estimator)`` pairs that are not ``"drop"``.

    Raises a ``TypeError`` for anything but a list or tuple (a generator, dict, str,
    None), and a ``ValueError`` or ``TypeError`` naming the offending entry for an empty
    list, a malformed pair, a bad or duplicate name, or an object without ``fit``.
    """
    if not isinstance(estimators, (list, tuple)):
        hint = "; for a dict, pass list(estimators.items())" if isinstance(estimators, dict) else ""
        raise TypeError(
            "estimators must be a list of (name, estimator) pairs; got "
            f"{type(estimators).__name__}: {short_repr(estimators)}{hint}"
        )
    if len(estimators) == 0:
        raise ValueError("estimators must be a non-empty list of (name, estimator) pairs; got []")
    seen = set()
    for i, pair in enumerate(estimators):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"estimators[{i}] must be a (name, estimator) pair; got {pair!r}")
        name, est = pair
        _check_name(name, i, seen, reserved_names)
        seen.add(name)
        _check_not_a_class(est, f"estimator {name!r}")
        if not (isinstance(est, str) and est == "drop") and not hasattr(est, "fit"):
            raise TypeError(
                f"estimator {name!r} must be a scikit-learn estimator (with a fit method) "
                f"or 'drop'; got {type(est).__name__}: {est!r}"
            )
    kept = [(name, est) for name, est in estimators if not _is_drop(est)]
    if not kept:
        raise ValueError("all estimators are 'drop'; at least one must be an estimator")
    return kept


def _check_not_a_class(est, what):
    if isinstance(est, type):
        raise TypeError(f"{what} is the class {est.__name__}, not an estimator; pass an "
                        f"instance such as {est.__name__}()")


def _is_drop(est):
    return isinstance(est, str) and est == "drop"


def _check_name(name, index, seen, reserved_names):
    if not isinstance(name, str) or not name:
        raise ValueError(f"estimators[{index}] has an empty or non-string name: {name!r}")
    if "__" in name:
        raise ValueError(f"estimator name {name!r} must not contain '__'")
    if name in seen:
        raise ValueError(f"estimator name {name!r} is used more than once")
    if name in reserved_names:
        raise ValueError(
            f"estimator name {name!r} clashes with a parameter of the stack; rename it"
        )


def validate_final_estimator(final_estimator, is_classifier_stack):
    """Check that ``final_estimator`` can be fit, can predict and fits the stack's task."""
    _check_not_a_class(final_estimator, "final_estimator")
    if not hasattr(final_estimator, "fit"):
        raise TypeError(
            "final_estimator must be a scikit-learn estimator (with a fit method); "
            f"got {type(final_estimator).__name__}: {final_estimator!r}"
        )
    if not hasattr(final_estimator, "predict"):
        raise TypeError(
            "final_estimator must have a predict method (the stack predicts through it); "
            f"got {type(final_estimator).__name__}, which has none"
        )
    kind = get_tags(final_estimator).estimator_type
    expected = "classifier" if is_classifier_stack else "regressor"
    if kind is not None and kind != expected:
        raise ValueError(
            f"final_estimator must be a {expected} for this stack; "
            f"got {type(final_estimator).__name__}, a {kind}"
        )


def resolve_stack_methods(named_estimators, stack_method, auto_order):
    """Return the prediction method used for each estimator, in order.

    ``stack_method`` is ``"auto"``, one method name, or a dict ``{name: method}`` (names
    left out use ``"auto"``). ``"auto"`` takes the first method of ``auto_order`` the
    estimator has.
    """
    names = [name for name, _ in named_estimators]
    if isinstance(stack_method, dict):
        unknown = sorted(set(stack_method) - set(names))
        if unknown:
            raise ValueError(
                f"stack_method names unknown estimators {unknown}; known: {names}"
            )
        requested = [stack_method.get(name, "auto") for name in names]
    else:
        requested = [stack_method] * len(names)
    return [
        _resolve_method(name, est, method, auto_order)
        for (name, est), method in zip(named_estimators, requested)
    ]


def _resolve_method(name, est, method, auto_order):
    if method == "auto":
        for candidate in auto_order:
            if hasattr(est, candidate):
                return candidate
        raise ValueError(f"estimator {name!r} has none of the methods {list(auto_order)}")
    if method not in auto_order:
        raise ValueError(
            f"stack_method for estimator {name!r} must be 'auto' or one of "
            f"{list(auto_order)}; got {method!r}"
        )
    if not hasattr(est, method):
        raise ValueError(
            f"stack_method={method!r} but estimator {name!r} "
            f"({type(est).__name__}) has no {method} method"
        )
    return method


def check_layout_learner_target(final_estimator, target_kind):
    """A final estimator that reads the stack's layout cannot be wrapped per output."""
    if has_fit_parameter(final_estimator, "layout"):
        raise ValueError(
            f"final_estimator {type(final_estimator).__name__} weighs base models by the "
            f"stack's layout, one target at a time; the target is {target_kind}"
        )


def check_sample_weight_support(named_estimators, final_name, final_estimator):
    """Raise if ``sample_weight`` was given but a (not frozen) estimator cannot take it."""
    for name, est in [*named_estimators, (final_name, final_estimator)]:
        if not is_frozen(est) and not has_fit_parameter(est, "sample_weight"):
            raise TypeError(
                f"sample_weight was passed but estimator {name!r} ({type(est).__name__}) "
                "does not accept sample_weight in fit; drop the weights, or replace the "
                "estimator with one whose fit takes sample_weight"
            )


def check_metadata_names(fit_params):
    """Without metadata routing, refuse a fit parameter that names no estimator.

    Checked first, as scikit-learn does, before the data: metadata passed by its own
    name needs ``enable_metadata_routing=True``.
    """
    for key in fit_params:
        if "__" not in key:
            raise ValueError(_METADATA_NAME.format(key=key, names="the stack's estimators"))


_METADATA_NAME = (
    "fit parameter {key!r} must be named <estimator>__<parameter>, with an estimator of "
    "{names} or final_estimator; metadata passed by its own name (routed as each estimator "
    "requests it) is only supported if enable_metadata_routing=True (sklearn.set_config)"
)


def route_fit_params(fit_params, sample_weight, names, n_rows):
    """Split ``<name>__<param>`` fit parameters per estimator (and ``final_estimator``).

    ``sample_weight`` goes to every estimator. Returns ``{name: (params, per_row)}``
    where ``per_row`` names the parameters holding one value per row of X, which are
    sliced to each task's training rows (see :func:`_is_per_row` for the rule).
    """
    routed = {name: {} for name in [*names, "final_estimator"]}
    for key, value in fit_params.items():
        name, _, param = key.partition("__")
        if name not in routed or not param:
            raise ValueError(_METADATA_NAME.format(key=key, names=names))
        if param == "sample_weight" and sample_weight is not None:
            raise ValueError(f"{key!r} and sample_weight both given; pass one of them")
        if param == "sample_weight":  # per row by its nature, even given as a list
            value = validate_sample_weight(value, n_rows, key)
        routed[name][param] = value
    if sample_weight is not None:
        for params in routed.values():
            params["sample_weight"] = sample_weight
    return per_row_params(routed, n_rows)


def per_row_params(params_by_name, n_rows):
    """``{name: (params, per_row)}``: each estimator's fit parameters and the per-row ones.

    A ``sample_weight`` is checked and made an array (per row by its nature, even given
    as a list); ``per_row`` names the parameters sliced to each task's training rows.
    """
    out = {}
    for name, params in params_by_name.items():
        params = {key: as_pandas(value, f"fit parameter {key!r} of {name!r}")
                  for key, value in params.items()}  # polars and Arrow made pandas
        if "sample_weight" in params:
            params = {**params, "sample_weight": validate_sample_weight(
                params["sample_weight"], n_rows, f"sample_weight of {name!r}")}
        out[name] = (params, tuple(p for p, v in params.items() if _is_per_row(v, n_rows)))
    return out


def _is_per_row(value, n_rows):
    """Whether a fit parameter holds one value per row of X, so is sliced per fold.

    Only a numpy array, a pandas Series or DataFrame, a sparse matrix or a Dask
    collection (the weights of a fit on one) with ``n_rows`` rows is. A list or tuple
    never is, whatever its length: lists are how boosters take per-column settings
    (``feature_name``, ``categorical_feature``), and one that happens to have
    ``n_rows`` entries must reach every fold whole.
    """
    if not holds_rows(value):
        return False
    return value.ndim > 0 and count_rows(value) == n_rows


def check_early_stopping(named_estimators, routed_params):
    """Reject early stopping that stackkit cannot serve, before any fitting.

    stackkit carves each fold's evaluation set itself, so it must not be passed in, and
    it can hand one only to a booster placed directly in the stack (or warm-started
    there), fit once for the whole y (not once per column of a multi-output y).
    Frozen estimators and fitted source models are never trained, so skipped.
    """
    for name, est in [(n, e) for n, e in named_estimators if not is_frozen(e)]:
        params = routed_params[name][0]
        given = sorted(EVAL_SET_PARAMS & params.keys())
        served = stopper(est, params) is not None
        if given and served:
            raise ValueError(
                f"estimator {name!r} stops early on rows stackkit holds out of each training "
                f"fold; do not pass {name}__{given[0]} (the same evaluation set in every fold "
                "would let held-out rows decide when training stops)"
            )
        _check_one_fit_per_output(name, est, params)
        for path, inner in est.get_params(deep=True).items():
            if (served and path == template_param(est)) or not is_template_booster(inner):
                continue
            if stopper(inner) is not None:
                raise ValueError(
                    f"estimator {name!r} holds {type(inner).__name__} with early stopping at "
                    f"{name}__{path}; stackkit gives an evaluation set only to a booster placed "
                    "directly in the stack: place it there or turn its early stopping off"
                )


def _check_one_fit_per_output(name, est, params):
    """Reject early stopping of a booster fit once per column of y (a multi-output wrapper).

    Each of those fits would need an evaluation set of its own column; stackkit carves
    one evaluation set per fold task, for the whole y.
    """
    if not isinstance(est, (MultiOutputClassifier, MultiOutputRegressor)):
        return
    adapter = stopper(est.estimator, params)
    if adapter is None or not adapter.needs_eval_set:
        return
    raise ValueError(
        f"estimator {name!r} ({type(est.estimator).__name__}) asks for early stopping, but "
        f"y has several columns, so it is fit once per column (in {type(est).__name__}), "
        "and stackkit cannot give each of those fits an evaluation set of its own column. "
        f"Turn its early stopping off ({how_to_turn_off(est.estimator, params)}) and set "
        "n_estimators yourself: best_iterations_ of a stack fit on one column of y is a "
        "good start"
    )


def validate_sample_weight(sample_weight, n_rows, name="sample_weight"):
    """Return ``sample_weight`` as a finite, non-negative float array of ``n_rows``.

    ``name`` is the parameter named in errors (``<estimator>__sample_weight`` for the
    weights of one estimator).
    """
    if is_dask_collection(sample_weight):  # X's too: checked against its partitions
        return sample_weight                # by the fit steps (weight_column)
    try:
        weights = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold numbers; {exc}") from exc
    if weights.ndim == 0:
        weights = np.full(n_rows, float(weights))
    if weights.shape != (n_rows,):
        raise ValueError(f"{name} must have shape ({n_rows},) to match X; got {weights.shape}")
    check_weight_values(bool(np.all(np.isfinite(weights))), np.min(weights, initial=np.inf),
                        np.max(weights, initial=0.0), name)
    return weights


def check_weight_values(finite, smallest, largest, name="sample_weight"):
    """Raise unless weights are all finite, none negative and one at least positive.

    Given the summary alone (``smallest``/``largest`` are read only when ``finite``),
    so weights on a cluster are checked from one reduction with the same errors.
    """
    if not finite or smallest < 0:
        raise ValueError(f"{name} must be finite and non-negative")
    if not largest > 0:
        raise ValueError(f"{name} must contain at least one non-zero number")


def check_missing_values(X, named_estimators):
    """Raise if X holds NaN or infinity and some estimator cannot take it.

    The error names the first such estimator and the columns with missing values.
    """
    nan_cols, inf_cols = nonfinite_columns(X)
    if not nan_cols and not inf_cols:
        return
    for name, est in named_estimators:
        if _rejects_nan(est):
            what = "NaN" if nan_cols else "infinity"
            cols = nan_cols or inf_cols
            raise ValueError(
                f"Input X contains {what} in columns {cols[:10]}, but estimator {name!r} "
                f"({type(est).__name__}) does not accept missing values or inf; impute "
                "them, or use an estimator that handles them (e.g. HistGradientBoosting, "
                "XGBoost, LightGBM)"
            )


def _rejects_nan(est):
    """Whether ``est`` certainly rejects NaN: from its tags, or a pipeline's first step.

    Other meta-estimators (a ColumnTransformer with imputers, ...) do not declare it in
    their tags, so they are given the benefit of the doubt and fail in their fold if
    they must.
    """
    if isinstance(est, Pipeline):
        steps = [step for _, step in est.steps if step not in (None, "passthrough")]
        return bool(steps) and _rejects_nan(steps[0])
    if any(hasattr(value, "fit") for value in est.get_params(deep=True).values()):
        return False
    return not get_tags(est).input_tags.allow_nan
