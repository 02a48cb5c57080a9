"""The split plan: which folds the base estimators see, and how out-of-fold rows are assembled.

Most tests use a recording base estimator fit with ``refit=False``: ``estimators_[i]`` is
then a ``FoldAverage`` whose ``estimators`` are the fold models in fold order, and each
fold model remembers the rows it was trained on and the rows it first predicted (column 0
of ``X`` holds the row number).
"""

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedKFold,
    TimeSeriesSplit,
)
from sklearn.tree import DecisionTreeRegressor

from stackkit import StackingClassifier, StackingRegressor, StackkitWarning

# -- test doubles ----------------------------------------------------------------------


class _Recorder(BaseEstimator):
    """Remembers its training rows and the rows of its first prediction (X[:, 0] = row id)."""

    def fit(self, X, y):
        self.train_rows_ = np.asarray(X)[:, 0].astype(int)
        self.train_y_ = np.asarray(y)
        return self

    def _remember_test_rows(self, X):
        if not hasattr(self, "test_rows_"):
            self.test_rows_ = np.asarray(X)[:, 0].astype(int)


class RecordingClassifier(ClassifierMixin, _Recorder):
    def fit(self, X, y):
        super().fit(X, y)
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        self._remember_test_rows(X)
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


class RecordingRegressor(RegressorMixin, _Recorder):
    def predict(self, X):
        self._remember_test_rows(X)
        return np.full(len(X), self.train_y_.mean())


class FitForbidden(ClassifierMixin, BaseEstimator):
    """Counts fit calls (class attribute, single process) and fails if fit at all."""

    calls = 0

    def fit(self, X, y):
        type(self).calls += 1
        raise AssertionError("no fold may be fit before the split plan is validated")

    def predict_proba(self, X):  # pragma: no cover - never reached
        raise AssertionError("never fitted")


def recorded_folds(stack, name):
    """(train_rows, test_rows) per fold, sorted, from a ``refit=False`` stack."""
    return [
        (np.sort(model.train_rows_), np.sort(model.test_rows_))
        for model in stack.named_estimators_[name].estimators
    ]


def sorted_folds(folds):
    return [(np.sort(train), np.sort(test)) for train, test in folds]


def assert_same_folds(actual, expected):
    assert len(actual) == len(expected)
    for (train, test), (exp_train, exp_test) in zip(actual, expected):
        assert_array_equal(train, exp_train)
        assert_array_equal(test, exp_test)


# -- data ----------------------------------------------------------------------------


def id_features(n_rows, n_noise=2, seed=0):
    """X whose column 0 is the row number, followed by seeded noise columns."""
    rng = np.random.RandomState(seed)
    return np.column_stack([np.arange(n_rows), rng.normal(size=(n_rows, n_noise))])


@pytest.fixture
def sorted_labels():
    """90 rows, imbalanced classes a/b/c in sorted blocks: KFold would put one class per fold."""
    y = np.array(["a"] * 45 + ["b"] * 27 + ["c"] * 18)
    return id_features(len(y)), y


@pytest.fixture
def regression_rows():
    rng = np.random.RandomState(1)
    X = id_features(60, seed=1)
    return X, X[:, 1] * 3 + rng.normal(size=60)


