"""stackkit.report: the leaderboard's numbers are the ones a user would compute by hand."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.datasets import (make_classification, make_multilabel_classification,
                              make_regression)
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier
from sklearn.metrics import accuracy_score, f1_score, r2_score, roc_auc_score
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsRegressor
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from stackkit import StackingClassifier, StackingRegressor, report
from stackkit.exceptions import StackkitWarning
from stackkit.meta import BlendClassifier


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=400, n_features=8, n_informative=4, random_state=0)
    return X, np.where(y == 1, "yes", "no")


@pytest.fixture(scope="module")
def fitted(binary):
    X, y = binary
    return StackingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB()),
                               ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))],
                              cv=4).fit(X, y)


def test_base_rows_are_their_oof_scores(fitted, binary):
    _, y = binary
    board = report.leaderboard(fitted)
    assert board.index.tolist() == ["lr", "nb", "tree", "stack"]
    assert board.kind.tolist() == ["base model"] * 3 + ["stack"]
    truth = (y == "yes").astype(int)
    for i, name in enumerate(["lr", "nb", "tree"]):
        predicted = (fitted.oof_[:, i] > 0.5).astype(int)
        assert board.loc[name, "score"] == pytest.approx(accuracy_score(truth, predicted))
        per_fold = [accuracy_score(truth[rows], predicted[rows]) for rows in fitted.oof_folds_]
        assert board.loc[name, "fold_mean"] == pytest.approx(np.mean(per_fold))
        assert board.loc[name, "fold_std"] == pytest.approx(np.std(per_fold))
        log = fitted.task_log_[fitted.task_log_.estimator == name]
        assert board.loc[name, "fit_time"] == pytest.approx(log.fit_time.sum())
    np.testing.assert_allclose(board.weight[:3], fitted.final_estimator_.coef_[0])


def test_any_scorer(fitted, binary):
    _, y = binary
    board = report.leaderboard(fitted, scoring="roc_auc")
    assert board.loc["nb", "score"] == pytest.approx(roc_auc_score(y == "yes", fitted.oof_[:, 1]))


def test_stack_row_is_scored_on_rows_its_final_estimator_did_not_see(fitted, binary):
    _, y = binary
    truth = (y == "yes").astype(int)
    predicted = np.empty(len(y), dtype=int)
    for rows in fitted.oof_folds_:
        train = np.setdiff1d(np.arange(len(y)), rows)
        final = clone(fitted.final_estimator_).fit(fitted.oof_[train], truth[train])
        predicted[rows] = final.predict(fitted.oof_[rows])
    board = report.leaderboard(fitted)
    assert board.loc["stack", "estimate"] == "meta-cv"
    assert board.loc["stack", "score"] == pytest.approx(accuracy_score(truth, predicted))
    in_sample = accuracy_score(truth, fitted.final_estimator_.predict(fitted.oof_))
    assert board.loc["stack", "score"] <= in_sample


def test_nested_estimate_cross_validates_the_whole_stack(fitted, binary):
    X, y = binary
    board = report.leaderboard(fitted, nested=True, X=X, y=y, cv=3)
    assert board.loc["stack", "estimate"] == "nested"
    assert 0.5 < board.loc["stack", "score"] <= 1.0 and board.loc["stack", "fold_std"] >= 0
    with pytest.raises(ValueError, match="nested=True.* pass X= and y="):
        report.leaderboard(fitted, nested=True)


def test_meta_learner_weights_and_multiclass():
    X, y = make_classification(n_samples=300, n_features=8, n_informative=4, n_classes=3,
                               random_state=0)
    stack = StackingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())],
                               BlendClassifier(), cv=3).fit(X, y)
    board = report.leaderboard(stack, scoring="neg_log_loss")
    np.testing.assert_allclose(board.weight[:2], stack.final_estimator_.weights_)
    assert (board.score[:2] < 0).all() and not np.isnan(board.loc["stack", "score"])


def test_decision_function_and_regression_rows():
    X, y = make_classification(n_samples=300, n_features=8, random_state=1)
    stack = StackingClassifier([("svc", LinearSVC()), ("nb", GaussianNB())], cv=3).fit(X, y)
    predicted = (stack.oof_[:, 0] > 0).astype(int)
    assert report.leaderboard(stack).loc["svc", "score"] == pytest.approx(accuracy_score(y, predicted))
    X, y = make_regression(n_samples=300, n_features=5, noise=10.0, random_state=0)
    stack = StackingRegressor([("ridge", Ridge()), ("knn", KNeighborsRegressor())], cv=3).fit(X, y)
    board = report.leaderboard(stack)
    assert board.loc["ridge", "score"] == pytest.approx(r2_score(y, stack.oof_[:, 0]))


class Broken(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("broken on purpose")

    def predict(self, X):
        raise AssertionError("never fitted")


def test_dropped_models_are_listed_with_their_error():
    X, y = make_regression(n_samples=100, n_features=4, random_state=0)
    stack = StackingRegressor([("ridge", Ridge()), ("broken", Broken())], cv=3, on_error="warn")
    with pytest.warns(StackkitWarning):
        stack.fit(X, y)
    board = report.leaderboard(stack)
    assert board.loc["broken", "kind"] == "dropped"
    assert "broken on purpose" in board.loc["broken", "note"]
    assert np.isnan(board.loc["broken", "score"])


def test_passthrough_stack_row_needs_x(binary):
    X, y = binary
    stack = StackingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())], cv=3,
                               passthrough=True).fit(X, y)
    assert "pass X=" in report.leaderboard(stack).loc["stack", "note"]
    assert not np.isnan(report.leaderboard(stack, X=X).loc["stack", "score"])


@pytest.fixture(scope="module")
def multilabel():
    X, Y = make_multilabel_classification(n_samples=150, n_features=6, n_classes=3,
                                          random_state=0)
    stack = StackingClassifier([("lr", LogisticRegression()), ("ridge", RidgeClassifier()),
                                ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))],
                               cv=3, stack_method={"ridge": "predict"}).fit(X, Y)
    assert stack.stack_method_ == ["predict_proba", "predict", "predict_proba"]
    return Y, stack


def test_multilabel_stack_is_scored_as_scikit_learn_scores_multilabel(multilabel):
    Y, stack = multilabel
    lr, ridge, _ = [stack.oof_[:, columns] for columns in stack.layout_.slices()]
    board = report.leaderboard(stack)  # accuracy: subset accuracy, as stack.score
    assert board.loc["lr", "score"] == pytest.approx(accuracy_score(Y, lr > 0.5))
    assert board.loc["ridge", "score"] == pytest.approx(accuracy_score(Y, ridge.astype(int)))
    f1 = report.leaderboard(stack, "f1_macro")
    assert f1.loc["ridge", "score"] == pytest.approx(f1_score(Y, ridge.astype(int),
                                                              average="macro"))
    auc = report.leaderboard(stack, "roc_auc")  # the mean of the per-label AUCs
    assert auc.loc["lr", "score"] == pytest.approx(
        np.mean([roc_auc_score(Y[:, k], lr[:, k]) for k in range(3)]))
    assert np.isnan(auc.loc["ridge", "score"])  # labels only: no AUC
    assert auc.loc["ridge", "note"] == "not scored: the scorer needs an output other than " \
                                       "its predict output"
    meta_cv = np.empty(Y.shape)
    for rows in stack.oof_folds_:
        train = np.setdiff1d(np.arange(len(Y)), rows)
        final = clone(stack.final_estimator_).fit(stack.oof_[train], Y[train])
        meta_cv[rows] = np.column_stack([p[:, 1] for p in final.predict_proba(stack.oof_[rows])])
    assert auc.loc["stack", "score"] == pytest.approx(roc_auc_score(Y, meta_cv))


def test_multilabel_stack_with_a_binary_only_scorer_says_so(multilabel):
    _, stack = multilabel
    with pytest.raises(ValueError, match="scoring='f1' cannot score this multilabel stack "
                                         r"\(Target is multilabel-indicator"):
        report.leaderboard(stack, "f1")


def test_oof_correlation_is_the_correlation_of_the_oof_columns(fitted):
    correlation = report.oof_correlation(fitted)
    assert correlation.index.tolist() == ["lr", "nb", "tree"]
    np.testing.assert_allclose(correlation.to_numpy(), np.corrcoef(fitted.oof_.T))
    assert isinstance(correlation, pd.DataFrame)


# -- the notebook display (the plots: test_report_plots.py) ---------------------------


def test_html_repr_adds_the_leaderboard_once_fitted(fitted):
    unfitted = clone(fitted)
    assert "Leaderboard" not in unfitted._repr_html_()
    page = fitted._repr_html_()
    assert "Leaderboard" in page and "meta-cv" in page
    assert page.index("Leaderboard") > page.index("StackingClassifier")
    assert "<td>oof</td>" in page


def test_scores_weight_rows_as_the_fit_did(binary):
    """Rows with weight 0 did not count in the fits; they must not count in the scores."""
    X, y = binary
    weights = np.where(np.arange(len(y)) % 3 == 0, 0.0, 1.0)
    weights[y == 1] *= 2.0
    stack = StackingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())],
                               cv=3).fit(X, y, sample_weight=weights)
    board = report.leaderboard(stack, "roc_auc")
    oof = stack.oof_[:, 0]
    assert board.loc["lr", "score"] == pytest.approx(roc_auc_score(y, oof,
                                                                   sample_weight=weights))
    assert board.loc["lr", "score"] != pytest.approx(roc_auc_score(y, oof))
    assert np.mean([roc_auc_score(y[rows], oof[rows], sample_weight=weights[rows])
                    for rows in stack.oof_folds_]) == pytest.approx(board.loc["lr", "fold_mean"])
    assert 0.5 < board.loc["stack", "score"] <= 1.0
    unweighted = StackingClassifier([("lr", LogisticRegression())], cv=3).fit(X, y)
    assert unweighted.oof_sample_weight_ is None
