"""Targets (binary, multiclass, multilabel, multi-output), OOF correctness, pandas input,
feature names and the transform / fit_transform contract."""

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier, LGBMRegressor
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import (
    load_diabetes,
    load_iris,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.ensemble import RandomForestClassifier
from sklearn.ensemble import StackingClassifier as SkStackingClassifier
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.multioutput import MultiOutputClassifier, MultiOutputRegressor
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR, LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from xgboost import XGBClassifier

from stackkit import FoldAverage, StackingClassifier, StackingRegressor

# -- data ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def binary_xy():
    """120 rows, 0/1 labels, some label noise."""
    return make_classification(n_samples=120, n_features=6, n_informative=3, flip_y=0.05,
                               random_state=0)


@pytest.fixture(scope="module")
def iris_str():
    """Iris with labels whose alphabetical order differs from the original class order."""
    X, y = load_iris(return_X_y=True)
    return X, np.array(["zebra", "ant", "mole"])[y]


@pytest.fixture(scope="module")
def multilabel_xy():
    X, Y = make_multilabel_classification(n_samples=120, n_features=6, n_classes=3,
                                          n_labels=2, random_state=0)
    assert Y.shape == (120, 3) and 0 < Y.mean() < 1
    return X, Y


@pytest.fixture(scope="module")
def multioutput_xy():
    return make_regression(n_samples=100, n_features=5, n_informative=4, n_targets=2,
                           noise=5.0, random_state=0)


@pytest.fixture(scope="module")
def diabetes_xy():
    X, y = load_diabetes(return_X_y=True)
    return X[:150], y[:150]


def binary_folds(y):
    return list(StratifiedKFold(4, shuffle=True, random_state=0).split(np.zeros(len(y)), y))


def two_classifiers():
    return [
        ("lr", make_pipeline(StandardScaler(), LogisticRegression())),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ]


# -- binary targets -------------------------------------------------------------------


BINARY_LABELS = [
    pytest.param(np.array([0, 1]), False, id="int-0-1"),
    pytest.param(np.array([-3, 7]), False, id="int-minus3-7"),
    pytest.param(np.array(["no", "yes"]), False, id="str-no-yes"),
    pytest.param(np.array(["yes", "no"]), False, id="str-code-order-not-sorted"),
    pytest.param(np.array([False, True]), False, id="bool"),
    pytest.param(np.array(["no", "yes"]), True, id="str-pandas-series"),
]


@pytest.mark.parametrize("labels, as_series", BINARY_LABELS)
def test_binary_labels_round_trip(binary_xy, labels, as_series):
    X, y01 = binary_xy
    y = labels[y01]
    folds = binary_folds(y01)
    stack = StackingClassifier(two_classifiers(), cv=folds)
    y_fit = pd.Series(y, name="target") if as_series else y
    stack.fit(X, y_fit)

    assert_array_equal(stack.classes_, np.sort(labels))
    positive = stack.classes_[1]
    pred = stack.predict(X)
    assert pred.dtype == np.asarray(y_fit).dtype
    assert set(pred) <= set(labels)
    assert np.mean(pred == y) > 0.85
    proba = stack.predict_proba(X)
    assert proba.shape == (len(y), 2)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(pred == positive, proba[:, 1] > 0.5)

    # one OOF column per estimator: the positive class's probability, out of fold
    assert stack.oof_.shape == (len(y), 2)
    for i, (_, est) in enumerate(two_classifiers()):
        expected = cross_val_predict(est, X, y, cv=folds, method="predict_proba")[:, 1]
        assert_allclose(stack.oof_[:, i], expected, rtol=1e-10, atol=1e-12)
    assert stack.get_feature_names_out().tolist() == [f"lr__{positive}", f"tree__{positive}"]


# -- multiclass targets -------------------------------------------------------------


@pytest.mark.parametrize("refit", [True, False], ids=["refit", "fold-average"])
def test_multiclass_string_labels(iris_str, refit):
    X, y = iris_str
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    estimators = [("lr", make_pipeline(StandardScaler(), LogisticRegression())),
                  ("nb", GaussianNB())]
    stack = StackingClassifier(estimators, cv=folds, refit=refit).fit(X, y)

    assert_array_equal(stack.classes_, ["ant", "mole", "zebra"])
    pred = stack.predict(X)
    assert set(pred) == {"ant", "mole", "zebra"}
    assert np.mean(pred == y) > 0.9
    proba = stack.predict_proba(X)
    assert proba.shape == (150, 3)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(stack.classes_[proba.argmax(axis=1)], pred)
    # column k is the probability of classes_[k]: high on the rows of that class
    for k, label in enumerate(stack.classes_):
        assert proba[y == label, k].mean() > 0.8

    assert stack.oof_.shape == (150, 6)
    for i, (_, est) in enumerate(estimators):
        expected = cross_val_predict(est, X, y, cv=folds, method="predict_proba")
        assert_allclose(stack.oof_[:, 3 * i:3 * i + 3], expected, rtol=1e-10, atol=1e-12)
    assert stack.get_feature_names_out().tolist() == [
        "lr__ant", "lr__mole", "lr__zebra", "nb__ant", "nb__mole", "nb__zebra"
    ]


# -- multilabel targets ---------------------------------------------------------------


@pytest.mark.parametrize("refit", [True, False], ids=["refit", "fold-average"])
@pytest.mark.parametrize(
    "estimator, wrapped",
    [
        pytest.param(LogisticRegression(), True, id="logreg-gets-wrapped"),
        pytest.param(KNeighborsClassifier(n_neighbors=5), False, id="knn-native"),
        pytest.param(RandomForestClassifier(n_estimators=10, random_state=0), False,
                     id="forest-native"),
    ],
)
def test_multilabel_target(multilabel_xy, estimator, wrapped, refit):
    X, Y = multilabel_xy
    stack = StackingClassifier([("base", estimator)], cv=4, refit=refit).fit(X, Y)

    pred = stack.predict(X)
    assert pred.shape == Y.shape
    assert set(np.unique(pred)) <= {0, 1}
    assert np.mean(pred == Y) > np.mean(Y == (Y.mean(axis=0) > 0.5))  # beats majority
    proba = stack.predict_proba(X)
    assert proba.shape == Y.shape
    assert np.all((proba >= 0) & (proba <= 1))
    assert_array_equal(pred, (proba > 0.5).astype(pred.dtype))
    assert isinstance(stack.final_estimator_, MultiOutputClassifier)  # default LR, wrapped
    assert len(stack.classes_) == 3
    assert stack.oof_.shape == (120, 3)
    assert stack.get_feature_names_out().tolist() == ["base__0", "base__1", "base__2"]

    fitted = stack.estimators_[0]
    inner = fitted if refit else fitted.estimators[0]
    assert isinstance(inner, MultiOutputClassifier) == wrapped


@pytest.mark.parametrize("stack_method", ["auto", "decision_function"])
def test_multilabel_classifier_keeps_its_own_decision_function(multilabel_xy, stack_method):
    """A classifier tagged multi_label (RidgeClassifier) is not wrapped, as in scikit-learn,
    so its multilabel decision_function is what "auto" finds and what it stacks."""
    X, Y = multilabel_xy
    stack = StackingClassifier([("ridge", RidgeClassifier())], cv=KFold(4),
                               stack_method=stack_method).fit(X, Y)
    assert stack.stack_method_ == ["decision_function"]
    assert isinstance(stack.estimators_[0], RidgeClassifier)
    expected = cross_val_predict(RidgeClassifier(), X, Y, cv=KFold(4),
                                 method="decision_function")
    assert_allclose(stack.oof_, expected)
    assert stack.predict(X).shape == Y.shape


def test_multilabel_oof_matches_manual_folds(multilabel_xy):
    X, Y = multilabel_xy
    stack = StackingClassifier([("lr", LogisticRegression())], cv=KFold(4)).fit(X, Y)
    expected = np.zeros(Y.shape)
    for train, test in KFold(4).split(X):
        model = MultiOutputClassifier(LogisticRegression()).fit(X[train], Y[train])
        expected[test] = np.column_stack([p[:, 1] for p in model.predict_proba(X[test])])
    assert_allclose(stack.oof_, expected, rtol=1e-10, atol=1e-12)


# -- multi-output regression ------------------------------------------------------------


@pytest.mark.parametrize("refit", [True, False], ids=["refit", "fold-average"])
@pytest.mark.parametrize(
    "name, estimator, wrapped",
    [
        pytest.param("ridge", Ridge(alpha=1.0), False, id="ridge-native"),
        pytest.param("svr", SVR(C=100.0), True, id="svr-gets-wrapped"),
        pytest.param("lgbm",
                     LGBMRegressor(n_estimators=20, verbose=-1, random_state=0, n_jobs=1),
                     True, id="lgbm-gets-wrapped"),
    ],
)
def test_multi_output_regression(multioutput_xy, name, estimator, wrapped, refit):
    X, Y = multioutput_xy
    cv = KFold(4, shuffle=True, random_state=0)
    stack = StackingRegressor([(name, estimator)], cv=cv, refit=refit).fit(X, Y)

    pred = stack.predict(X)
    assert pred.shape == (100, 2)
    assert stack.score(X, Y) > 0.5
    assert stack.oof_.shape == (100, 2)
    assert stack.get_feature_names_out().tolist() == [f"{name}__0", f"{name}__1"]
    base = MultiOutputRegressor(estimator) if wrapped else estimator
    assert_allclose(stack.oof_, cross_val_predict(base, X, Y, cv=cv), rtol=1e-7, atol=1e-9)
    fitted = stack.estimators_[0]
    inner = fitted if refit else fitted.estimators[0]
    assert isinstance(inner, MultiOutputRegressor) == wrapped


def test_multi_output_regression_with_two_estimators(multioutput_xy):
    X, Y = multioutput_xy
    stack = StackingRegressor([("ridge", Ridge()), ("svr", SVR(C=100.0))], cv=3).fit(X, Y)
    assert stack.oof_.shape == (100, 4)
    assert stack.transform(X[:7]).shape == (7, 4)
    assert stack.get_feature_names_out().tolist() == ["ridge__0", "ridge__1", "svr__0", "svr__1"]
    assert stack.predict(X[:7]).shape == (7, 2)


# -- OOF correctness ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [
        pytest.param(Ridge(alpha=1.0), id="ridge"),
        pytest.param(KNeighborsRegressor(n_neighbors=3), id="knn"),
        pytest.param(DecisionTreeRegressor(max_depth=4, random_state=0), id="tree"),
    ],
)
def test_regression_oof_equals_cross_val_predict(diabetes_xy, estimator):
    X, y = diabetes_xy
    cv = KFold(5, shuffle=True, random_state=0)
    stack = StackingRegressor([("a", Ridge(alpha=10.0)), ("b", estimator)], cv=cv).fit(X, y)
    assert stack.oof_.shape == (150, 2)
    assert_allclose(stack.oof_[:, 0], cross_val_predict(Ridge(alpha=10.0), X, y, cv=cv),
                    rtol=1e-10)
    assert_allclose(stack.oof_[:, 1], cross_val_predict(estimator, X, y, cv=cv), rtol=1e-10)


