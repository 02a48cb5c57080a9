"""Metadata routing: which metadata of ``fit``/``predict`` reaches which estimator.

With ``sklearn.set_config(enable_metadata_routing=True)`` the stacks follow
scikit-learn's metadata routing: each base estimator (by its name), the final
estimator (``final_estimator``) and the splitter (``cv``, its ``split`` for
``groups``) receive the metadata they requested (``set_fit_request``,
``set_predict_request``, ...), and metadata nobody requested raises scikit-learn's
error, before any fold is fit. With routing disabled (the default) ``fit`` takes
``<name>__<param>`` parameters and prediction methods pass their parameters to the
final estimator, as scikit-learn's stacks do.
"""

import sklearn
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing

from ._validation import per_row_params, resolve_stack_methods, validate_estimators

# The stack's prediction methods that call the base estimators' stack methods.
BASE_CALLERS = ("predict", "predict_proba", "decision_function", "transform")
# The final estimator's methods the stack calls under the same name.
FINAL_METHODS = ("predict", "predict_proba", "decision_function")
SPLITTER = "cv"  # the splitter's name in the router: a stack parameter, so no estimator's


def routing_enabled():
    """Whether scikit-learn's metadata routing is on (``enable_metadata_routing``)."""
    return sklearn.get_config()["enable_metadata_routing"]


def build_router(owner, named, methods, final, splitter):
    """A :class:`~sklearn.utils.metadata_routing.MetadataRouter` of the stack ``owner``.

    ``named`` are the ``(name, estimator)`` base estimators and ``methods`` their stack
    methods by name (an estimator left out gets ``fit`` routed only); ``final`` is the
    final estimator; ``splitter`` the cv splitter, or None when ``cv`` has no ``split``.
    """
    router = MetadataRouter(owner=owner)
    for name, estimator in named:
        mapping = MethodMapping().add(caller="fit", callee="fit")
        if name in methods:
            for caller in BASE_CALLERS:
                mapping.add(caller=caller, callee=methods[name])
        router.add(**{name: estimator}, method_mapping=mapping)
    mapping = MethodMapping().add(caller="fit", callee="fit")
    for method in FINAL_METHODS:
        if hasattr(final, method):
            mapping.add(caller=method, callee=method)
    router.add(final_estimator=final, method_mapping=mapping)
    if splitter is not None:
        router.add(**{SPLITTER: splitter},
                   method_mapping=MethodMapping().add(caller="fit", callee="split"))
    return router


def route_fit(stack, names, fit_params, sample_weight, groups, n_rows):
    """Route ``fit``'s metadata: ``({name: (params, per_row)}, groups for the splitter)``.

    ``names`` are the base estimators' names; ``final_estimator`` is among the keys of
    the first dict, and the per-row parameters are those sliced to each task's rows.
    ``sample_weight`` and ``groups`` are metadata like any other. Raises scikit-learn's
    error for metadata nobody requested.
    """
    given = {"sample_weight": sample_weight, "groups": groups}
    metadata = {**fit_params, **{k: v for k, v in given.items() if v is not None}}
    routed = process_routing(stack, "fit", **metadata)
    fit = {name: _routed(routed, name, "fit") for name in [*names, "final_estimator"]}
    return per_row_params(fit, n_rows), _routed(routed, SPLITTER, "split").get("groups")


def stack_router(stack, final, fitted_methods, auto_order):
    """The router of ``stack`` with final estimator ``final``.

    ``fitted_methods`` are the stack methods by name once fitted (None before: those
    ``fit`` would use, or none if ``stack_method`` is wrong).
    """
    named = validate_estimators(stack.estimators, set())
    methods = fitted_methods
    if methods is None:
        try:
            resolved = resolve_stack_methods(named, stack.stack_method, auto_order)
            methods = dict(zip([name for name, _ in named], resolved))
        except (TypeError, ValueError):
            methods = {}
    splitter = stack.cv if hasattr(stack.cv, "split") else None
    return build_router(stack, named, methods, final, splitter)


def route_prediction(stack, caller, names, methods, params):
    """Route a prediction method's parameters: ``(base params by name, final params)``.

    Routing enabled: what each base estimator's stack method and the final estimator's
    ``caller`` requested. Routing disabled: everything to the final estimator (as
    scikit-learn's stacks do); for ``transform``, which has no final estimator,
    parameters are then an error.
    """
    if not routing_enabled():
        if caller == "transform" and params:
            raise TypeError(
                f"transform got parameters {sorted(params)}; they are taken only with "
                "metadata routing, i.e. only supported if enable_metadata_routing=True "
                "(sklearn.set_config(enable_metadata_routing=True))"
            )
        return {}, params
    routed = process_routing(stack, caller, **params)
    base = {name: _routed(routed, name, method) for name, method in zip(names, methods)}
    final = _routed(routed, "final_estimator", caller) if caller in FINAL_METHODS else {}
    return base, final


def _routed(routed, child, method):
    """The parameters ``process_routing`` routed to ``child``'s ``method`` ({} if none).

    Its answer without metadata maps every key to empty parameters, and has no ``in``;
    with metadata, a child not in the router (a dropped estimator) is a missing key.
    """
    try:
        return dict(routed[child].get(method, {}))
    except KeyError:
        return {}
