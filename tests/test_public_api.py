"""The public surface: what each public module's ``__all__`` promises is there and documented."""

import importlib
import inspect

import pytest

import stackkit

PUBLIC_MODULES = [
    "stackkit", "stackkit.classifier", "stackkit.regressor", "stackkit.exceptions",
    "stackkit.layout", "stackkit.report", "stackkit.io", "stackkit.presets", "stackkit.schema",
    "stackkit.transfer", "stackkit.meta", "stackkit.demo", "stackkit.datasets", "stackkit.cli",
]

# Public-looking names a public module defines that are deliberately not API, each with
# the reason. A new public function or class must join ``__all__`` or this list.
NOT_API = {
    "stackkit.exceptions": {"warn": "stackkit's own warning helper (points at the caller)"},
    "stackkit.report": {"html": "the notebook display hook of a stack's _html_repr"},
    "stackkit.schema": {"is_numeric": "a dtype helper of TableSchema and the command line",
                        "column_differences": "a helper of the source and command-line checks"},
    "stackkit.transfer": {"check_sources": "the stack's own check of frozen/warm sources"},
    "stackkit.cli": {"build_parser": "the command line's parser; the API is main()"},
    "stackkit.demo": dict.fromkeys(
        ["holdout_scores", "timed_fit", "with_threads", "evaluate_base", "evaluate_stack",
         "format_table", "format_gain", "format_fold_work", "format_setup", "parse_args",
         "add_arguments", "run_demo", "write_split"],
        "a step of the demo script, shared with `stackkit demo`"),
}


def _module(name):
    return importlib.import_module(name)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_module_declares_all(name):
    module = _module(name)
    assert isinstance(getattr(module, "__all__", None), list), f"{name} has no __all__ list"
    assert len(set(module.__all__)) == len(module.__all__), f"{name}.__all__ repeats a name"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_name_in_all_exists_and_has_a_docstring(name):
    module = _module(name)
    for public in module.__all__:
        assert hasattr(module, public), f"{name}.__all__ lists {public!r}, which is not there"
        obj = getattr(module, public)
        assert not public.startswith("_"), f"{name}.__all__ lists the private {public!r}"
        assert inspect.getdoc(obj), f"{name}.{public} has no docstring"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_definition_is_api_or_deliberately_left_out(name):
    """A function or class a public module defines without ``_`` is in ``__all__`` or NOT_API."""
    module = _module(name)
    defined = {public for public, obj in vars(module).items()
               if not public.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
               and obj.__module__ == name}
    undecided = defined - set(module.__all__) - set(NOT_API.get(name, {}))
    assert not undecided, f"{name} defines {sorted(undecided)}: add them to __all__ or to NOT_API"
    assert not set(module.__all__) & set(NOT_API.get(name, {}))


def test_star_import_gives_exactly_the_public_names():
    namespace = {}
    exec("from stackkit import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(stackkit.__all__)
    for public in stackkit.__all__:
        assert namespace[public] is getattr(stackkit, public)


def test_layout_lives_in_its_public_module():
    """The own-name rule of io.load trusts Layout by its real module: stackkit.layout."""
    from stackkit._trust import STACKKIT_TYPES, own_name

    assert own_name(stackkit.Layout) == "stackkit.layout.Layout"
    assert "stackkit.layout.Layout" in STACKKIT_TYPES
    assert stackkit.io.is_trusted("stackkit.layout.Layout")
    assert not stackkit.io.is_trusted("stackkit._oof.Layout")  # now an alias


def test_trusted_column_selectors_keep_their_names():
    """Saved model files call the preset column selectors by name; they must stay public."""
    from stackkit import presets

    for name in ("numeric_columns", "categorical_columns"):
        assert name in presets.__all__
        assert stackkit.io.is_trusted(f"stackkit.presets.{name}")
