"""Generated inputs to fit, predict and transform (issue 12, part 4).

Every generated input must end in a correct result, which is then checked (shapes,
finite values, probabilities that sum to one, ``classes_`` matching ``y``), or in a
clear error: a ``ValueError``, ``TypeError`` or stackkit error whose message names the
problem. A problem the stack can see itself (``y`` with NaN, empty ``X``, mismatched
lengths, bad sample weights, one class, ...) must be rejected before any fold work. A
``FoldFitError`` is accepted only where data the stack passes through untouched by
design reaches an estimator that rejects it (a DataFrame's text column, infinity for a
model that takes NaN, NaN in sparse input for a tree). Anything else (another
exception, NaN in predictions or meta-features) fails.

Hypothesis draws the structure of each input (containers, dtypes, sizes, defects) and a
seed; numpy fills in the values. The profile in ``tests/conftest.py`` derandomizes the
runs, and counts how each input ended, printed at the end of the run. The command
line and determinism have their own modules (``test_properties_cli.py``,
``test_properties_determinism.py``).

Passthrough column names, list fit parameters and base models that output NaN have
tables of their own (``test_errors.py``, ``test_fit_params.py``,
``test_targets_and_data.py``).
"""

import re
import warnings
from dataclasses import dataclass
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils import get_tags
from sklearn.utils.validation import has_fit_parameter

from stackkit import StackingClassifier, StackingRegressor, _tasks
from stackkit.exceptions import FoldFitError, StackkitError

CLEAR = (ValueError, TypeError, StackkitError)


# -- classifying outcomes ------------------------------------------------------------------


@dataclass(frozen=True)
class Defect:
    """Something wrong (or risky) in a generated input, and what its error must say.

    ``fatal``: no correct result exists, so the call must raise. ``stack_checks``: the
    stack can see it itself, so it must be raised before any fold work (never a
    ``FoldFitError``); when False, the data reaches an estimator untouched by design.
    """

    what: str
    words: tuple  # the error message names at least one of these (lower case)
    fatal: bool = True
    stack_checks: bool = True


def passed_through(what, words):
    """A defect only an estimator can judge: it may fail in a fold, or work."""
    return Defect(what, words, fatal=False, stack_checks=False)


def outcome(call, defects, counts, test):
    """Run ``call()``; return its result, or None after a clear error naming the problem.

    Any other exception propagates and fails the test, as does a result for an input
    with a fatal defect. Fold work is detected by spying on the task worker.
    """
    worker = _tasks._fit_and_predict
    with mock.patch.object(_tasks, "_fit_and_predict", side_effect=worker) as folds:
        try:
            result = call()
        except CLEAR as exc:
            check_clear(exc, defects, folds.called)
            counts[test, "clear error", type(exc).__name__] += 1
            return None
    fatal = [d.what for d in defects if d.fatal]
    assert not fatal, f"accepted an input with {fatal}"
    counts[test, "ok", ""] += 1
    return result


def check_clear(exc, defects, fold_work_started):
    """The error is the right kind, raised at the right time, and names the problem."""
    assert defects, f"a valid input was rejected: {type(exc).__name__}: {exc}"
    checked = [d.what for d in defects if d.fatal and d.stack_checks]
    if checked:
        assert not isinstance(exc, FoldFitError) and not fold_work_started, (
            f"{checked} must be rejected before fold work; got {type(exc).__name__}: {exc}")
    if isinstance(exc, FoldFitError):
        assert any(not d.stack_checks for d in defects), f"unexpected fold failure: {exc}"
        assert re.match(r"estimator '\w+' \(\w+\) failed on ", str(exc)), str(exc)
        assert exc.__cause__ is not None
    words = [word for d in defects for word in d.words]
    message = str(exc).lower()
    assert any(word in message for word in words), (
        f"error does not name the problem ({[d.what for d in defects]}): "
        f"{type(exc).__name__}: {exc}")


# -- generated data ------------------------------------------------------------------------

ROWS = st.sampled_from([12, 8, 12, 16, 20])
ODD_ROWS = st.sampled_from([0, 1, 2, 3, 5])
PLAIN_KINDS = ("float64", "float32", "int64", "list", "csr", "frame")
ARRAY_KINDS = ("float64", "float32", "int64", "bool", "object-numbers", "object-none",
               "object-text", "list", "csr", "csc", "coo", "frame")
PLAIN_DTYPES = ("float64", "Int64", "Float64", "bool", "int8", "uint8")
FRAME_DTYPES = PLAIN_DTYPES + ("boolean", "category", "datetime", "object-text", "string")
NON_NUMERIC = {"category", "datetime", "object-text", "string"}
HOLES = st.sampled_from([None, "nan", "inf"])
TEXT_WORDS = ("string", "float", "numeric", "convert", "dtype", "categor", "datetime",
              "timestamp", "type", "ufunc")