@pytest.mark.parametrize(
    "estimator, stack_method, method, column",
    [
        pytest.param(LogisticRegression(), "auto", "predict_proba", 1, id="logreg-proba"),
        pytest.param(RandomForestClassifier(n_estimators=10, random_state=0), "auto",
                     "predict_proba", 1, id="forest-proba"),
        pytest.param(LinearSVC(), "auto", "decision_function", None, id="linearsvc-decision"),
        pytest.param(LogisticRegression(), "decision_function", "decision_function", None,
                     id="logreg-decision"),
        pytest.param(DecisionTreeClassifier(max_depth=3, random_state=0), "predict", "predict",
                     None, id="tree-predict"),
    ],
)
def test_classification_oof_equals_cross_val_predict(binary_xy, estimator, stack_method,
                                                    method, column):
    X, y = binary_xy
    folds = binary_folds(y)
    stack = StackingClassifier([("est", estimator)], cv=folds, stack_method=stack_method)
    stack.fit(X, y)
    assert stack.stack_method_ == [method]
    expected = cross_val_predict(estimator, X, y, cv=folds, method=method)
    if column is not None:
        expected = expected[:, column]
    assert stack.oof_.shape == (120, 1)
    assert_allclose(stack.oof_[:, 0], expected, rtol=1e-10, atol=1e-12)


