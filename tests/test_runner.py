"""The runner owns a run: one progress bar, held refits with their folds' rounds, tasks
skipped by an admission hook, and cache entries that are typed records of one format."""

import threading
from dataclasses import field, fields, make_dataclass

import numpy as np
import pytest
from joblib import parallel_config
from lightgbm import LGBMRegressor
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge

from stackkit import FoldFitError, StackingRegressor, StackkitWarning
from stackkit._cache import TaskCache
from stackkit._results import TaskOutput
from stackkit._runner import Runner
from stackkit._split import SplitPlan
from stackkit._tasks import make_tasks

ROUNDS = 300  # more than any fold needs at this learning rate, so every fold stops early


class Explodes(RegressorMixin, BaseEstimator):
    """Fails if it is ever fit: stands for a task that must not run. ``device="cuda"``
    asks for the GPU lane as XGBoost does."""

    def __init__(self, device="cpu"):
        self.device = device

    def fit(self, X, y):
        raise RuntimeError("this task must never run")

    def predict(self, X):
        return np.zeros(len(X))


class RidgeOnDevice(Ridge):
    """A ridge that asks for a GPU (``device="cuda"``) and fits on the CPU."""

    def __init__(self, alpha=1.0, device="cuda"):
        super().__init__(alpha=alpha)
        self.device = device


@pytest.fixture(scope="module")
def data():
    return make_regression(n_samples=200, n_features=5, noise=10.0, random_state=0)


def early_stopped():
    return LGBMRegressor(n_estimators=ROUNDS, learning_rate=0.3, num_leaves=7,
                         early_stopping_round=5, verbose=-1, n_jobs=1)


def tasks_of(named, X, y):
    plan = SplitPlan.from_cv(3, X, y, None, classifier=False)
    no_params = {name: ({}, ()) for name, _ in named}
    return make_tasks(named, ["predict"] * len(named), plan, refit=True, fit_params=no_params)


