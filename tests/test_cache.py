"""The memory= fold-task cache: fits counted for real, resume after SIGKILL, bad entries."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV

from stackkit import StackingRegressor


class CountingRidge(RegressorMixin, BaseEstimator):
    """A ridge regression that appends a line to ``log`` at every fit and to
    ``log + ".predict"`` at every predict (counts across processes)."""

    def __init__(self, log, alpha=1.0):
        self.log = log
        self.alpha = alpha

    def fit(self, X, y):
        with open(self.log, "a") as handle:
            handle.write(f"{self.alpha}\n")
        if os.environ.get("STACKKIT_TEST_KILL_AT") == str(_count(self.log)):
            os.kill(os.getpid(), signal.SIGKILL)
        self.model_ = Ridge(alpha=self.alpha).fit(X, y)
        return self

    def predict(self, X):
        with open(f"{self.log}.predict", "a") as handle:
            handle.write(f"{len(X)}\n")
        return self.model_.predict(X)


def _count(log):
    return len(Path(log).read_text().splitlines()) if Path(log).exists() else 0


@pytest.fixture
def data():
    return make_regression(n_samples=150, n_features=5, noise=10.0, random_state=0)


@pytest.fixture
def logs(tmp_path):
    return [str(tmp_path / f"fits_{i}.log") for i in range(3)]


def stack(logs, memory, n=2, **params):
    estimators = [(f"r{i}", CountingRidge(logs[i], alpha=float(i + 1))) for i in range(n)]
    return StackingRegressor(estimators, cv=3, memory=memory, **params)


def test_second_fit_runs_nothing_and_results_are_identical(data, logs, tmp_path):
    X, y = data
    plain = stack(logs, None).fit(X, y)
    first = stack(logs, str(tmp_path / "cache")).fit(X, y)
    second = stack(logs, joblib.Memory(tmp_path / "cache", verbose=0)).fit(X, y)
    assert [_count(log) for log in logs[:2]] == [8, 8]  # 4 tasks, 4 again, then none
    assert second.task_log_["cached"].all() and not first.task_log_["cached"].any()
    np.testing.assert_array_equal(first.oof_, plain.oof_)
    np.testing.assert_array_equal(second.oof_, plain.oof_)
    np.testing.assert_array_equal(second.predict(X), plain.predict(X))


def test_grid_search_fits_base_estimators_once_per_outer_split(data, logs, tmp_path):
    X, y = data
    grid = {"final_estimator__alpha": [0.1, 1.0, 10.0], "passthrough": [False, True]}
    search = GridSearchCV(stack(logs, str(tmp_path / "cache"), final_estimator=Ridge()),
                          grid, cv=3).fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    # per estimator: 3 outer splits x (3 folds + 1 refit), then the best candidate refit
    # on all rows: 3 folds + 1 refit. Without the cache it would be 6 x 12 + 4 = 76.
    assert [_count(log) for log in logs[:2]] == [16, 16]


def test_grid_search_predicts_each_outer_test_fold_once(data, logs, tmp_path):
    X, y = data
    grid = {"final_estimator__alpha": [0.1, 1.0, 10.0], "passthrough": [False, True]}
    GridSearchCV(stack(logs, str(tmp_path / "cache"), final_estimator=Ridge()),
                 grid, cv=3).fit(X, y)
    # per estimator: 3 outer splits x (3 held-out folds + the outer test rows, shared by
    # the 6 candidates), then the 3 held-out folds of the best candidate's refit.
    # Without cached predictions it would be 3 x (3 + 6) + 3 = 30.
    assert [_count(f"{log}.predict") for log in logs[:2]] == [15, 15]


def test_cached_predictions_equal_fresh_ones_and_follow_model_and_data(data, logs, tmp_path):
    X, y = data
    plain = stack(logs, None).fit(X, y)
    cached = stack(logs, str(tmp_path / "cache")).fit(X, y)
    before = _count(f"{logs[0]}.predict")
    for _ in range(2):
        np.testing.assert_array_equal(cached.predict(X), plain.predict(X))
        np.testing.assert_array_equal(cached.transform(X[:40]), plain.transform(X[:40]))
    # plain predicts at each of its 4 calls; the cached stack once per distinct X
    assert _count(f"{logs[0]}.predict") - before == 4 + 2
    changed = X.copy()
    changed[3, 1] += 1e-9
    cached.predict(changed)
    cached.set_params(r0__alpha=7.0).fit(X, y).predict(X)
    # the changed cell, then the refit r0's 3 folds and its new predictions
    assert _count(f"{logs[0]}.predict") - before == 6 + 1 + 3 + 1


def test_changing_one_estimator_refits_only_its_tasks(data, logs, tmp_path):
    X, y = data
    model = stack(logs, str(tmp_path / "cache")).fit(X, y)
    model.set_params(r1__alpha=5.0).fit(X, y)
    assert [_count(log) for log in logs[:2]] == [4, 8]


def test_adding_an_estimator_fits_only_the_new_one(data, logs, tmp_path):
    X, y = data
    model = stack(logs, str(tmp_path / "cache")).fit(X, y)
    grown = stack(logs, str(tmp_path / "cache"), n=3).estimators
    model.set_params(estimators=grown).fit(X, y)
    assert [_count(log) for log in logs] == [4, 4, 4]
    assert model.oof_.shape == (len(y), 3)


def test_changed_cell_is_not_reused(data, logs, tmp_path):
    X, y = data
    stack(logs, str(tmp_path / "cache")).fit(X, y)
    X = X.copy()
    X[7, 2] += 1e-9
    stack(logs, str(tmp_path / "cache")).fit(X, y)
    assert [_count(log) for log in logs[:2]] == [8, 8]


@pytest.mark.parametrize("damage", ["truncate", "flip-byte", "foreign", "empty"])
def test_damaged_entry_is_recomputed_not_trusted(data, logs, tmp_path, damage):
    X, y = data
    reference = stack(logs, str(tmp_path / "cache")).fit(X, y)
    entries = sorted((tmp_path / "cache").rglob("*.pkl"))
    assert len(entries) == 8
    blob = entries[0].read_bytes()
    entries[0].write_bytes({
        "truncate": blob[: len(blob) // 2],
        "flip-byte": blob[:-5] + bytes([blob[-5] ^ 0xFF]) + blob[-4:],
        "foreign": b"not a stackkit cache entry",
        "empty": b"",
    }[damage])
    again = stack(logs, str(tmp_path / "cache")).fit(X, y)
    assert sum(_count(log) for log in logs[:2]) == 8 + 1
    assert int((~again.task_log_["cached"]).sum()) == 1
    np.testing.assert_array_equal(again.oof_, reference.oof_)


def test_bad_memory_parameter(data, logs):
    X, y = data
    with pytest.raises(TypeError, match="memory must be None, a folder path or a joblib.Memory"):
        stack(logs, memory=3).fit(X, y)
    assert _count(logs[0]) == 0


def test_fit_killed_part_way_resumes_from_finished_tasks(logs, tmp_path):
    """A fit SIGKILLed at its 4th base fit keeps the 3 finished tasks; the rerun does the rest."""
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        from sklearn.datasets import make_regression
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_cache import stack
        X, y = make_regression(n_samples=150, n_features=5, noise=10.0, random_state=0)
        model = stack({logs!r}, {str(tmp_path / "cache")!r}).fit(X, y)
        np.save({str(tmp_path / "oof.npy")!r}, model.oof_)
    """)
    env = {**os.environ, "STACKKIT_TEST_KILL_AT": "4"}
    killed = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    fits_before = sum(_count(log) for log in logs[:2])
    assert fits_before >= 4
    finished = len(list((tmp_path / "cache").rglob("*.pkl")))
    assert 1 <= finished < 8
    resumed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert sum(_count(log) for log in logs[:2]) - fits_before == 8 - finished
    for log in logs[:2]:
        Path(log).unlink()
    uninterrupted = stack(logs, None).fit(*make_regression(n_samples=150, n_features=5,
                                                            noise=10.0, random_state=0))
    np.testing.assert_array_equal(np.load(tmp_path / "oof.npy"), uninterrupted.oof_)


