"""What a cached grid search costs per candidate: each estimator hashed once per fit,
a GPU request read once per estimator, and results equal to an uncached search."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold

from stackkit import StackingRegressor
from stackkit import _gpu
from stackkit._cache import TaskCache
from stackkit._split import SplitPlan
from stackkit._tasks import make_tasks

PICKLED = []  # names of the PickleCountingRidge objects pickled, in this process


class PickleCountingRidge(Ridge):
    """A ridge regression that records each time it is pickled (as a cache key hashes it)."""

    def __getstate__(self):
        PICKLED.append(self.alpha)
        return super().__getstate__()


@pytest.fixture
def data():
    return make_regression(n_samples=120, n_features=4, noise=5.0, random_state=0)


def _stack(memory, **params):
    estimators = [("a", PickleCountingRidge(alpha=1.0)), ("b", PickleCountingRidge(alpha=2.0))]
    return StackingRegressor(estimators, final_estimator=Ridge(), cv=3, memory=memory,
                             **params)


def test_a_cached_fit_hashes_each_estimator_once_not_once_per_task(data, tmp_path):
    X, y = data
    _stack(str(tmp_path)).fit(X, y)  # fills the cache (and pickles models to store them)
    PICKLED.clear()
    again = _stack(str(tmp_path)).fit(X, y)
    assert again.task_log_["cached"].all()
    # 4 tasks per estimator (3 folds + the refit): one hash each would pickle it 4 times
    assert sorted(PICKLED) == [1.0, 2.0]


def _tasks(estimators, n_rows=60, seed=0):
    X = np.zeros((n_rows, 1))
    plan = SplitPlan.from_cv(KFold(3, shuffle=True, random_state=seed), X, np.zeros(n_rows),
                             None, classifier=False)
    methods = ["predict"] * len(estimators)
    params = {name: ({}, ()) for name, _ in estimators}
    return make_tasks(estimators, methods, plan, refit=True, fit_params=params)


def test_task_keys_follow_estimator_rows_and_data_only():
    estimators = [("a", Ridge(alpha=1.0)), ("b", Ridge(alpha=2.0))]
    keys = TaskCache.task_keys(_tasks(estimators), "data")
    assert len(set(keys)) == len(keys) == 8  # every task its own key
    cloned = [(name, clone(est)) for name, est in estimators]
    assert TaskCache.task_keys(_tasks(cloned), "data") == keys  # content, not identity
    assert set(TaskCache.task_keys(_tasks(estimators), "other data")).isdisjoint(keys)
    assert set(TaskCache.task_keys(_tasks(estimators, seed=1), "data")) & set(keys) == {
        keys[0], keys[1]}  # other folds: only the two refits (every row) are the same tasks
    changed = [("a", Ridge(alpha=1.0)), ("b", Ridge(alpha=3.0))]
    changed_keys = TaskCache.task_keys(_tasks(changed), "data")
    assert [k == c for k, c in zip(keys, changed_keys)] == [True, False] * 4


def test_a_fit_reads_each_estimators_gpu_request_once(data, monkeypatch):
    X, y = data
    asked = []

    def counting_request(estimator):
        asked.append(estimator.alpha)
        return None

    monkeypatch.setattr(_gpu, "gpu_request", counting_request)
    _stack(None).fit(X, y)
    assert sorted(asked) == [1.0, 2.0]  # not once per task (8)


def test_a_cached_grid_search_scores_and_predicts_as_an_uncached_one(data, tmp_path,
                                                                     monkeypatch):
    X, y = data
    loads = []
    load = TaskCache.load
    monkeypatch.setattr(TaskCache, "load",
                        lambda self, key: loads.append(load(self, key)) or loads[-1])
    grid = {"final_estimator__alpha": [0.1, 10.0], "passthrough": [False, True]}
    plain = GridSearchCV(_stack(None), grid, cv=3).fit(X, y)
    assert not loads
    cached = GridSearchCV(_stack(str(tmp_path)), grid, cv=3).fit(X, y)
    np.testing.assert_array_equal(cached.cv_results_["mean_test_score"],
                                  plain.cv_results_["mean_test_score"])
    assert cached.best_params_ == plain.best_params_
    np.testing.assert_array_equal(cached.predict(X), plain.predict(X))
    # 8 tasks per fit: per outer split the first candidate misses and the 3 others hit;
    # the best candidate's refit on all rows has new folds, so it misses
    hits = sum(output is not None for output in loads)
    assert (hits, len(loads) - hits) == (3 * 3 * 8, 3 * 8 + 8)
