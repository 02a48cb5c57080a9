"""The GPU lane, tested on CPU: estimators that declare a GPU record when and where they ran.

No GPU exists on the test machines. ``visible_gpus`` is replaced to pretend one or two
devices are visible; the estimators below ask for a GPU through ``device="cuda"``, as
XGBoost does, and do real CPU work while logging their process, the device they were
given and their start and end times. XGBoost itself, asked for ``cuda:1`` here, falls
back to its CPU algorithm, which shows what a lane leaves in fitted and cached models.
"""

import json
import os
import time

import numpy as np
import pytest
import xgboost
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier, XGBRegressor

from stackkit import FoldFitError, StackingClassifier, StackingRegressor
from stackkit._cache import TaskCache
from stackkit._gpu import gpu_request, place_on_device, restore_devices, visible_gpus
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


class FlakyBoosting(LoggedBoosting):
    """Fails its 4th fit (counted in ``log``) while the file ``fail_marker`` exists."""

    def __init__(self, log, fail_marker, device="cuda", n_estimators=10):
        super().__init__(log, device=device, n_estimators=n_estimators)
        self.fail_marker = fail_marker

    def fit(self, X, y):
        if os.path.exists(self.fail_marker) and len(read_log(self.log)) == 3:
            raise RuntimeError("device lost")
        return super().fit(X, y)


class RecordingBar:
    """Stands for the tqdm progress bar: records when each task was counted."""

    def __init__(self, updates):
        self.updates = updates

    def update(self):
        self.updates.append(time.time())

    def close(self):
        pass


def read_log(path):
    if not os.path.exists(path):
        return []

    with open(path) as handle:
        return [json.loads(line) for line in handle]


def overlaps(a, b):
    return a["start"] < b["end"] and b["start"] < a["end"]


@pytest.fixture
def data():
    return make_regression(n_samples=1500, n_features=10, noise=5.0, random_state=0)


def pretend_gpus(monkeypatch, n):
    monkeypatch.setattr("stackkit._base.visible_gpus", lambda: n)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_gpu_tasks_run_one_at_a_time_beside_the_cpu_tasks(data, tmp_path, monkeypatch, n_jobs):
    """Also with n_jobs=None (one CPU worker): the lane is a thread beside it."""
    pretend_gpus(monkeypatch, 1)
    X, y = data
    if n_jobs is not None:  # start loky's workers and their imports first (seconds when
        # the machine is busy), else the lane, which starts at once, may finish first
        warm = LoggedBoosting(str(tmp_path / "warm.log"), device="cpu", n_estimators=1)
        StackingRegressor([("warm", warm)], cv=2, n_jobs=n_jobs).fit(X[:100], y[:100])
    gpu_log, cpu_log = tmp_path / "gpu.log", tmp_path / "cpu.log"
    estimators = [("gpu", LoggedBoosting(str(gpu_log), n_estimators=30)),
                  ("cpu", LoggedBoosting(str(cpu_log), device="cpu", n_estimators=30))]
    stack = StackingRegressor(estimators, cv=3, n_jobs=n_jobs).fit(X, y)
    log = stack.task_log_
    assert set(log.device[log.estimator == "gpu"]) == {"gpu:0"}
    assert set(log.device[log.estimator == "cpu"]) == {"cpu"}
    gpu_runs, cpu_runs = read_log(gpu_log), read_log(cpu_log)
    assert len(gpu_runs) == len(cpu_runs) == 4
    assert {run["device"] for run in gpu_runs} == {"cuda:0"}  # the lane's device
    assert {run["pid"] for run in gpu_runs} == {os.getpid()}  # a thread of this process
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


