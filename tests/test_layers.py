"""A second layer: a stack whose final estimator is a stack (``portfolio_stack(layers=2)``)."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

from stackkit import StackingClassifier, StackingRegressor
from stackkit._budget import RESERVE, Budget
from stackkit.presets import SECOND_LAYER_SHARE, SECOND_LAYER_SIZE, portfolio_stack


class SplitRecorder(KFold):
    """A KFold that remembers the test rows of every split it makes."""

    def split(self, X, y=None, groups=None):
        for train, test in super().split(X, y, groups):
            self.seen.append(tuple(test))
            yield train, test


def classification(n=240):
    return make_classification(n, 6, n_informative=4, random_state=0)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_two_layers_put_the_portfolio_s_first_models_on_the_first_layer_s_output(task):
    one, two = (portfolio_stack(task, layers=n, device="cpu") for n in (1, 2))
    inner = two.final_estimator
    assert two.passthrough and not one.passthrough
    assert [n for n, _ in two.estimators] == [n for n, _ in one.estimators]
    assert [n for n, _ in inner.estimators] == [n for n, _ in one.estimators[:SECOND_LAYER_SIZE]]
    assert type(inner) is type(two) and type(inner.final_estimator) is type(one.final_estimator)
    assert (inner.cv, inner.refit, inner.time_limit) == (two.cv, two.refit, None)


def test_the_second_layer_gets_its_share_of_the_time_limit():
    stack = portfolio_stack("binary", layers=2, time_limit=100, device="cpu")
    assert stack.time_limit == 100
    assert stack.final_estimator.time_limit == pytest.approx(100 * SECOND_LAYER_SHARE)


@pytest.mark.parametrize("layers", [0, 3, "2", True, None])
def test_layers_must_be_one_or_two(layers):
    with pytest.raises(ValueError, match="layers must be 1 or 2"):
        portfolio_stack("binary", layers=layers)


def test_both_layers_split_the_same_rows_into_the_same_folds():
    X, y = classification()
    outer_cv, inner_cv = (SplitRecorder(3, shuffle=True, random_state=0) for _ in range(2))
    outer_cv.seen, inner_cv.seen = [], []
    inner = StackingClassifier([("lr", LogisticRegression())], cv=inner_cv)
    stack = StackingClassifier([("tree", DecisionTreeClassifier(max_depth=2))], inner,
                               cv=outer_cv, passthrough=True).fit(X, y)
    # the fitted second layer is a clone, with a copy of its splitter
    assert len(outer_cv.seen) == 3
    assert stack.final_estimator_.cv.seen == outer_cv.seen
    # the second layer saw the first layer's out-of-fold column beside X
    assert stack.final_estimator_.n_features_in_ == X.shape[1] + 1


def test_groups_reach_a_second_layer_that_splits_by_them():
    X, y = classification()
    groups = np.arange(len(y)) % 24
    inner = StackingClassifier([("lr", LogisticRegression())], cv=GroupKFold(3))
    stack = StackingClassifier([("tree", DecisionTreeClassifier(max_depth=2))], inner,
                               cv=GroupKFold(3), passthrough=True).fit(X, y, groups=groups)
    for train, test in stack.final_estimator_.cv.split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])
    assert stack.final_estimator_.oof_.shape == (len(y), 1)


def test_groups_are_not_given_to_a_final_estimator_that_does_not_take_them():
    X, y = make_regression(120, 4, random_state=0)
    stack = StackingRegressor([("lin", LinearRegression())], LinearRegression(),
                              cv=GroupKFold(3)).fit(X, y, groups=np.arange(120) % 12)
    assert stack.final_estimator_.coef_.shape == (1,)


def test_the_first_layer_keeps_the_second_layer_s_time_free():
    clock = lambda: 1000.0  # noqa: E731
    plain = Budget(100, clock=clock)
    kept = Budget(100, clock=clock, final_seconds=30)
    assert plain.deadline == pytest.approx(1000 + 100 * (1 - RESERVE))
    assert kept.deadline == pytest.approx(plain.deadline - 30)


def test_a_stack_reads_its_final_estimator_s_time_limit_for_its_budget(monkeypatch):
    X, y = classification(120)
    seen = []
    real = Budget.__init__

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("final_seconds"))
        real(self, *args, **kwargs)

    monkeypatch.setattr(Budget, "__init__", spy)
    inner = StackingClassifier([("lr", LogisticRegression())], cv=StratifiedKFold(2),
                               time_limit=7)
    StackingClassifier([("tree", DecisionTreeClassifier(max_depth=2))], inner, cv=2,
                       passthrough=True, time_limit=60).fit(X, y)
    assert seen == [7.0, 0.0]  # the first layer keeps 7 s; the second has no final's limit


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_a_two_layer_portfolio_stack_fits_a_frame_with_categories(task):
    from test_portfolio import shrunk, small_table

    X, y = small_table(task)
    stack = portfolio_stack(task, layers=2, time_limit=120, device="cpu", n_jobs=1)
    first = shrunk(stack.estimators[:3])
    stack.set_params(estimators=first, final_estimator__estimators=shrunk(
        [(name, est) for name, est in portfolio_stack(task, device="cpu").estimators[:2]]))
    stack.fit(X, y)
    second = stack.final_estimator_
    # one out-of-fold column per first-layer model, then the original columns
    assert second.n_features_in_ == len(first) + X.shape[1]
    assert list(second.feature_names_in_[len(first):]) == list(X.columns)
    assert stack.predict(X).shape == (len(y),)
    assert not stack.dropped_ and not second.dropped_


def test_a_holdout_check_that_respects_groups_chooses_between_one_and_two_layers(tmp_path):
    """The README's recipe: a search over the layers with one split that keeps groups apart."""
    from sklearn import config_context
    from sklearn.model_selection import GridSearchCV, GroupShuffleSplit

    X, y = classification()
    groups = np.arange(len(y)) % 24
    with config_context(enable_metadata_routing=True):
        second = StackingClassifier([("lr", LogisticRegression())], cv=GroupKFold(3))
        second.set_fit_request(groups=True)
        stack = StackingClassifier([("tree", DecisionTreeClassifier(max_depth=2)),
                                    ("lr", LogisticRegression())], cv=GroupKFold(3),
                                   memory=str(tmp_path)).set_fit_request(groups=True)
        holdout = GroupShuffleSplit(n_splits=1, test_size=1 / 8, random_state=0)
        search = GridSearchCV(stack, [{"passthrough": [False]},
                                      {"passthrough": [True], "final_estimator": [second]}],
                              cv=holdout, scoring="roc_auc").fit(X, y, groups=groups)
    (train, test), = holdout.split(X, y, groups)
    assert not set(groups[train]) & set(groups[test])
    scores = search.cv_results_["split0_test_score"]
    assert search.best_index_ == int(np.argmax(scores))
    assert search.best_estimator_.passthrough == bool(search.best_index_)
