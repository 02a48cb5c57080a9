"""The "best" portfolio: its generated records, the builder, the selection that ordered them."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata
from sklearn.base import is_classifier, is_regressor

from stackkit import StackingClassifier, StackingRegressor, presets
from stackkit._portfolio import BUILT_WITH, FINAL_ESTIMATORS, PORTFOLIO
from stackkit.presets import (
    FAMILIES, FINAL_FAMILIES, TASKS, build_estimator, default_estimators, final_estimator,
    portfolio_stack,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import build_portfolio  # noqa: E402


def small_table(task, n=200, frame=True, seed=0):
    """Two numeric columns (one with gaps) and, in a DataFrame, a category column."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x0": rng.normal(size=n), "x1": rng.normal(size=n)})
    X.loc[rng.choice(n, 10, replace=False), "x1"] = np.nan
    signal = X.x0 + np.nan_to_num(X.x1)
    if frame:
        X["city"] = pd.Categorical(rng.choice(["north", "south", "east", None], n))
        signal = signal + (X.city == "north")
    else:
        X = X.to_numpy()
    if task == "regression":
        return X, signal.to_numpy()
    return X, np.digitize(signal, [0.0] if task == "binary" else [-0.5, 0.5])


def shrunk(estimators):
    """The estimators with few trees and rounds: a test of fitting, not of quality."""
    for _, estimator in estimators:
        estimator.set_params(**{key: 10 for key in estimator.get_params()
                                if key.endswith(("n_estimators", "iterations"))
                                or ("gradientboosting" in key and key.endswith("max_iter"))})
    return estimators


# -- the generated records ---------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
def test_the_best_portfolio_has_15_to_30_unique_valid_records(task):
    records = PORTFOLIO[task]
    names = [record["name"] for record in records]
    assert 15 <= len(records) <= 30
    assert len(set(names)) == len(names)
    assert all(set(record) == {"name", "family", "params"} for record in records)
    assert {record["family"] for record in records} <= set(FAMILIES)
    assert FINAL_ESTIMATORS[task]["family"] in FINAL_FAMILIES
    assert set(BUILT_WITH["datasets"]) and "libraries" in BUILT_WITH


@pytest.mark.parametrize("task", TASKS)
def test_the_best_list_is_the_builder_s_output_in_order(task):
    best = default_estimators(task, portfolio="best", device="cpu", random_state=3)
    records = [r for r in PORTFOLIO[task] if presets.is_available(r)]
    assert [name for name, _ in best] == [record["name"] for record in records]
    for (_, estimator), record in zip(best, records):
        model = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
        assert model.get_params().items() >= record["params"].items()
        seeds = [value for key, value in model.get_params().items()
                 if key in ("random_state", "random_seed")]
        assert seeds == [3] or record["family"] in ("linear", "knn")


def test_a_missing_optional_library_loses_its_configurations(monkeypatch):
    monkeypatch.setattr(presets, "_installed", lambda library: library != "catboost")
    catboost = {"name": "cat", "family": "catboost", "params": {}}
    assert not presets.is_available(catboost)
    for task in TASKS:
        names = [name for name, _ in default_estimators(task, portfolio="best", device="cpu")]
        assert names == [r["name"] for r in PORTFOLIO[task] if r["family"] != "catboost"]


def test_the_quick_list_is_unchanged():
    quick = dict(default_estimators("regression", device="cpu"))
    assert list(quick) == ["linear", "extra_trees", "xgb", "lgbm"]
    assert quick["xgb"].max_depth == 6 and quick["xgb"].learning_rate == 0.05
    assert quick["lgbm"].num_leaves == 31 and quick["lgbm"].subsample_freq == 1
    forest = quick["extra_trees"].steps[-1][1]
    assert (forest.n_estimators, forest.min_samples_leaf, forest.max_features) == (300, 2, "sqrt")


@pytest.mark.parametrize("task", TASKS)
def test_every_best_entry_fits_and_predicts_on_a_frame_with_categories(task):
    X, y = small_table(task)
    stack_class = StackingRegressor if task == "regression" else StackingClassifier
    estimators = shrunk(default_estimators(task, portfolio="best", device="cpu"))
    stack = stack_class(estimators, cv=2, refit=False).fit(X, y)
    assert list(stack.named_estimators_) == [name for name, _ in estimators]
    assert np.isfinite(stack.oof_).all()
    assert len(stack.predict(X)) == len(y)


def test_every_best_entry_fits_a_numpy_array():
    X, y = small_table("binary", frame=False)
    estimators = shrunk(default_estimators("binary", portfolio="best", device="cpu"))
    stack = StackingClassifier(estimators, cv=2, refit=False).fit(X, y)
    assert stack.predict_proba(X).shape == (len(y), 2)