@dataclass
class Table:
    """Generated features and what is odd about them."""

    X: object
    defects: list
    holes: str | None = None
    frame: bool = False
    sparse: bool = False


def frame_column(rng, dtype, n_rows, hole):
    """One DataFrame column of ``dtype`` with ``n_rows`` values (``hole``: NaN or inf)."""
    values = rng.normal(size=n_rows)
    if hole and n_rows and dtype in ("float64", "Float64"):
        values[rng.integers(n_rows)] = np.nan if hole == "nan" else np.inf
    codes = rng.integers(0, 3, size=n_rows)
    text = np.array(["red", "green", "blue"], dtype=object)[codes]
    nullable = dict(Int64=codes, boolean=codes > 0)
    if dtype in nullable:
        column = pd.array(nullable[dtype], dtype=dtype)
        if hole == "nan" and n_rows:
            column[rng.integers(n_rows)] = pd.NA
        return column
    return {
        "float64": lambda: values, "Float64": lambda: pd.array(values, dtype="Float64"),
        "bool": lambda: codes > 0, "int8": lambda: codes.astype(np.int8),
        "uint8": lambda: codes.astype(np.uint8), "category": lambda: pd.Categorical(text),
        "datetime": lambda: pd.date_range("2024-01-01", periods=n_rows, freq="D"),
        "object-text": lambda: text, "string": lambda: pd.array(text, dtype="string"),
    }[dtype]()