def test_refit_true_models_predict_like_a_clone_fit_on_all_rows(binary_xy):
    X, y = binary_xy
    estimators = [("lr", LogisticRegression()),
                  ("rf", RandomForestClassifier(n_estimators=10, random_state=0))]
    stack = StackingClassifier(estimators, cv=3, refit=True).fit(X, y)
    X_new = np.random.RandomState(9).normal(size=(15, X.shape[1]))
    for i, (name, est) in enumerate(estimators):
        reference = clone(est).fit(X, y)
        assert_allclose(stack.estimators_[i].predict_proba(X_new), reference.predict_proba(X_new))
        assert stack.named_estimators_[name] is stack.estimators_[i]
        assert_allclose(stack.transform(X_new)[:, i], reference.predict_proba(X_new)[:, 1])
    assert (stack.task_log_["fold"] == "full").sum() == 2


def test_refit_false_averages_the_fold_models(binary_xy):
    X, y = binary_xy
    folds = binary_folds(y)
    estimators = [("lr", LogisticRegression()),
                  ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))]
    stack = StackingClassifier(estimators, cv=folds, refit=False).fit(X, y)
    X_new = np.random.RandomState(9).normal(size=(15, X.shape[1]))
    assert "full" not in set(stack.task_log_["fold"])
    assert len(stack.task_log_) == 2 * len(folds)
    for i, (_, est) in enumerate(estimators):
        fitted = stack.estimators_[i]
        assert isinstance(fitted, FoldAverage)
        assert len(fitted.estimators) == len(folds)
        expected = np.mean(
            [clone(est).fit(X[train], y[train]).predict_proba(X_new) for train, _ in folds],
            axis=0,
        )
        assert_allclose(fitted.predict_proba(X_new), expected, rtol=1e-10)
        assert_allclose(stack.transform(X_new)[:, i], expected[:, 1], rtol=1e-10)
        # not the same as one model fit on all rows
        assert not np.allclose(expected, clone(est).fit(X, y).predict_proba(X_new))


