"""The memory= fold-task cache: fits counted for real, resume after SIGKILL, bad entries,
library versions in the key, leftover temporary files, a cache that cannot be written."""

import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_regression
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV

from stackkit import StackingRegressor, StackkitWarning


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


def test_cache_key_holds_the_library_versions(data, logs, tmp_path, monkeypatch):
    """An upgraded library refits everything instead of serving models an older one fit."""
    import sklearn
    import xgboost

    from stackkit import _cache

    versions = dict(_cache.library_versions())
    assert versions["scikit-learn"] == sklearn.__version__
    assert versions["xgboost"] == xgboost.__version__
    assert set(versions) >= {"stackkit", "scikit-learn", "xgboost", "lightgbm"}
    assert _cache._installed_version("no-such-distribution-stackkit") is None
    X, y = data
    stack(logs, str(tmp_path / "cache")).fit(X, y)
    upgraded = {**versions, "xgboost": "99.0.0"}
    monkeypatch.setattr(_cache, "library_versions", lambda: tuple(upgraded.items()))
    again = stack(logs, str(tmp_path / "cache")).fit(X, y)
    assert not again.task_log_["cached"].any()
    assert [_count(log) for log in logs[:2]] == [8, 8]


def test_stale_temporary_files_are_removed_on_the_next_fit(data, logs, tmp_path):
    """A killed writer's ``.tmp`` goes; a young one (maybe another live writer's) stays."""
    from stackkit._cache import STALE_SECONDS

    X, y = data
    stack(logs, str(tmp_path / "cache")).fit(X, y)
    folder = next((tmp_path / "cache" / "stackkit").iterdir())
    stale, young = folder / "tmpkilled.tmp", folder / "tmpwriting.tmp"
    stale.write_bytes(b"half an entry")
    young.write_bytes(b"being written")
    old = time.time() - STALE_SECONDS - 60
    os.utime(stale, (old, old))
    stack(logs, str(tmp_path / "cache")).fit(X, y)
    assert not stale.exists()
    assert young.exists()


def _one_warning(record, match):
    mine = [w for w in record if issubclass(w.category, StackkitWarning)]
    assert len(mine) == 1, [str(w.message) for w in mine]
    assert re.search(match, str(mine[0].message))


def test_cache_folder_that_is_a_file_warns_once_in_fit_and_in_predict(data, logs, tmp_path):
    X, y = data
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should be")
    model = stack(logs, str(not_a_folder))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(X, y)
    _one_warning(record, r"memory= cache .*cache/stackkit' cannot be written \(")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        predicted = model.predict(X)
    _one_warning(record, r"cannot be written")
    np.testing.assert_array_equal(predicted, stack(logs, None).fit(X, y).predict(X))


def test_read_only_cache_is_read_and_not_written(data, logs, tmp_path, monkeypatch):
    """Entries of a read-only cache are used; new results are computed, one warning each.

    Root ignores permission bits (the tests may run as root), so there the write
    failure a user gets from a read-only folder is raised by the temporary file.
    """
    X, y = data
    folder = tmp_path / "cache"
    first = stack(logs, str(folder)).fit(X, y)
    expected = first.predict(X)
    entries = sorted(folder.rglob("*"))
    modes = {path: path.stat().st_mode for path in [folder, *entries]}
    for path in reversed([folder, *entries]):
        path.chmod(stat.S_IMODE(modes[path]) & ~0o222)
    if os.geteuid() == 0:
        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied", kwargs.get("dir"))
        monkeypatch.setattr("stackkit._cache.tempfile.NamedTemporaryFile", refuse)
    try:
        again = stack(logs, str(folder)).fit(X, y)  # all read: nothing to store, no warning
        np.testing.assert_array_equal(again.predict(X), expected)
        assert again.task_log_["cached"].all()
        grown = stack(logs, str(folder), n=3)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            grown.fit(X, y)
        _one_warning(record, r"cannot be written \(PermissionError")
        assert grown.task_log_.groupby("estimator")["cached"].all().to_dict() == {
            "r0": True, "r1": True, "r2": False}
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            grown.predict(X[:30])
        _one_warning(record, r"cannot be written")
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert sorted(folder.rglob("*.pkl")) == [e for e in entries if e.suffix == ".pkl"]
    assert [_count(log) for log in logs] == [4, 4, 4]
