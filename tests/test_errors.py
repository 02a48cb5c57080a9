"""Bad input raises before any fold work, naming the estimator, parameter or column."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.compose import make_column_transformer
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from stackkit import FoldFitError, StackingClassifier, StackingRegressor, StackkitWarning


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Counts fit calls in a class attribute (shared by clones, single process)."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


class FailsOnSmallData(ClassifierMixin, BaseEstimator):
    """Fails whenever it is fit on fewer than ``min_rows`` rows (i.e. on folds)."""

    def __init__(self, min_rows=100):
        self.min_rows = min_rows

    def fit(self, X, y):
        if len(X) < self.min_rows:
            raise ArithmeticError(f"only {len(X)} rows")
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


class OddOutput(ClassifierMixin, BaseEstimator):
    """Answers ``value`` (NaN, inf) for rows whose first feature exceeds ``above``."""

    def __init__(self, value=np.nan, above=np.inf):
        self.value, self.above = value, above

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        proba = np.full((len(X), 2), 0.5)
        proba[np.asarray(X)[:, 0] > self.above] = self.value
        return proba


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=120, n_features=5, random_state=0)
    return X, y


@pytest.fixture(autouse=True)
def reset_counter():
    RecordingClassifier.fits = 0


BAD_SETUPS = [
    pytest.param(dict(estimators=[]), ValueError, "non-empty list", id="empty-list"),
    pytest.param(dict(estimators=[("a", LogisticRegression()), ("a", SVC())]), ValueError,
                 "'a' is used more than once", id="duplicate-name"),
    pytest.param(dict(estimators=[("", LogisticRegression())]), ValueError,
                 "empty or non-string name", id="empty-name"),
    pytest.param(dict(estimators=[("a__b", LogisticRegression())]), ValueError,
                 "must not contain '__'", id="dunder-name"),
    pytest.param(dict(estimators=[("cv", LogisticRegression())]), ValueError,
                 "clashes with a parameter", id="name-is-a-parameter"),
    pytest.param(dict(estimators=[("lr", "not an estimator")]), TypeError,
                 "estimator 'lr' must be a scikit-learn estimator", id="non-estimator"),
    pytest.param(dict(estimators=[("lr", "drop")]), ValueError, "all estimators are 'drop'",
                 id="all-dropped"),
    pytest.param(dict(estimators=[("svc", SVC())], stack_method="predict_proba"), ValueError,
                 "estimator 'svc' .SVC. has no predict_proba", id="method-missing"),
    pytest.param(dict(estimators=[("svc", SVC())], stack_method={"svc": "predict_log"}),
                 ValueError, "stack_method for estimator 'svc' must be", id="method-unknown"),
    pytest.param(dict(estimators=[("svc", SVC())], stack_method={"nope": "predict"}),
                 ValueError, r"unknown estimators \['nope'\]", id="method-dict-unknown-name"),
    pytest.param(dict(estimators=[("lr", LogisticRegression())],
                      final_estimator=LinearRegression()),
                 ValueError, "final_estimator must be a classifier", id="final-is-regressor"),
    pytest.param(dict(estimators=[("lr", LogisticRegression())], final_estimator="lr"),
                 TypeError, "final_estimator must be a scikit-learn estimator", id="final-string"),
    pytest.param(dict(estimators=[("lr", LogisticRegression())], passthrough="yes"), TypeError,
                 "passthrough must be True or False", id="passthrough-not-bool"),
    pytest.param(dict(estimators=[("lr", LogisticRegression())], final_estimator=PCA()),
                 TypeError, "final_estimator must have a predict method.*got PCA",
                 id="final-without-predict"),
    pytest.param(dict(estimators=[("lr", LogisticRegression())], n_jobs="2"), TypeError,
                 r"n_jobs must be an int .* or None; got str: '2'", id="n-jobs-str"),
    pytest.param(dict(estimators=[("lr", LogisticRegression())], n_jobs=2.0), TypeError,
                 r"n_jobs must be an int .*; got float: 2.0", id="n-jobs-float"),
    pytest.param(dict(estimators=[("lr", LogisticRegression())], n_jobs=True), TypeError,
                 r"n_jobs must be an int .*; got bool: True", id="n-jobs-bool"),
    pytest.param(dict(estimators=[("lr", LogisticRegression())], n_jobs=0), ValueError,
                 "n_jobs must not be 0", id="n-jobs-zero"),
    *[pytest.param(dict(estimators=[("lr", LogisticRegression())], cv=cv), error,
                   match, id=f"cv-{name}") for name, cv, error, match in [
        ("float", 2.5, TypeError, r"cv must be an int .*; got float: 2.5"),
        ("str", "abc", TypeError, r"cv must be an int .*; got str: 'abc'"),
        ("bool", True, TypeError, "cv must be an int number of folds, not a bool"),
        ("one-fold", 1, ValueError, "cv must be at least 2 folds; got 1"),
        ("triple", [(np.arange(60), np.arange(60, 120), 1)], ValueError,
         r"cv\[0\] must be a \(train, test\) pair of index arrays; got a tuple of 3 items"),
        ("list-of-ints", [1, 2], ValueError, r"cv\[0\] must be a \(train, test\) pair.*got int: 1"),
        ("list-of-str", ["ab"], ValueError, r"cv\[0\] must be a .*pair.*got str: 'ab'"),
        ("ragged", [([[0, 1], [2]], [3])], ValueError,
         r"cv\[0\] train indices must be a 1-D array .*got a ragged nested sequence"),
        ("float-rows", [(np.arange(60.0), np.arange(60, 120))], ValueError,
         r"cv\[0\] train indices .*got a 1-D array of float64"),
        ("2-d-rows", [(np.arange(60), np.arange(60, 120).reshape(2, 30))], ValueError,
         r"cv\[0\] test indices .*got a 2-D array of int"),
        ("garbage-generator", (g for g in [(np.arange(60), np.arange(60, 120)), "x"]),
         ValueError, r"cv\[1\] must be a \(train, test\) pair.*got str: 'x'"),
    ]],
]


@pytest.mark.parametrize("params, error, match", BAD_SETUPS)
def test_bad_setup_raises_before_any_fit(data, params, error, match):
    X, y = data
    if params["estimators"] and params["estimators"][0][1] != "drop":
        params = {**params, "estimators": [*params["estimators"], ("rec", RecordingClassifier())]}
    with pytest.raises(error, match=match):
        StackingClassifier(**{"cv": 3, **params}).fit(X, y)
    assert RecordingClassifier.fits == 0


@pytest.mark.parametrize("make_estimators, match", [
    (lambda ests: (pair for pair in ests), "got generator"),
    (lambda ests: iter(ests), "got list_iterator"),
    (lambda ests: dict(ests), r"got dict: .*; for a dict, pass list\(estimators.items\(\)\)"),
    (lambda ests: "rec", "got str: 'rec'"),
    (lambda ests: None, "got NoneType: None"),
], ids=["generator", "iterator", "dict", "str", "none"])
def test_estimators_not_a_list_is_a_type_error(data, make_estimators, match):
    X, y = data
    estimators = make_estimators([("rec", RecordingClassifier())])
    stack = StackingClassifier(estimators, cv=3)
    repr(stack)  # get_params must not read a generator before fit does
    with pytest.raises(TypeError, match=f"estimators must be a list of .name, estimator. "
                                        f"pairs; {match}"):
        stack.fit(X, y)
    assert RecordingClassifier.fits == 0


def test_estimators_as_tuple_of_pairs_and_list_cv_with_masks_work(data):
    X, y = data
    test = np.arange(len(y)) % 3 == 0
    cv = [(np.flatnonzero(~test).tolist(), test), (test, ~test)]
    stack = StackingClassifier((("rec", RecordingClassifier()),), cv=cv).fit(X, y)
    assert [len(rows) for rows in stack.oof_folds_] == [40, 80]


def test_passthrough_column_named_like_a_meta_feature_raises_before_any_fit(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "rec__1", "c", "d", "e"])
    stack = StackingClassifier([("rec", RecordingClassifier())], cv=3, passthrough=True)
    with pytest.raises(ValueError, match="passthrough=True, but input column 'rec__1' has the "
                                         "name of a meta-feature of estimator 'rec'"):
        stack.fit(frame, y)
    assert RecordingClassifier.fits == 0
    stack.set_params(passthrough=False).fit(frame, y)  # no clash without passthrough
    assert stack.get_feature_names_out().tolist() == ["rec__1"]


def test_fold_missing_a_class_raises_before_any_fit(data):
    X, y = data
    y = y.copy()
    y[:3] = 2  # a rare third class, all in the first fold's test rows
    with pytest.raises(ValueError, match=r"fold 1/3 has no rows of class \[np.int64\(2\)\]|"
                                         r"fold 1/3 has no rows of class \[2\]"):
        StackingClassifier([("rec", RecordingClassifier())], cv=KFold(3)).fit(X, y)
    assert RecordingClassifier.fits == 0


def test_nan_rejected_for_estimator_that_cannot_take_it(data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame.loc[5, "f3"] = np.nan
    stack = StackingClassifier([("lr", LogisticRegression()), ("rec", RecordingClassifier())],
                               cv=3)
    with pytest.raises(ValueError, match=r"NaN in columns \['f3'\].*estimator 'lr'"):
        stack.fit(frame, y)
    assert RecordingClassifier.fits == 0


def test_nan_accepted_when_every_estimator_takes_it(data):
    X, y = data
    X = X.copy()
    X[::7, 0] = np.nan
    stack = StackingClassifier([("hgb", HistGradientBoostingClassifier(max_iter=10))], cv=3)
    assert stack.fit(X, y).predict(X).shape == y.shape


@pytest.mark.parametrize("estimator", [
    make_pipeline(SimpleImputer(), LogisticRegression()),
    make_pipeline(make_column_transformer((SimpleImputer(), [0]), remainder="passthrough"),
                  LogisticRegression()),
], ids=["imputer-first", "column-transformer-first"])
def test_nan_accepted_by_pipeline_that_imputes(data, estimator):
    X, y = data
    X = X.copy()
    X[::9, 0] = np.nan
    stack = StackingClassifier([("lr", estimator)], cv=3).fit(X, y)
    assert stack.predict(X).shape == y.shape


def test_predict_with_other_columns_names_them(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d", "e"])
    stack = StackingClassifier([("lr", LogisticRegression())], cv=3).fit(frame, y)
    with pytest.raises(ValueError, match="(?s)unseen at fit time.*- z.*missing.*- e"):
        stack.predict(frame.rename(columns={"e": "z"}))


def test_sample_weight_with_estimator_that_ignores_it(data):
    X, y = data
    stack = StackingClassifier([("rec", RecordingClassifier()), ("knn", KNeighborsClassifier())],
                               cv=3)
    with pytest.raises(TypeError, match="estimator 'knn' .KNeighborsClassifier. does not accept"):
        stack.fit(X, y, sample_weight=np.ones(len(y)))
    assert RecordingClassifier.fits == 0


@pytest.mark.parametrize("weights, match", [
    (np.ones(3), r"shape \(120,\)"),
    (-np.ones(120), "non-negative"),
    (np.zeros(120), "non-zero"),
], ids=["wrong-length", "negative", "all-zero"])
def test_bad_sample_weight(data, weights, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        StackingClassifier([("rec", RecordingClassifier())], cv=3).fit(X, y, sample_weight=weights)


def test_single_class_target(data):
    X, _ = data
    with pytest.raises(ValueError, match="only one class"):
        StackingClassifier([("lr", LogisticRegression())]).fit(X, np.zeros(len(X)))


def test_regressor_rejects_proba_method():
    X = np.random.RandomState(0).normal(size=(30, 2))
    with pytest.raises(ValueError, match="must be 'auto' or one of \\['predict'\\]"):
        StackingRegressor([("lin", LinearRegression())], stack_method="predict_proba").fit(X, X[:, 0])


def test_failing_fold_raises_fold_fit_error_with_cause(data):
    X, y = data
    stack = StackingClassifier([("fragile", FailsOnSmallData(min_rows=100)),
                                ("tree", DecisionTreeClassifier())], cv=3)
    with pytest.raises(FoldFitError, match=r"estimator 'fragile' .* failed on fold \d/3 "
                                           r"\(80 training rows\): ArithmeticError") as info:
        stack.fit(X, y)
    assert isinstance(info.value.__cause__, ArithmeticError)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_failed_refit_leaves_no_fitted_state(data, n_jobs):
    X, y = data
    stack = StackingClassifier([("fragile", FailsOnSmallData(min_rows=50))], cv=3, n_jobs=n_jobs)
    stack.fit(X, y)
    assert hasattr(stack, "final_estimator_")
    stack.set_params(fragile__min_rows=100)
    with pytest.raises(FoldFitError):
        stack.fit(X, y)
    fitted = [name for name in vars(stack) if name.endswith("_") and not name.startswith("_")]
    assert fitted == []
    with pytest.raises(Exception, match="not fitted"):
        stack.predict(X)


@pytest.mark.parametrize("value, found", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_base_model_returning_nan_or_inf_is_named_at_fit(data, value, found):
    X, y = data
    odd = OddOutput(value=value, above=np.sort(X[:, 0])[-5])  # the 4 largest rows
    stack = StackingClassifier([("lr", LogisticRegression()), ("odd", odd)], cv=KFold(3))
    with pytest.raises(FoldFitError, match=rf"estimator 'odd' .OddOutput. failed on fold \d/3 "
                                           rf".*predict_proba returned {found} in \d of 40 rows"):
        stack.fit(X, y)
    with pytest.warns(StackkitWarning, match=f"'odd'.*returned {found}.*it is dropped"):
        stack.set_params(on_error="warn").fit(X, y)
    assert list(stack.named_estimators_) == ["lr"]


@pytest.mark.parametrize("refit", [True, False])
def test_base_model_returning_nan_at_predict_is_named(data, refit):
    X, y = data
    odd = OddOutput(above=X[:, 0].max())  # never in training, on a new extreme row
    stack = StackingClassifier([("lr", LogisticRegression()), ("odd", odd)], cv=3,
                               refit=refit).fit(X, y)
    new = X[:10].copy()
    new[3, 0] = X[:, 0].max() + 1
    with pytest.raises(ValueError, match="base estimator 'odd': predict_proba returned NaN "
                                         "in 1 of 10 rows"):
        stack.predict(new)


def test_method_the_final_estimator_lacks_chains_its_own_error(data):
    """As scikit-learn's stacks: the final estimator's AttributeError is the cause."""
    X, y = data
    stack = StackingClassifier([("lr", LogisticRegression())],
                               final_estimator=DecisionTreeClassifier(), cv=2)
    for fitted in (False, True):
        with pytest.raises(AttributeError, match="has no attribute 'decision_function'") as info:
            stack.decision_function(X)
        assert isinstance(info.value.__cause__, AttributeError)
        assert "'DecisionTreeClassifier' object has no attribute" in str(info.value.__cause__)
        if not fitted:
            stack.fit(X, y)