@st.composite
def tables(draw, n_rows, odd, *, string_names=False):
    """``X`` in one of many containers and dtypes (``odd``: odd ones), with its defects."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n_cols = draw(st.sampled_from([3, 0, 1, 2, 4] if odd else [1, 2, 3, 4]))
    kind = draw(st.sampled_from(ARRAY_KINDS if odd else PLAIN_KINDS))
    hole = draw(HOLES) if odd else None
    defects = []
    if n_rows == 0:
        defects.append(Defect("no rows", ("0 sample", "row", "empty", "2d")))
    if n_cols == 0:
        defects.append(Defect("no columns", ("0 feature", "column", "feature")))
    if kind == "frame":
        return draw(frames(rng, n_rows, n_cols, odd, hole, string_names, defects))
    values = rng.normal(size=(n_rows, n_cols))
    holes = hole if values.size and kind not in ("int64", "bool", "object-text") else None
    if holes:
        values[rng.integers(n_rows), rng.integers(n_cols)] = np.nan if hole == "nan" else np.inf
    if kind == "object-text" and values.size:
        defects.append(Defect("text in an array", ("string", "float", "numeric", "convert")))
    if kind == "object-none" and values.size:  # None becomes NaN
        holes = holes or "nan"
    X = array_of_kind(kind, values)
    return Table(X, defects, holes, sparse=sp.issparse(X))


@st.composite
def frames(draw, rng, n_rows, n_cols, odd, hole, string_names, defects):
    """A DataFrame of columns of many dtypes; passthrough needs string column names."""
    dtypes = draw(st.lists(st.sampled_from(FRAME_DTYPES if odd else PLAIN_DTYPES),
                           min_size=n_cols, max_size=n_cols))
    names = draw(st.sampled_from(["str", "int", "mixed"] if odd and not string_names
                                 else ["str"]))
    columns = [f"c{i}" if names == "str" or (names == "mixed" and i % 2) else i
               for i in range(n_cols)]
    X = pd.DataFrame({c: frame_column(rng, d, n_rows, hole) for c, d in zip(columns, dtypes)},
                     columns=columns)
    if names == "mixed" and n_cols > 1:
        defects.append(Defect("mixed column names", ("feature names", "string names")))
    if NON_NUMERIC & set(dtypes):
        defects.append(passed_through("non-numeric column", TEXT_WORDS))
    holed = {"inf": {"float64", "Float64"}, "nan": {"float64", "Float64", "Int64", "boolean"},
             None: set()}[hole]
    return Table(X, defects, hole if holed & set(dtypes) and n_rows else None, frame=True)


def array_of_kind(kind, values):
    """``values`` (float64) as the container or dtype ``kind`` names."""
    if kind in ("csr", "csc", "coo"):
        values = np.where(np.abs(values) < 0.5, 0.0, values)
        return {"csr": sp.csr_matrix, "csc": sp.csc_matrix, "coo": sp.coo_matrix}[kind](values)
    if kind == "object-text":
        return np.where(values > 0, "up", "down").astype(object)
    if kind == "object-none":
        X = values.astype(object)
        if X.size:
            X[0, 0] = None
        return X
    if kind == "list":
        return values.tolist()
    converted = dict(float64=lambda: values, float32=lambda: values.astype(np.float32),
                     int64=lambda: np.round(values * 3).astype(np.int64),
                     bool=lambda: values > 0, **{"object-numbers": lambda: values.astype(object)})
    return converted[kind]()


def n_rows_of(X):
    return len(X) if isinstance(X, list) else X.shape[0]


def nan_defects(table, estimators, final, passthrough):
    """NaN or infinity in X: who rejects it, and whether the stack can know beforehand."""
    if table.holes is None:
        return []
    readers = [est for _, est in estimators if est != "drop"]
    if passthrough:
        readers.append(final)
    words = ("nan", "missing") if table.holes == "nan" else ("inf",)
    if any(not get_tags(est).input_tags.allow_nan for est in readers):
        return [Defect(f"{table.holes} in X", words)]
    if table.holes == "inf" or table.sparse:  # trees take NaN, but not infinity, nor NaN
        return [passed_through(f"{table.holes} in X", words)]  # in sparse X: no tag says so
    return []


# -- labels and targets -------------------------------------------------------------------

LABEL_KINDS = ("int", "negative", "float-int", "bool", "text", "category", "string", "Int64",
               "mixed", "missing", "one-class", "all-distinct", "continuous", "multilabel")
PLAIN_LABELS = ("int", "text", "bool", "float-int")
MISSING = [None, np.nan, pd.NA]


@st.composite
def labels(draw, n_rows, odd):
    """A classification target (``odd``: of an odd kind), with its defects."""
    kind = draw(st.sampled_from(LABEL_KINDS if odd else PLAIN_LABELS))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    k = 2 if kind in ("bool", "missing", "mixed") else draw(st.integers(2, 4))
    codes = rng.permutation(np.arange(n_rows) % k)
    names = np.array(["yes", "no", "x y", "α"], dtype=object)
    defects = []
    if kind == "multilabel":
        y = np.column_stack([codes % 2, (codes + 1) % 2 if k == 2 else codes // 2 % 2])
        defects.append(Defect("label rare in a fold", ("class", "fold"), fatal=False))
        return y, defects
    y = {
        "int": lambda: codes + 1, "negative": lambda: codes - 5,
        "float-int": lambda: codes.astype(float), "bool": lambda: codes == 1,
        "text": lambda: names[codes],
        "category": lambda: pd.Series(names[codes], dtype="category"),
        "string": lambda: pd.Series(names[codes], dtype="string"),
        "Int64": lambda: pd.array(codes, dtype="Int64"),
        "mixed": lambda: np.array([1 if c == 0 else "one" for c in codes], dtype=object),
        "missing": lambda: with_missing(names[codes], draw(st.sampled_from(MISSING))),
        "one-class": lambda: np.full(n_rows, 7), "all-distinct": lambda: np.arange(n_rows),
        "continuous": lambda: rng.normal(size=n_rows),
    }[kind]()
    if kind == "mixed" and n_rows:
        what = "labels of mixed types" if len(set(codes)) > 1 else "int labels, object array"
        defects.append(Defect(what, ("mix", "type", "object")))
    if kind == "missing" and n_rows:
        defects.append(Defect("missing label", ("nan", "missing", "none")))
    if kind == "continuous" and n_rows > 1:
        defects.append(Defect("continuous y", ("continuous", "label type", "unknown label")))
    return y, defects


def with_missing(values, missing):
    values = values.copy()
    if len(values):
        values[0] = missing
    return values


UNCOUNTABLE_LABELS = {"missing label", "labels of mixed types", "int labels, object array"}


def class_defects(y, cv, defects):
    """Too few rows of a class for ``cv`` stratified folds (or a single class)."""
    if any(d.what in UNCOUNTABLE_LABELS for d in defects):
        return []
    flat = np.asarray(y)
    if flat.ndim != 1 or flat.size == 0:
        return []
    counts = pd.Series(flat.astype(str)).value_counts()
    if len(counts) < 2:
        return [Defect("one class", ("one class", "class"))]
    if counts.min() >= cv:
        return []
    fatal = counts.max() < cv or counts.min() == 1
    return [Defect("rare class", ("n_splits", "member", "class"), fatal=fatal)]


REGRESSION_KINDS = ("float", "int", "bool", "float32", "large", "constant", "2d", "2d-one",
                    "nan", "inf", "text", "object-numbers", "Float64-NA", "Int64")


@st.composite
def targets(draw, n_rows, odd):
    """A regression target (``odd``: of an odd kind), with its defects."""
    kind = draw(st.sampled_from(REGRESSION_KINDS if odd else ("float", "int", "2d")))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    values = rng.normal(size=n_rows)
    y = {
        "float": values, "int": np.round(values * 10).astype(int), "bool": values > 0,
        "float32": values.astype(np.float32), "large": values * 1e6,
        "constant": np.full(n_rows, 3.5), "2d": np.column_stack([values, -values]),
        "2d-one": values[:, None], "nan": with_missing(values, np.nan),
        "inf": with_missing(values, np.inf), "text": values.astype(str),
        "object-numbers": values.astype(object),
        "Float64-NA": pd.array(with_missing(values.astype(object), pd.NA), dtype="Float64"),
        "Int64": pd.array(np.round(values * 10).astype(int), dtype="Int64"),
    }[kind]
    defects = []
    if n_rows and kind in ("nan", "inf", "Float64-NA"):
        defects.append(Defect(f"{kind} in y", ("nan", "inf")))
    if n_rows and kind == "text":
        defects.append(Defect("text y", ("numeric", "string", "convert", "float")))
    return y, defects


# -- sample weights ------------------------------------------------------------------------

WEIGHT_KINDS = (None, "ones", "random", "some-zero", "int", "list", "scalar",
                "series", "negative", "nan", "inf", "all-zero", "short", "long", "2d", "text")
BAD_WEIGHTS = {"negative", "nan", "inf", "all-zero", "short", "long", "2d", "text"}


@st.composite
def sample_weights(draw, n_rows, odd):
    kind = draw(st.sampled_from(WEIGHT_KINDS if odd else (None, "ones", "random")))
    if kind is None:
        return None, []
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    w = rng.uniform(0.5, 2.0, size=n_rows)
    weights = {
        "ones": np.ones(n_rows), "random": w, "some-zero": np.where(w < 1.0, 0.0, w),
        "int": np.ones(n_rows, dtype=int) * 2, "list": w.tolist(), "scalar": 2.0,
        "series": pd.Series(w), "negative": with_missing(w, -1.0), "nan": with_missing(w, np.nan),
        "inf": with_missing(w, np.inf), "all-zero": np.zeros(n_rows), "short": w[:-1],
        "long": np.r_[w, 1.0], "2d": w[:, None],
        "text": np.where(w > 1, "heavy", "light").astype(object),
    }[kind]
    bad = kind in BAD_WEIGHTS and (n_rows > 0 or kind in ("long", "text"))
    if kind == "some-zero" and not np.any(weights > 0):
        bad = True
    return weights, [Defect(f"sample_weight {kind}", ("sample_weight",))] if bad else []


def weight_support_defects(estimators, final, weights):
    takes = [est for _, est in estimators if est != "drop"] + [final]
    if weights is None or all(has_fit_parameter(est, "sample_weight") for est in takes):
        return []
    return [Defect("estimator without sample_weight", ("sample_weight",))]


# -- stacks --------------------------------------------------------------------------------


def classifier_sets():
    return {
        "dummy": [("dummy", DummyClassifier())],
        "tree": [("tree", DecisionTreeClassifier(max_depth=2, random_state=0))],
        "lr+tree": [("lr", LogisticRegression(max_iter=200)),
                    ("tree", DecisionTreeClassifier(max_depth=2, random_state=0))],
        "knn+drop": [("knn", KNeighborsClassifier(n_neighbors=1)), ("off", "drop")],
    }


def regressor_sets():
    return {
        "dummy": [("dummy", DummyRegressor())],
        "tree": [("tree", DecisionTreeRegressor(max_depth=2, random_state=0))],
        "ridge+tree": [("ridge", Ridge()),
                       ("tree", DecisionTreeRegressor(max_depth=2, random_state=0))],
        "knn+drop": [("knn", KNeighborsRegressor(n_neighbors=1)), ("off", "drop")],
    }


@st.composite
def stack_settings(draw, classify):
    """Estimators, final estimator and stack parameters, all valid."""
    sets = classifier_sets() if classify else regressor_sets()
    estimators = sets[draw(st.sampled_from(sorted(sets)))]
    finals = ([LogisticRegression(), DummyClassifier(), DecisionTreeClassifier(max_depth=2)]
              if classify else [Ridge(), DummyRegressor(), DecisionTreeRegressor(max_depth=2)])
    final = draw(st.sampled_from(finals))
    params = dict(cv=draw(st.sampled_from([2, 3])), passthrough=draw(st.booleans()),
                  refit=draw(st.booleans()))
    return estimators, final, params


def mismatch(y, delta):
    """``y`` with one row more or fewer (delta = +1 / -1)."""
    if delta == 0:
        return y
    if delta < 0:
        return y[:-1]
    extra = y[-1:] if len(y) else y
    if isinstance(y, np.ndarray):
        return np.concatenate([y, extra])
    return pd.concat([pd.Series(y), pd.Series(extra)]).array


# -- checking results ----------------------------------------------------------------------


def check_meta(stack, X, meta, n_rows):
    """``transform``-like output: one row per input row, named columns, finite meta part."""
    assert meta.shape == (n_rows, len(stack.get_feature_names_out()))
    n_meta = len(stack.layout_.feature_names())
    part = meta.iloc[:, :n_meta] if hasattr(meta, "iloc") else meta[:, :n_meta]
    part = part.toarray() if sp.issparse(part) else np.asarray(part, dtype=float)
    assert np.isfinite(part).all(), "NaN or infinity in the meta-features"


def check_classifier(stack, X, y, fitted_output):
    n_rows = n_rows_of(X)
    y_array = np.asarray(y)
    if y_array.ndim == 2:
        assert len(stack.classes_) == y_array.shape[1]
    else:
        assert set(stack.classes_.tolist()) == set(pd.unique(y_array.astype(object)).tolist())
    pred = stack.predict(X)
    assert pred.shape == (n_rows,) + y_array.shape[1:]
    if y_array.ndim == 1:
        assert set(pred.tolist()) <= set(stack.classes_.tolist())
    proba = stack.predict_proba(X)
    assert np.isfinite(proba).all() and (proba >= 0).all() and (proba <= 1).all()
    if y_array.ndim == 1:
        assert proba.shape == (n_rows, len(stack.classes_))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    check_meta(stack, X, stack.transform(X), n_rows)
    if fitted_output is not None:
        check_fit_transform(stack, X, fitted_output, n_rows)


def check_regressor(stack, X, y, fitted_output):
    n_rows = n_rows_of(X)
    pred = stack.predict(X)
    assert pred.shape == (n_rows,) + np.shape(y)[1:]
    assert np.isfinite(pred).all(), "NaN or infinity in the predictions"
    check_meta(stack, X, stack.transform(X), n_rows)
    if fitted_output is not None:
        check_fit_transform(stack, X, fitted_output, n_rows)


def check_fit_transform(stack, X, output, n_rows):
    check_meta(stack, X, output, n_rows)
    if not stack.passthrough:
        np.testing.assert_array_equal(output, stack.oof_)


# -- fit ------------------------------------------------------------------------------------


ODD_PARTS = ("none", "none", "none", "X", "X", "y", "y", "weights", "rows", "length", "all")


def fit_case(draw, classify):
    """One generated fit: the stack, the call's arguments and every defect of the input."""
    odd = draw(st.sampled_from(ODD_PARTS))
    n_rows = draw(ODD_ROWS if odd in ("rows", "all") else ROWS)
    estimators, final, params = draw(stack_settings(classify))
    table = draw(tables(n_rows, odd in ("X", "all"), string_names=params["passthrough"]))
    kind = labels if classify else targets
    y, y_defects = draw(kind(n_rows, odd in ("y", "all")))
    delta = draw(st.sampled_from([1, -1])) if odd in ("length", "all") else 0
    y = mismatch(y, delta)
    weights, w_defects = draw(sample_weights(n_rows, odd in ("weights", "all")))
    defects = table.defects + y_defects + w_defects
    defects += nan_defects(table, estimators, final, params["passthrough"])
    defects += weight_support_defects(estimators, final, weights)
    if delta:
        defects.append(Defect("lengths differ", ("rows", "sample", "match", "inconsistent")))
    if classify:
        defects += class_defects(y, params["cv"], defects)
    elif 0 < n_rows < params["cv"]:
        defects.append(Defect("fewer rows than folds", ("n_splits", "samples")))
    cls = StackingClassifier if classify else StackingRegressor
    stack = cls(estimators, final, **params)
    return stack, table.X, y, weights, defects


