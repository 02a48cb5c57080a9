"""Memory at scale (issue 14): no copy of X that is not needed, float32 kept float32.

The targets (peak memory, time against scikit-learn) are measured by
``benchmarks/bench_scale.py``; these tests check the mechanisms behind them: a full
refit is given X itself, a worker process reads X from one shared memory map, a large X
is fit in threads sharing it, the checks of X make no copy the size of X, and float32
data gives float32 meta-features.
"""

import os
from contextlib import nullcontext

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from joblib import parallel_config
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold, cross_val_predict

from stackkit import StackingClassifier, StackingRegressor
from stackkit import _plane, _runner
from stackkit._plane import float_dtype, nonfinite_columns, size_in_bytes, take_rows


class SeenX(RegressorMixin, BaseEstimator):
    """Predicts the mean of y; remembers what its fit was given as X."""

    def fit(self, X, y):
        self.x_id_ = id(X)
        self.x_rows_ = X.shape[0]
        self.x_memmap_ = isinstance(X, np.memmap) or isinstance(
            getattr(X, "base", None), np.memmap)
        self.mean_ = float(np.mean(y))
        self.pid_ = os.getpid()
        return self

    def predict(self, X):
        return np.full(X.shape[0], self.mean_)


@pytest.fixture
def regression_rows():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    return X, X[:, 0] + rng.standard_normal(60)


@pytest.mark.parametrize("frame", [False, True], ids=["array", "frame"])
def test_full_refit_is_given_x_itself(regression_rows, frame):
    """In process (n_jobs=1) the refit fits on the caller's X, not on a copy of every row."""
    X, y = regression_rows
    X = pd.DataFrame(X, columns=list("abcd")) if frame else X
    stack = StackingRegressor([("seen", SeenX())], cv=3, n_jobs=1).fit(X, y)
    assert stack.estimators_[0].x_id_ == id(X)


def test_no_take_copies_every_row(regression_rows, monkeypatch):
    """Counting the plane's copies: folds copy their own rows, nobody copies all of X."""
    X, y = regression_rows
    copied = []
    take = _plane._ArrayRows.take

    def counting_take(self, rows):
        copied.append(len(rows))
        return take(self, rows)

    monkeypatch.setattr(_plane._ArrayRows, "take", counting_take)
    StackingRegressor([("lr", LinearRegression())], cv=3, n_jobs=1).fit(X, y)
    assert copied, "the plane's take was not used: this test no longer counts the copies"
    assert max(copied) < len(X)


def test_take_rows_of_every_row_in_order_is_the_container_itself():
    X = np.arange(12.0).reshape(6, 2)
    assert take_rows(X, np.arange(6)) is X
    shuffled = take_rows(X, np.array([1, 0, 2, 3, 4, 5]))
    assert shuffled is not X and np.array_equal(shuffled, X[[1, 0, 2, 3, 4, 5]])
    mask = np.ones(6, dtype=bool)  # a boolean mask is not a list of positions
    assert take_rows(X, np.flatnonzero(mask)) is X


