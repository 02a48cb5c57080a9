"""Nested parameters, cloning, 'drop', grid and randomized search, multi-layer stacks."""

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.base import clone
from sklearn.ensemble import StackingClassifier as SklearnStacking
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from stackkit import StackingClassifier, StackingRegressor


@pytest.fixture(scope="module")
def clf_data():
    return make_classification(n_samples=240, n_features=8, n_informative=4, random_state=0)


@pytest.fixture(scope="module")
def reg_data():
    return make_regression(n_samples=200, n_features=6, noise=5.0, random_state=0)


def small_stack(**params):
    return StackingClassifier(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))],
        cv=3,
        **params,
    )


def test_get_params_exposes_estimators_and_their_params():
    params = small_stack().get_params(deep=True)
    assert isinstance(params["lr"], LogisticRegression)
    assert params["tree__max_depth"] == 3
    assert params["cv"] == 3
    assert "final_estimator" in params and params["final_estimator"] is None


def test_set_params_nested_and_replace():
    stack = small_stack().set_params(tree__max_depth=5, lr=LogisticRegression(C=0.1))
    assert stack.estimators[1][1].max_depth == 5
    assert stack.estimators[0][1].C == 0.1
    assert [name for name, _ in stack.estimators] == ["lr", "tree"]


def test_final_estimator_param_with_default_final_estimator(clf_data):
    """scikit-learn's own StackingClassifier crashes here: final_estimator is None."""
    X, y = clf_data
    stack = small_stack().set_params(final_estimator__C=0.01)
    assert isinstance(stack.final_estimator, LogisticRegression)
    assert stack.final_estimator.C == 0.01
    stack.fit(X, y)
    assert stack.final_estimator_.C == 0.01


def test_clone_keeps_params_and_drops_fit(clf_data):
    X, y = clf_data
    stack = small_stack(passthrough=True).fit(X, y)
    copy = clone(stack)
    assert copy.get_params(deep=False).keys() == stack.get_params(deep=False).keys()
    assert copy.passthrough is True
    assert not hasattr(copy, "estimators_")
    assert copy.estimators[0][1] is not stack.estimators[0][1]


def test_fit_does_not_modify_the_given_estimators(clf_data):
    X, y = clf_data
    lr = LogisticRegression()
    StackingClassifier([("lr", lr)], cv=3).fit(X, y)
    assert not hasattr(lr, "coef_")


def test_drop_leaves_estimator_out(clf_data):
    X, y = clf_data
    stack = small_stack().set_params(tree="drop").fit(X, y)
    assert list(stack.named_estimators_) == ["lr"]
    assert stack.oof_.shape == (len(y), 1)
    assert stack.get_feature_names_out().tolist() == ["lr__1"]


def test_grid_search_over_base_final_drop_and_passthrough(clf_data):
    X, y = clf_data
    grid = {
        "final_estimator__C": [0.1, 10.0],
        "tree": ["drop", DecisionTreeClassifier(max_depth=2, random_state=0)],
        "lr__C": [1.0],
        "passthrough": [False, True],
    }
    search = GridSearchCV(small_stack(), grid, cv=3, scoring="roc_auc").fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.final_estimator_.C in (0.1, 10.0)


def test_grid_search_swaps_a_whole_estimator(clf_data):
    X, y = clf_data
    grid = {"tree": [DecisionTreeClassifier(max_depth=2), KNeighborsClassifier(n_neighbors=7)]}
    search = GridSearchCV(small_stack(), grid, cv=2).fit(X, y)
    kinds = {type(p["tree"]).__name__ for p in search.cv_results_["params"]}
    assert kinds == {"DecisionTreeClassifier", "KNeighborsClassifier"}


def test_randomized_search_over_final_estimator(reg_data):
    X, y = reg_data
    stack = StackingRegressor([("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3))],
                              final_estimator=Ridge(), cv=3)
    search = RandomizedSearchCV(
        stack, {"final_estimator__alpha": loguniform(1e-3, 1e2), "ridge__alpha": [0.1, 1.0]},
        n_iter=4, cv=2, random_state=0,
    ).fit(X, y)
    assert len(set(search.cv_results_["param_final_estimator__alpha"])) == 4
    assert search.best_score_ > 0.5


def test_multi_layer_stack_as_final_estimator(clf_data):
    X, y = clf_data
    inner = StackingClassifier(
        [("lr", LogisticRegression()), ("knn", KNeighborsClassifier())], cv=3
    )
    outer = StackingClassifier(
        [("scaled_lr", make_pipeline(StandardScaler(), LogisticRegression())),
         ("tree", DecisionTreeClassifier(max_depth=4, random_state=0))],
        final_estimator=inner, cv=3,
    ).fit(X, y)
    assert isinstance(outer.final_estimator_, StackingClassifier)
    assert outer.final_estimator_.oof_.shape == (len(y), 2)
    assert outer.score(X, y) > 0.8
    assert outer.get_params()["final_estimator__knn__n_neighbors"] == 5


def test_cross_validate_in_pipeline_matches_scikit_learn(clf_data):
    """Same folds, same models: the scores equal scikit-learn's StackingClassifier's."""
    X, y = clf_data
    ours = make_pipeline(StandardScaler(), small_stack())
    theirs = make_pipeline(StandardScaler(), SklearnStacking(small_stack().estimators, cv=3))
    our_scores = cross_validate(ours, X, y, cv=3, scoring="roc_auc")["test_score"]
    their_scores = cross_validate(theirs, X, y, cv=3, scoring="roc_auc")["test_score"]
    np.testing.assert_allclose(our_scores, their_scores)