@settings(max_examples=160)
@given(st.data(), st.sampled_from(["fit", "fit_transform"]))
def test_classifier_fit_ends_in_a_result_or_a_clear_error(outcome_counts, data, method):
    stack, X, y, weights, defects = fit_case(data.draw, classify=True)
    fitted = outcome(lambda: getattr(stack, method)(X, y, sample_weight=weights), defects,
                     outcome_counts, "classifier fit")
    if fitted is not None:
        check_classifier(stack, X, y, None if method == "fit" else fitted)


@settings(max_examples=120)
@given(st.data(), st.sampled_from(["fit", "fit_transform"]))
def test_regressor_fit_ends_in_a_result_or_a_clear_error(outcome_counts, data, method):
    stack, X, y, weights, defects = fit_case(data.draw, classify=False)
    fitted = outcome(lambda: getattr(stack, method)(X, y, sample_weight=weights), defects,
                     outcome_counts, "regressor fit")
    if fitted is not None:
        check_regressor(stack, X, y, None if method == "fit" else fitted)


# -- parameters ----------------------------------------------------------------------------


class Kit:
    """Cheap estimators of one task (and one of the other task), made fresh per call."""

    def __init__(self, classify):
        self.classify = classify
        self.tree = (DecisionTreeClassifier if classify else DecisionTreeRegressor)(
            max_depth=2, random_state=0)
        self.dummy = DummyClassifier() if classify else DummyRegressor()
        self.other = DummyRegressor() if classify else DummyClassifier()
        self.linear = LogisticRegression() if classify else Ridge()