def test_a_worker_process_reads_x_from_one_shared_map():
    """With loky, the refit in a worker gets joblib's memory map of X, not a private copy."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((20_000, 10))  # 1.6 MB: above joblib's 1 MB memmapping threshold
    y = X[:, 0]
    stack = StackingRegressor([("seen", SeenX())], cv=2, n_jobs=2).fit(X, y)
    refit = stack.estimators_[0]
    assert refit.x_rows_ == len(X) and refit.x_memmap_


@pytest.mark.parametrize("threshold, backend, in_this_process", [
    (10**12, None, False),      # small X: loky's worker processes
    (1, None, True),            # large X: threads of this process
    (1, "loky", False),         # large X, but the caller chose processes
])
def test_large_x_is_fit_in_threads_unless_the_caller_chose_a_backend(
        regression_rows, monkeypatch, threshold, backend, in_this_process):
    """From THREADS_FROM_BYTES of X, fold tasks run in threads, sharing X with no copy."""
    X, y = regression_rows
    monkeypatch.setattr(_runner, "THREADS_FROM_BYTES", threshold)
    stack = StackingRegressor([("seen", SeenX())], cv=2, n_jobs=2)
    with parallel_config(backend=backend) if backend else nullcontext():
        stack.fit(X, y)
    refit = stack.estimators_[0]
    assert (refit.pid_ == os.getpid()) == in_this_process
    if in_this_process:  # in a thread, the refit is given the caller's X itself
        assert refit.x_id_ == id(X)


def test_size_in_bytes_of_each_container():
    X = np.zeros((100, 4))
    assert size_in_bytes(X) == X.nbytes
    frame = pd.DataFrame(X, columns=list("abcd"))
    assert size_in_bytes(frame) == X.nbytes + frame.index.nbytes
    csr = sp.random(100, 40, density=0.1, format="csr", random_state=0)
    assert size_in_bytes(csr) == csr.data.nbytes + csr.indices.nbytes + csr.indptr.nbytes
    assert size_in_bytes(csr.tocoo()) == csr.nnz * (8 + 2 * csr.tocoo().row.itemsize)


@pytest.mark.parametrize("frame", [False, True], ids=["array", "frame"])
def test_float32_in_float32_meta_features(frame):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((80, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    if frame:
        X = pd.DataFrame(X, columns=list("abc"))
        X["kind"] = pd.Categorical(rng.choice(["u", "v"], 80))
        estimators = [("mean", SeenXClassifier())]
    else:
        estimators = [("lr", LogisticRegression())]
    stack = StackingClassifier(estimators, cv=3, n_jobs=1)
    meta = stack.fit_transform(X, y)
    assert stack.oof_.dtype == np.float32 and meta.dtype == np.float32
    assert stack.transform(X).dtype == np.float32


class SeenXClassifier(BaseEstimator):
    """Predicts the training share of class 1, whatever the columns (categorical ones too)."""

    _estimator_type = "classifier"

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.share_ = float(np.mean(y == self.classes_[1]))
        return self

    def predict_proba(self, X):
        return np.tile([1 - self.share_, self.share_], (X.shape[0], 1))

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        return tags


def test_float64_meta_features_are_unchanged(regression_rows):
    """float64 data: oof_ is exactly scikit-learn's cross_val_predict over the same folds."""
    X, y = regression_rows
    cv = KFold(3, shuffle=True, random_state=0)
    stack = StackingRegressor([("lr", LinearRegression())], cv=cv, n_jobs=1).fit(X, y)
    assert stack.oof_.dtype == np.float64
    np.testing.assert_array_equal(stack.oof_[:, 0],
                                  cross_val_predict(LinearRegression(), X, y, cv=cv))


@pytest.mark.parametrize("X, expected", [
    (np.zeros((2, 2), dtype=np.float32), np.float32),
    (np.zeros((2, 2)), np.float64),
    (np.zeros((2, 2), dtype=np.int32), np.float64),
    (pd.DataFrame({"a": np.zeros(2, np.float32), "b": pd.Categorical(["x", "y"])}),
     np.float32),
    (pd.DataFrame({"a": np.zeros(2, np.float32), "b": np.zeros(2)}), np.float64),
    (pd.DataFrame({"a": [1, 2]}), np.float64),
    (pd.DataFrame({"a": np.zeros(2, np.float32), "b": pd.array([1, None], dtype="Int64")}),
     np.float32),
    (pd.DataFrame({"a": pd.array([0.5, None], dtype="Float32")}), np.float64),
], ids=["f32", "f64", "int", "frame-f32-cat", "frame-mixed", "frame-int",
        "frame-f32-nullable-int", "frame-nullable-float"])
def test_float_dtype_of_the_meta_features(X, expected):
    assert float_dtype(X) == expected


def test_nonfinite_columns_of_an_array_block_by_block():
    """The check reads X a block of rows at a time: a NaN in a late block is still found."""
    values = np.zeros((10, 4))
    values[9, 1] = np.nan
    values[4, 3] = np.inf
    values[0, 0] = -np.inf
    nan, inf = _plane._nonfinite_mask(values, block_rows=3)
    assert np.flatnonzero(nan).tolist() == [1] and np.flatnonzero(inf).tolist() == [0, 3]


def test_nonfinite_columns_of_a_frame_make_no_copy_of_the_table(monkeypatch):
    frame = pd.DataFrame({"a": [1.0, np.nan], "b": [np.inf, 1.0], "c": pd.Categorical(["x", None]),
                          "d": pd.array([1, None], dtype="Int64"), "e": [1.0, 2.0]})

    def no_table_copy(*args, **kwargs):
        raise AssertionError("the whole table was converted to one array")

    monkeypatch.setattr(pd.DataFrame, "to_numpy", no_table_copy)
    assert nonfinite_columns(frame) == (["a", "c", "d"], ["b"])
