"""The data plane (issue 16, part 2): one module reaches rows; its operations, generated.

``stackkit._plane`` is the one module that knows containers. The first test holds every
other module of the package to that (the rule is in :func:`row_access`); the others
generate numpy arrays, DataFrames (odd indexes, categorical and string columns) and
CSR/CSC matrices and check the plane against numpy.
"""

import ast
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import stackkit
from stackkit._plane import (column_names, count_rows, fingerprint, join_columns,
                             take_rows)

PACKAGE = Path(stackkit.__file__).parent
PLANE = "_plane.py"
ROW_NAMES = {"X", "y"}  # scikit-learn's names for rows and targets, used so throughout

# Checks of pandas objects that are not the rows of X or y, each with why it stays.
ALLOWED = {
    ("_state.py", "isinstance(value, pd.DataFrame)"):
        "serialises a fitted attribute (task_log_) that is a DataFrame",
    ("_file_checks.py", "isinstance(stack.task_log_, pd.DataFrame)"):
        "checks the task log of a loaded model",
    ("schema.py", "isinstance(X, pd.DataFrame)"):
        "Schema is a capability that takes only DataFrames and says so",
}


# -- one module reaches rows -----------------------------------------------------------


def _dotted(node):
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _joblib_hash_names(tree):
    """The spellings of ``joblib.hash`` in a module (``joblib.hash``, an alias, ``hash``)."""
    names = {"joblib.hash"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {f"{a.asname or a.name}.hash" for a in node.names if a.name == "joblib"}
        elif isinstance(node, ast.ImportFrom) and node.module == "joblib":
            names |= {a.asname or a.name for a in node.names if a.name == "hash"}
    return names


def _mentions_rows(node):
    """Whether ``node`` names X or y other than as the argument of the plane's fingerprint."""
    if isinstance(node, ast.Call) and _dotted(node.func) in ("fingerprint", "_plane.fingerprint"):
        return False
    if isinstance(node, ast.Name) and node.id in ROW_NAMES:
        return True
    return any(_mentions_rows(child) for child in ast.iter_child_nodes(node))


def row_access(tree):
    """The expressions of a module that reach rows past the data plane.

    - any use of scikit-learn's ``_safe_indexing`` (import, name or attribute);
    - ``isinstance(a, T)`` where ``T``, or an element of a tuple ``T``, is a name or
      attribute chain ending in ``DataFrame``;
    - ``hasattr(a, "iloc")`` and ``hasattr(a, "columns")``;
    - ``joblib.hash(...)`` (however joblib or its ``hash`` is imported) whose arguments
      name ``X`` or ``y`` anywhere except inside a call of the plane's ``fingerprint``.
      Hashing estimators, task records, fingerprints and keys stays allowed.
    """
    hashes = _joblib_hash_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.alias) and node.name == "_safe_indexing":
            yield "import _safe_indexing"
        if isinstance(node, (ast.Name, ast.Attribute)) and (
                getattr(node, "id", None) == "_safe_indexing"
                or getattr(node, "attr", None) == "_safe_indexing"):
            yield ast.unparse(node)
        if not isinstance(node, ast.Call):
            continue
        func = _dotted(node.func)
        if func == "isinstance" and len(node.args) == 2:
            kinds = node.args[1].elts if isinstance(node.args[1], ast.Tuple) else [node.args[1]]
            if any((_dotted(kind) or "").split(".")[-1] == "DataFrame" for kind in kinds):
                yield ast.unparse(node)
        elif func == "hasattr" and len(node.args) == 2 and isinstance(node.args[1], ast.Constant) \
                and node.args[1].value in ("iloc", "columns"):
            yield ast.unparse(node)
        elif func in hashes and any(_mentions_rows(arg) for arg in node.args + node.keywords):
            yield ast.unparse(node)