# (parameter, value made from a Kit, words the error must contain); value None: valid
BAD_PARAMS = [
    ("estimators", lambda k: [], ("estimators",)),
    ("estimators", lambda k: None, ("estimators",)),
    ("estimators", lambda k: "tree", ("estimators",)),
    ("estimators", lambda k: {"tree": k.tree}, ("estimators",)),
    ("estimators", lambda k: [("tree",)], ("estimators[0]",)),
    ("estimators", lambda k: [("tree", k.tree, 1)], ("estimators[0]",)),
    ("estimators", lambda k: [(1, k.tree)], ("name",)),
    ("estimators", lambda k: [("", k.tree)], ("name",)),
    ("estimators", lambda k: [("a__b", k.tree)], ("__",)),
    ("estimators", lambda k: [("t", k.tree), ("t", k.dummy)], ("more than once",)),
    ("estimators", lambda k: [("cv", k.tree)], ("clashes",)),
    ("estimators", lambda k: [("t", "drop")], ("drop",)),
    ("estimators", lambda k: [("t", 3)], ("'t'",)),
    ("estimators", lambda k: [("t", type(k.tree))], ("'t'",)),
    ("estimators", lambda k: [("t", StandardScaler())], ("'t'",)),
    ("final_estimator", lambda k: 3, ("final_estimator",)),
    ("final_estimator", lambda k: "lr", ("final_estimator",)),
    ("final_estimator", lambda k: k.other, ("final_estimator",)),
    ("final_estimator", lambda k: type(k.linear), ("final_estimator",)),
    ("cv", lambda k: 0, ("n_splits", "cv")),
    ("cv", lambda k: 1, ("n_splits", "cv")),
    ("cv", lambda k: -2, ("n_splits", "cv")),
    ("cv", lambda k: 1.5, ("cv",)),
    ("cv", lambda k: "3", ("cv",)),
    ("cv", lambda k: 100, ("n_splits",)),
    ("cv", lambda k: KFold(20), ("n_splits",)),
    ("cv", lambda k: object(), ("cv",)),
    ("stack_method", lambda k: "foo", ("stack_method",)),
    ("stack_method", lambda k: 3, ("stack_method",)),
    ("stack_method", lambda k: {"nope": "predict"}, ("nope",)),
    ("stack_method", lambda k: {"tree": "transform"}, ("stack_method",)),
    ("stack_method", lambda k: "decision_function", ("decision_function", "stack_method")),
    ("passthrough", lambda k: "yes", ("passthrough",)),
    ("passthrough", lambda k: 1, ("passthrough",)),
    ("passthrough", lambda k: None, ("passthrough",)),
    ("refit", lambda k: "no", ("refit",)),
    ("refit", lambda k: 0, ("refit",)),
    ("verbose", lambda k: -1, ("verbose",)),
    ("verbose", lambda k: "high", ("verbose",)),
    ("verbose", lambda k: 1.5, ("verbose",)),
    ("verbose", lambda k: True, ("verbose",)),
    ("on_error", lambda k: "ignore", ("on_error",)),
    ("on_error", lambda k: None, ("on_error",)),
    ("memory", lambda k: 3, ("memory",)),
    ("memory", lambda k: [], ("memory",)),
    ("memory", lambda k: object(), ("memory",)),
    ("n_jobs", lambda k: 0, ("n_jobs",)),
    ("n_jobs", lambda k: "2", ("n_jobs",)),
    ("n_jobs", lambda k: 1.5, ("n_jobs",)),
    ("n_jobs", lambda k: True, ("n_jobs",)),
    ("estimators", lambda k: ((name, est) for name, est in [("tree", k.tree)]),
     ("estimators",)),
    ("final_estimator", lambda k: StandardScaler(), ("final_estimator",)),
    ("cv", lambda k: [(np.arange(6), np.arange(6, 12), np.arange(3))], ("cv[0]",)),
    ("cv", lambda k: [("train", "test")], ("cv[0]",)),
    ("cv", lambda k: [(np.arange(6.0), np.arange(6, 12))], ("cv[0]",)),
    ("cv", lambda k: [(np.arange(6), [[6, 7], [8]])], ("cv[0]",)),
]
GOOD_PARAMS = [
    ("estimators", lambda k: ((("tree", k.tree),))),
    ("estimators", lambda k: [["tree", k.tree], ("off", "drop"), ("dummy", k.dummy)]),
    ("final_estimator", lambda k: k.dummy),
    ("cv", lambda k: np.int64(2)),
    ("cv", lambda k: KFold(3, shuffle=True, random_state=0)),
    ("cv", lambda k: StratifiedKFold(2) if k.classify else KFold(2)),
    ("cv", lambda k: None),
    ("stack_method", lambda k: {"tree": "predict"}),
    ("stack_method", lambda k: "predict"),
    ("passthrough", lambda k: np.True_),
    ("refit", lambda k: np.False_),
    ("verbose", lambda k: np.int64(0)),
    ("on_error", lambda k: "warn"),
    ("n_jobs", lambda k: 1),
    ("memory", lambda k: None),
]
PARAM_ROWS = [(p, f, w) for p, f, w in BAD_PARAMS] + [(p, f, None) for p, f in GOOD_PARAMS]


