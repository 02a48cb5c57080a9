"""stackkit.meta: meta-learners that weigh base models, alone and as a stack's final estimator."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.base import clone, is_classifier
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import log_loss, mean_squared_error, roc_auc_score
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsRegressor
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from stackkit import StackingClassifier, StackingRegressor
from stackkit.meta import (
    BestModelClassifier, BestModelRegressor, BlendClassifier, EnsembleSelectionClassifier,
    EnsembleSelectionRegressor, NNLSClassifier, NNLSRegressor,
)

CLASSIFIERS = [NNLSClassifier(), BlendClassifier(), EnsembleSelectionClassifier(n_iterations=10),
               BestModelClassifier()]
REGRESSORS = [NNLSRegressor(), NNLSRegressor(sum_to_one=True),
              EnsembleSelectionRegressor(n_iterations=10), BestModelRegressor()]

# Expected failures of the classification meta-learners (the regressors pass every
# check). A classification meta-learner takes its input as base-model probabilities:
# one column per model (binary) or one block of n_classes columns per model
# (multiclass), and refuses other widths with a clear error. These checks fit
# multiclass data whose width is not a whole number of such blocks;
# test_contract_on_probability_input below checks the same contract on valid input.
def _blocks(n_classes, n_columns):
    return (f"fits {n_classes} classes on {n_columns} columns, not whole {n_classes}-column "
            "probability blocks, which a classification meta-learner refuses")


CLASSIFIER_BY_DESIGN = {
    **dict.fromkeys(["check_estimators_overwrite_params", "check_estimators_fit_returns_self",
                     "check_readonly_memmap_input", "check_classifiers_classes"],
                    _blocks(3, 2)),
    "check_n_features_in_after_fitting": _blocks(3, 4),
    "check_positive_only_tag_during_fit": _blocks(3, 4) + " (iris)",
    "check_dtype_object": _blocks(4, 10),
    "check_classifiers_train": (
        "needs accuracy > 0.83 on two standardised blob features, which a meta-learner "
        "can only weigh as two models' probabilities (it reaches about 0.7)"
    ),
}


def expected_failures(estimator):
    return CLASSIFIER_BY_DESIGN if is_classifier(estimator) else {}


@parametrize_with_checks(CLASSIFIERS + REGRESSORS, expected_failed_checks=expected_failures,
                         xfail_strict=True)
def test_sklearn_conformance(estimator, check):
    check(estimator)


@pytest.mark.parametrize("learner", CLASSIFIERS, ids=lambda e: type(e).__name__)
def test_contract_on_probability_input(learner):
    """What the expected-failure checks test, on 3-class probabilities (two models, 6 columns)."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    X = np.hstack([rng.dirichlet(np.ones(3), 90) for _ in range(2)])
    estimator = clone(learner)
    with pytest.raises(NotFittedError):
        estimator.predict(X)
    params = estimator.get_params()
    assert estimator.fit(X, y) is estimator
    assert estimator.get_params() == params
    assert estimator.n_features_in_ == 6 and estimator.weights_.size == 2
    readonly = X.copy()
    readonly.flags.writeable = False
    np.testing.assert_array_equal(estimator.predict(readonly), estimator.predict(X))
    with pytest.raises(ValueError, match="features"):
        estimator.predict(X[:, :3])


@pytest.fixture(scope="module")
def binary():
    return make_classification(n_samples=600, n_features=10, n_informative=5, random_state=0)


@pytest.fixture(scope="module")
def three_classes():
    return make_classification(n_samples=600, n_features=10, n_informative=5, n_classes=3,
                               random_state=0)


def classifier_stack(final):
    return StackingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB()),
                               ("tree", DecisionTreeClassifier(max_depth=4, random_state=0))],
                              final, cv=3)


@pytest.mark.parametrize("final", CLASSIFIERS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("data", ["binary", "three_classes"])
def test_classifiers_learn_each_base_model_s_weight_from_the_layout(final, data, request):
    X, y = request.getfixturevalue(data)
    stack = classifier_stack(final).fit(X, y)
    weights = stack.final_estimator_.weights_
    assert weights.index.tolist() == ["lr", "nb", "tree"]
    assert (weights >= 0).all() and weights.sum() == pytest.approx(1.0)
    proba = stack.predict_proba(X)
    assert proba.shape == (600, len(np.unique(y)))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_blend_has_the_lowest_log_loss_of_any_convex_blend(three_classes):
    X, y = three_classes
    stack = classifier_stack(BlendClassifier()).fit(X, y)
    blocks = [stack.oof_[:, s] for s in stack.layout_.slices()]
    best = log_loss(y, stack.final_estimator_.predict_proba(stack.oof_))
    rng = np.random.default_rng(0)
    for w in [np.eye(3)[0], np.eye(3)[1], np.eye(3)[2], np.full(3, 1 / 3),
              *rng.dirichlet(np.ones(3), size=20)]:
        assert best <= log_loss(y, sum(wi * b for wi, b in zip(w, blocks))) + 1e-9


def test_blend_puts_its_weight_on_the_informative_model():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 1000)
    sharp = np.clip(y + rng.normal(0, 0.2, 1000), 0.01, 0.99)
    noise = rng.uniform(0.01, 0.99, 1000)
    weights = BlendClassifier().fit(np.column_stack([noise, sharp]), y).weights_
    assert weights.index.tolist() == ["model0", "model1"]
    assert weights["model1"] > 0.95


