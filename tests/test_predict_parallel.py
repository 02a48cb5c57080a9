"""Predictions of a fitted stack: model calls in threads, and fold forests merged (issue 14).

Mechanisms only, never timings: the threaded path gives the very same meta-features as
one call after another, ``n_jobs`` bounds the threads, a single row never leaves the
calling thread, and a merged forest predicts what the fold forests' average predicts.
"""

import threading

import numpy as np
import pytest
import sklearn
from joblib import cpu_count, effective_n_jobs
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from stackkit import FoldAverage, StackingClassifier, StackingRegressor
from stackkit import _predict
from stackkit._forest_merge import merge_forests

FORESTS = {"rf-clf": RandomForestClassifier, "et-clf": ExtraTreesClassifier,
           "rf-reg": RandomForestRegressor, "et-reg": ExtraTreesRegressor}


def fold_forests(kind, n_folds, n_trees, n_classes, n_outputs, seed):
    """Forests of one kind fit on different row subsets, like a stack's fold models."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(30 * n_folds, 4))
    if kind.endswith("clf"):
        # every class in every fold, so that the fold forests share classes_
        y = np.tile(np.arange(n_classes), (len(X) // n_classes + 1))[:len(X)]
        y = np.column_stack([rng.permutation(y) for _ in range(n_outputs)])
    else:
        y = X @ rng.normal(size=(4, n_outputs)) + rng.normal(size=(len(X), n_outputs))
    y = y[:, 0] if n_outputs == 1 else y
    forests = []
    for fold in range(n_folds):
        rows = np.arange(len(X)) % n_folds == fold
        forest = FORESTS[kind](n_estimators=n_trees, max_depth=4, random_state=seed + fold)
        forests.append(forest.fit(X[rows], y[rows]))
    return forests, rng.normal(size=(7, 4))


def fold_mean(forests, method, X):
    """The average as written in FoldAverage's docstring: the mean of each fold's output."""
    outputs = [getattr(forest, method)(X) for forest in forests]
    if isinstance(outputs[0], list):
        return [np.mean(per_output, axis=0) for per_output in zip(*outputs)]
    return np.mean(outputs, axis=0)


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(sorted(FORESTS)), n_folds=st.integers(2, 5),
       n_trees=st.integers(1, 6), n_classes=st.integers(2, 4), n_outputs=st.integers(1, 2),
       seed=st.integers(0, 2**16))
def test_a_merged_forest_predicts_the_fold_forests_average(kind, n_folds, n_trees, n_classes,
                                                           n_outputs, seed):
    forests, X = fold_forests(kind, n_folds, n_trees, n_classes, n_outputs, seed)
    merged = merge_forests(forests)
    assert merged is not None and len(merged.estimators_) == n_folds * n_trees
    method = "predict_proba" if kind.endswith("clf") else "predict"
    expected = fold_mean(forests, method, X)
    got = merged.predict_proba(X) if method == "predict_proba" else merged.predict(X)
    for want, have in (zip(expected, got) if isinstance(expected, list) else [(expected, got)]):
        np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_as_list(FoldAverage(forests)._predict_with(method, X)),
                               _as_list(expected), rtol=1e-12, atol=1e-14)


def _as_list(output):
    return np.stack(output) if isinstance(output, list) else output


def test_merging_leaves_the_fold_forests_as_they_were():
    forests, X = fold_forests("rf-clf", 3, 4, 2, 1, seed=0)
    before = [(list(f.estimators_), f.n_estimators, f.n_jobs) for f in forests]
    merged = FoldAverage(forests)._parts("predict_proba")[0]
    assert merged.n_estimators == len(merged.estimators_) == 12
    assert [(list(f.estimators_), f.n_estimators, f.n_jobs) for f in forests] == before


def _unlike():
    """Fold models that cannot stand in one forest, by the reason."""
    X, y = make_classification(90, 4, n_informative=3, n_redundant=0, n_classes=3,
                               random_state=0)
    forest = RandomForestClassifier(3, random_state=0).fit(X, y)
    two_classes = RandomForestClassifier(3, random_state=0).fit(X[y < 2], y[y < 2])
    more_trees = RandomForestClassifier(5, random_state=0).fit(X, y)
    extra = ExtraTreesClassifier(3, random_state=0).fit(X, y)

    class Tempered(RandomForestClassifier):
        def predict_proba(self, X):
            return super().predict_proba(X) ** 2

    tempered = Tempered(3, random_state=0).fit(X, y)
    piped = make_pipeline(StandardScaler(), RandomForestClassifier(3, random_state=0))
    return {"missing-class": [forest, two_classes], "tree-count": [forest, more_trees],
            "mixed-kinds": [forest, extra], "subclass": [tempered, tempered],
            "pipeline": [piped.fit(X, y), piped]}


@pytest.mark.parametrize("case", ["missing-class", "tree-count", "mixed-kinds", "subclass",
                                  "pipeline"])
def test_forests_that_would_average_otherwise_are_not_merged(case):
    models = _unlike()
    assert merge_forests(models[case]) is None
    assert FoldAverage(models[case])._parts("predict_proba") == models[case]


def test_class_votes_use_each_fold_forest():
    forests, X = fold_forests("rf-clf", 3, 2, 3, 1, seed=1)
    assert FoldAverage(forests)._parts("predict") == forests


class ThreadRecorder(ClassifierMixin, BaseEstimator):
    """A logistic regression that records the thread of each predict_proba call and can
    wait at a barrier there (which only a second concurrent call lets it pass)."""

    def __init__(self, barrier=None):
        self.barrier = barrier

    def fit(self, X, y):
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_
        self.threads_ = []
        return self

    def predict_proba(self, X):
        self.threads_.append(threading.get_ident())
        self.n_jobs_seen_ = effective_n_jobs(None)  # what a forest's trees would get
        if self.barrier is not None:
            self.barrier.wait()
        return self.model_.predict_proba(X)


@pytest.fixture(scope="module")
def binary():
    return make_classification(1200, 6, random_state=0)


def _fitted(stack, X, y, n_jobs):
    """``stack`` fit in this process (no worker pool to start), then given ``n_jobs``."""
    return stack.fit(X, y).set_params(n_jobs=n_jobs)


def _stack(refit):
    return StackingClassifier([("a", ThreadRecorder()), ("b", ThreadRecorder())],
                              cv=3, refit=refit)


def _recorded_threads(stack):
    models = [m for est in stack.estimators_
              for m in (est.estimators if isinstance(est, FoldAverage) else [est])]
    for model in models:
        model.threads_ = []
    return models


@pytest.mark.parametrize("refit", [True, False])
def test_many_rows_are_predicted_concurrently_within_n_jobs(binary, refit, monkeypatch):
    monkeypatch.setattr(_predict, "PARALLEL_ROWS", 1000)
    X, y = binary
    stack = _fitted(_stack(refit), X, y, n_jobs=2)
    barrier = threading.Barrier(2, timeout=10)
    models = _recorded_threads(stack)
    for model in models:
        model.barrier = barrier  # two calls at once, or a BrokenBarrierError
    stack.transform(X[:_predict.PARALLEL_ROWS])
    threads = {t for m in models for t in m.threads_}
    assert len(threads) == 2 and threading.get_ident() not in threads


@pytest.mark.parametrize("n_jobs, n_rows", [(1, 1200), (None, 1200), (2, 1), (2, 999)])
def test_one_job_or_few_rows_stay_in_the_calling_thread(binary, n_jobs, n_rows, monkeypatch):
    monkeypatch.setattr(_predict, "PARALLEL_ROWS", 1000)
    X, y = binary
    stack = _fitted(_stack(refit=False), X, y, n_jobs)
    models = _recorded_threads(stack)
    stack.transform(X[:n_rows])
    assert {t for m in models for t in m.threads_} == {threading.get_ident()}
    assert all(len(m.threads_) == 1 for m in models)


@pytest.mark.parametrize("n_members, n_rows, expected", [
    (1, 1000, min(2, cpu_count())), (2, 1000, 1), (1, 999, 1)],
    ids=["alone-gets-all", "two-share", "few-rows"])
def test_each_model_call_gets_its_share_of_n_jobs(binary, n_members, n_rows, expected,
                                                  monkeypatch):
    monkeypatch.setattr(_predict, "PARALLEL_ROWS", 1000)
    X, y = binary
    stack = StackingClassifier([(f"m{i}", ThreadRecorder()) for i in range(n_members)])
    stack = _fitted(stack, X, y, n_jobs=2)
    stack.transform(X[:n_rows])
    assert [m.n_jobs_seen_ for m in stack.estimators_] == [expected] * n_members


def _mixed_stack(stack_class, refit):
    if stack_class is StackingClassifier:
        members = [("lr", LogisticRegression(max_iter=500)),
                   ("rf", RandomForestClassifier(8, max_depth=5, random_state=0)),
                   ("et", ExtraTreesClassifier(8, max_depth=5, random_state=0)),
                   ("knn", KNeighborsClassifier(5)),
                   ("piped", make_pipeline(StandardScaler(), RandomForestClassifier(
                       4, max_depth=4, random_state=0)))]
    else:
        members = [("ridge", Ridge()),
                   ("rf", RandomForestRegressor(8, max_depth=5, random_state=0)),
                   ("et", ExtraTreesRegressor(8, max_depth=5, random_state=0))]
    return stack_class(members, cv=3, refit=refit)


@pytest.mark.parametrize("refit", [True, False], ids=["refit", "fold-average"])
@pytest.mark.parametrize("stack_class", [StackingClassifier, StackingRegressor])
def test_threads_give_the_same_predictions_as_one_call_after_another(stack_class, refit,
                                                                     monkeypatch):
    make = make_classification if stack_class is StackingClassifier else make_regression
    X, y = make(1500, 6, random_state=1)
    stack = _fitted(_mixed_stack(stack_class, refit), X[:500], y[:500], n_jobs=2)
    monkeypatch.setattr(_predict, "PARALLEL_ROWS", 1000)
    threaded = stack.transform(X)
    monkeypatch.setattr(_predict, "PARALLEL_ROWS", 10**9)
    one_by_one = stack.transform(X)
    # one call after another, fold forests predict as one merged forest; in threads,
    # fold by fold: equal up to the rounding of the mean, the other columns identical
    np.testing.assert_allclose(threaded, one_by_one, rtol=1e-13, atol=1e-15)
    forests = [i for i, name in enumerate(stack.layout_.names) if name in ("rf", "et")]
    np.testing.assert_array_equal(np.delete(threaded, forests, axis=1),
                                  np.delete(one_by_one, forests, axis=1))
    expected = np.column_stack([
        _stack_columns(est, method, X) for est, method
        in zip(stack.estimators_, stack.stack_method_)])
    np.testing.assert_allclose(threaded, expected, rtol=1e-12, atol=1e-14)


def _stack_columns(estimator, method, X):
    """A base model's meta-feature columns computed by hand (binary: positive class)."""
    out = getattr(estimator, method)(X) if not isinstance(estimator, FoldAverage) else \
        np.mean([getattr(m, method)(X) for m in estimator.estimators], axis=0)
    out = out.reshape(len(X), -1)
    return out[:, 1:] if method == "predict_proba" and out.shape[1] == 2 else out


