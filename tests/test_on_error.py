"""on_error="warn": a failing base estimator is dropped with one warning; "raise" stops the fit."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge

from stackkit import FoldFitError, StackingRegressor
from stackkit.exceptions import StackkitWarning


class FailsBelow(RegressorMixin, BaseEstimator):
    """A ridge that refuses to fit on fewer than ``min_rows`` or more than ``max_rows`` rows."""

    def __init__(self, min_rows=1000, max_rows=10**9):
        self.min_rows = min_rows
        self.max_rows = max_rows

    def fit(self, X, y):
        if not self.min_rows <= len(X) <= self.max_rows:
            raise ValueError(f"needs {self.min_rows} rows, got {len(X)}")
        self.model_ = Ridge().fit(X, y)
        return self

    def predict(self, X):
        return self.model_.predict(X)


@pytest.fixture(scope="module")
def data():
    return make_regression(n_samples=120, n_features=4, noise=5.0, random_state=0)


def test_warn_drops_the_failing_estimator_and_keeps_the_rest(data):
    X, y = data
    stack = StackingRegressor([("good", Ridge()), ("bad", FailsBelow())], cv=3,
                              on_error="warn")
    with pytest.warns(StackkitWarning, match=r"'bad' \(FailsBelow\) failed on fold \d/3 "
                                             r".*ValueError: needs 1000 rows.*dropped") as seen:
        stack.fit(X, y)
    assert len([w for w in seen if issubclass(w.category, StackkitWarning)]) == 1
    assert list(stack.dropped_) == ["bad"] and "needs 1000 rows" in stack.dropped_["bad"]
    assert stack.layout_.names == ("good",) and list(stack.named_estimators_) == ["good"]
    assert stack.oof_.shape == (120, 1)
    log = stack.task_log_
    assert log.error[log.estimator == "bad"].notna().any()
    assert log.error[log.estimator == "good"].isna().all()
    reference = StackingRegressor([("good", Ridge())], cv=3).fit(X, y)
    np.testing.assert_array_equal(stack.predict(X), reference.predict(X))


def test_a_failing_refit_drops_the_estimator_too(data):
    X, y = data
    refit_fails = FailsBelow(min_rows=0, max_rows=100)  # folds have 80 rows, the refit 120
    stack = StackingRegressor([("good", Ridge()), ("bad", refit_fails)], cv=3,
                              on_error="warn")
    with pytest.warns(StackkitWarning, match="'bad' .* failed on the full refit"):
        stack.fit(X, y)
    assert list(stack.dropped_) == ["bad"]


def test_raise_stops_the_fit_and_leaves_it_unfitted(data):
    X, y = data
    stack = StackingRegressor([("good", Ridge()), ("bad", FailsBelow())], cv=3)
    with pytest.raises(FoldFitError, match=r"'bad' \(FailsBelow\) failed on .*needs 1000"):
        stack.fit(X, y)
    assert not hasattr(stack, "estimators_") and not hasattr(stack, "dropped_")


def test_every_estimator_failing_is_an_error(data):
    X, y = data
    stack = StackingRegressor([("a", FailsBelow()), ("b", FailsBelow())], cv=3,
                              on_error="warn")
    with pytest.raises(FoldFitError, match="every base estimator failed"):
        stack.fit(X, y)
    assert not hasattr(stack, "estimators_")


def test_failed_tasks_are_not_cached(data, tmp_path):
    X, y = data
    stack = StackingRegressor([("good", Ridge()), ("bad", FailsBelow())], cv=3,
                              on_error="warn", memory=str(tmp_path))
    with pytest.warns(StackkitWarning):
        stack.fit(X, y)
    assert len(list(tmp_path.rglob("*.pkl"))) == 4  # the good estimator's 3 folds + refit
    assert list(stack.dropped_) == ["bad"]


def test_without_failures_nothing_is_dropped(data):
    X, y = data
    stack = StackingRegressor([("good", Ridge())], cv=3, on_error="warn").fit(X, y)
    assert stack.dropped_ == {}
    assert stack.task_log_.error.isna().all()


def test_bad_on_error_value(data):
    X, y = data
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'warn'; got 'ignore'"):
        StackingRegressor([("good", Ridge())], on_error="ignore").fit(X, y)
