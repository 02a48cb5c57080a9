"""Parallel runs give the same result; thread budgets; sample weights reach every fit."""

import json
import threading

import numpy as np
import pytest
from joblib import cpu_count, parallel_config
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold
from sklearn.neighbors import KNeighborsRegressor
from threadpoolctl import threadpool_info, threadpool_limits
from xgboost import XGBClassifier

from stackkit import StackingClassifier, StackingRegressor


class ThreadProbe(RegressorMixin, BaseEstimator):
    """Records the largest thread-pool size (BLAS/OpenMP) it sees while fitting.

    With a ``rendezvous`` (a ``threading.Barrier``), concurrent fits wait for each
    other before reading and before leaving, so every one reads while all of them are
    inside their task.
    """

    rendezvous = None

    def fit(self, X, y):
        self._meet()
        self.threads_seen_ = max(pool["num_threads"] for pool in threadpool_info())
        self._meet()
        self.mean_ = float(np.mean(y))
        return self

    def _meet(self):
        if self.rendezvous is not None:
            self.rendezvous.wait()

    def predict(self, X):
        return np.full(len(X), self.mean_)


class WeightRecorder(RegressorMixin, BaseEstimator):
    """Stores the sample weights it was fit with."""

    def fit(self, X, y, sample_weight=None):
        self.weights_seen_ = None if sample_weight is None else np.asarray(sample_weight)
        self.model_ = LinearRegression().fit(X, y, sample_weight=sample_weight)
        return self

    def predict(self, X):
        return self.model_.predict(X)


@pytest.fixture(scope="module")
def clf_data():
    return make_classification(n_samples=300, n_features=8, random_state=1)


def booster_stack(n_jobs):
    return StackingClassifier(
        [("lr", LogisticRegression()),
         ("rf", RandomForestClassifier(n_estimators=20, random_state=0)),
         ("lgbm", LGBMClassifier(n_estimators=20, random_state=0, verbose=-1)),
         ("xgb", XGBClassifier(n_estimators=20, random_state=0))],
        cv=3, n_jobs=n_jobs,
    )


@pytest.mark.parametrize("backend, n_jobs", [("loky", 2), ("threading", 2), ("loky", 1)])
def test_same_result_for_every_backend_and_n_jobs(clf_data, backend, n_jobs):
    X, y = clf_data
    reference = booster_stack(n_jobs=None).fit(X, y)
    with parallel_config(backend=backend):
        stack = booster_stack(n_jobs=n_jobs).fit(X, y)
    np.testing.assert_allclose(stack.oof_, reference.oof_, rtol=1e-6)
    np.testing.assert_allclose(stack.predict_proba(X), reference.predict_proba(X), rtol=1e-6)


