"""stackkit.presets: a good first stack, on arrays and on DataFrames with categorical columns."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

from stackkit import StackingClassifier, StackingRegressor
from stackkit.presets import MAX_ROUNDS, default_estimators


def frame_with_categories(n=1200, seed=0):
    """Numeric columns (one with gaps) and a categorical column that carries signal."""
    rng = np.random.default_rng(seed)
    city = pd.Categorical(rng.choice(["north", "south", "east", "west", None], n))
    frame = pd.DataFrame({"x0": rng.normal(size=n), "x1": rng.normal(size=n), "city": city})
    frame.loc[rng.choice(n, 60, replace=False), "x1"] = np.nan
    effect = pd.Series(city).map({"north": 1.5, "south": -1.5, "east": 0.5, "west": -0.5})
    signal = frame.x0 + np.nan_to_num(frame.x1) + effect.astype(float).fillna(0.0)
    return frame, signal.to_numpy() + rng.normal(scale=0.5, size=n)


def test_binary_preset_uses_categories_and_stops_early():
    X, signal = frame_with_categories()
    y = (signal > 0).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    stack = StackingClassifier(default_estimators("binary", device="cpu"), cv=3)
    stack.fit(X_train, y_train)
    assert set(stack.best_iterations_) == {"xgb", "lgbm"}
    assert all((rounds < MAX_ROUNDS).all() for rounds in stack.best_iterations_.values())
    without_city = clone(stack).fit(X_train.drop(columns="city"), y_train)
    auc = roc_auc_score(y_test, stack.predict_proba(X_test)[:, 1])
    auc_without = roc_auc_score(y_test, without_city.predict_proba(X_test.drop(columns="city"))[:, 1])
    assert auc > auc_without + 0.02  # the categorical column reached the models


def test_regression_preset_on_a_numpy_array():
    X, signal = frame_with_categories(800)
    X = X[["x0", "x1"]].to_numpy()
    stack = StackingRegressor(default_estimators("regression", device="cpu"), cv=3).fit(X, signal)
    assert r2_score(signal, stack.predict(X)) > 0.5
    assert stack.estimators_[2].n_estimators < MAX_ROUNDS  # the refit trained the folds' rounds


def test_multiclass_preset_fits():
    X, signal = frame_with_categories(900)
    y = np.digitize(signal, [-1.0, 1.0])
    stack = StackingClassifier(default_estimators("multiclass", device="cpu"), cv=3).fit(X, y)
    assert stack.predict_proba(X).shape == (900, 3)


@pytest.mark.parametrize("n_gpus, xgb_device", [(0, "cpu"), (1, "cuda")])
def test_auto_device_follows_visible_gpus_for_xgboost_only(monkeypatch, n_gpus, xgb_device):
    """LightGBM's GPU build (OpenCL) is often missing and slower: it stays on the CPU."""
    monkeypatch.setattr("stackkit.presets.visible_gpus", lambda: n_gpus)
    estimators = dict(default_estimators("binary"))
    assert estimators["xgb"].device == xgb_device
    assert estimators["lgbm"].device_type == "cpu"
    assert dict(default_estimators("binary", device="cuda"))["lgbm"].device_type == "cpu"
    stack = StackingClassifier(default_estimators("binary")).set_params(lgbm__device_type="gpu")
    assert stack.estimators[3][1].device_type == "gpu"  # asked for: the GPU build


@pytest.mark.parametrize(
    "params, match",
    [({"task": "ranking"}, r"task must be one of .*'ranking'"),
     ({"task": "binary", "device": "tpu"}, r"device must be one of .*'tpu'"),
     ({"task": "binary", "dask": "yes"}, r"dask must be True or False; got 'yes'"),
     ({"task": "binary", "portfolio": "best", "dask": True},
      r"portfolio='best' holds models that need every row in one process")],
    ids=["task", "device", "dask", "best-on-dask"],
)
def test_bad_arguments(params, match):
    with pytest.raises(ValueError, match=match):
        default_estimators(**params)