# -- pandas input ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def frame_xy():
    """Numeric DataFrame (float and int columns, non-default index) and a binary target."""
    rng = np.random.RandomState(5)
    n = 100
    X = pd.DataFrame(
        {"age": rng.normal(40, 10, n), "income": rng.normal(0, 1, n),
         "visits": rng.randint(0, 5, n)},
        index=pd.RangeIndex(1000, 1000 + n),
    )
    y = ((X["income"] + (X["age"] - 40) / 10 + rng.normal(0, 0.5, n)) > 0).astype(int)
    return X, y.to_numpy()


@pytest.fixture(scope="module")
def categorical_xy():
    """A string-category column that decides most of the target."""
    rng = np.random.RandomState(6)
    n = 150
    colour = rng.choice(["red", "green", "blue"], n)
    X = pd.DataFrame({"size": rng.normal(size=n), "weight": rng.normal(size=n),
                      "colour": pd.Categorical(colour)})
    y = ((colour == "red") ^ (rng.uniform(size=n) < 0.05)).astype(int)
    return X, y


@pytest.mark.parametrize("refit", [True, False], ids=["refit", "fold-average"])
def test_dataframe_keeps_feature_names(frame_xy, refit):
    X, y = frame_xy
    stack = StackingClassifier([("lr", LogisticRegression())], cv=3, refit=refit).fit(X, y)
    assert_array_equal(stack.feature_names_in_, ["age", "income", "visits"])
    fitted = stack.estimators_[0]
    base_models = [fitted] if refit else fitted.estimators
    for model in base_models:  # the base estimators got the DataFrame itself
        assert_array_equal(model.feature_names_in_, ["age", "income", "visits"])


