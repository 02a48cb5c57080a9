"""stackkit.io.load against hostile files: crafted by editing a real file's schema.json.

Every test keeps a tripwire file beside the model: no load and no predict may touch it.
"""

import json
import zipfile

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from stackkit import StackingClassifier, io
from stackkit._trust import typed_nodes
from stackkit.exceptions import ModelFileError, UntrustedTypeError


def json_node(value):
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def built_from(name, *args, loader="ConstructorFromReduceNode"):
    """A node that makes skops call ``name(*args)`` (as it does for a stdlib class)."""
    module, _, cls = name.rpartition(".")
    return {"__class__": cls, "__module__": module, "__loader__": loader,
            "content": {"__class__": "tuple", "__module__": "builtins",
                        "__loader__": "TupleNode", "content": [json_node(a) for a in args]}}


def fitted_attributes(schema):
    """The stack's attribute nodes by name (its ``__dict__`` as skops stores it)."""
    return schema["content"]["content"]


def edited(src, dst, edit):
    """Copy the skops file ``src`` to ``dst`` with ``edit(schema)`` applied to schema.json."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "schema.json":
                schema = json.loads(data)
                edit(schema)
                data = json.dumps(schema)
            zout.writestr(info.filename, data)
    return dst


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=60, n_features=4, random_state=0)


@pytest.fixture(scope="module")
def saved(data, tmp_path_factory):
    """A tiny real stack saved once, and its predictions."""
    X, y = data
    stack = StackingClassifier([("lr", LogisticRegression()),
                                ("tree", DecisionTreeClassifier(max_depth=2, random_state=0))],
                               cv=2).fit(X, y)
    path = tmp_path_factory.mktemp("real") / "stack.skops"
    io.dump(stack, path)
    return path, stack.predict(X)


@pytest.fixture
def tripwire(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    yield victim
    assert victim.read_text() == "precious", "the hostile file ran code"


def load_and_predict(path, X):
    model = io.load(path)
    return model, model.predict(X)


def test_a_stdlib_path_through_sklearn_named_as_a_model_deletes_nothing(saved, data, tmp_path,
                                                                         tripwire):
    """The reported attack: ``Path(victim)`` as a base model, ``"unlink"`` as its method."""
    def attack(schema):
        fitted = fitted_attributes(schema)
        fitted["estimators_"]["content"][0] = built_from("sklearn.datasets._base.Path",
                                                         str(tripwire))
        fitted["stack_method_"]["content"][0] = json_node("unlink")

    evil = edited(saved[0], tmp_path / "evil.skops", attack)
    with pytest.raises(UntrustedTypeError, match=r"sklearn\.datasets\._base\.Path"):
        load_and_predict(evil, data[0])


TRUSTED_ROOTS = ("stackkit", "sklearn", "xgboost", "lightgbm")


def stdlib_aliases(per_package=12):
    """Standard-library classes and functions reachable under each trusted package's name."""
    import inspect
    import sys

    import lightgbm  # noqa: F401 (imports its modules, so their aliases are found)
    import xgboost  # noqa: F401

    pool = {}
    for root in TRUSTED_ROOTS:
        found = set()
        for module_name, module in sorted(sys.modules.items()):
            if module is None or module_name.split(".")[0] != root:
                continue
            for attribute, obj in sorted(vars(module).items()):
                own_module = getattr(obj, "__module__", None) or ""
                if ((isinstance(obj, type) or inspect.isroutine(obj))
                        and own_module.split(".")[0] in sys.stdlib_module_names):
                    found.add(f"{module_name}.{attribute}")
        found = sorted(found)
        pool[root] = found[:: max(1, len(found) // per_package)][:per_package]
    return pool


ALIASES = stdlib_aliases()
NAMED_IN_THE_ISSUE = ["sklearn.datasets._base.Path", "xgboost.sklearn.ThreadPoolExecutor",
                      "sklearn.utils._available_if.MethodType", "stackkit.io.Path"]


def test_every_trusted_package_offers_aliases_to_try():
    assert all(len(names) >= 3 for names in ALIASES.values()), ALIASES


@pytest.mark.parametrize("loader", ["ObjectNode", "ConstructorFromReduceNode", "TypeNode",
                                    "FunctionNode"])
@pytest.mark.parametrize("alias", NAMED_IN_THE_ISSUE + sorted(
    {name for names in ALIASES.values() for name in names}))
def test_a_stdlib_alias_through_a_trusted_package_is_refused(alias, loader, saved, tmp_path,
                                                             tripwire):
    def attack(schema):
        fitted_attributes(schema)["estimators_"]["content"][0] = built_from(
            alias, str(tripwire), loader=loader)
        fitted_attributes(schema)["stack_method_"]["content"][0] = json_node("unlink")

    evil = edited(saved[0], tmp_path / "evil.skops", attack)
    with pytest.raises(UntrustedTypeError, match=alias.replace(".", r"\.")):
        io.load(evil)


@pytest.mark.parametrize("method", ["unlink", "write_text", "rmdir", "system", "fit",
                                    "set_params", "__init__", "__class__", "save_model",
                                    "score", ""])
def test_a_method_that_is_not_a_prediction_method_is_refused(method, saved, tmp_path,
                                                             tripwire):
    def edit(schema):
        fitted_attributes(schema)["stack_method_"]["content"][1] = json_node(method)

    evil = edited(saved[0], tmp_path / "evil.skops", edit)
    with pytest.raises(ModelFileError, match=r"stack_method_ holds"):
        io.load(evil)


def layout_field(schema, field):
    return fitted_attributes(schema)["layout_"]["content"]["content"][field]


def drop_second(node):
    node["content"] = node["content"][:1]


@pytest.mark.parametrize("edit, match", [
    (lambda s: drop_second(fitted_attributes(s)["estimators_"]), "estimators_ holds 1 models"),
    (lambda s: fitted_attributes(s)["stack_method_"]["content"].append(json_node("predict")),
     "estimators_ holds 2 models but stack_method_ 3"),
    (lambda s: drop_second(layout_field(s, "names")), "layout_ is"),
    (lambda s: layout_field(s, "widths")["content"].__setitem__(0, json_node(5)), "layout_ is"),
    (lambda s: layout_field(s, "target_kind").update(json_node("multiclass")), "layout_ is"),
    (lambda s: layout_field(s, "target_kind").update(json_node("continuous")),
     "not the layout of a classifier"),
    (lambda s: layout_field(s, "methods")["content"].__setitem__(0, json_node("predict")),
     "layout_ is"),
    (lambda s: layout_field(s, "names")["content"].__setitem__(1, json_node("lr")),
     "layout_ is"),
    (lambda s: fitted_attributes(s).pop("layout_"), "layout_ missing"),
    (lambda s: fitted_attributes(s)["estimators_"]["content"].__setitem__(
        0, fitted_attributes(s)["layout_"]), "holds a Layout, not an estimator"),
    (lambda s: fitted_attributes(s).__setitem__("final_estimator_", json_node(1)),
     "final_estimator_ is a int"),
    (lambda s: fitted_attributes(s).__setitem__("n_features_in_", json_node("unlink")),
     "n_features_in_ is 'unlink'"),
], ids=["fewer models", "more methods", "fewer names", "width", "kind", "regression kind",
        "layout method", "duplicate name", "no layout", "layout as model", "final not a model", "n_features"])
def test_a_layout_that_does_not_match_the_models_is_refused(edit, match, saved, tmp_path,
                                                            tripwire):
    evil = edited(saved[0], tmp_path / "evil.skops", edit)
    with pytest.raises(ModelFileError, match=match):
        io.load(evil)


def test_a_cache_folder_named_in_the_file_is_never_used(saved, data, tmp_path, tripwire):
    """Cache entries are pickles: the file must not choose where predict reads them."""
    folder = tmp_path / "cache"

    def edit(schema):
        fitted_attributes(schema)["memory"] = json_node(str(folder))

    model, predicted = load_and_predict(edited(saved[0], tmp_path / "m.skops", edit), data[0])
    assert model.memory is None and not folder.exists()
    np.testing.assert_array_equal(predicted, saved[1])


def zip_with(members):
    from io import BytesIO

    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_bomb():
    """A zip whose one entry declares 2 GB unpacked (its central directory patched)."""
    data = bytearray(zip_with({"schema.json": "{}"}))
    entry = data.rindex(b"PK\x01\x02")
    data[entry + 24:entry + 28] = (2**31).to_bytes(4, "little")
    return bytes(data)


@pytest.mark.parametrize("content, match", [
    (b"", "empty, not a model file"),
    (np.random.default_rng(0).bytes(5000), "not a readable zip"),
    (b"PK\x03\x04" + bytes(200), "not a readable zip"),
    (__import__("pickle").dumps({"model": [1, 2]}), "looks like a pickle"),
    (zip_with({"other.npy": b"x"}), "without schema.json"),
    (zip_with({"schema.json": "{not json"}), "not valid JSON"),
    (zip_with({"schema.json": "[1, 2]"}), "not a skops schema"),
    (zip_with({"schema.json": '{"__class__": 1, "__module__": "m", "__loader__": "ObjectNode"}'}),
     "malformed type"),
    (zip_with({"schema.json": "{}"}), "could not be built"),
    (zip_bomb(), "zip bomb"),
], ids=["empty", "random bytes", "zip header only", "pickle", "no schema", "bad json",
        "json list", "bad node", "empty schema", "zip bomb"])
def test_what_is_not_a_model_file_raises_model_file_error(content, match, tmp_path):
    path = tmp_path / "model.skops"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=match):
        io.load(path)


def test_a_truncated_model_file_raises_model_file_error(saved, tmp_path):
    whole = saved[0].read_bytes()
    for length in (10, len(whole) // 2, len(whole) - 1):
        (tmp_path / "cut.skops").write_bytes(whole[:length])
        with pytest.raises(ModelFileError, match="not a readable zip"):
            io.load(tmp_path / "cut.skops")


NAME_POOL = [
    *NAMED_IN_THE_ISSUE, "posix.system", "os.system", "os.remove", "subprocess.Popen",
    "builtins.eval", "builtins.exec", "builtins.open", "builtins.getattr", "shutil.rmtree",
    "pathlib.Path", "pathlib.PosixPath", "functools.partial", "operator.methodcaller",
    "importlib.import_module", "sklearn.datasets.fetch_openml", "numpy.load", "builtins.dict",
    "builtins.list", "builtins.str", "numpy.ndarray", "stackkit.layout.Layout",
    "stackkit.presets.numeric_columns", "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.tree._tree.Tree", "xgboost.core.Booster",
]
LOADERS = ["ObjectNode", "ConstructorFromReduceNode", "FunctionNode", "TypeNode",
           "MethodNode", "PartialNode", "OperatorFuncNode", "DictNode", "ListNode", "TupleNode",
           "JsonNode", "ReduceNode", "TreeNode", "NdArrayNode", "CachedNode", "NoSuchNode"]
METHODS = ["unlink", "write_text", "system", "fit", "predict", "predict_proba",
           "decision_function", "__init__", "__del__"]


def random_edit(schema, rng, victim):
    """Apply one random edit to ``schema``; return its kind (for counting)."""
    nodes = list(typed_nodes(schema))
    node = nodes[rng.integers(len(nodes))]
    values = [str(victim), str(victim.parent / "cache"), 0, -1, 2, 10**9, 1.5, None, True,
              "", "x", [], {}, *METHODS]
    kind = ["name", "loader", "value", "method", "delete", "swap"][rng.integers(6)]
    if kind == "name":
        module, _, cls = NAME_POOL[rng.integers(len(NAME_POOL))].rpartition(".")
        node.update({"__module__": module, "__class__": cls})
    elif kind == "loader":
        node["__loader__"] = LOADERS[rng.integers(len(LOADERS))]
    elif kind == "value":
        json_nodes = [n for n in nodes if n["__loader__"] == "JsonNode"]
        target = json_nodes[rng.integers(len(json_nodes))]
        target["content"] = json.dumps(values[rng.integers(len(values))])
        target.pop("__id__", None)  # not shared with other uses of the same value
    elif kind == "method":
        methods = fitted_attributes(schema)["stack_method_"]["content"]
        methods[rng.integers(len(methods))] = json_node(METHODS[rng.integers(len(METHODS))])
    elif kind == "delete":
        content = node.get("content")
        if isinstance(content, dict) and content and rng.integers(2):
            del content[list(content)[rng.integers(len(content))]]
        else:
            del node[list(node)[rng.integers(len(node))]]
    else:
        node.clear()
        node.update(json.loads(json.dumps(nodes[rng.integers(len(nodes))])))
    return kind


def outcome(path, X, expected):
    """How loading and predicting ``path`` ended; an unexpected exception propagates."""
    try:
        model = io.load(path)
    except UntrustedTypeError:
        return "refused: untrusted type"
    except ModelFileError as exc:
        return "refused: inconsistent stack" if "inconsistent" in str(exc) else (
            "refused: not buildable")
    try:
        predicted = model.predict(X)
    except (ValueError, TypeError) as exc:
        return f"loaded; predict raised {type(exc).__name__}"
    return "loaded; predicts as saved" if np.array_equal(predicted, expected) else (
        "loaded; predicts differently")


N_EDITS = 240


def test_random_edits_of_a_real_file_end_in_a_clear_error_or_a_model(saved, data, tmp_path,
                                                                     tripwire):
    rng = np.random.default_rng(12)
    with zipfile.ZipFile(saved[0]) as archive:
        original = archive.read("schema.json")
    counts = {}
    for i in range(N_EDITS):
        kind = []
        path = edited(saved[0], tmp_path / f"edit{i}.skops",
                      lambda schema: kind.append(random_edit(schema, rng, tripwire)))
        assert zipfile.ZipFile(path).read("schema.json") != original
        result = outcome(path, data[0], saved[1])
        counts[result] = counts.get(result, 0) + 1
        assert tripwire.read_text() == "precious", f"edit {i} ({kind[0]}) ran code"
        assert not (tmp_path / "cache").exists(), f"edit {i} ({kind[0]}) wrote a cache"
        path.unlink()
    print(f"{N_EDITS} random edits:", dict(sorted(counts.items())))
    assert sum(counts.values()) == N_EDITS
    assert counts.get("loaded; predicts differently", 0) == 0, counts
