"""Determinism: a fit depends on its data and parameters only (issue 12, part 4).

The same fit twice, ``n_jobs=1`` and ``2``, the loky and threading backends, and the
``memory=`` cache off, cold and warm all give bitwise identical out-of-fold
meta-features, meta-features and predictions, on generated data.
"""

import tempfile

import joblib
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from stackkit import StackingClassifier, StackingRegressor


def determinism_case(seed, classify):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 4))
    signal = X @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(size=40)
    if classify:
        y = np.digitize(signal, [-1.0, 1.0])
        estimators = [("lr", LogisticRegression()), ("knn", KNeighborsClassifier(3)),
                      ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))]
        stack = StackingClassifier(estimators, cv=StratifiedKFold(3, shuffle=True,
                                                                  random_state=seed))
    else:
        y = signal
        estimators = [("ridge", Ridge()), ("knn", KNeighborsRegressor(3)),
                      ("tree", DecisionTreeRegressor(max_depth=3, random_state=0))]
        stack = StackingRegressor(estimators, cv=KFold(3, shuffle=True, random_state=seed))
    return stack, X, y


def outputs(stack, X):
    """Everything a fit decides: OOF meta-features, meta-features and predictions of X."""
    made = [stack.oof_, stack.transform(X), stack.predict(X)]
    return made + ([stack.predict_proba(X)] if hasattr(stack, "predict_proba") else [])


def assert_identical(first, second):
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)  # bitwise: no tolerance


DETERMINISM = dict(seed=st.integers(0, 2**16), classify=st.booleans(), refit=st.booleans())


@settings(max_examples=5)
@given(**DETERMINISM)
def test_the_same_fit_twice_gives_identical_predictions(outcome_counts, seed, classify, refit):
    stack, X, y = determinism_case(seed, classify)
    stack.set_params(refit=refit)
    first = outputs(clone(stack).fit(X, y), X)
    assert_identical(first, outputs(clone(stack).fit(X, y), X))
    outcome_counts["determinism", "ok", "same fit twice"] += 1


@settings(max_examples=4)
@given(**DETERMINISM)
def test_n_jobs_and_the_joblib_backend_do_not_change_predictions(outcome_counts, seed,
                                                                 classify, refit):
    stack, X, y = determinism_case(seed, classify)
    stack.set_params(refit=refit)
    one = outputs(clone(stack).set_params(n_jobs=1).fit(X, y), X)
    assert_identical(one, outputs(clone(stack).set_params(n_jobs=2).fit(X, y), X))
    with joblib.parallel_config(backend="threading"):
        assert_identical(one, outputs(clone(stack).set_params(n_jobs=2).fit(X, y), X))
    outcome_counts["determinism", "ok", "n_jobs 1 vs 2, loky vs threading"] += 1


@settings(max_examples=5)
@given(**DETERMINISM)
def test_the_cache_does_not_change_predictions(outcome_counts, seed, classify, refit):
    stack, X, y = determinism_case(seed, classify)
    stack.set_params(refit=refit)
    plain = outputs(clone(stack).fit(X, y), X)
    with tempfile.TemporaryDirectory() as folder:
        cold = clone(stack).set_params(memory=folder).fit(X, y)
        assert_identical(plain, outputs(cold, X))
        warm = clone(stack).set_params(memory=folder).fit(X, y)
        assert warm.task_log_["cached"].all()
        assert_identical(plain, outputs(warm, X))
    outcome_counts["determinism", "ok", "cache off, cold, warm"] += 1