def test_two_processes_filling_one_cache_concurrently(data, logs, tmp_path):
    X, y = data
    script = textwrap.dedent(f"""
        import sys
        from sklearn.datasets import make_regression
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_cache import stack
        X, y = make_regression(n_samples=150, n_features=5, noise=10.0, random_state=0)
        stack({logs!r}, {str(tmp_path / "cache")!r}, n=3).fit(X, y)
    """)
    runs = [subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
            for _ in range(2)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    assert not list((tmp_path / "cache").rglob("*.tmp"))
    before = sum(_count(log) for log in logs)
    model = stack(logs, str(tmp_path / "cache"), n=3).fit(X, y)
    assert sum(_count(log) for log in logs) == before
    assert model.task_log_["cached"].all()
    np.testing.assert_array_equal(model.oof_, stack(logs, None, n=3).fit(X, y).oof_)


def test_progress_bar_counts_cached_tasks_as_done(data, logs, tmp_path, capsys):
    pytest.importorskip("tqdm")
    X, y = data
    stack(logs, str(tmp_path / "cache")).fit(X, y)
    stack(logs, str(tmp_path / "cache"), n=3, verbose=1).fit(X, y)
    err = capsys.readouterr().err
    assert "fold tasks" in err and "12/12" in err and "8 cached" in err


def test_estimator_with_a_lambda_runs_uncached_with_one_warning(data, logs, tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from stackkit import StackkitWarning

    X, y = data
    doubled = make_pipeline(FunctionTransformer(lambda Z: Z * 2), Ridge())
    estimators = [("doubled", doubled), ("r0", CountingRidge(logs[0]))]
    with pytest.warns(StackkitWarning, match="'doubled' cannot be hashed") as record:
        model = StackingRegressor(estimators, cv=3, memory=str(tmp_path / "c")).fit(X, y)
    assert len([w for w in record if issubclass(w.category, StackkitWarning)]) == 1
    log = model.task_log_
    assert not log["cached"].any()
    with pytest.warns(StackkitWarning):
        again = StackingRegressor(estimators, cv=3, memory=str(tmp_path / "c")).fit(X, y)
    assert again.task_log_.groupby("estimator")["cached"].all().to_dict() == {
        "doubled": False, "r0": True}
    np.testing.assert_allclose(again.oof_, model.oof_)