def test_nnls_regressor_recovers_the_true_combination():
    rng = np.random.default_rng(0)
    predictions = rng.normal(size=(500, 3))
    y = predictions @ np.array([0.7, 0.3, 0.0])
    np.testing.assert_allclose(NNLSRegressor().fit(predictions, y).weights_, [0.7, 0.3, 0.0],
                               atol=1e-8)
    convex = NNLSRegressor(sum_to_one=True).fit(predictions, 2 * y).weights_
    assert convex.sum() == pytest.approx(1.0) and (convex >= 0).all()


def test_convex_nnls_finds_the_best_blend_of_near_identical_predictions():
    """Models that all track y closely (as boosters do) leave a flat objective: still solved."""
    rng = np.random.default_rng(0)
    y = 5.8 + rng.normal(0, 0.8, 4800)
    predictions = np.column_stack([y + rng.normal(0, s, 4800) for s in (0.7, 0.5, 0.55, 0.6)])
    weights = NNLSRegressor(sum_to_one=True).fit(predictions, y).weights_.to_numpy()
    best = mean_squared_error(y, predictions @ weights)
    for w in [np.full(4, 0.25), *rng.dirichlet(np.ones(4), size=200)]:
        assert best <= mean_squared_error(y, predictions @ w) + 1e-12
    assert weights[1] == weights.max()  # the least noisy model


@pytest.mark.parametrize("final", REGRESSORS, ids=lambda e: type(e).__name__)
def test_regressors_in_a_stack(final):
    X, y = make_regression(n_samples=400, n_features=8, noise=10.0, random_state=0)
    stack = StackingRegressor([("ridge", Ridge()), ("knn", KNeighborsRegressor()),
                               ("tree", DecisionTreeRegressor(max_depth=5, random_state=0))],
                              final, cv=3).fit(X, y)
    weights = stack.final_estimator_.weights_
    assert weights.index.tolist() == ["ridge", "knn", "tree"] and (weights >= 0).all()
    assert weights["ridge"] == weights.max()  # the data are linear
    best_single = min(mean_squared_error(y, stack.oof_[:, i]) for i in range(3))
    assert mean_squared_error(y, stack.final_estimator_.predict(stack.oof_)) <= best_single * 1.001


def test_ensemble_selection_never_scores_below_the_best_single_model(binary):
    X, y = binary
    stack = classifier_stack(EnsembleSelectionClassifier(n_iterations=25, scoring="roc_auc"))
    stack.fit(X, y)
    final = stack.final_estimator_
    assert final.scores_.index.tolist() == ["lr", "nb", "tree"]
    picks = final.weights_ * (final.weights_ > 0).sum() / final.weights_[final.weights_ > 0].min()
    np.testing.assert_allclose(picks, np.round(picks))  # shares of whole picks
    ensemble = roc_auc_score(y, final.predict_proba(stack.oof_)[:, 1])
    assert ensemble >= final.scores_.max() - 1e-12


def test_best_model_picks_the_highest_scoring_base_model(binary):
    X, y = binary
    final = classifier_stack(BestModelClassifier(scoring="accuracy")).fit(X, y).final_estimator_
    assert final.weights_.idxmax() == final.scores_.idxmax()
    assert sorted(final.weights_.tolist()) == [0.0, 0.0, 1.0]


def test_sample_weight_changes_the_weights(binary):
    X, y = binary
    oof = classifier_stack(None).fit_transform(X, y)
    sample_weight = np.where(oof[:, 1] > 0.5, 5.0, 0.2)
    plain = BlendClassifier().fit(oof, y).weights_
    weighted = BlendClassifier().fit(oof, y, sample_weight=sample_weight).weights_
    assert not np.allclose(plain, weighted, atol=1e-3)