@settings(max_examples=110)
@given(st.lists(st.sampled_from(PARAM_ROWS), min_size=1, max_size=2,
                unique_by=lambda row: row[0]),
       st.booleans(), st.sampled_from(["array", "frame", "text labels"]))
def test_parameters_are_checked_before_fold_work(outcome_counts, rows, classify, data):
    kit = Kit(classify)
    params = dict(estimators=[("tree", kit.tree), ("dummy", kit.dummy)], cv=2)
    params.update({name: make(kit) for name, make, _ in rows})
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    X = pd.DataFrame(X, columns=["a", "b", "c"]) if data == "frame" else X
    y = np.array([0, 1] * 6) if classify else rng.normal(size=12)
    y = np.array(["no", "yes"])[y] if classify and data == "text labels" else y
    defects = [Defect(f"{name}={make(kit)!r}", words) for name, make, words in rows if words]
    stack = (StackingClassifier if classify else StackingRegressor)(**params)
    fitted = outcome(lambda: stack.fit(X, y), defects, outcome_counts, "parameters")
    if fitted is not None:
        (check_classifier if classify else check_regressor)(stack, X, y, None)


# -- predict and transform -----------------------------------------------------------------

FITTED = {}


def fitted_stack(name):
    """A stack fitted once per session on training data of one container (cached)."""
    if name not in FITTED:
        rng = np.random.default_rng(1)
        values = rng.normal(size=(16, 3))
        tree = DecisionTreeClassifier(max_depth=2, random_state=0)
        made = {
            "array classifier": lambda: (StackingClassifier(
                [("lr", LogisticRegression()), ("tree", tree)], cv=2),
                values, np.array(["a", "b", "c", "d"])[np.arange(16) % 4]),
            "frame classifier": lambda: (StackingClassifier(
                [("tree", tree)], DecisionTreeClassifier(max_depth=2), cv=2, passthrough=True),
                pd.DataFrame({"f": values[:, 0], "n": pd.array(np.arange(16) % 3, dtype="Int64"),
                              "b": values[:, 1] > 0}), np.arange(16) % 2),
            "multilabel classifier": lambda: (StackingClassifier(
                [("dummy", DummyClassifier()), ("tree", tree)], cv=2),
                values, np.column_stack([np.arange(16) % 2, np.arange(16) // 2 % 2])),
            "sparse regressor": lambda: (StackingRegressor(
                [("dummy", DummyRegressor()), ("tree", DecisionTreeRegressor(max_depth=2))],
                cv=2, passthrough=True), sp.csr_matrix(np.where(values > 0, values, 0)),
                values.sum(axis=1)),
            "two-output regressor": lambda: (StackingRegressor(
                [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=2))], cv=3,
                refit=False), values, np.column_stack([values[:, 0], values.sum(axis=1)])),
        }[name]
        stack, X, y = made()
        FITTED[name] = stack.fit(X, y), X
    return FITTED[name]


PREDICT_CHANGES = ("none", "none", "rows-0", "rows-1", "subset", "extra column", "missing column",
                   "permuted columns", "renamed column", "list", "frame", "array", "sparse",
                   "dense", "nan", "inf", "text", "1-d", "3-d", "complex", "int", "float32")


def changed_input(X, change, rng):
    """``X`` (training data) changed as ``change`` says, and the defects that brings."""
    is_frame = hasattr(X, "iloc")
    dense = pd.DataFrame(X.toarray()) if sp.issparse(X) else pd.DataFrame(np.asarray(X))
    dense = X.copy() if is_frame else dense
    feature = ("feature",)
    if change in ("extra column", "missing column"):
        dense = dense.iloc[:, :-1] if change == "missing column" else dense.assign(extra=1.0)
        return (dense if is_frame else dense.to_numpy()), [Defect(change, feature)]
    if change in ("permuted columns", "renamed column"):
        if not is_frame:
            return X, []
        columns = list(dense.columns)
        new = columns[::-1] if change == "permuted columns" else ["zz"] + columns[1:]
        renamed = dense[new] if change == "permuted columns" else dense.set_axis(new, axis=1)
        return renamed, [Defect(change, feature)]
    numeric = dense.astype(float).to_numpy(copy=True)
    if change == "nan":
        numeric[rng.integers(len(numeric)), 0] = np.nan
    if change == "inf":
        numeric[rng.integers(len(numeric)), 0] = np.inf
    made = {
        "none": lambda: X, "rows-0": lambda: X[:0], "rows-1": lambda: X[:1],
        "subset": lambda: X[3:9], "list": lambda: numeric.tolist(),
        "frame": lambda: pd.DataFrame(numeric, columns=[f"x{i}" for i in range(numeric.shape[1])]),
        "array": lambda: numeric, "sparse": lambda: sp.csr_matrix(numeric),
        "dense": lambda: numeric, "nan": lambda: numeric, "inf": lambda: numeric,
        "text": lambda: np.where(numeric > 0, "up", "down").astype(object),
        "1-d": lambda: numeric[0], "3-d": lambda: numeric[:, :, None],
        "complex": lambda: numeric + 1j, "int": lambda: numeric.astype(int),
        "float32": lambda: numeric.astype(np.float32),
    }[change]()
    defects = {
        "rows-0": Defect("no rows", ("0 sample", "row", "empty", "minimum of 1")),
        "text": Defect("text", ("string", "float", "convert", "numeric")),
        "1-d": Defect("1-d", ("2d", "1d", "reshape")),
        "3-d": Defect("3-d", ("dim", "3")),
        "complex": Defect("complex", ("complex",)),
        "inf": Defect("inf", ("inf",)),
    }
    if change == "frame" and is_frame:
        defects["frame"] = Defect("other column names", feature)
    return made, [defects[change]] if change in defects else []


METHODS = ("predict", "predict_proba", "decision_function", "transform")


@settings(max_examples=120)
@given(st.sampled_from(["array classifier", "frame classifier", "multilabel classifier",
                        "sparse regressor", "two-output regressor"]),
       st.sampled_from(PREDICT_CHANGES), st.data(), st.integers(0, 2**16))
def test_predict_and_transform_end_in_a_result_or_a_clear_error(outcome_counts, name, change,
                                                                  data, seed):
    stack, X_train = fitted_stack(name)
    method = data.draw(st.sampled_from([m for m in METHODS if hasattr(stack, m)]))
    X, defects = changed_input(X_train, change, np.random.default_rng(seed))
    if change == "nan":  # predict leaves NaN to the models (a dummy ignores X)
        defects.append(Defect("nan", ("nan",), fatal=False))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X (has|does not have valid) feature names")
        result = outcome(lambda: getattr(stack, method)(X), defects, outcome_counts,
                         f"{method}")
    if result is None:
        return
    n_rows = n_rows_of(X)
    if method == "transform":
        return check_meta(stack, X, result, n_rows)
    values = np.asarray(result)
    assert values.shape[0] == n_rows
    if values.dtype.kind in "fc":
        assert np.isfinite(values).all(), f"NaN or infinity from {method}"
    if method == "predict_proba" and stack.layout_.target_kind != "multilabel":
        np.testing.assert_allclose(values.sum(axis=1), 1.0)


# -- inputs the generators found -----------------------------------------------------------

FOUND = [  # each fixed in its own commit; the row failed before the fix
    pytest.param(dict(sample_weight=np.array(["heavy", "light"] * 6, dtype=object)),
                 "sample_weight must hold numbers", id="sample_weight-text"),
    pytest.param(dict(y=np.array(["one", 1] * 6, dtype=object)),
                 "y mixes labels of types int and str", id="y-mixed-text-first"),
    pytest.param(dict(y=np.array([1, "one"] * 6, dtype=object)),
                 "y mixes labels of types int and str", id="y-mixed-int-first"),
    pytest.param(dict(y=np.array([None] + ["no", "yes"] * 5 + ["no"], dtype=object)),
                 "y has 1 missing labels", id="y-None-label"),
    pytest.param(dict(y=pd.Series([pd.NA] + ["no", "yes"] * 5 + ["no"], dtype="string")),
                 "y has 1 missing labels", id="y-pd.NA-label"),
    pytest.param(dict(y=np.array([1, 2] * 6, dtype=object)),
                 "y holds int labels in an object array", id="y-object-ints"),
    pytest.param(dict(estimators=[("tree", DecisionTreeClassifier)]),
                 "estimator 'tree' is the class DecisionTreeClassifier", id="estimator-class"),
    pytest.param(dict(final_estimator=LogisticRegression),
                 "final_estimator is the class LogisticRegression", id="final-estimator-class"),
    pytest.param(dict(estimators=[("tree", DecisionTreeClassifier())], passthrough=True,
                      X=np.where(np.eye(12, 3) > 0, np.nan, 1.0)),
                 "estimator 'final_estimator' (LogisticRegression) does not accept missing",
                 id="passthrough-nan-final-rejects-nan"),
    pytest.param(dict(y=np.zeros(12, dtype=np.int64)), "y has only one class (0);",
                 id="one-class-shown-plainly"),
]


@pytest.mark.parametrize("change, match", FOUND)
def test_inputs_found_by_the_generators_get_a_clear_error_before_fold_work(change, match):
    args = dict(X=np.random.default_rng(0).normal(size=(12, 3)), y=np.array([0, 1] * 6))
    args.update({k: v for k, v in change.items() if k in ("X", "y", "sample_weight")})
    params = dict(estimators=[("dummy", DummyClassifier())], cv=2)
    params.update({k: v for k, v in change.items() if k not in args})
    with mock.patch.object(_tasks, "_fit_and_predict") as folds, \
            pytest.raises((ValueError, TypeError), match=re.escape(match)):
        StackingClassifier(**params).fit(**args)
    assert not folds.called