@pytest.fixture
def regression_data():
    rng = np.random.RandomState(2)
    X = rng.normal(size=(80, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(scale=0.5, size=80)
    return X, y


@pytest.fixture
def binary_data():
    rng = np.random.RandomState(3)
    X = rng.normal(size=(90, 4))
    y = (X[:, 0] + X[:, 1] + rng.normal(scale=0.8, size=90) > 0).astype(int)
    return X, y


# -- int cv, splitter objects, iterables ------------------------------------------------


def test_int_cv_is_stratified_for_classifiers(sorted_labels):
    X, y = sorted_labels
    stack = StackingClassifier([("rec", RecordingClassifier())], cv=5, refit=False).fit(X, y)
    folds = recorded_folds(stack, "rec")
    assert_same_folds(folds, sorted_folds(StratifiedKFold(5).split(X, y)))
    overall = np.array([45, 27, 18]) / 5
    for _, test in folds:
        per_class = np.array([np.sum(y[test] == c) for c in "abc"])
        assert np.all(np.abs(per_class - overall) < 1), per_class


def test_int_cv_is_unshuffled_kfold_for_regressors(regression_rows):
    X, y = regression_rows
    stack = StackingRegressor([("rec", RecordingRegressor())], cv=5, refit=False).fit(X, y)
    folds = recorded_folds(stack, "rec")
    assert_same_folds(folds, sorted_folds(KFold(5).split(X)))
    for k, (_, test) in enumerate(folds):
        assert_array_equal(test, np.arange(12 * k, 12 * (k + 1)))


def test_int_cv_is_unshuffled_kfold_for_multilabel_targets():
    X = id_features(60)
    Y = np.column_stack([np.arange(60) % 2, np.arange(60) % 3 == 0]).astype(int)
    stack = StackingClassifier([("rec", RecordingClassifier())], cv=3, refit=False).fit(X, Y)
    wrappers = stack.named_estimators_["rec"].estimators  # MultiOutputClassifier per fold
    folds = [(np.sort(w.estimators_[0].train_rows_), np.sort(w.estimators_[0].test_rows_))
             for w in wrappers]
    assert_same_folds(folds, sorted_folds(KFold(3).split(X)))


def _splitter():
    return KFold(4, shuffle=True, random_state=3)


@pytest.mark.parametrize(
    "make_cv",
    [
        pytest.param(lambda X: _splitter(), id="splitter-object"),
        pytest.param(lambda X: list(_splitter().split(X)), id="list-of-train-test"),
        pytest.param(lambda X: (fold for fold in _splitter().split(X)), id="generator"),
    ],
)
def test_cv_forms_give_exactly_their_folds(regression_rows, make_cv):
    X, y = regression_rows
    stack = StackingRegressor([("rec", RecordingRegressor())], cv=make_cv(X), refit=False)
    stack.fit(X, y)
    assert_same_folds(recorded_folds(stack, "rec"), sorted_folds(_splitter().split(X)))


def test_group_kfold_never_splits_a_group(regression_rows):
    X, y = regression_rows
    groups = np.random.RandomState(4).randint(0, 12, size=len(y))
    stack = StackingRegressor([("rec", RecordingRegressor())], cv=GroupKFold(3), refit=False)
    stack.fit(X, y, groups=groups)
    folds = recorded_folds(stack, "rec")
    assert_same_folds(folds, sorted_folds(GroupKFold(3).split(X, y, groups)))
    for train, test in folds:
        assert set(groups[train]).isdisjoint(groups[test])
    assert_array_equal(np.sort(np.concatenate([test for _, test in folds])), np.arange(len(y)))


@pytest.mark.parametrize(
    "cv",
    [
        pytest.param(KFold(3, shuffle=True, random_state=None), id="kfold-shuffle-rs-none"),
        pytest.param(StratifiedKFold(3, shuffle=True, random_state=0), id="skfold-shuffle-rs-0"),
        pytest.param(RepeatedStratifiedKFold(n_splits=2, n_repeats=2, random_state=None),
                     id="repeated-skfold-rs-none"),
    ],
)
def test_user_cv_is_not_mutated(sorted_labels, cv):
    X, y = sorted_labels
    before, before_repr = copy.deepcopy(vars(cv)), repr(cv)
    StackingClassifier([("rec", RecordingClassifier())], cv=cv).fit(X, y)
    assert vars(cv) == before
    assert repr(cv) == before_repr


@pytest.mark.parametrize("n_jobs", [None, 2], ids=["sequential", "two-jobs"])
def test_every_estimator_sees_the_same_random_folds(sorted_labels, n_jobs):
    """With shuffle=True and random_state=None each split() call differs: it must run once."""
    X, y = sorted_labels
    cv = KFold(5, shuffle=True, random_state=None)
    stack = StackingClassifier(
        [("a", RecordingClassifier()), ("b", RecordingClassifier()), ("c", RecordingClassifier())],
        cv=cv, refit=False, n_jobs=n_jobs,
    ).fit(X, y)
    folds_a = recorded_folds(stack, "a")
    assert_same_folds(recorded_folds(stack, "b"), folds_a)
    assert_same_folds(recorded_folds(stack, "c"), folds_a)
    tested = np.sort(np.concatenate([test for _, test in folds_a]))
    assert_array_equal(tested, np.arange(len(y)))  # still a partition
    assert not all(np.array_equal(test, np.arange(18 * k, 18 * (k + 1)))
                   for k, (_, test) in enumerate(folds_a))  # really shuffled


# -- repeated and forward-only splits ---------------------------------------------------


def manual_oof(estimator, X, y, cv, column):
    """Mean over every fold that tests a row of a fresh clone's prediction for it."""
    total, counts = np.zeros(len(y)), np.zeros(len(y))
    for train, test in cv.split(X, y):
        model = clone(estimator).fit(X[train], y[train])
        pred = column(model, X[test])
        total[test] += pred
        counts[test] += 1
    assert np.all(counts == counts[0]) and counts[0] > 1
    return total / counts


def first_repeat_oof(estimator, X, y, cv, column, n_splits):
    oof = np.zeros(len(y))
    for train, test in list(cv.split(X, y))[:n_splits]:
        oof[test] = column(clone(estimator).fit(X[train], y[train]), X[test])
    return oof


def _predict(model, X):
    return model.predict(X)


def _proba1(model, X):
    return model.predict_proba(X)[:, 1]


@pytest.mark.parametrize(
    "stack_cls, estimator, cv, column, data",
    [
        pytest.param(StackingRegressor, Ridge(alpha=1.0),
                     RepeatedKFold(n_splits=3, n_repeats=3, random_state=0), _predict,
                     "regression_data", id="repeated-kfold-ridge"),
        pytest.param(StackingRegressor, DecisionTreeRegressor(max_depth=3, random_state=0),
                     RepeatedKFold(n_splits=3, n_repeats=2, random_state=1), _predict,
                     "regression_data", id="repeated-kfold-tree"),
        pytest.param(StackingClassifier, LogisticRegression(),
                     RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0), _proba1,
                     "binary_data", id="repeated-stratified-logreg"),
    ],
)
def test_repeated_splits_average_oof_over_repeats(request, stack_cls, estimator, cv, column,
                                                   data):
    X, y = request.getfixturevalue(data)
    stack = stack_cls([("est", estimator)], cv=cv).fit(X, y)
    expected = manual_oof(estimator, X, y, cv, column)
    assert_allclose(stack.oof_[:, 0], expected, rtol=1e-10, atol=1e-12)
    one_repeat = first_repeat_oof(estimator, X, y, cv, column, cv.cvargs["n_splits"])
    assert not np.allclose(stack.oof_[:, 0], one_repeat)
    assert (stack.task_log_["fold"] != "full").sum() == cv.get_n_splits()


@pytest.mark.parametrize("refit", [True, False], ids=["refit", "fold-average"])
def test_time_series_split_leaves_untested_rows_out(regression_data, refit):
    X, y = regression_data  # 80 rows; TimeSeriesSplit(3) tests the last 60 in blocks of 20
    stack = StackingRegressor(
        [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3, random_state=0))],
        final_estimator=LinearRegression(), cv=TimeSeriesSplit(n_splits=3), refit=refit,
    )
    with pytest.warns(StackkitWarning, match=r"\b20 of 80 rows\b"):
        stack.fit(X, y)
    assert np.isnan(stack.oof_[:20]).all()
    assert np.isfinite(stack.oof_[20:]).all()
    expected_final = LinearRegression().fit(stack.oof_[20:], y[20:])
    assert stack.final_estimator_.n_features_in_ == 2
    assert_allclose(stack.final_estimator_.coef_, expected_final.coef_, rtol=1e-10)
    assert_allclose(stack.final_estimator_.intercept_, expected_final.intercept_, rtol=1e-10)
    prediction = stack.predict(X)
    assert prediction.shape == (80,) and np.isfinite(prediction).all()
    assert_allclose(prediction, expected_final.predict(stack.transform(X)), rtol=1e-10)


