"""polars DataFrames and pyarrow Tables in (issue 15, first part).

A polars DataFrame or pyarrow Table is made the pandas DataFrame a pandas user would
pass, once, where ``X`` enters (``stackkit._frames``); these tests generate frames
(numbers, categories, enums, strings, nulls) and check that the stack sees and predicts
exactly what it does with the pandas frame, that the cache keys of equal frames are
equal, that ``set_output(transform="polars")`` works, that nothing imports polars
unasked, and that the command line's reader keeps pandas' dtypes.
"""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from stackkit import StackingClassifier, StackingRegressor
from stackkit._frames import as_pandas
from stackkit._plane import fingerprint
from stackkit.cli._data import read_table
from stackkit.exceptions import FoldFitError
from stackkit.schema import TableSchema

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

N_ROWS = 24
LEVELS = ["b", "c", "a"]


# -- generated frames: a polars frame and the pandas frame a pandas user would have ----


def _column(kind, values):
    """``(polars Series, pandas Series)`` of one generated column."""
    if kind == "float":
        return pl.Series(values, dtype=pl.Float64), pd.Series(values, dtype="float64")
    if kind == "int":  # no nulls: int64 in both (with nulls pandas would hold floats)
        return pl.Series(values, dtype=pl.Int64), pd.Series(values, dtype="int64")
    if kind == "categorical":  # polars keeps the order in which categories appear
        seen = list(dict.fromkeys(v for v in values if v is not None))
        return (pl.Series(values, dtype=pl.Categorical),
                pd.Series(pd.Categorical(values, categories=seen)))
    if kind == "enum":  # an Enum's categories have an order
        return (pl.Series(values, dtype=pl.Enum(LEVELS)),
                pd.Series(pd.Categorical(values, categories=LEVELS, ordered=True)))
    return pl.Series(values, dtype=pl.String), pd.DataFrame({"s": values})["s"]


VALUES = {
    "float": st.one_of(st.none(), st.floats(-10, 10, allow_nan=False)),
    "int": st.integers(-100, 100),
    "categorical": st.one_of(st.none(), st.sampled_from(LEVELS)),
    "enum": st.one_of(st.none(), st.sampled_from(LEVELS)),
    "string": st.one_of(st.none(), st.sampled_from(["x", "y", "zz"])),
}


@st.composite
def frames(draw):
    """``(polars frame, pandas frame)``: a float column first, then 0-4 of any kind.

    Each column holds at least one value (an all-null column is a different question).
    """
    kinds = ["float"] + draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=4))
    polars, pandas = {}, {}
    for i, kind in enumerate(kinds):
        values = draw(st.lists(VALUES[kind], min_size=N_ROWS, max_size=N_ROWS)
                      .filter(lambda v: any(x is not None for x in v)))
        polars[f"{kind}{i}"], pandas[f"{kind}{i}"] = _column(kind, values)
    return pl.DataFrame(polars), pd.DataFrame(pandas)


def _mixed_stack(**params):
    """Two base models: one-hot + logistic regression, and ordinal codes + a tree."""
    text = make_column_selector(dtype_exclude="number")
    onehot = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), text),
                                remainder=SimpleImputer(keep_empty_features=True)),
        LogisticRegression(max_iter=1000))
    ordinal = make_pipeline(
        make_column_transformer((OrdinalEncoder(handle_unknown="use_encoded_value",
                                                unknown_value=-1), text),
                                remainder="passthrough"),
        DecisionTreeClassifier(max_depth=3, random_state=0))
    return StackingClassifier([("onehot", onehot), ("tree", ordinal)], cv=3, **params)


