"""The GPU lane, tested on CPU: estimators that declare a GPU record when and where they ran.

No GPU exists on the test machines. ``visible_gpus`` is replaced to pretend one or two
devices are visible; the estimators below ask for a GPU through ``device="cuda"``, as
XGBoost does, and do real CPU work while logging their process, the device they were
given and their start and end times.
"""

import json
import os
import time

import numpy as np
import pytest
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier

from stackkit import FoldFitError, StackingClassifier, StackingRegressor
from stackkit._gpu import gpu_request, place_on_device, visible_gpus
from stackkit._oof import to_columns
from stackkit.exceptions import StackkitWarning


class LoggedBoosting(RegressorMixin, BaseEstimator):
    """Gradient boosting that asks for ``device`` and logs each fit as a JSON line."""

    def __init__(self, log, device="cuda", n_estimators=60):
        self.log = log
        self.device = device
        self.n_estimators = n_estimators

    def fit(self, X, y):
        start = time.time()
        self.model_ = GradientBoostingRegressor(n_estimators=self.n_estimators,
                                                random_state=0).fit(X, y)
        with open(self.log, "a") as handle:
            handle.write(json.dumps({"pid": os.getpid(), "device": self.device,
                                     "start": start, "end": time.time()}) + "\n")
        return self

    def predict(self, X):
        return self.model_.predict(X)


def read_log(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle]


def overlaps(a, b):
    return a["start"] < b["end"] and b["start"] < a["end"]


@pytest.fixture
def data():
    return make_regression(n_samples=1500, n_features=10, noise=5.0, random_state=0)


def pretend_gpus(monkeypatch, n):
    monkeypatch.setattr("stackkit._base.visible_gpus", lambda: n)


def test_gpu_tasks_run_one_at_a_time_beside_the_cpu_tasks(data, tmp_path, monkeypatch):
    pretend_gpus(monkeypatch, 1)
    X, y = data
    gpu_log, cpu_log = tmp_path / "gpu.log", tmp_path / "cpu.log"
    estimators = [("gpu", LoggedBoosting(str(gpu_log))),
                  ("cpu", LoggedBoosting(str(cpu_log), device="cpu"))]
    stack = StackingRegressor(estimators, cv=3, n_jobs=2).fit(X, y)
    log = stack.task_log_
    assert set(log.device[log.estimator == "gpu"]) == {"gpu:0"}
    assert set(log.device[log.estimator == "cpu"]) == {"cpu"}
    gpu_runs, cpu_runs = read_log(gpu_log), read_log(cpu_log)
    assert len(gpu_runs) == len(cpu_runs) == 4
    assert {run["device"] for run in gpu_runs} == {"cuda:0"}  # the lane's device
    assert len({run["pid"] for run in gpu_runs}) == 1  # one lane, one worker
    assert not any(overlaps(a, b) for i, a in enumerate(gpu_runs) for b in gpu_runs[i + 1:])
    assert any(overlaps(g, c) for g in gpu_runs for c in cpu_runs)  # CPU work ran beside
    assert estimators[0][1].device == "cuda"  # the user's estimator is untouched


def test_two_devices_get_a_lane_each(data, tmp_path, monkeypatch):
    pretend_gpus(monkeypatch, 2)
    X, y = data
    estimators = [(f"gpu{k}", LoggedBoosting(str(tmp_path / f"gpu{k}.log"), n_estimators=20))
                  for k in range(2)]
    stack = StackingRegressor(estimators, cv=3, n_jobs=2).fit(X, y)
    assert sorted(stack.task_log_.device.value_counts().items()) == [("gpu:0", 4), ("gpu:1", 4)]
    runs = read_log(tmp_path / "gpu0.log") + read_log(tmp_path / "gpu1.log")
    for device in ("cuda:0", "cuda:1"):
        lane = [run for run in runs if run["device"] == device]
        assert len(lane) == 4
        assert not any(overlaps(a, b) for i, a in enumerate(lane) for b in lane[i + 1:])


def test_no_visible_gpu_warns_once_and_xgboost_falls_back_to_cpu(monkeypatch):
    pretend_gpus(monkeypatch, 0)
    X, y = make_classification(n_samples=300, random_state=0)
    stack = StackingClassifier([("xgb", XGBClassifier(device="cuda", n_estimators=10))], cv=3)
    with pytest.warns(StackkitWarning, match=r"none is visible: 'xgb' \(device='cuda'\)") as seen:
        stack.fit(X, y)
    assert len([w for w in seen if issubclass(w.category, StackkitWarning)]) == 1
    assert set(stack.task_log_.device) == {"cpu"}
    assert stack.predict_proba(X).shape == (300, 2)


def test_no_visible_gpu_lightgbm_raises_as_it_does_alone(monkeypatch):
    pretend_gpus(monkeypatch, 0)
    X, y = make_classification(n_samples=300, random_state=0)
    lgbm = LGBMClassifier(device_type="gpu", n_estimators=5, verbose=-1)
    stack = StackingClassifier([("lgbm", lgbm)], cv=3)
    with pytest.warns(StackkitWarning, match=r"'lgbm' \(device_type='gpu'\)"):
        with pytest.raises(FoldFitError, match=r"estimator 'lgbm'"):
            stack.fit(X, y)
    assert not hasattr(stack, "estimators_")


@pytest.mark.parametrize(
    "estimator, expected",
    [
        (XGBClassifier(device="cuda"), {"device": "cuda:1"}),
        (XGBClassifier(device="cuda:0"), {"device": "cuda:0"}),  # the user's choice stands
        (XGBClassifier(device="cpu"), {"device": "cpu"}),
        (LGBMClassifier(device_type="gpu"), {"device_type": "gpu", "gpu_device_id": 1}),
        (make_pipeline(StandardScaler(), XGBClassifier(device="gpu")),
         {"xgbclassifier__device": "gpu:1"}),
    ],
    ids=["xgb", "xgb-ordinal", "xgb-cpu", "lgbm", "pipeline"],
)
def test_place_on_device(estimator, expected):
    place_on_device(estimator, 1)
    params = estimator.get_params(deep=True)
    assert {key: params[key] for key in expected} == expected


def test_gpu_request_reads_each_library_convention():
    assert gpu_request(XGBClassifier(device="cuda")) == "device='cuda'"
    assert gpu_request(LGBMClassifier(device_type="cuda")) == "device_type='cuda'"
    assert gpu_request(make_pipeline(StandardScaler(), XGBClassifier(device="gpu:0"))) == \
        "xgbclassifier__device='gpu:0'"
    assert gpu_request(XGBClassifier()) is None
    assert gpu_request(LGBMClassifier(device_type="cpu")) is None


@pytest.mark.parametrize("listed, expected", [("0,1", 2), ("3", 1), ("", 0), ("-1", 0)])
def test_visible_gpus_follows_cuda_visible_devices(monkeypatch, listed, expected):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", listed)
    assert visible_gpus() == expected


def test_device_arrays_come_back_as_host_numpy():
    class DeviceArray:  # stands for a cupy array: no implicit conversion, .get() copies
        __module__ = "cupy"

        def __init__(self, values):
            self.values = values

        def get(self):
            return self.values

        def __array__(self, *args, **kwargs):
            raise TypeError("Implicit conversion to a NumPy array is not allowed")

    block = to_columns(DeviceArray(np.array([[0.2, 0.8], [0.6, 0.4]])), "predict_proba", "binary")
    np.testing.assert_array_equal(block, [[0.8], [0.4]])