def test_time_series_warning_points_at_the_callers_line(regression_data):
    X, y = regression_data
    stack = StackingRegressor([("ridge", Ridge())], cv=TimeSeriesSplit(n_splits=3))
    with pytest.warns(StackkitWarning) as record:
        stack.fit(X, y)
    assert [w.filename for w in record] == [__file__]


# -- a training fold without some class --------------------------------------------------


def _abc_labels():
    return np.array(list("abc") * 10)


def _folds_without_c_in_training_fold_2(y):
    """A partition whose second test fold holds every "c" row."""
    rows = np.arange(len(y))
    c_rows, other = rows[y == "c"], rows[y != "c"]
    tests = [other[:10], c_rows, other[10:]]
    return [(np.setdiff1d(rows, test), test) for test in tests]


@pytest.mark.parametrize(
    "y, make_cv, match",
    [
        pytest.param(_abc_labels(), _folds_without_c_in_training_fold_2,
                     r"fold 2/3.*\bc\b", id="list-cv-fold-2-lacks-str-class"),
        pytest.param(np.repeat(["a", "b", "c"], 10), lambda y: KFold(3),
                     r"fold 1/3.*\ba\b", id="kfold-on-sorted-str-labels"),
        pytest.param(np.repeat([5, 7, 9], 10), lambda y: KFold(3),
                     r"fold 1/3.*\b5\b", id="kfold-on-sorted-int-labels"),
        pytest.param(np.column_stack([np.arange(30) % 2, (np.arange(30) < 10).astype(int)]),
                     lambda y: KFold(3), r"fold 1/3.*\b1\b.*label column 1",
                     id="multilabel-column-1"),
    ],
)
def test_fold_missing_a_class_raises_before_any_fit(y, make_cv, match):
    X = id_features(len(y))
    FitForbidden.calls = 0
    stack = StackingClassifier([("never", FitForbidden())], cv=make_cv(y))
    with pytest.raises(ValueError, match=match):
        stack.fit(X, y)
    assert FitForbidden.calls == 0
    assert not hasattr(stack, "estimators_")


@pytest.mark.parametrize(
    "y, make_cv",
    [
        pytest.param(_abc_labels(), _folds_without_c_in_training_fold_2, id="str-labels"),
        pytest.param(np.repeat([5, 7, 9], 10), lambda y: KFold(3), id="int-labels"),
    ],
)
def test_fold_missing_a_class_message_shows_plain_labels(y, make_cv):
    """The class is written as the user wrote it: 'c' or 5, not np.str_('c') / np.int64(5)."""
    X = id_features(len(y))
    with pytest.raises(ValueError) as excinfo:
        StackingClassifier([("never", FitForbidden())], cv=make_cv(y)).fit(X, y)
    assert "np." not in str(excinfo.value)
