"""scikit-learn's own stacking tests, run against stackkit's classes.

The installed ``sklearn/ensemble/tests/test_stacking.py`` is imported, and each of its
test functions is collected here, wrapped so that, while it runs, that module's
``StackingClassifier`` and ``StackingRegressor`` are stackkit's, and every scikit-learn
stacking class or estimator among its parametrized arguments becomes stackkit's (same
parameters). Its parametrizations, ids and marks are kept; no test code is copied.

Every test that fails is listed below as a strict expected failure with its cause:
the deliberate differences (also in the README's "Differences from scikit-learn"), and,
in a block of their own, the tests waiting for metadata routing.
"""

import functools

import pytest
from sklearn import ensemble

import stackkit

suite = pytest.importorskip("sklearn.ensemble.tests.test_stacking")

SUBSTITUTES = {
    ensemble.StackingClassifier: stackkit.StackingClassifier,
    ensemble.StackingRegressor: stackkit.StackingRegressor,
}

# (test name, parametrization ids or None for all of them, the true cause)
DIFFERENCES = [
    ("test_stacking_classifier_error", ["y0-params0-ValueError-Invalid 'estimators' attribute,"],
     "stackkit's message for estimators=[] says what is expected: 'estimators must be a "
     "non-empty list of (name, estimator) pairs; got []'"),
    ("test_stacking_regressor_error", ["y0-params0-ValueError-Invalid 'estimators' attribute,"],
     "stackkit's message for estimators=[] says what is expected: 'estimators must be a "
     "non-empty list of (name, estimator) pairs; got []'"),
    ("test_stacking_classifier_error",
     ["y1-params1-ValueError-does not implement the method predict_proba"],
     "stackkit's error message names the estimator: \"stack_method='predict_proba' but "
     "estimator 'svm' (SVC) has no predict_proba method\""),
    ("test_stacking_classifier_error", ["y2-params2-TypeError-does not support sample weight"],
     "the base estimator has no predict method at all; stackkit checks the stack methods "
     "before sample_weight support and says \"estimator 'cor' has none of the methods\""),
    ("test_stacking_classifier_error", ["y3-params3-TypeError-does not support sample weight"],
     "the final estimator has no predict method; stackkit's declared constraint on "
     "final_estimator (fit and predict) refuses it before looking at sample_weight"),
    ("test_stacking_regressor_error",
     ["y1-params1-TypeError-does not support sample weight",
      "y2-params2-TypeError-does not support sample weight"],
     "stackkit's error message names the estimator ('cor', 'final_estimator'): "
     "\"sample_weight was passed but estimator 'cor' (NoWeightRegressor) does not accept "
     "sample_weight in fit\""),
    ("test_stacking_without_n_features_in", None,
     "stackkit sets n_features_in_ from X itself (every base estimator sees all of X), so "
     "it exists after fit even if a base estimator has none; unfitted, the error is "
     "Python's own \"'StackingRegressor' object has no attribute 'n_features_in_'\""),
    ("test_get_feature_names_out", None,
     "meta-feature names are <name>__<class> (e.g. lr__1, svm__0), not "
     "stackingclassifier_lr1; passthrough columns keep their own names"),
    ("test_metadata_routing_for_stacking_estimators", None,
     "under metadata routing the final estimator's fit gets the metadata it requested "
     "(set_fit_request), as every other consumer; scikit-learn passes it all of fit's "
     "metadata whatever it requested, and this test's final estimator requested none"),
]


def _expected_failures():
    """``{test name: {parametrization id or None: reason}}`` from the table."""
    table = {}
    for name, ids, reason in DIFFERENCES:
        for test_id in ids or [None]:
            table.setdefault(name, {})[test_id] = reason
    return table


EXPECTED_FAILURES = _expected_failures()


def _substitute(value):
    """stackkit's class for scikit-learn's stacking class, or an estimator of it."""
    if isinstance(value, type):
        return SUBSTITUTES.get(value, value)
    ours = SUBSTITUTES.get(type(value))
    return value if ours is None else ours(**value.get_params(deep=False))


def _against_stackkit(test):
    """``test`` run with stackkit's classes in its module and among its arguments."""

    @functools.wraps(test)  # keeps the signature and the parametrize marks
    def run(*args, **kwargs):
        kwargs = {name: _substitute(value) for name, value in kwargs.items()}
        with pytest.MonkeyPatch.context() as patch:
            for sklearn_class, ours in SUBSTITUTES.items():
                patch.setattr(suite, sklearn_class.__name__, ours)
            return test(*map(_substitute, args), **kwargs)

    return run


SUITE_TESTS = sorted(name for name, obj in vars(suite).items()
                     if name.startswith("test_") and callable(obj))
for _name in SUITE_TESTS:
    globals()[_name] = _against_stackkit(getattr(suite, _name))


@pytest.fixture(autouse=True)
def _listed_difference(request):
    """Mark a listed test as a strict expected failure, with its cause."""
    function = request.node.originalname
    callspec = getattr(request.node, "callspec", None)
    reasons = EXPECTED_FAILURES.get(function, {})
    reason = reasons.get(callspec.id if callspec else None, reasons.get(None))
    if function in SUITE_TESTS and reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


def test_every_listed_failure_names_a_test_of_the_suite(request):
    """A listed name or id that no collected test has would silently list nothing."""
    collected = {}
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        name = getattr(item, "originalname", None)  # doctests have none
        collected.setdefault(name, set()).add(callspec and callspec.id)
    for name, ids in EXPECTED_FAILURES.items():
        assert name in SUITE_TESTS, name
        if name in collected:  # not deselected (-k)
            assert set(ids) - {None} <= collected[name], (name, set(ids) - collected[name])