def _labels():
    return np.tile([0, 1], N_ROWS // 2)


@settings(max_examples=8)
@given(frames())
def test_a_generated_polars_frame_becomes_the_pandas_frame_and_predicts_alike(pair):
    polars_frame, pandas_frame = pair
    pd.testing.assert_frame_equal(as_pandas(polars_frame), pandas_frame)
    pd.testing.assert_frame_equal(as_pandas(polars_frame.to_arrow()), pandas_frame)
    y = _labels()
    from_pandas = _mixed_stack().fit(pandas_frame, y)
    from_polars = _mixed_stack().fit(polars_frame, y)
    assert list(from_polars.feature_names_in_) == list(polars_frame.columns)
    np.testing.assert_array_equal(from_polars.oof_, from_pandas.oof_)
    np.testing.assert_array_equal(from_polars.predict_proba(polars_frame),
                                  from_pandas.predict_proba(pandas_frame))
    np.testing.assert_array_equal(from_polars.transform(polars_frame.to_arrow()),
                                  from_pandas.transform(pandas_frame))


@settings(max_examples=25)
@given(frames(), st.data())
def test_equal_polars_frames_give_equal_cache_fingerprints(pair, data):
    polars_frame, _ = pair
    pl.DataFrame({"c": pl.Series(["zz", "y", "x"], dtype=pl.Categorical)})  # new categories
    rebuilt = pl.DataFrame(polars_frame.to_dict(as_series=False), schema=polars_frame.schema)
    assert rebuilt.equals(polars_frame)
    assert fingerprint(as_pandas(rebuilt)) == fingerprint(as_pandas(polars_frame))
    row = data.draw(st.integers(0, N_ROWS - 1))
    changed = polars_frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row).then(pl.lit(1e6)).otherwise(pl.col("float0"))
        .alias("float0"))
    assert fingerprint(as_pandas(changed)) != fingerprint(as_pandas(polars_frame))


# -- what the base estimators receive ----------------------------------------------------


class _Recorder(ClassifierMixin, BaseEstimator):
    """Records the type, columns and dtypes of what ``fit`` and ``predict`` receive."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X, y):
        self.seen_fit_ = (type(X), list(X.columns), X.dtypes.astype(str).tolist())
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        self.seen_predict_ = (type(X), list(X.columns), X.dtypes.astype(str).tolist())
        return np.full(len(X), self.classes_[0])


@pytest.fixture
def table():
    """``(polars frame, its pandas frame)``: float, int, categorical, enum and string."""
    values = {"f": [0.5, None, 2.0, 3.5] * 3, "i": list(range(12)),
              "c": ["b", "a", None, "b"] * 3, "e": ["c", "a", "b", None] * 3,
              "s": ["x", None, "y", "x"] * 3}
    polars_frame = pl.DataFrame(values, schema={"f": pl.Float64, "i": pl.Int64,
                                                "c": pl.Categorical, "e": pl.Enum(LEVELS),
                                                "s": pl.String})
    return polars_frame, as_pandas(polars_frame)


@pytest.mark.parametrize("container", ["polars", "arrow"])
def test_base_estimators_receive_pandas_with_categories_and_strings(table, container):
    polars_frame, pandas_frame = table
    X = polars_frame if container == "polars" else polars_frame.to_arrow()
    stack = StackingClassifier([("rec", _Recorder())], cv=2).fit(X, np.tile([0, 1], 6))
    stack.predict(X)
    seen = (pd.DataFrame, ["f", "i", "c", "e", "s"], pandas_frame.dtypes.astype(str).tolist())
    assert pandas_frame.dtypes.astype(str).tolist() == ["float64", "int64", "category",
                                                         "category", "str"]
    assert stack.estimators_[0].seen_fit_ == seen
    assert stack.estimators_[0].seen_predict_ == seen
    assert list(stack.feature_names_in_) == ["f", "i", "c", "e", "s"]


def _numeric_data(n=40):
    rng = np.random.default_rng(0)
    # "u" first: polars lists categories in the order they appear, pandas sorts them
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                          "k": pd.Categorical(np.resize(["u", "v", "v", "u", "v"], n))})
    return frame, frame["a"] + (frame["k"] == "u") + 0.1 * rng.normal(size=n)


def _encoded(encoder, model):
    return make_pipeline(make_column_transformer((encoder, ["k"]), remainder="passthrough"),
                         model)


STACKS = {
    "classifier": lambda: StackingClassifier(
        [("tree", _encoded(OrdinalEncoder(), DecisionTreeClassifier(max_depth=2,
                                                                    random_state=0))),
         ("lr", _encoded(OneHotEncoder(), LogisticRegression()))],
        _encoded(OneHotEncoder(), LogisticRegression()), cv=3, passthrough=True),
    "regressor": lambda: StackingRegressor(
        [("tree", _encoded(OrdinalEncoder(), DecisionTreeRegressor(max_depth=2,
                                                                   random_state=0))),
         ("ridge", _encoded(OneHotEncoder(), Ridge()))],
        _encoded(OneHotEncoder(), Ridge()), cv=3, passthrough=True),
}
METHODS = {"classifier": ["predict", "predict_proba", "decision_function", "transform", "score"],
           "regressor": ["predict", "transform", "score"]}


def _convert(frame, container):
    polars_frame = pl.from_pandas(frame)
    return polars_frame if container == "polars" else polars_frame.to_arrow()


@pytest.mark.parametrize("container", ["polars", "arrow"])
@pytest.mark.parametrize("kind", sorted(STACKS))
def test_every_method_takes_polars_and_arrow_as_pandas(kind, container):
    frame, target = _numeric_data()
    y = (target > target.median()).astype(int) if kind == "classifier" else target
    X = _convert(frame, container)
    ours, theirs = STACKS[kind](), STACKS[kind]()
    pd.testing.assert_frame_equal(ours.fit_transform(X, y), theirs.fit_transform(frame, y))
    for method in METHODS[kind]:
        args = (y,) if method == "score" else ()
        got, expected = getattr(ours, method)(X, *args), getattr(theirs, method)(frame, *args)
        if isinstance(expected, pd.DataFrame):
            pd.testing.assert_frame_equal(got, expected)
        else:
            np.testing.assert_array_equal(got, expected)


def test_a_target_and_weights_as_polars_series_are_taken():
    frame, target = _numeric_data()
    frame, y = frame[["a", "b"]], (target > target.median()).astype(int)
    weights = np.linspace(0.5, 1.5, len(y))

    def stack():
        return StackingClassifier([("tree", DecisionTreeClassifier(max_depth=2, random_state=0)),
                                   ("lr", LogisticRegression())], cv=3)

    ours = stack().fit(pl.from_pandas(frame), pl.Series(y), sample_weight=pl.Series(weights))
    theirs = stack().fit(frame, y, sample_weight=weights)
    np.testing.assert_array_equal(ours.predict_proba(frame), theirs.predict_proba(frame))


class RowValues(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; remembers the per-row values its fit was given."""

    def fit(self, X, y, row_values=None):
        self.classes_ = np.unique(y)
        self.row_values_ = np.asarray(row_values)
        self.majority_ = self.classes_[np.argmax(np.bincount(np.searchsorted(self.classes_, y)))]
        return self

    def predict_proba(self, X):
        return np.tile((self.classes_ == self.majority_).astype(float), (len(X), 1))