def test_a_lane_counts_and_caches_each_task_as_it_finishes(data, tmp_path, monkeypatch):
    """A failed lane task (the last of 4) leaves its lane's 3 finished tasks cached."""
    pretend_gpus(monkeypatch, 1)
    X, y = data[0][:300], data[1][:300]
    updates = []
    monkeypatch.setattr("stackkit._runner.progress_bar", lambda *args: RecordingBar(updates))
    marker, log = tmp_path / "fail", tmp_path / "gpu.log"
    marker.touch()
    stack = StackingRegressor([("gpu", FlakyBoosting(str(log), str(marker)))], cv=3,
                              memory=str(tmp_path / "cache"), verbose=1)
    with pytest.raises(FoldFitError, match=r"'gpu'.* fold 3/3 .*device lost"):
        stack.fit(X, y)
    ends = [run["end"] for run in read_log(log)]
    assert len(ends) == len(updates) == 3
    assert updates[0] < ends[1] and updates[1] < ends[2]  # counted before the next ended
    marker.unlink()
    stack.fit(X, y)
    assert stack.task_log_["cached"].tolist() == [True, True, True, False]
    assert len(read_log(log)) == 4


def test_lane_device_is_taken_back_in_fitted_and_cached_models(tmp_path, monkeypatch):
    """Fold models fit in lane 1 (``cuda:1``) are stored and kept as ``device="cuda"``."""
    pretend_gpus(monkeypatch, 2)
    X, y = make_regression(n_samples=200, n_features=5, random_state=0)
    xgb = XGBRegressor(device="cuda", n_estimators=5)
    stack = StackingRegressor([("xgb", xgb)], cv=3, refit=False,
                              memory=str(tmp_path / "cache")).fit(X, y)
    assert stack.task_log_.device.tolist() == ["gpu:0", "gpu:1", "gpu:0"]
    assert [m.get_params()["device"] for m in stack.estimators_[0].estimators] == ["cuda"] * 3
    cache = TaskCache(tmp_path / "cache")
    stored = [cache.load(key).model for key in stack.task_log_.cache_key]
    assert [m.get_params()["device"] for m in stored] == ["cuda"] * 3
    assert clone(stored[1]).get_params()["device"] == "cuda"
    assert stack.predict(X).shape == (200,)


def test_restore_devices_tells_the_fitted_xgboost_booster(monkeypatch):
    """Without a GPU XGBoost keeps ``cpu`` in its booster, so watch what it is told."""
    X, y = make_regression(n_samples=100, n_features=4, random_state=0)
    model = XGBRegressor(device="cuda", n_estimators=3).fit(X, y)
    told, set_param = [], xgboost.core.Booster.set_param

    def spy(self, params, value=None):
        told.append(dict(params) if isinstance(params, dict) else {params: value})
        return set_param(self, params, value)

    monkeypatch.setattr(xgboost.core.Booster, "set_param", spy)
    placed = place_on_device(model, 1)
    assert told[-1]["device"] == "cuda:1"
    restore_devices(model, placed)
    assert model.get_params()["device"] == "cuda"
    assert told[-1]["device"] == "cuda"


@pytest.mark.parametrize(
    "estimator",
    [XGBClassifier(device="cuda"), XGBClassifier(device="cuda:0"),
     LGBMClassifier(device_type="gpu"),
     make_pipeline(StandardScaler(), LGBMClassifier(device_type="cuda")),
     make_pipeline(StandardScaler(), XGBClassifier(device="gpu"))],
    ids=["xgb", "xgb-ordinal", "lgbm", "lgbm-pipeline", "xgb-pipeline"],
)
def test_restore_devices_gives_back_the_users_parameters(estimator):
    estimator = clone(estimator)
    before = estimator.get_params(deep=True)
    placed = place_on_device(estimator, 1)
    restore_devices(estimator, placed)
    assert estimator.get_params(deep=True) == before
    assert clone(estimator).get_params(deep=True).keys() == before.keys()


def test_restore_devices_removes_lightgbm_device_id_from_a_fitted_model():
    X, y = make_regression(n_samples=100, n_features=4, random_state=0)
    model = LGBMRegressor(n_estimators=3, verbose=-1).fit(X, y)
    model.set_params(device_type="gpu")  # as if it had been fit on the GPU build
    before = model.get_params()
    placed = place_on_device(model, 1)
    assert model.get_params()["gpu_device_id"] == 1
    restore_devices(model, placed)
    assert model.get_params() == before
    assert not hasattr(model, "gpu_device_id")
    assert model.predict(X[:3]).shape == (3,)


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