def _lgbm_saw_category(model):
    return model.booster_.pandas_categorical == [["blue", "green", "red"]]


def _xgb_saw_category(model):
    return model.get_booster().feature_types == ["float", "float", "c"]


@pytest.mark.parametrize("refit", [True, False], ids=["refit", "fold-average"])
@pytest.mark.parametrize(
    "estimator, saw_category",
    [
        pytest.param(LGBMClassifier(n_estimators=20, verbose=-1, random_state=0, n_jobs=1),
                     _lgbm_saw_category, id="lightgbm"),
        pytest.param(XGBClassifier(n_estimators=20, max_depth=3, enable_categorical=True,
                                   tree_method="hist", n_jobs=1),
                     _xgb_saw_category, id="xgboost"),
    ],
)
def test_category_column_reaches_boosters_untouched(categorical_xy, estimator, saw_category,
                                                     refit):
    X, y = categorical_xy
    with pytest.raises(ValueError):
        np.asarray(X, dtype=np.float64)  # a numpy conversion cannot carry the column
    stack = StackingClassifier([("gbm", estimator)], cv=3, refit=refit).fit(X, y)
    fitted = stack.estimators_[0]
    for model in [fitted] if refit else fitted.estimators:
        assert saw_category(model)
    assert stack.score(X, y) > 0.9
    assert isinstance(X["colour"].dtype, pd.CategoricalDtype)  # the caller's frame untouched


@pytest.fixture(scope="module")
def fitted_on_frame(frame_xy):
    X, y = frame_xy
    return StackingClassifier([("lr", LogisticRegression())], cv=3).fit(X, y)


@pytest.mark.parametrize(
    "change, names",
    [
        pytest.param(lambda X: X.drop(columns="income"), ["income"], id="missing-column"),
        pytest.param(lambda X: X.assign(height=1.0), ["height"], id="extra-column"),
        pytest.param(lambda X: X.rename(columns={"visits": "calls"}), ["visits", "calls"],
                     id="renamed-column"),
    ],
)
@pytest.mark.parametrize("method", ["predict", "predict_proba", "transform"])
def test_predict_with_other_columns_names_them(frame_xy, fitted_on_frame, change, names,
                                               method):
    X, _ = frame_xy
    with pytest.raises(ValueError) as excinfo:
        getattr(fitted_on_frame, method)(change(X))
    for name in names:
        assert name in str(excinfo.value)


# -- feature names and set_output ----------------------------------------------------------


def _binary(labels):
    def data():
        X, y = make_classification(n_samples=60, n_features=3, n_informative=2,
                                   n_redundant=0, random_state=1)
        return X, np.asarray(labels)[y]
    return data


def _iris_str():
    X, y = load_iris(return_X_y=True)
    return X, np.array(["zebra", "ant", "mole"])[y]


def _regression():
    return make_regression(n_samples=60, n_features=3, noise=1.0, random_state=1)


def _frame_binary():
    X, y = _binary([0, 1])()
    return pd.DataFrame(X, columns=["a", "b", "c"]), y