@pytest.mark.parametrize("column", [pl.Series, pa.array, pa.chunked_array],
                         ids=["polars", "arrow-array", "arrow-chunked"])
def test_a_per_row_fit_parameter_as_polars_or_arrow_is_cut_per_fold(column):
    """A per-row fit parameter given as a polars Series or Arrow array is sliced per fold."""
    frame, target = _numeric_data()
    y = (target > target.median()).astype(int)
    values = np.arange(len(y), dtype=float)
    given = column([values]) if column is pa.chunked_array else column(values)
    stack = StackingClassifier([("seen", RowValues())], cv=3, refit=False)
    stack.fit(frame[["a", "b"]], y, seen__row_values=given)
    for fold_model, test in zip(stack.named_estimators_["seen"].estimators, stack.oof_folds_):
        np.testing.assert_array_equal(fold_model.row_values_, np.delete(values, test))


def test_other_columns_at_predict_are_scikit_learns_error():
    frame, target = _numeric_data()
    stack = STACKS["regressor"]().fit(pl.from_pandas(frame), target)
    with pytest.raises(ValueError, match="feature names should match"):
        stack.predict(pl.from_pandas(frame).rename({"b": "B"}))


def test_a_string_column_fails_as_it_does_in_pandas():
    """A model that needs numbers fails in its fold on a pandas string column; so on polars'."""
    polars_frame = pl.DataFrame({"i": list(range(12)), "s": ["x", "y", "x"] * 4})
    errors = []
    for X in (as_pandas(polars_frame), polars_frame):
        with pytest.raises(FoldFitError) as caught:
            StackingClassifier([("lr", LogisticRegression())], cv=2).fit(X, np.tile([0, 1], 6))
        errors.append(str(caught.value))
    assert errors[0] == errors[1]
    assert "could not convert string to float" in errors[0]


def test_a_lazy_frame_is_a_clear_error_before_any_fit(table):
    polars_frame, _ = table
    stack = StackingClassifier([("rec", _Recorder())], cv=2)
    with pytest.raises(TypeError, match=r"X is a polars LazyFrame.*\.collect\(\)"):
        stack.fit(polars_frame.lazy(), np.tile([0, 1], 6))
    assert not hasattr(stack, "estimators_")


