"""Fold tasks run on a real dask.distributed cluster through joblib's dask backend."""

import os

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge

from stackkit import StackingRegressor

distributed = pytest.importorskip("distributed")


class PidRidge(RegressorMixin, BaseEstimator):
    """A ridge regression that remembers which process fit it."""

    def fit(self, X, y):
        self.pid_ = os.getpid()
        self.model_ = Ridge().fit(X, y)
        return self

    def predict(self, X):
        return self.model_.predict(X)


def test_cluster_runs_the_fold_tasks_with_the_local_result(client):
    X, y = make_regression(n_samples=400, n_features=6, noise=5.0, random_state=0)
    stack = StackingRegressor([("a", PidRidge()), ("b", Ridge(alpha=3.0))], cv=4, refit=False)
    local = stack.fit(X, y).oof_.copy()
    with parallel_config(backend="dask"):
        stack.fit(X, y)
    np.testing.assert_allclose(stack.oof_, local)
    worker_pids = set(client.run(os.getpid).values())
    fold_pids = {model.pid_ for model in stack.named_estimators_["a"].estimators}
    assert fold_pids <= worker_pids and os.getpid() not in fold_pids