@pytest.mark.parametrize(
    "call, match",
    [(lambda: default_estimators("binary", portfolio="fast"), r"portfolio must be one of .*'fast'"),
     (lambda: default_estimators("binary", portfolio=None), r"portfolio must be one of .*None"),
     (lambda: portfolio_stack("ranking"), r"task must be one of .*'ranking'"),
     (lambda: final_estimator("ranking"), r"task must be one of .*'ranking'"),
     (lambda: build_estimator({"name": "x", "family": "svm", "params": {}}, "binary"),
      r"configuration 'x': family must be one of .*'svm'")],
    ids=["portfolio", "portfolio-none", "stack-task", "final-task", "family"],
)
def test_bad_names_raise_naming_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("task", TASKS)
def test_portfolio_stack_is_the_best_list_with_the_measured_final_estimator(task):
    stack = portfolio_stack(task, device="cpu", n_jobs=1)
    assert (is_regressor if task == "regression" else is_classifier)(stack)
    assert [name for name, _ in stack.estimators] == \
        [name for name, _ in default_estimators(task, portfolio="best", device="cpu")]
    record = FINAL_ESTIMATORS[task]
    expected = FINAL_FAMILIES[record["family"]](task != "regression")(**record["params"])
    assert type(stack.final_estimator) is type(expected)
    assert stack.final_estimator.get_params() == expected.get_params()
    assert (stack.cv, stack.refit, stack.n_jobs) == (5, True, 1)


def test_portfolio_stack_fits():
    X, y = small_table("binary")
    stack = portfolio_stack("binary", device="cpu")
    stack.set_params(estimators=shrunk(stack.estimators[:3]), cv=2).fit(X, y)
    assert stack.predict_proba(X).shape == (len(y), 2)


# -- the selection (benchmarks/build_portfolio.py) ---------------------------------------

# losses of four candidates on three datasets; a portfolio scores its best member
LOSSES = {"A": [0.1, 0.1, 0.9], "B": [0.5, 0.5, 0.1], "C": [0.2, 0.3, 0.4], "D": [0.9, 0.9, 0.8]}


def best_of(losses):
    return lambda dataset, members: min(losses[m][dataset] for m in members)


@pytest.mark.parametrize(
    "cost, slack, expected",
    [  # A and C tie on average rank 2 (B 2.33, D 3.67): the cheaper goes first
        ({"A": 10, "B": 10, "C": 1, "D": 1}, 0.0,
         [("C", 2.0), ("A", 1.5), ("B", 4 / 3), ("D", 1.0)]),
        ({"A": 1, "B": 10, "C": 10, "D": 1}, 0.0,
         [("A", 2.0), ("B", 5 / 3), ("D", 1.5), ("C", 1.0)]),
        # B (2.33) is within 0.5 of the best rank and cheapest
        ({"A": 10, "B": 0.1, "C": 1, "D": 1}, 0.5,
         [("B", 7 / 3), ("A", 4 / 3), ("C", 1.5), ("D", 1.0)]),
    ],
    ids=["tie-to-cheaper", "other-tie", "slack"],
)
def test_greedy_order_by_average_rank(cost, slack, expected):
    order = build_portfolio.greedy_order(list(LOSSES), 3, best_of(LOSSES), cost, 4, slack)
    assert [name for name, _ in order] == [name for name, _ in expected]
    np.testing.assert_allclose([rank for _, rank in order], [rank for _, rank in expected])


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6).flatmap(lambda n: st.tuples(
    st.lists(st.lists(st.floats(0, 1), min_size=3, max_size=3), min_size=n, max_size=n),
    st.integers(1, 8))))
def test_greedy_order_first_pick_and_permutation(case):
    table, size = case
    losses = {f"c{i}": row for i, row in enumerate(table)}
    cost = {name: i for i, name in enumerate(losses)}  # distinct: ties go to the earlier
    order = [name for name, _ in build_portfolio.greedy_order(
        list(losses), 3, best_of(losses), cost, size)]
    assert len(order) == len(set(order)) == min(size, len(losses))
    assert set(order) <= set(losses)
    ranks = rankdata(np.array(table), axis=0).mean(axis=1)
    assert order[0] == f"c{int(np.flatnonzero(ranks == ranks.min())[0])}"


def test_the_portfolio_score_is_the_ensemble_s():
    """Two models, each right on half the rows: their average beats both (regression)."""
    y = np.array([0.0, 0.0, 1.0, 1.0])
    preds = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.5, 0.5, 0.5, 0.5]])
    alone = min(build_portfolio.loss("regression", y, p) for p in preds[:2])  # 0.707
    assert build_portfolio.caruana_loss("regression", y, preds[:2, :, None]) < alone - 0.2
    assert build_portfolio.caruana_loss("regression", y, preds[:, :, None]) == pytest.approx(0.5)
    binary = np.array([[0.6, 0.1, 0.8, 0.5]])[:, :, None]  # 3 of 4 pairs ordered: AUC 0.75
    assert build_portfolio.caruana_loss("binary", np.array([0, 0, 1, 1]), binary) == \
        pytest.approx(0.25)


def test_the_sample_keeps_every_class_with_two_rows_per_fold():
    y = np.array([0] * 5000 + [1] * 3)
    rows = build_portfolio.sample_rows(y, True, max_rows=500, n_folds=3)
    assert len(rows) <= 503 and np.sum(y[rows] == 1) == 3
    assert np.all(np.diff(rows) > 0)
    y = np.array([0] * 5000 + [1] * 100)
    assert np.sum(y[build_portfolio.sample_rows(y, True, 500, 3)] == 1) >= 6


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_every_class_of_the_portfolio_is_trusted_in_model_files(task):
    """A stack of the portfolio saved by stackkit.io loads without naming extra types
    (stackkit.io refuses a type not on its list: a CatBoost entry once was not)."""
    from stackkit._trust import is_trusted, own_name

    for name, estimator in default_estimators(task, portfolio="best"):
        nested = [value for value in estimator.get_params(deep=True).values()
                  if hasattr(value, "get_params")]
        for part in [estimator, *nested]:
            assert is_trusted(own_name(type(part))), (name, own_name(type(part)))
