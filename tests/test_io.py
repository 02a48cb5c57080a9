"""stackkit.io: a saved stack loads and predicts exactly; untrusted types are refused unbuilt."""

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from stackkit import StackingClassifier, _trust, io
from stackkit.exceptions import UntrustedTypeError
from stackkit.meta import BlendClassifier
from stackkit.presets import default_estimators


class Tripwire:
    """Writes a marker file when it is built from saved state: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __setstate__(self, state):
        Path(state["marker"]).write_text("loaded")
        self.__dict__.update(state)


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(n_samples=400, n_features=6, random_state=0)
    estimators = default_estimators("binary", device="cpu")
    estimators[1][1].set_params(extratreesclassifier__n_estimators=20)
    return StackingClassifier(estimators, BlendClassifier(), cv=3).fit(X, y), X


def test_a_loaded_stack_predicts_exactly_as_the_saved_one(fitted, tmp_path):
    stack, X = fitted
    io.dump(stack, tmp_path / "stack.skops")
    loaded = io.load(tmp_path / "stack.skops")
    np.testing.assert_array_equal(loaded.predict_proba(X), stack.predict_proba(X))
    np.testing.assert_array_equal(loaded.transform(X), stack.transform(X))
    assert loaded.task_log_.equals(stack.task_log_)
    assert loaded.final_estimator_.weights_.equals(stack.final_estimator_.weights_)
    assert list(loaded.named_estimators_) == list(stack.named_estimators_)
    assert all(loaded.named_estimators_[name] is model
               for name, model in zip(stack.named_estimators_, loaded.estimators_))


def test_the_file_holds_each_fitted_model_once(fitted, tmp_path):
    """named_estimators_ gives the models of estimators_ by name; the file holds each once."""
    stack, _ = fitted
    io.dump(stack, tmp_path / "stack.skops")
    io.dump(stack.estimators_, tmp_path / "models.skops")
    models = (tmp_path / "models.skops").stat().st_size
    assert (tmp_path / "stack.skops").stat().st_size < 1.3 * models


def test_pickle_round_trip_keeps_the_pandas_attributes(fitted):
    stack, X = fitted
    loaded = pickle.loads(pickle.dumps(stack))
    assert loaded.task_log_.equals(stack.task_log_)
    np.testing.assert_array_equal(loaded.predict(X), stack.predict(X))


def test_a_crafted_file_with_a_foreign_type_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "marker"
    skops.io.dump({"model": Tripwire(str(marker))}, tmp_path / "evil.skops")
    with pytest.raises(UntrustedTypeError, match=r"test_io\.Tripwire"):
        io.load(tmp_path / "evil.skops")
    assert not marker.exists()
    # the tripwire does fire when its type is trusted: the refusal above is what stopped it
    io.load(tmp_path / "evil.skops", trusted=[f"{Tripwire.__module__}.Tripwire"])
    assert marker.read_text() == "loaded"


def test_a_dangerous_function_inside_a_trusted_estimator_is_refused(tmp_path):
    sneaky = make_pipeline(FunctionTransformer(os.system), LogisticRegression())
    skops.io.dump(sneaky, tmp_path / "sneaky.skops")
    with pytest.raises(UntrustedTypeError, match=r"posix\.system|nt\.system"):
        io.load(tmp_path / "sneaky.skops")


@pytest.mark.parametrize("name, trusted", [
    ("stackkit.classifier.StackingClassifier", True),
    ("xgboost.core.Booster", True),
    ("lightgbm.sklearn.LGBMClassifier", True),
    ("sklearn.datasets.fetch_openml", False),  # a function, not a class
    ("builtins.eval", False),
    ("sklearn.no_such_thing.Name", False),
    ("sklearn.utils._bunch.Bunch", True),
    ("sklearn.utils.Bunch", False),  # a re-export: skops always writes the own name
    ("sklearn.datasets._base.Path", False),  # pathlib.Path, imported there
    ("stackkit.io.Path", False),
    ("xgboost.sklearn.ThreadPoolExecutor", False),
    ("sklearn.utils._available_if.MethodType", False),
    ("stackkit.presets.numeric_columns", True),
])
def test_trust_list(name, trusted):
    assert io.is_trusted(name) is trusted


def test_every_name_on_the_trust_list_is_the_objects_own_name():
    """A typo or a library's refactoring would silently drop a name: catch it here."""
    listed = _trust.trusted_types() | _trust.FUNCTIONS
    assert len(listed) > 250
    assert sorted(name for name in listed if not _trust.resolves_to_itself(name)) == []


def test_a_name_the_caller_trusts_must_not_be_an_alias_either(tmp_path):
    marker = tmp_path / "marker"
    skops.io.dump({"model": Tripwire(str(marker))}, tmp_path / "tripwire.skops")
    with zipfile.ZipFile(tmp_path / "tripwire.skops") as src, \
            zipfile.ZipFile(tmp_path / "evil.skops", "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data.replace(b'"Tripwire"', b'"Alias"') if name == "schema.json"
                         else data)
    alias = f"{Tripwire.__module__}.Alias"
    globals()["Alias"] = Tripwire  # the module holds Tripwire under a second name
    try:
        with pytest.raises(UntrustedTypeError):
            io.load(tmp_path / "evil.skops", trusted=[alias])
    finally:
        del globals()["Alias"]
    assert not marker.exists()


class Unsaveable:
    def __getstate__(self):
        raise RuntimeError("cannot be saved")


def test_a_failed_dump_leaves_the_old_file_and_no_partial_one(tmp_path):
    path = tmp_path / "model.skops"
    path.write_bytes(b"the previous model")
    with pytest.raises(RuntimeError, match="cannot be saved"):
        io.dump({"model": Unsaveable()}, path)
    assert path.read_bytes() == b"the previous model"
    assert list(tmp_path.iterdir()) == [path]