def test_a_lazy_frame_as_a_fit_parameter_is_named_in_the_error(table):
    polars_frame, _ = table
    stack = StackingClassifier([("rec", _Recorder())], cv=2)
    with pytest.raises(TypeError, match=r"fit parameter 'weights' of 'rec' is a polars LazyFrame"):
        stack.fit(polars_frame, np.tile([0, 1], 6), rec__weights=polars_frame.lazy())
    assert not hasattr(stack, "estimators_")


def test_equal_polars_frames_read_the_cache_of_each_other_and_of_pandas(table, tmp_path):
    polars_frame, pandas_frame = table
    frame, target = _numeric_data()
    y = (target > target.median()).astype(int)

    def statuses(X):
        stack = STACKS["classifier"]().set_params(memory=tmp_path).fit(X, y)
        return set(stack.task_log_["status"])

    assert statuses(pl.from_pandas(frame)) == {"ran"}
    assert statuses(pl.from_pandas(frame.copy())) == {"cached"}
    assert statuses(frame) == {"cached"}  # the polars frame and its pandas frame share
    assert statuses(pl.from_pandas(frame).with_columns(pl.col("a") * 2)) == {"ran"}


# -- set_output --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(STACKS))
def test_set_output_polars_gives_polars_frames_named_by_get_feature_names_out(kind):
    frame, target = _numeric_data()
    y = (target > target.median()).astype(int) if kind == "classifier" else target
    stack = STACKS[kind]().set_output(transform="polars")
    out = stack.fit_transform(pl.from_pandas(frame), y)
    names = list(stack.get_feature_names_out())
    assert isinstance(out, pl.DataFrame) and out.columns == names
    assert out.schema["k"] == pl.Categorical  # the passthrough column stays categorical
    again = stack.transform(frame)
    assert isinstance(again, pl.DataFrame) and again.columns == names
    stack.set_output(transform="pandas")
    pandas_out = stack.transform(pl.from_pandas(frame))
    assert isinstance(pandas_out, pd.DataFrame) and list(pandas_out.columns) == names
    pd.testing.assert_frame_equal(again.to_pandas(), pandas_out)


# -- the command line's schema and reader ------------------------------------------------


def test_the_command_lines_model_takes_a_polars_frame():
    frame, target = _numeric_data()
    model = make_pipeline(TableSchema(), STACKS["regressor"]()).fit(frame, target)
    np.testing.assert_array_equal(model.predict(pl.from_pandas(frame)), model.predict(frame))


CSV_CASES = {  # where polars', pyarrow's or pandas' pyarrow engine read differently
    "dates": "d,x\n2020-01-01,1\n2020-01-02,2\n",
    "datetimes": "d,x\n2020-01-01 10:00:00,1\n2020-01-02 11:00:00,2\n",
    "missing-value words": "s,x\nNA,1\nfoo,2\nn/a,3\nnull,4\n",
    "empty column": "e,x\n,1\n,2\n",
    "nan in numbers": "f,x\n1.5,1\nnan,2\n",
    "beyond int64": "z,x\n99999999999999999999,1\n1,2\n",
    "repeated names": "a,a\n1,2\n3,4\n",
}


@pytest.mark.parametrize("text", CSV_CASES.values(), ids=CSV_CASES)
def test_the_command_line_reads_csv_as_pandas_c_engine_does(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text)
    pd.testing.assert_frame_equal(read_table(path), pd.read_csv(path, engine="c"))


def test_the_command_line_reads_parquet_with_its_pandas_categories(tmp_path):
    frame = pd.DataFrame({"k": pd.Categorical(["v", "u", "w"], categories=["w", "v", "u"]),
                          "a": [1.0, None, 3.0]}, index=[5, 6, 7])
    frame.to_parquet(tmp_path / "data.parquet")
    pd.testing.assert_frame_equal(read_table(tmp_path / "data.parquet"), frame)


# -- lazy imports ------------------------------------------------------------------------


def test_stackkit_imports_neither_polars_nor_more_pyarrow_than_pandas_does():
    """A fit on pandas data imports no polars, and no pyarrow that pandas did not import."""
    script = (
        "import sys\n"
        "import pandas as pd\n"
        "arrow_before = 'pyarrow' in sys.modules\n"
        "import stackkit, stackkit.cli\n"
        "from sklearn.linear_model import Ridge\n"
        "X = pd.DataFrame({'a': [0.0, 1.0, 2.0, 3.0]})\n"
        "stackkit.StackingRegressor([('r', Ridge())], cv=2).fit(X, [0.0, 1.0, 2.0, 3.0])"
        ".predict(X)\n"
        "print('polars' in sys.modules, ('pyarrow' in sys.modules) and not arrow_before)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]