CLF = [("lr", make_pipeline(StandardScaler(), LogisticRegression())),
       ("tree", DecisionTreeClassifier(random_state=0))]
REG = [("ridge", Ridge()), ("tree", DecisionTreeRegressor(random_state=0))]


@pytest.mark.parametrize(
    "stack_cls, estimators, data, params, expected",
    [
        pytest.param(StackingClassifier, CLF, _binary([0, 1]), {}, ["lr__1", "tree__1"],
                     id="binary-int"),
        pytest.param(StackingClassifier, CLF, _binary(["no", "yes"]), {},
                     ["lr__yes", "tree__yes"], id="binary-str"),
        pytest.param(StackingClassifier, CLF, _iris_str, {},
                     ["lr__ant", "lr__mole", "lr__zebra",
                      "tree__ant", "tree__mole", "tree__zebra"], id="multiclass-str"),
        pytest.param(StackingClassifier, CLF, _iris_str, {"stack_method": "predict"},
                     ["lr", "tree"], id="multiclass-predict-method"),
        pytest.param(StackingRegressor, REG, _regression, {}, ["ridge", "tree"],
                     id="regression"),
        pytest.param(StackingRegressor, REG, _regression, {"passthrough": True},
                     ["ridge", "tree", "x0", "x1", "x2"], id="regression-passthrough-array"),
        pytest.param(StackingClassifier, CLF, _frame_binary, {"passthrough": True},
                     ["lr__1", "tree__1", "a", "b", "c"], id="binary-passthrough-frame"),
    ],
)
def test_get_feature_names_out(stack_cls, estimators, data, params, expected):
    X, y = data()
    stack = stack_cls(estimators, cv=3, **params).fit(X, y)
    names = stack.get_feature_names_out()
    assert names.tolist() == expected
    assert stack.transform(X).shape[1] == len(names) == stack.oof_.shape[1] + (
        X.shape[1] if params.get("passthrough") else 0)


@pytest.mark.parametrize("passthrough", [False, True], ids=["meta-only", "passthrough"])
@pytest.mark.parametrize("frame", [False, True], ids=["ndarray-X", "dataframe-X"])
def test_set_output_pandas(frame_xy, passthrough, frame):
    X, y = frame_xy
    X = X if frame else X.to_numpy()
    stack = StackingClassifier(CLF, cv=3, passthrough=passthrough).set_output(transform="pandas")
    out_fit = stack.fit_transform(X, y)
    out = stack.transform(X)
    names = stack.get_feature_names_out().tolist()
    for result in (out_fit, out):
        assert isinstance(result, pd.DataFrame)
        assert result.columns.tolist() == names
        if frame:
            assert result.index.equals(X.index)
    assert_allclose(out_fit[["lr__1", "tree__1"]].to_numpy(), stack.oof_)
    plain = clone(stack).set_output(transform="default").fit(X, y)
    assert_allclose(out.to_numpy(dtype=float), np.asarray(plain.transform(X), dtype=float))


def test_passthrough_dataframe_keeps_columns_after_meta_features(frame_xy):
    X, y = frame_xy
    stack = StackingClassifier(CLF, cv=3, passthrough=True).fit(X, y)
    for out, meta in [(stack.transform(X), None), (stack.fit_transform(X, y), "oof")]:
        assert isinstance(out, pd.DataFrame)
        assert out.columns.tolist() == ["lr__1", "tree__1", "age", "income", "visits"]
        assert out.index.equals(X.index)
        pd.testing.assert_frame_equal(out[["age", "income", "visits"]], X)  # values and dtypes
        if meta == "oof":
            assert_allclose(out[["lr__1", "tree__1"]].to_numpy(), stack.oof_)
    assert stack.final_estimator_.n_features_in_ == 5


