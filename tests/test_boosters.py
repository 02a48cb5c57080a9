"""Boosting libraries known in one place: every library answers one interface.

The table runs each library's real estimator through what the engine does with a
booster: find its library, give it a thread budget and take it back, place it on a
device and take it off, turn its early stopping off. CatBoost rows need catboost.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from lightgbm import LGBMRegressor
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.datasets import make_regression
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBRegressor

from stackkit import StackingRegressor
from stackkit._boosters import LIBRARIES, Library, for_estimator, restore_threads, set_thread_budget
from stackkit._boosters.warm_start import WarmStartedBooster
from stackkit._early_stopping import stopper
from stackkit._gpu import gpu_request, place_on_device, restore_devices
from stackkit.transfer import WarmStart

PACKAGE = Path(__file__).resolve().parents[1] / "stackkit"


def _catboost(**params):
    catboost = pytest.importorskip("catboost")
    return catboost.CatBoostRegressor(iterations=5, verbose=0, allow_writing_files=False, **params)


# library -> how to make its estimator, its thread parameters, how it asks for a GPU, what
# placing it on device 1 adds, and how it asks for early stopping (None: not served)
CASES = {
    "xgboost": (lambda **p: XGBRegressor(n_estimators=5, **p), {"n_jobs": None},
                {"device": "cuda"}, {"device": "cuda:1"}, {"early_stopping_rounds": 3}),
    "lightgbm": (lambda **p: LGBMRegressor(n_estimators=5, verbose=-1, **p), {"n_jobs": None},
                 {"device_type": "gpu"}, {"gpu_device_id": 1}, {"early_stopping_round": 3}),
    "catboost": (_catboost, {"thread_count": None}, {"task_type": "GPU"}, {"devices": "1"},
                 None),
    "HistGradientBoosting": (lambda **p: HistGradientBoostingRegressor(max_iter=5, **p), {},
                             None, {}, {"early_stopping": True}),
}


@pytest.fixture(scope="module")
def data():
    return make_regression(n_samples=200, n_features=5, noise=5.0, random_state=0)


def test_every_library_answers_the_same_interface():
    assert [library.name for library in LIBRARIES] == list(CASES)
    interface = {name for name in vars(Library) if not name.startswith("_")}
    for library in LIBRARIES:
        assert issubclass(library, Library)
        assert {name for name in vars(library) if not name.startswith("_")} <= interface


@pytest.mark.parametrize("name", CASES)
def test_an_estimator_finds_its_library_by_its_module(name):
    make = CASES[name][0]
    assert for_estimator(make()).name == name
    assert for_estimator(make_pipeline(StandardScaler(), make())) is None
    assert for_estimator(Ridge()) is None


def test_finding_a_library_imports_none(tmp_path):
    script = (
        "import sys\n"
        "from sklearn.ensemble import HistGradientBoostingRegressor\n"
        "from stackkit._boosters import for_estimator\n"
        "class Fake:\n    pass\n"
        "Fake.__module__ = 'catboost.core'\n"
        "assert for_estimator(Fake()).name == 'catboost'\n"
        "assert for_estimator(HistGradientBoostingRegressor()).name == 'HistGradientBoosting'\n"
        "print(sorted(m for m in ('xgboost', 'lightgbm', 'catboost') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=PACKAGE.parent, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", CASES)
def test_threads_are_set_for_the_fit_and_given_back(name, data):
    make, threads, *_ = CASES[name]
    model = make_pipeline(StandardScaler(), make(**threads))
    before = model.get_params(deep=True)
    step = model.steps[-1][0]
    unset = set_thread_budget(model, 2)
    assert unset == {f"{step}__{key}": None for key in threads}
    assert all(model.get_params()[key] == 2 for key in unset)
    model.fit(*data)
    restore_threads(model, unset)
    assert model.get_params(deep=True).keys() == before.keys()
    assert all(model.get_params().get(key) is None for key in unset)  # CatBoost: absent


def test_a_fitted_xgboost_booster_is_told_every_core_again(data):
    model = XGBRegressor(n_estimators=3)
    unset = set_thread_budget(model, 2)
    model.fit(*data)
    restore_threads(model, unset)
    config = json.loads(model.get_booster().save_config())
    assert config["learner"]["generic_param"]["nthread"] == "0"  # XGBoost's "every core"


@pytest.mark.parametrize("name", CASES)
def test_a_gpu_request_is_placed_on_a_device_and_taken_off(name):
    make, _, gpu, placed, _ = CASES[name]
    model = make(**(gpu or {}))
    before = model.get_params(deep=True)
    assert (gpu_request(model) is None) == (gpu is None)
    undo = place_on_device(model, 1)
    params = model.get_params(deep=True)
    assert {key: params[key] for key in placed} == placed
    assert undo.keys() == placed.keys()
    restore_devices(model, undo)
    assert model.get_params(deep=True) == before


@pytest.mark.parametrize("name", CASES)
def test_early_stopping_is_found_and_turned_off(name):
    make, *_, stopping = CASES[name]
    if stopping is None:  # the library's early stopping is not served
        assert stopper(make()) is None
        return
    assert stopper(make()) is None
    model = make(**stopping)
    adapter = stopper(model)
    assert adapter.rounds_param in model.get_params()
    off = adapter.without_stopping(model.get_params(deep=False))
    assert stopper(clone(model).set_params(**off)) is None


class Continued(WarmStartedBooster, RegressorMixin, BaseEstimator):
    """A warm start of XGBoost written against the engine's interface only."""

    template_param = "booster"

    def __init__(self, booster, source):
        self.booster = booster
        self.source = source  # a raw xgboost.Booster: cloning copies it

    def booster_source(self):
        return self.source

    def fitted_booster(self):
        return self.booster_

    def source_rounds(self):
        return self.source.num_boosted_rounds()

    def fit(self, X, y, **fit_params):
        self.booster_ = clone(self.booster).fit(X, y, xgb_model=self.source, **fit_params)
        return self

    def predict(self, X):
        return self.booster_.predict(X)