class OffsetRegressor(RegressorMixin, BaseEstimator):
    """Predicts its training mean plus the ``offset`` given to ``predict``."""

    def fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X, offset=0.0):
        return np.full(len(X), self.mean_ + offset)


def test_fold_models_get_the_prediction_metadata_routed_to_their_estimator():
    X, y = make_regression(60, 3, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        stack = StackingRegressor([("o", OffsetRegressor().set_predict_request(offset=True))],
                                  final_estimator=Ridge(), cv=3, refit=False).fit(X, y)
        shifted = stack.transform(X[:4], offset=100.0)
    np.testing.assert_allclose(shifted - stack.transform(X[:4]), 100.0)


def test_many_rows_whose_predictions_are_all_cached_are_read_back(tmp_path):
    """From PARALLEL_ROWS rows on, a predict that finds every model's columns in the
    cache has no model call left to share threads among (it divided by zero)."""
    X, y = make_regression(_predict.PARALLEL_ROWS, 3, random_state=0)
    stack = StackingRegressor([("a", Ridge()), ("b", Ridge(alpha=10.0))], cv=2, n_jobs=2,
                              memory=str(tmp_path)).fit(X, y)
    first = stack.predict(X)
    np.testing.assert_array_equal(stack.predict(X), first)  # every column from the cache