def test_passthrough_dataframe_without_string_column_names(binary_xy):
    """pd.DataFrame(ndarray) has integer column names: passed through as x0, x1, ...

    scikit-learn stores no feature names for it and names the columns x0, x1, ... in
    get_feature_names_out; the final estimator sees the same names, and the same
    predictions as for the array.
    """
    X, y = binary_xy
    frame = pd.DataFrame(X, index=np.arange(len(y))[::-1])
    stack = StackingClassifier(CLF, cv=3, passthrough=True).fit(frame, y)
    names = stack.get_feature_names_out().tolist()
    reference = SkStackingClassifier(CLF, cv=3, passthrough=True).fit(frame, y)
    assert names[2:] == reference.get_feature_names_out().tolist()[2:] == [
        f"x{i}" for i in range(X.shape[1])]
    out = stack.transform(frame)
    assert out.columns.tolist() == names and out.index.equals(frame.index)
    assert_allclose(out.to_numpy()[:, 2:], X)
    assert stack.final_estimator_.feature_names_in_.tolist() == names
    on_array = StackingClassifier(CLF, cv=3, passthrough=True).fit(X, y)
    assert_allclose(stack.predict_proba(frame), on_array.predict_proba(X))
    as_pandas = stack.set_output(transform="pandas")
    assert as_pandas.fit_transform(frame, y).columns.tolist() == names


# -- fit_transform is out-of-fold; transform is a pure function of X ---------------------


@pytest.fixture(scope="module")
def noisy_regression():
    X, y = make_regression(n_samples=120, n_features=4, noise=30.0, random_state=3)
    return X, y


@pytest.fixture(scope="module")
def noisy_binary():
    return make_classification(n_samples=120, n_features=5, n_informative=3, flip_y=0.3,
                               random_state=3)


@pytest.mark.parametrize(
    "stack_cls, estimator, data",
    [
        pytest.param(StackingRegressor, KNeighborsRegressor(n_neighbors=1), "noisy_regression",
                     id="1nn-regressor"),
        pytest.param(StackingRegressor, DecisionTreeRegressor(random_state=0),
                     "noisy_regression", id="unpruned-tree-regressor"),
        pytest.param(StackingClassifier, KNeighborsClassifier(n_neighbors=1), "noisy_binary",
                     id="1nn-classifier"),
        pytest.param(StackingClassifier, DecisionTreeClassifier(random_state=0),
                     "noisy_binary", id="unpruned-tree-classifier"),
    ],
)
def test_fit_transform_is_out_of_fold_not_in_sample(request, stack_cls, estimator, data):
    X, y = request.getfixturevalue(data)
    stack = stack_cls([("copycat", estimator)], cv=5)
    oof = stack.fit_transform(X, y)
    in_sample = stack.transform(X)
    assert_array_equal(oof, stack.oof_)
    assert_allclose(in_sample[:, 0], y)  # the model copies its training labels in-sample
    assert not np.allclose(oof[:, 0], y)
    assert np.mean(np.abs(oof[:, 0] - y)) > 0.2 * np.mean(np.abs(y - y.mean()))


@pytest.mark.parametrize("refit", [True, False], ids=["refit", "fold-average"])
@pytest.mark.parametrize("passthrough", [False, True], ids=["meta-only", "passthrough"])
def test_transform_is_a_pure_function_of_x(noisy_binary, refit, passthrough):
    X, y = noisy_binary
    stack = StackingClassifier(
        [("knn", KNeighborsClassifier(n_neighbors=3)),
         ("rf", RandomForestClassifier(n_estimators=10, random_state=0))],
        cv=4, refit=refit, passthrough=passthrough,
    ).fit(X, y)
    first = stack.transform(X)
    assert_array_equal(stack.transform(X), first)
    for i in (0, 17, 119):
        assert_array_equal(stack.transform(X[i:i + 1])[0], first[i])
    reversed_rows = stack.transform(X[::-1])
    assert_array_equal(reversed_rows[::-1], first)
    assert not np.allclose(first[:, :2], stack.oof_)  # training rows are not special-cased