def test_only_the_data_plane_reaches_rows():
    """No module but ``_plane`` switches on containers; the exceptions are listed, and live."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        if module == PLANE:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        found |= {(module, text) for text in row_access(tree)}
    unexpected = sorted(key for key in found if key not in ALLOWED)
    assert not unexpected, f"reach rows through stackkit._plane instead: {unexpected}"
    stale = sorted(key for key in ALLOWED if key not in found)
    assert not stale, f"no longer present, remove from ALLOWED: {stale}"


@pytest.mark.parametrize("source", [
    "from sklearn.utils import _safe_indexing",
    "sklearn.utils._safe_indexing(X, rows)",
    "isinstance(X, pd.DataFrame)",
    "isinstance(frame, (np.ndarray, pandas.DataFrame))",
    "hasattr(data, 'iloc')",
    "hasattr(X, 'columns')",
    "import joblib\njoblib.hash(X)",
    "import joblib as jl\njl.hash((X, y, kind))",
    "from joblib import hash\nhash([est, np.asarray(X)])",
])
def test_the_rule_sees_each_way_to_reach_rows(source):
    assert list(row_access(ast.parse(source)))


@pytest.mark.parametrize("source", [
    "import joblib\njoblib.hash((fingerprint(X), fingerprint(y), kind))",
    "import joblib\njoblib.hash((task.estimator, task.train, x_key))",
    "isinstance(value, pd.Series)",
    "hasattr(model, 'classes_')",
    "hash(X)",  # Python's own hash, not joblib's
])
def test_the_rule_lets_other_code_be(source):
    assert not list(row_access(ast.parse(source)))


# -- generated containers ----------------------------------------------------------------

CELL = st.one_of(st.integers(-3, 3).map(float), st.just(np.nan))
CATEGORIES = ["a", "b", "c"]
TEXTS = ["x", "yy", "", "z z"]


@st.composite
def matrices(draw, min_rows=1):
    """A float matrix with zeros (sparse entries) and NaN."""
    n_rows = draw(st.integers(min_rows, 9))
    n_cols = draw(st.integers(1, 4))
    cells = draw(st.lists(CELL, min_size=n_rows * n_cols, max_size=n_rows * n_cols))
    return np.array(cells).reshape(n_rows, n_cols)


@st.composite
def odd_index(draw, n_rows):
    kind = draw(st.sampled_from(["range", "shuffled", "strings", "repeated", "named"]))
    labels = np.arange(n_rows)
    if kind == "range":
        return pd.RangeIndex(n_rows)
    if kind == "shuffled":
        return pd.Index(draw(st.permutations(list(labels * 10 + 7))))
    if kind == "strings":
        return pd.Index([f"row {n_rows - i}" for i in labels])
    if kind == "repeated":
        return pd.Index(labels // 2)
    return pd.Index(labels[::-1], name="id")


@st.composite
def frames(draw, min_rows=1):
    """A DataFrame of float columns, a categorical and a string column, odd index."""
    values = draw(matrices(min_rows))
    n_rows = len(values)
    codes = draw(st.lists(st.integers(0, 2), min_size=n_rows, max_size=n_rows))
    texts = draw(st.lists(st.sampled_from(TEXTS), min_size=n_rows, max_size=n_rows))
    columns = {f"f{j}": values[:, j] for j in range(values.shape[1])}
    columns["colour"] = pd.Categorical.from_codes(codes, CATEGORIES)
    columns["text"] = np.array(texts, dtype=object)
    return pd.DataFrame(columns, index=draw(odd_index(n_rows)))


def containers(values):
    """The same matrix as each in-memory container."""
    return {"numpy": values, "pandas": pd.DataFrame(values, columns=[f"c{j}" for j in
                                                                      range(values.shape[1])]),
            "csr": sp.csr_matrix(values), "csc": sp.csc_matrix(values)}


def dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X)


ROWS = st.lists(st.integers(0, 8), max_size=12)  # any order, repeats, maybe none


@settings(max_examples=60)
@given(matrices(), ROWS)
def test_take_rows_agrees_with_numpy_indexing(values, rows):
    rows = np.array([r % len(values) for r in rows], dtype=np.intp)
    for name, X in containers(values).items():
        taken = take_rows(X, rows)
        assert type(taken) is type(X), name
        if sp.issparse(X):
            assert taken.format == X.format, name
        np.testing.assert_array_equal(dense(taken), values[rows], err_msg=name)
        assert count_rows(taken) == len(rows)


@settings(max_examples=60)
@given(frames(), ROWS)
def test_take_rows_of_a_frame_keeps_index_columns_and_dtypes(X, rows):
    rows = np.array([r % len(X) for r in rows], dtype=np.intp)
    taken = take_rows(X, rows)
    assert column_names(taken) == list(X.columns)
    assert taken.dtypes.to_dict() == X.dtypes.to_dict()  # categories included
    assert list(taken.index) == list(X.index.to_numpy()[rows])
    for label in X.columns:
        np.testing.assert_array_equal(taken[label].to_numpy(), X[label].to_numpy()[rows])
    series = take_rows(X["f0"], rows)  # a per-row fit parameter
    assert list(series.index) == list(taken.index) and series.name == "f0"


def equal_copies(X):
    """Copies of X with the same content in another memory layout."""
    if isinstance(X, pd.DataFrame):
        rebuilt = pd.DataFrame({label: X[label].copy() for label in X.columns}, index=X.index)
        split = pd.concat([X.iloc[:, :1], X.iloc[:, 1:]], axis=1)  # float columns in 2 blocks
        return [X.copy(), rebuilt, split, pickle.loads(pickle.dumps(X))]
    if sp.issparse(X):
        wide = X.copy()
        wide.indices, wide.indptr = wide.indices.astype(np.int64), wide.indptr.astype(np.int64)
        return [X.copy(), wide, X.tocoo().asformat(X.format)]
    return [X.copy(), np.asfortranarray(X), X[::-1][::-1]]


def with_cell_changed(X, row, col):
    """X with one cell (row, col) given another value, in the container of X."""
    if isinstance(X, pd.DataFrame):
        changed = X.copy()
        label = X.columns[col]
        column = changed[label].copy()
        old = column.iloc[row]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column.iloc[row] = CATEGORIES[(CATEGORIES.index(old) + 1) % len(CATEGORIES)]
        elif isinstance(old, str):
            column.iloc[row] = old + "!"
        else:
            column.iloc[row] = 7.0
        changed[label] = column
        return changed
    values = dense(X).copy()
    values[row, col] = 7.0  # never drawn, so always a change
    return type(X)(values) if sp.issparse(X) else values


def all_containers():
    return st.one_of(frames(), matrices().map(lambda v: containers(v)["numpy"]),
                     matrices().map(lambda v: containers(v)["csr"]),
                     matrices().map(lambda v: containers(v)["csc"]))


@settings(max_examples=80)
@given(all_containers(), st.data())
def test_fingerprint_is_the_content(X, data):
    key = fingerprint(X)
    for copy in equal_copies(X):
        assert fingerprint(copy) == key
    row = data.draw(st.integers(0, X.shape[0] - 1))
    col = data.draw(st.integers(0, X.shape[1] - 1))
    assert fingerprint(with_cell_changed(X, row, col)) != key


@settings(max_examples=40)
@given(frames(min_rows=2), st.data())
def test_fingerprint_sees_names_dtypes_and_row_order(X, data):
    key = fingerprint(X)
    assert fingerprint(X.rename(columns={"f0": "g0"})) != key
    assert fingerprint(X.astype({"f0": np.float32})) != key
    assert fingerprint(X.assign(colour=X.colour.cat.rename_categories(["A", "B", "C"]))) != key
    assert fingerprint(X.to_numpy(dtype=object)) != key  # another container
    shuffled = X.iloc[data.draw(st.permutations(range(len(X))))]
    if not shuffled.equals(X):  # rows (with their index labels) in another order
        assert fingerprint(shuffled) != key


@settings(max_examples=40)
@given(st.one_of(frames(), matrices()), st.integers(1, 3))
def test_join_keeps_rows_index_and_names(X, n_meta):
    meta = np.arange(len(X) * n_meta, dtype=float).reshape(len(X), n_meta)
    meta_names = [f"m__{k}" for k in range(n_meta)]
    input_names = [f"in{j}" for j in range(X.shape[1])]
    for name, rows in ({"pandas": X} if isinstance(X, pd.DataFrame) else containers(X)).items():
        joined = join_columns(meta, rows, meta_names, input_names)
        if isinstance(rows, pd.DataFrame):
            assert isinstance(joined, pd.DataFrame)
            assert list(joined.columns) == meta_names + input_names
            assert joined.index.equals(rows.index)
            np.testing.assert_array_equal(joined[meta_names].to_numpy(), meta)
            for label, original in zip(input_names, rows.columns):
                assert joined[label].dtype == rows[original].dtype
                np.testing.assert_array_equal(joined[label].to_numpy(),
                                              rows[original].to_numpy())
            continue
        assert sp.issparse(joined) == sp.issparse(rows), name
        if sp.issparse(rows):
            assert joined.format == "csr"
        np.testing.assert_array_equal(dense(joined), np.hstack([meta, dense(rows)]),
                                      err_msg=name)
