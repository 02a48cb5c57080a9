"""The public docstrings follow numpydoc: every class, function and method of the API.

What is checked: each module's ``__all__`` (modules themselves aside), and for each
class its public methods and properties written in stackkit (those inherited from
scikit-learn, such as ``score`` or ``set_output``, carry scikit-learn's docstrings).
"""

import importlib
import inspect

import pytest

validate = pytest.importorskip("numpydoc.validate").validate

from test_public_api import PUBLIC_MODULES  # noqa: E402

# numpydoc's checks we do not require, each with the reason.
SKIPPED = {
    "ES01": "an extended summary only where the summary line is not enough",
    "SA01": "See Also only where a neighbour really helps (the two stacks name each other)",
    "EX01": "examples run as doctests in each module's docstring (and in examples/, "
            "which tests run); one per method and class would repeat them",
    "RT02": "returns are named (``self : object``, ``proba : ndarray``) so the text can "
            "refer to them, which numpydoc's format allows",
}


def _stackkit_methods(cls):
    """Names of the public methods and properties of ``cls`` written in stackkit."""
    for attr in sorted(dir(cls)):
        if attr.startswith("_"):
            continue
        raw = inspect.getattr_static(cls, attr)
        function = getattr(raw, "__func__", raw)        # classmethod, staticmethod
        function = getattr(function, "fget", function)  # property
        function = getattr(function, "fn", function)    # scikit-learn's available_if
        if callable(function) and getattr(function, "__module__", "").startswith("stackkit"):
            yield attr


def public_objects():
    """``module.Qualname`` of every public class, method and function, each once."""
    names = set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for public in module.__all__:
            obj = getattr(module, public)
            if inspect.ismodule(obj):
                continue
            path = f"{obj.__module__}.{obj.__qualname__}"
            names.add(path)
            if inspect.isclass(obj):
                names.update(f"{path}.{method}" for method in _stackkit_methods(obj))
    return sorted(names)


OBJECTS = public_objects()


def test_the_api_is_all_there():
    """A guard on the collection itself: it finds the stacks' and meta-learners' methods."""
    for name in ("stackkit.classifier.StackingClassifier.predict_proba",
                 "stackkit.regressor.StackingRegressor.fit",
                 "stackkit.meta.BlendClassifier.fit", "stackkit.layout.Layout.build",
                 "stackkit.transfer.WarmStart.predict", "stackkit.report.leaderboard",
                 "stackkit.io.load", "stackkit.presets.numeric_columns"):
        assert name in OBJECTS


@pytest.mark.parametrize("name", OBJECTS)
def test_public_docstring_follows_numpydoc(name):
    errors = [f"{code}: {message}" for code, message in validate(name)["errors"]
              if code not in SKIPPED]
    assert not errors, f"{name}:\n" + "\n".join(errors)