def test_blas_threads_limited_to_the_task_budget(monkeypatch):
    """Two fold tasks on two threads: each sees BLAS/OpenMP pools of its share of the cores.

    The threading backend, because under loky joblib limits the workers' threads itself
    and would hide a missing budget. threadpoolctl's limits are process-wide, so the two
    fits read the pools at a moment when both tasks are running (the rendezvous).
    """
    budget = max(1, cpu_count() // 2)
    if max(pool["num_threads"] for pool in threadpool_info()) <= budget:
        pytest.skip("the thread pools are already within the budget: nothing to observe")
    monkeypatch.setattr(ThreadProbe, "rendezvous", threading.Barrier(2, timeout=30))
    X, y = make_regression(n_samples=40, n_features=3, random_state=0)
    stack = StackingRegressor([("probe", ThreadProbe())], cv=2, refit=False, n_jobs=2)
    with parallel_config(backend="threading"):
        stack.fit(X, y)
    assert [model.threads_seen_ for model in stack.estimators_[0].estimators] == [budget] * 2


def test_threading_backend_gives_the_callers_thread_pools_back(clf_data):
    """Overlapping tasks in threads each set the process-wide limit; none may stick."""
    X, y = clf_data
    before = sorted((pool["prefix"], pool["num_threads"]) for pool in threadpool_info())
    with parallel_config(backend="threading"):
        for _ in range(3):
            StackingClassifier([("lr", LogisticRegression()), ("rf", RandomForestClassifier(
                n_estimators=5, random_state=0))], cv=3, n_jobs=2).fit(X, y)
    after = sorted((pool["prefix"], pool["num_threads"]) for pool in threadpool_info())
    assert after == before


def record_xgboost_threads(monkeypatch):
    """A list that each ``XGBClassifier.fit`` appends its ``n_jobs`` to."""
    seen = []
    original_fit = XGBClassifier.fit

    def recording_fit(self, X, y, **kwargs):
        seen.append(self.n_jobs)
        return original_fit(self, X, y, **kwargs)

    monkeypatch.setattr(XGBClassifier, "fit", recording_fit)
    return seen


def test_budget_never_exceeds_the_callers_limit(clf_data, monkeypatch):
    """Inside ``threadpool_limits(1)`` a booster gets 1 thread, not every core."""
    X, y = clf_data
    seen = record_xgboost_threads(monkeypatch)
    stack = StackingClassifier([("xgb", XGBClassifier(n_estimators=5))], cv=2, n_jobs=1)
    with threadpool_limits(limits=1):
        stack.fit(X, y)
    assert seen == [1] * 3  # two folds and the refit


def test_booster_gets_thread_budget_and_user_setting_is_kept(clf_data, monkeypatch):
    X, y = clf_data
    seen = record_xgboost_threads(monkeypatch)
    stack = StackingClassifier(
        [("auto", XGBClassifier(n_estimators=5)), ("fixed", XGBClassifier(n_estimators=5, n_jobs=3))],
        cv=2, n_jobs=2,
    )
    with parallel_config(backend="threading"):
        stack.fit(X, y)
    budget = max(1, cpu_count() // 2)
    assert sorted(seen) == sorted([budget] * 3 + [3] * 3)
    assert stack.named_estimators_["auto"].n_jobs is None  # restored after fitting
    config = json.loads(stack.named_estimators_["auto"].get_booster().save_config())
    assert config["learner"]["generic_param"]["nthread"] == "0"  # every core to predict
    assert stack.estimators[0][1].n_jobs is None  # the user's estimator is untouched


def test_held_out_rows_are_predicted_within_the_budget_too(clf_data, monkeypatch):
    """LightGBM predicts with its ``n_jobs``, ignoring threadpoolctl: keep the budget on."""
    X, y = clf_data
    seen = []
    original = LGBMClassifier.predict_proba

    def recording_predict_proba(self, X, **kwargs):
        seen.append(self.n_jobs)
        return original(self, X, **kwargs)

    monkeypatch.setattr(LGBMClassifier, "predict_proba", recording_predict_proba)
    stack = StackingClassifier([("lgbm", LGBMClassifier(n_estimators=5, verbose=-1))],
                               cv=3, n_jobs=2)
    with parallel_config(backend="threading"):
        stack.fit(X, y)
    assert seen == [max(1, cpu_count() // 2)] * 3  # the 3 held-out folds
    assert stack.named_estimators_["lgbm"].n_jobs is None  # every core to predict later


def test_sample_weight_reaches_every_fold_and_the_final_estimator():
    X, y = make_regression(n_samples=90, n_features=3, noise=1.0, random_state=0)
    weights = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
    stack = StackingRegressor([("rec", WeightRecorder())], final_estimator=WeightRecorder(),
                              cv=3, refit=False).fit(X, y, sample_weight=weights)
    fold_weights = sorted(m.weights_seen_.sum() for m in stack.estimators_[0].estimators)
    expected = sorted(weights[train].sum() for train, _ in
                      KFold(3).split(X))
    np.testing.assert_allclose(fold_weights, expected)
    np.testing.assert_allclose(stack.final_estimator_.weights_seen_, weights)


def test_weights_change_the_fit():
    X, y = make_regression(n_samples=90, n_features=3, noise=20.0, random_state=0)
    weights = np.where(np.arange(len(y)) % 2 == 0, 1.0, 10.0)
    stack = StackingRegressor([("lin", LinearRegression())], cv=3)
    plain = stack.fit(X, y).oof_.copy()
    weighted = stack.fit(X, y, sample_weight=weights).oof_
    assert not np.allclose(plain, weighted)


def test_oof_never_sees_own_label():
    """A 1-nearest-neighbour model copies y in-sample; its OOF column must not."""
    X, y = make_regression(n_samples=120, n_features=4, noise=10.0, random_state=0)
    stack = StackingRegressor([("knn", KNeighborsRegressor(n_neighbors=1))], cv=4).fit(X, y)
    assert np.allclose(stack.estimators_[0].predict(X), y)
    assert not np.allclose(stack.oof_[:, 0], y)
    assert np.corrcoef(stack.oof_[:, 0], y)[0, 1] < 0.99
