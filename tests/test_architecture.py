"""The import picture of stackkit: no cycle, and the engine never imports a capability.

Every module is read with :mod:`ast` (nothing is imported), and every import in it counts,
at any depth: at the top, inside functions (lazy imports), under ``if``/``try``, relative or
absolute. An import names its target: ``from .x import y`` the module ``x`` (or ``x.y``
when that is a submodule), ``from . import x`` the submodule ``x`` (or the package itself
when ``x`` is a name defined there), ``import a.b`` the module ``a.b``. The parent packages
Python initialises on the way are not edges: ``stackkit`` runs before any of its modules,
whoever imports them, and counting it would make every module depend on the front that
imports them all. Imports by name at run time (``importlib.import_module``: the CLI's
config, the model-file trust list) are data, not structure, and are not in the picture.

Run as a script, it prints the graph as a Mermaid diagram (engine and capabilities as two
subgraphs, forbidden edges in red)::

    python tests/test_architecture.py > imports.mmd

and with ``--stages`` the same graph folded into the stages of a fit, in the order data
flows (:data:`STAGES`): the picture in the README's "Architecture" section, which a test
keeps equal to the code's.
"""

import ast
import importlib.util
import re
import sys
from pathlib import Path

PACKAGE = "stackkit"
# Modules (or subpackages, with everything in them) that are features built on the
# engine; the package's own __init__ is the public front and may import anything.
CAPABILITIES = frozenset({
    "transfer", "report", "io", "_trust", "_file_checks", "cli", "presets", "demo",
    "datasets", "schema", "meta", "_portfolio",
})

# The engine's modules (top-level names; a subpackage with everything in it) by stage, in
# the order data flows through a fit; then the capabilities, grouped as the README shows
# them. The README's architecture table lists exactly these.
STAGES = {
    "estimators": ("classifier", "regressor", "_base", "_params", "_state", "_target", "_docs",
                   "_display", "_fit_steps"),
    "checks": ("_param_checks", "_validation", "_routing"),
    "rows": ("_plane", "_frames", "_dask_plane"),
    "folds": ("_split", "_prefit", "_dask_folds"),
    "tasks": ("_tasks", "_boosters", "_early_stopping", "_gpu", "_source", "_results"),
    "run": ("_runner", "_schedule", "_budget", "_cache"),
    "meta-features": ("_oof", "layout"),
    "predict": ("_predict", "_fold_average", "_forest_merge", "_dask_fit"),
    "shared": ("exceptions", "_compat"),
    "meta-learners": ("meta",),
    "report": ("report",),
    "transfer": ("transfer",),
    "presets": ("presets", "_portfolio"),
    "model files": ("io", "_trust", "_file_checks"),
    "schema": ("schema",),
    "command line": ("cli",),
    "demo": ("demo", "datasets"),
}
README = Path(__file__).resolve().parents[1] / "README.md"


def module_files(root, package):
    """Map the dotted name of every module of the package in ``root`` to its file."""
    modules = {}
    for path in sorted(Path(root).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join((package, *parts))] = path
    return modules


def import_graph(root, package=PACKAGE):
    """``{module: set of modules of the package it imports}`` for the package in ``root``."""
    modules = module_files(root, package)
    return {name: _targets(path, name, modules) for name, path in modules.items()}


def _targets(path, module, modules):
    """The modules of the package that the file at ``path`` imports, anywhere in it."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(_deepest_module(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in modules else _deepest_module(base, modules))
    targets.discard(None)
    targets.discard(module)
    return targets


def _absolute(node, module, is_package):
    """The absolute module name a ``from ... import`` statement reads from."""
    if node.level == 0:
        return node.module
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[:len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _deepest_module(name, modules):
    """``name`` or its longest prefix that is a module of the package; None outside it."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def kind(module, package=PACKAGE):
    """``"front"`` (the package itself), ``"capability"`` or ``"engine"``."""
    if module == package:
        return "front"
    top = module.split(".")[1]
    return "capability" if top in CAPABILITIES else "engine"


def forbidden_edges(graph):
    """Every import of a capability, or of the front (which imports them all), by the engine."""
    return sorted((source, target) for source, targets in graph.items() for target in targets
                  if kind(source) == "engine" and kind(target) != "engine")