def test_grid_search_over_meta_learner_parameters(binary):
    X, y = binary
    grid = {"final_estimator__n_iterations": [0, 10], "final_estimator__n_init": [1, 2]}
    search = GridSearchCV(classifier_stack(EnsembleSelectionClassifier()), grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4


@pytest.mark.parametrize(
    "stack, data, match",
    [
        (classifier_stack(BlendClassifier()).set_params(passthrough=True), "binary",
         r"passthrough=True adds the original features"),
        (StackingClassifier([("svc", LinearSVC()), ("nb", GaussianNB())], NNLSClassifier(),
                            cv=3), "binary", r"'svc' gives decision_function"),
        (classifier_stack(BlendClassifier()), "multilabel", r"BlendClassifier weighs base models .* the target is multilabel"),
        (classifier_stack(EnsembleSelectionClassifier(n_iterations=-1)), "binary",
         r"n_iterations must be an integer >= 0"),
    ],
    ids=["passthrough", "decision-function", "multilabel", "negative-iterations"],
)
def test_misuse_is_a_clear_error(stack, data, match, binary):
    X, y = binary if data == "binary" else make_multilabel_classification(
        n_samples=200, n_classes=3, random_state=0)
    with pytest.raises(ValueError, match=match):
        stack.fit(X, y)
    assert not hasattr(stack, "final_estimator_")


def _sums_of_blocks(learner, X, y, weights, layout, n_blocks):
    blocks = [learner.statistics(X[rows], y[rows], sample_weight=weights[rows], layout=layout)
              for rows in np.array_split(np.arange(len(y)), n_blocks)]
    return {key: sum(block[key] for block in blocks) for key in blocks[0]}


@pytest.mark.parametrize("learner, n_classes", [
    (EnsembleSelectionRegressor(n_iterations=15), 0),
    (EnsembleSelectionRegressor(n_init=2, scoring="r2"), 0),
    (EnsembleSelectionRegressor(scoring="neg_root_mean_squared_error"), 0),
    (BestModelRegressor(), 0),
    (EnsembleSelectionClassifier(scoring="neg_brier_score"), 2),
    (EnsembleSelectionClassifier(n_init=2, scoring="neg_brier_score"), 3),
    (BestModelClassifier(scoring="neg_brier_score"), 3),
], ids=["es-mse", "es-r2", "es-rmse", "best-mse", "es-brier-binary", "es-brier-3", "best-brier"])
@given(seed=st.integers(0, 2**32 - 1), n_blocks=st.integers(1, 6), weighted=st.booleans())
@settings(max_examples=15, deadline=None)
def test_selection_from_sums_of_blocks_equals_selection_on_all_rows(learner, n_classes, seed,
                                                                    n_blocks, weighted):
    """Squared-error scorers follow from sums over rows: the Dask path's fit on a cluster."""
    from stackkit.layout import Layout

    rng = np.random.default_rng(seed)
    n_rows, n_models = 120, 4
    if n_classes:
        y = rng.integers(0, n_classes, size=n_rows)
        y[:n_classes] = np.arange(n_classes)
        proba = [rng.dirichlet(np.ones(n_classes) * rng.uniform(0.3, 3), size=n_rows)
                 for _ in range(n_models)]
        X = np.hstack([p[:, 1:] if n_classes == 2 else p for p in proba])
        kind, classes, width = (("binary", np.arange(2), 1) if n_classes == 2
                                else ("multiclass", np.arange(n_classes), n_classes))
        layout = Layout.build(list("abcd"), ["predict_proba"] * n_models, kind, classes, width)
    else:
        y = rng.normal(size=n_rows)
        X = np.column_stack([y + rng.normal(scale=rng.uniform(0.2, 2), size=n_rows)
                             for _ in range(n_models)])
        layout = Layout.build(list("abcd"), ["predict"] * n_models, "continuous", None, 1)
    weights = rng.uniform(0, 3, size=n_rows) if weighted else np.ones(n_rows)
    direct = clone(learner).fit(X, y, sample_weight=weights if weighted else None,
                                layout=layout)
    from_sums = clone(learner).fit_statistics(
        _sums_of_blocks(learner, X, y, weights, layout, n_blocks), layout=layout)
    np.testing.assert_allclose(from_sums.scores_, direct.scores_, rtol=1e-9, atol=1e-12)
    assume(np.unique(np.round(direct.scores_, 9)).size == n_models)  # no tied models
    np.testing.assert_allclose(from_sums.weights_, direct.weights_)
    method = "predict_proba" if n_classes else "predict"
    np.testing.assert_allclose(getattr(from_sums, method)(X), getattr(direct, method)(X))


@pytest.mark.parametrize("learner", [
    EnsembleSelectionClassifier(), BestModelRegressor("neg_mean_absolute_error"),
    EnsembleSelectionRegressor(scoring=mean_squared_error)])
def test_selection_by_other_scorers_has_no_statistics(learner):
    """A stack on a Dask collection then collects the out-of-fold predictions (or refuses)."""
    assert not hasattr(learner, "statistics") and not hasattr(learner, "fit_statistics")