@pytest.fixture
def bars(monkeypatch):
    """Every tqdm bar made during the test (the real bar, counted)."""
    from tqdm.auto import tqdm

    made = []

    class CountedBar(tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr("tqdm.auto.tqdm", CountedBar)
    return made


def test_one_progress_bar_over_the_folds_and_the_held_refits(data, tmp_path, bars):
    """Before the runner, the early-stopped refit ran under a second bar."""
    X, y = data
    estimators = [("lgbm", early_stopped()), ("ridge", Ridge())]
    stack = StackingRegressor(estimators, cv=3, memory=str(tmp_path), verbose=1).fit(X, y)
    assert len(bars) == 1
    assert bars[0].total == bars[0].n == 8  # 2 estimators x (3 folds + 1 refit)
    assert (stack.task_log_.fold == "full").sum() == 2
    StackingRegressor(estimators, cv=3, memory=str(tmp_path), verbose=1).fit(X, y)
    assert len(bars) == 2 and bars[1].total == bars[1].n == 8  # all read from the cache
    assert "8 cached" in str(bars[1])


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_held_refit_gets_the_mean_rounds_of_its_folds_once_they_are_done(data, backend):
    X, y = data
    stack = StackingRegressor([("lgbm", early_stopped()), ("ridge", Ridge())], cv=3,
                              n_jobs=2)
    with parallel_config(backend=backend):
        stack.fit(X, y)
    rounds = stack.best_iterations_["lgbm"]
    assert len(rounds) == 3 and rounds.max() < ROUNDS
    assert stack.named_estimators_["lgbm"].n_estimators == round(rounds.mean())
    log = stack.task_log_[stack.task_log_.estimator == "lgbm"]
    folds, refit = log[log.fold != "full"], log[log.fold == "full"]
    assert refit.started.item() >= folds.finished.max()


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_runner_skips_the_cpu_tasks_admission_refuses(data, tmp_path, backend):
    """The refused estimator would raise if run (and on_error is "raise"): it never runs."""
    X, y = data
    tasks = tasks_of([("ridge", Ridge()), ("refused", Explodes())], X, y)
    asked = []

    def admit(task):
        asked.append((task.name, task.fold))
        return "over the time budget" if task.name == "refused" else None

    runner = Runner(X, y, "continuous", n_jobs=2, cache=TaskCache(tmp_path), admit=admit)
    with parallel_config(backend=backend):
        results = runner.run(tasks)
    assert sorted(asked, key=str) == sorted(((t.name, t.fold) for t in tasks), key=str)
    refused = [r for r in results if r.task.name == "refused"]
    assert [r.status for r in refused] == ["skipped"] * 4
    assert {r.reason for r in refused} == {"over the time budget"}
    assert all(r.model is None and r.predictions is None and r.cache_key is None
               for r in refused)
    assert [r.status for r in results if r.task.name == "ridge"] == ["ran"] * 4
    assert len(list(tmp_path.rglob("*.pkl"))) == 4  # skipped tasks are never cached


def test_runner_asks_admission_in_the_gpu_lane_before_each_task(data):
    X, y = data
    tasks = tasks_of([("ridge", Ridge()), ("gpu", RidgeOnDevice()),
                      ("refused", Explodes("cuda"))], X, y)
    threads = {}

    def admit(task):
        threads.setdefault(task.name, set()).add(threading.current_thread().name)
        return "no time left" if task.name == "refused" or task.fold == 2 else None

    results = Runner(X, y, "continuous", n_gpus=1, admit=admit).run(tasks)
    assert threads["gpu"] == threads["refused"] == {"stackkit-gpu-lane-0"}
    assert "stackkit-gpu-lane-0" not in threads["ridge"]
    status = {(r.task.name, r.task.fold): (r.status, r.device) for r in results}
    assert status["gpu", 1] == ("ran", "gpu:0")  # the lane goes on after a skipped task
    assert status["gpu", 2] == status["refused", 0] == ("skipped", None)
    assert status["ridge", 2] == ("skipped", None) and status["ridge", 1] == ("ran", "cpu")


class Budgeted(StackingRegressor):
    """A stack whose admission refuses the tasks listed in ``REFUSED``: (name, fold)."""

    REFUSED = {("slow", 1)}

    def _admit(self, task):
        return "over the time budget" if (task.name, task.fold) in self.REFUSED else None


def test_stack_drops_an_estimator_with_a_skipped_task_whatever_on_error(data, tmp_path):
    X, y = data
    estimators = [("fast", Ridge()), ("slow", Ridge(alpha=10.0))]
    stack = Budgeted(estimators, cv=3, memory=str(tmp_path))  # on_error="raise"
    with pytest.warns(StackkitWarning, match=r"'slow' \(Ridge\) was skipped on fold 2/3: "
                                             r"over the time budget; it is dropped from "
                                             r"the stack$") as seen:
        stack.fit(X, y)
    assert len([w for w in seen if issubclass(w.category, StackkitWarning)]) == 1
    assert list(stack.dropped_) == ["slow"] and "over the time budget" in stack.dropped_["slow"]
    assert stack.layout_.names == ("fast",)
    log = stack.task_log_.set_index(["estimator", "fold"])
    assert log.loc[("slow", 1), "status"] == "skipped"
    assert log.loc[("slow", 1), "error"] == "over the time budget"
    assert np.isnan(log.loc[("slow", 1), "started"])
    assert (log.drop(("slow", 1)).status == "ran").all()
    only_fast = StackingRegressor([("fast", Ridge())], cv=3).fit(X, y)
    np.testing.assert_array_equal(stack.predict(X), only_fast.predict(X))
    again = StackingRegressor(estimators, cv=3, memory=str(tmp_path)).fit(X, y)
    status = again.task_log_.set_index(["estimator", "fold"]).status
    assert status["slow", 1] == "ran"  # it was never cached
    assert (status.drop(("slow", 1)) == "cached").all()


def test_skipped_fold_of_an_early_stopped_booster_leaves_its_refit_unrun(data, bars):
    X, y = data
    stack = Budgeted([("slow", early_stopped()), ("fast", Ridge())], cv=3, verbose=1)
    with pytest.warns(StackkitWarning, match="'slow' .* was skipped on fold 2/3"):
        stack.fit(X, y)
    log = stack.task_log_
    assert not ((log.estimator == "slow") & (log.fold == "full")).any()
    assert len(bars) == 1 and bars[0].total == bars[0].n == 7  # the refit left out


def test_every_estimator_skipped_is_the_every_estimator_failed_error(data):
    X, y = data
    stack = Budgeted([("slow", Ridge())], cv=3)
    with pytest.raises(FoldFitError, match="every base estimator failed or was skipped: "
                                           "estimator 'slow' .* over the time budget"):
        stack.fit(X, y)


def test_failed_task_has_status_failed(data):
    X, y = data
    stack = StackingRegressor([("ok", Ridge()), ("bad", Explodes())], cv=3, on_error="warn")
    with pytest.warns(StackkitWarning, match="'bad' .* must never run.*on_error='warn'"):
        stack.fit(X, y)
    log = stack.task_log_
    assert set(log.status[log.estimator == "bad"]) == {"failed"}
    assert set(log.status[log.estimator == "ok"]) == {"ran"}


def _as_old_tuple(record):
    """The entry as stackkit wrote it before records: the worker's 8-tuple."""
    return (record.model, record.predictions, record.fit_time, record.predict_time,
            record.started, record.finished, record.stopped, record.error)


def _of_version_2(record):
    object.__setattr__(record, "format_version", 2)
    return record


def _without_a_field(record):
    del record.__dict__["stopped"]  # as if stored before the field existed
    return record


@pytest.mark.parametrize("stale", [_as_old_tuple, _of_version_2, _without_a_field],
                         ids=["old-tuple", "other-version", "missing-field"])
def test_cache_entry_that_is_not_a_current_record_is_a_miss(data, tmp_path, stale):
    """Stored under the current header and checksum, so only the record check rejects it."""
    X, y = data
    first = StackingRegressor([("ridge", Ridge())], cv=3, memory=str(tmp_path)).fit(X, y)
    cache = TaskCache(tmp_path)
    keys = list(first.task_log_.cache_key)
    for key in keys:
        cache.save(key, stale(cache.load(key)))
    assert all(cache.load(key) is None for key in keys)
    again = StackingRegressor([("ridge", Ridge())], cv=3, memory=str(tmp_path)).fit(X, y)
    assert (again.task_log_.status == "ran").all()
    np.testing.assert_array_equal(again.oof_, first.oof_)
    assert all(isinstance(cache.load(key), TaskOutput) for key in keys)  # stored anew


def test_record_field_order_cannot_corrupt_the_cache(data, tmp_path, monkeypatch):
    """A later version that lists the record's fields in another order reads the same entry
    field by field (a positional tuple would have shifted the model into the predictions)."""
    with pytest.raises(TypeError):
        TaskOutput(None, None, 0.0, 0.0, 0.0, 0.0)  # built by keyword only
    X, y = data
    first = StackingRegressor([("ridge", Ridge())], cv=3, memory=str(tmp_path)).fit(X, y)
    spec = [(f.name, f.type, field(default=f.default, default_factory=f.default_factory,
                                   init=f.init))
            for f in reversed(fields(TaskOutput))]
    reordered = make_dataclass("TaskOutput", spec, frozen=True, kw_only=True)
    reordered.__module__ = "stackkit._results"  # where pickle looks the class up
    assert [f.name for f in fields(reordered)][0] == "format_version"
    monkeypatch.setattr("stackkit._results.TaskOutput", reordered)
    monkeypatch.setattr("stackkit._tasks.TaskOutput", reordered)
    again = StackingRegressor([("ridge", Ridge())], cv=3, memory=str(tmp_path)).fit(X, y)
    assert (again.task_log_.status == "cached").all()
    np.testing.assert_array_equal(again.oof_, first.oof_)
    np.testing.assert_array_equal(again.predict(X), first.predict(X))