def cycles(graph):
    """The strongly connected groups of two or more modules (Tarjan), each sorted."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def stackkit_graph():
    spec = importlib.util.find_spec(PACKAGE)  # finds the package without running it
    return import_graph(spec.submodule_search_locations[0])


# -- the rule --------------------------------------------------------------------------


def test_no_import_cycle():
    found = cycles(stackkit_graph())
    assert not found, "circles of imports, each among the modules listed: " + \
        "; ".join(", ".join(group) for group in found)


def test_engine_never_imports_a_capability():
    found = forbidden_edges(stackkit_graph())
    assert not found, "engine modules importing a capability or the front (STYLE.md 17): " + \
        ", ".join(f"{source} -> {target}" for source, target in found)


# -- the picture is true ---------------------------------------------------------------


def test_every_module_and_capability_is_in_the_picture():
    graph = stackkit_graph()
    root = Path(importlib.util.find_spec(PACKAGE).submodule_search_locations[0])
    assert len(graph) == len(list(root.rglob("*.py")))
    tops = {name.split(".")[1] for name in graph if name != PACKAGE}
    assert CAPABILITIES <= tops, f"capabilities that are no module: {CAPABILITIES - tops}"
    assert {kind(name) for name in graph if name.startswith("stackkit.cli.")} == {"capability"}
    known = [("stackkit.classifier", "stackkit._base"), ("stackkit._base", "stackkit._display"),
             ("stackkit.report", "stackkit._display"),
             ("stackkit.report._scores", "stackkit.meta._base"),
             ("stackkit.cli", "stackkit.cli._commands"), ("stackkit.cli._commands", "stackkit.io"),
             ("stackkit.cli.__main__", "stackkit.cli"), ("stackkit", "stackkit.meta")]
    assert [edge for edge in known if edge[1] not in graph[edge[0]]] == []


MODULES = {
    "__init__.py": "from . import a, helper\nfrom .a import thing\n",
    "a.py": "import os\nfrom .sub.deep import x as y\n",
    "helper.py": "def f():\n    from .sub import name_in_init\n",
    "capability.py": "",
    "sub/__init__.py": "value = 1\n",
    "sub/deep.py": ("class C:\n    def m(self):\n        if True:\n            try:\n"
                    "                import pkg.capability\n            except ImportError:\n"
                    "                pass\n"
                    "from .. import a\nfrom ..helper import f\nfrom . import value\n"),
}


def test_every_kind_of_import_is_an_edge(tmp_path):
    """Relative, absolute, aliased, lazy and nested imports each give the edge they name."""
    for name, text in MODULES.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    assert import_graph(tmp_path, "pkg") == {
        "pkg": {"pkg.a", "pkg.helper"},
        "pkg.a": {"pkg.sub.deep"},
        "pkg.helper": {"pkg.sub"},
        "pkg.capability": set(),
        "pkg.sub": set(),
        "pkg.sub.deep": {"pkg.capability", "pkg.a", "pkg.helper", "pkg.sub"},
    }


def test_the_engine_may_import_only_the_engine():
    graph = {"stackkit": {"stackkit._a", "stackkit.cli"}, "stackkit.cli": {"stackkit._a"},
             "stackkit._a": {"stackkit._b", "stackkit.cli._data", "stackkit"},
             "stackkit._b": {"stackkit.meta"}, "stackkit.cli._data": {"stackkit._b"},
             "stackkit.meta": {"stackkit._b"}}
    assert forbidden_edges(graph) == [("stackkit._a", "stackkit"),
                                      ("stackkit._a", "stackkit.cli._data"),
                                      ("stackkit._b", "stackkit.meta")]


def test_a_circle_is_found_whatever_its_length():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"d"}, "f": {"g"},
             "g": {"f"}}
    assert cycles(graph) == [["a", "b", "c"], ["f", "g"]]


# -- the picture -----------------------------------------------------------------------


def mermaid(graph):
    """The graph as a Mermaid flowchart: the front, then engine and capability subgraphs."""
    ids = {name: f"m{i}" for i, name in enumerate(sorted(graph))}
    lines = ["flowchart LR", f'  {ids[PACKAGE]}["{PACKAGE} (public front)"]']
    for group, title in (("engine", "engine"), ("capability", "capabilities")):
        lines.append(f"  subgraph {group}[{title}]")
        lines += [f'    {ids[name]}["{name[len(PACKAGE) + 1:]}"]'
                  for name in sorted(graph) if kind(name) == group]
        lines.append("  end")
    edges = sorted((source, target) for source in graph for target in graph[source])
    lines += [f"  {ids[source]} --> {ids[target]}" for source, target in edges]
    bad = set(forbidden_edges(graph))
    lines += [f"  linkStyle {i} stroke:#d00,stroke-width:2px"
              for i, edge in enumerate(edges) if edge in bad]
    lines += [f"  %% forbidden: {source} -> {target}" for source, target in sorted(bad)]
    lines += [f"  %% circle among: {', '.join(group)}" for group in cycles(graph)]
    return "\n".join(lines)


def stage(module):
    """The stage (or capability group) of :data:`STAGES` a module belongs to."""
    if module == PACKAGE:
        return "front"
    top = module.split(".")[1]
    return next(name for name, tops in STAGES.items() if top in tops)


def stage_graph(graph):
    """``graph`` folded into stages: ``{stage: stages it imports}``, in :data:`STAGES` order."""
    folded = {name: set() for name in ("front", *STAGES)}
    for source, targets in graph.items():
        folded[stage(source)].update(stage(t) for t in targets if stage(t) != stage(source))
    return folded


def stage_mermaid(graph):
    """The stage graph as a Mermaid flowchart, engine stages and capabilities apart."""
    folded = stage_graph(graph)
    ids = {name: f"s{i}" for i, name in enumerate(folded)}
    engine = [name for name, tops in STAGES.items() if kind(f"{PACKAGE}.{tops[0]}") == "engine"]
    lines = ["flowchart TB", f'  {ids["front"]}["stackkit (public front)"]']
    for group, title, names in (("engine", "engine", engine),
                                ("capability", "capabilities",
                                 [name for name in STAGES if name not in engine])):
        lines.append(f"  subgraph {group}[{title}]")
        lines += [f'    {ids[name]}["{name}"]' for name in names]
        lines.append("  end")
    lines += [f"  {ids[source]} --> {ids[target]}"
              for source in folded for target in folded if target in folded[source]]
    return "\n".join(lines)


def _readme_section():
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Architecture\n(.*?)(?=^## )", text, flags=re.S | re.M)
    assert match, "README.md has no '## Architecture' section"
    return match.group(1)


def test_every_module_has_one_stage():
    graph = stackkit_graph()
    tops = {name.split(".")[1] for name in graph if name != PACKAGE}
    listed = [top for tops_ in STAGES.values() for top in tops_]
    assert sorted(listed) == sorted(tops), "modules with no stage, or a stage with no module"
    assert all(kind(f"{PACKAGE}.{tops_[0]}") == kind(f"{PACKAGE}.{top}")
               for tops_ in STAGES.values() for top in tops_), "a stage mixes engine and capability"


def test_the_stages_import_in_one_direction():
    found = cycles(stage_graph(stackkit_graph()))
    assert not found, f"stages importing each other: {found}"


def test_the_readme_table_lists_the_stages_and_their_modules():
    rows = re.findall(r"^\| \*\*(.+?)\*\* \| (.+?) \|", _readme_section(), flags=re.M)
    table = {name: tuple(re.findall(r"`(?:stackkit/)?([\w.]+?)(?:/|\.py)?`", cell))
             for name, cell in rows}
    assert table == STAGES


def test_the_readme_picture_is_the_code_s():
    block = re.search(r"```mermaid\n(.*?)\n```", _readme_section(), flags=re.S)
    assert block and block.group(1) == stage_mermaid(stackkit_graph()), \
        "README's picture is stale: python tests/test_architecture.py --stages"


if __name__ == "__main__":
    graph = stackkit_graph()
    print(stage_mermaid(graph) if "--stages" in sys.argv else mermaid(graph))