@pytest.fixture(scope="module")
def source(data):
    X, y = data
    return XGBRegressor(n_estimators=20, max_depth=2).fit(X, y + 30.0).get_booster()


def test_an_interface_warm_start_gets_the_engines_early_stopping(data, source):
    X, y = data
    booster = XGBRegressor(n_estimators=300, learning_rate=0.5, max_depth=2,
                           early_stopping_rounds=5, n_jobs=1)
    assert not isinstance(Continued(booster, source), WarmStart)
    assert stopper(Continued(booster, source)).rounds_param == "booster__n_estimators"
    stack = StackingRegressor([("warm", Continued(booster, source))], cv=3).fit(X, y)
    kept = stack.best_iterations_["warm"]
    assert len(kept) == 3 and (kept < 300).all()  # new rounds, the source's not counted
    refit = stack.named_estimators_["warm"]
    assert refit.booster.n_estimators == round(np.mean(kept))
    assert refit.booster.early_stopping_rounds is None
    assert refit.booster_.get_booster().num_boosted_rounds() == 20 + round(np.mean(kept))


def test_an_interface_warm_starts_source_is_checked_before_any_fit(data):
    X, y = data
    other = XGBRegressor(n_estimators=3).fit(X[:, :3], y).get_booster()
    stack = StackingRegressor([("warm", Continued(XGBRegressor(n_estimators=3), other))])
    with pytest.raises(ValueError, match="'warm': its source model does not fit X: it was "
                                         "trained on 3 columns but X has 5"):
        stack.fit(X, y)
    assert not hasattr(stack, "estimators_")


def test_transfer_warm_start_is_the_engines_interface():
    assert issubclass(WarmStart, WarmStartedBooster)


# -- the import rule: the engine never imports a capability ---------------------------

CAPABILITIES = {"transfer", "report", "io", "cli", "presets", "demo", "schema", "meta"}
CAPABILITY_HELPERS = {"_trust", "_file_checks", "_meta_base", "_weights"}


def _is_capability(parts):
    first = parts[0]
    return (first in CAPABILITIES or first in CAPABILITY_HELPERS
            or first.startswith("_cli_"))


def _engine_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts != ("__init__",) and not _is_capability(parts):
            yield path, parts


def _imported(tree, parts):
    """Absolute module names each import in ``tree`` (of module ``parts``) may load."""
    package = ["stackkit", *parts[:-1]]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def test_no_engine_module_imports_transfer_or_schema():
    found = []
    for path, parts in _engine_modules():
        for name in _imported(ast.parse(path.read_text()), parts):
            pieces = name.split(".")
            if pieces[0] == "stackkit" and len(pieces) > 1 and pieces[1] in ("transfer", "schema"):
                found.append(f"{'/'.join(parts)}.py imports {name}")
    assert not found
    assert len(list(_engine_modules())) > 20  # the walk sees the engine, _boosters too
