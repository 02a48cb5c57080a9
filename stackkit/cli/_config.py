"""A stack described in a TOML file: estimators by import path, with parameters.

.. code-block:: toml

    [stack]                       # optional: parameters of the stack itself
    final_estimator = { class = "stackkit.meta.BlendClassifier" }
    passthrough = false

    [[estimators]]                # optional: without it, stackkit.presets' list
    name = "forest"
    class = "sklearn.ensemble.RandomForestClassifier"
    params = { n_estimators = 300, min_samples_leaf = 2 }

    [[estimators]]                # a pipeline: its steps in order
    name = "linear"
    steps = [
        { class = "sklearn.preprocessing.StandardScaler" },
        { class = "sklearn.linear_model.LogisticRegression", params = { C = 0.5 } },
    ]

A config names the classes it uses: loading it imports their modules, as running a
Python script would. Load only configs you would run as code.
"""

import importlib

from sklearn.pipeline import make_pipeline

from ._data import CommandError

STACK_KEYS = {"cv", "final_estimator", "stack_method", "passthrough", "refit", "on_error",
              "time_limit"}
ESTIMATOR_KEYS = {"name", "class", "params", "steps"}


def read_config(path):
    """``(estimators or None, stack parameters)`` from the TOML file at ``path``."""
    tomllib = _toml()
    try:
        with open(path, "rb") as file:
            config = tomllib.load(file)
    except OSError as exc:
        raise CommandError(f"--config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CommandError(f"--config {path}: not valid TOML: {exc}") from None
    _check_keys(config, {"stack", "estimators"}, f"--config {path}")
    stack = dict(config.get("stack", {}))
    _check_keys(stack, STACK_KEYS, f"--config {path}: [stack]")
    if "final_estimator" in stack:
        stack["final_estimator"] = build(stack["final_estimator"], f"--config {path}: "
                                         "[stack] final_estimator")
    entries = config.get("estimators")
    estimators = None if entries is None else [
        _named_estimator(entry, f"--config {path}: estimators[{i}]")
        for i, entry in enumerate(entries, start=1)
    ]
    return estimators, stack


def _toml():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib
        except ImportError:
            raise CommandError("--config on Python 3.10 needs tomli: "
                               "pip install 'stackkit[cli]'") from None
    return tomllib


def _named_estimator(entry, where):
    if not isinstance(entry, dict) or "name" not in entry:
        raise CommandError(f"{where}: needs a name = \"...\"")
    where = f"{where} ({entry['name']!r})"
    _check_keys(entry, ESTIMATOR_KEYS, where)
    if ("class" in entry) == ("steps" in entry):
        raise CommandError(f"{where}: give either class = \"module.Class\" or steps = [...]")
    if "steps" in entry:
        steps = [build(step, f"{where} step {i}") for i, step in enumerate(entry["steps"], 1)]
        return entry["name"], make_pipeline(*steps)
    return entry["name"], build(entry, where)


def build(entry, where):
    """An estimator from ``{"class": "module.Class", "params": {...}}``."""
    if isinstance(entry, str):
        entry = {"class": entry}
    if not isinstance(entry, dict) or "class" not in entry:
        raise CommandError(f"{where}: needs class = \"module.Class\"")
    _check_keys(entry, {"class", "params", "name"}, where)
    cls = _import_class(entry["class"], where)
    try:
        return cls(**entry.get("params", {}))
    except TypeError as exc:
        raise CommandError(f"{where}: {entry['class']}: {exc}") from None


def _import_class(path, where):
    module_name, _, class_name = path.rpartition(".")
    if not module_name:
        raise CommandError(f"{where}: {path!r} is not an import path like 'module.Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CommandError(f"{where}: cannot import {module_name!r} ({exc})") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise CommandError(f"{where}: {module_name} has no class {class_name!r}")
    if not (isinstance(cls, type) and hasattr(cls, "fit")):
        raise CommandError(f"{where}: {path} is not an estimator class (it has no fit)")
    return cls


def _check_keys(table, allowed, where):
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise CommandError(f"{where}: unknown key {unknown[0]!r}; expected one of "
                           f"{', '.join(sorted(allowed))}")
