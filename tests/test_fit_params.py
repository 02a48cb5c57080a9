"""Fit parameters routed by name (<name>__<param>), per-row ones sliced to each fold."""

import numpy as np
import pytest
from lightgbm import LGBMRegressor
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_regression
from sklearn.linear_model import LinearRegression, Ridge
from xgboost import XGBRegressor

from stackkit import StackingRegressor


class ParamRecorder(RegressorMixin, BaseEstimator):
    """Remembers the fit parameters it was given."""

    def fit(self, X, y, row_ids=None, flag=None, sample_weight=None):
        self.row_ids_, self.flag_ = row_ids, flag
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


@pytest.fixture(scope="module")
def data():
    return make_regression(n_samples=90, n_features=4, noise=1.0, random_state=0)


def test_per_row_params_are_sliced_and_others_passed_as_is(data):
    X, y = data
    stack = StackingRegressor([("rec", ParamRecorder()), ("lin", LinearRegression())],
                              final_estimator=ParamRecorder(), cv=3, refit=False)
    rows = np.arange(len(y))
    stack.fit(X, y, rec__row_ids=rows, rec__flag="on", final_estimator__row_ids=rows * 10)
    folds = stack.named_estimators_["rec"].estimators
    assert sorted(len(m.row_ids_) for m in folds) == [60, 60, 60]
    for model in folds:  # each fold model saw exactly its training rows
        assert len(np.intersect1d(model.row_ids_, rows)) == 60
        assert model.flag_ == "on"
    assert sorted(np.concatenate([m.row_ids_ for m in folds]).tolist()) == sorted(
        np.repeat(rows, 2).tolist())
    np.testing.assert_array_equal(stack.final_estimator_.row_ids_, rows * 10)


@pytest.mark.parametrize("params, match", [
    ({"nope__alpha": 1}, r"'nope__alpha' must be named <estimator>__<parameter>"),
    ({"alpha": 1}, r"'alpha' must be named"),
    ({"rec__": 1}, r"'rec__' must be named"),
], ids=["unknown-estimator", "no-prefix", "no-parameter"])
def test_badly_named_fit_params(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        StackingRegressor([("rec", ParamRecorder())], cv=3).fit(X, y, **params)


def test_sample_weight_given_twice(data):
    X, y = data
    with pytest.raises(ValueError, match="'rec__sample_weight' and sample_weight both given"):
        StackingRegressor([("rec", ParamRecorder())], final_estimator=ParamRecorder(), cv=3).fit(
            X, y, sample_weight=np.ones(len(y)), rec__sample_weight=np.ones(len(y)))


def test_params_of_a_dropped_estimator_are_ignored(data):
    X, y = data
    stack = StackingRegressor([("rec", "drop"), ("ridge", Ridge())], cv=3)
    stack.fit(X, y, rec__flag="unused")
    assert list(stack.named_estimators_) == ["ridge"]


def test_booster_fit_params_reach_lightgbm_and_xgboost(data):
    X, y = data
    X = X.copy()
    X[:, 0] = np.arange(len(y)) % 4  # integer codes of a categorical column
    stack = StackingRegressor(
        [("lgbm", LGBMRegressor(n_estimators=5, min_child_samples=5, verbose=-1)),
         ("xgb", XGBRegressor(n_estimators=5))],
        cv=3,
    ).fit(X, y, lgbm__categorical_feature=[0], xgb__verbose=False)
    infos = stack.named_estimators_["lgbm"].booster_.dump_model()["feature_infos"]
    assert {0, 1, 2, 3} <= set(infos["Column_0"]["values"])  # a categorical's levels
    assert infos["Column_1"]["values"] == []  # numeric: a range, no levels


def test_changed_fit_param_is_not_served_from_cache(data, tmp_path):
    X, y = data
    stack = StackingRegressor([("rec", ParamRecorder())], cv=3, memory=str(tmp_path))
    stack.fit(X, y, rec__flag="a")
    assert stack.fit(X, y, rec__flag="a").task_log_["cached"].all()
    assert not stack.fit(X, y, rec__flag="b").task_log_["cached"].any()


@pytest.mark.parametrize("container", [list, tuple], ids=["list", "tuple"])
def test_list_or_tuple_as_long_as_the_data_is_passed_whole(data, container):
    """Only arrays, Series/DataFrames and sparse matrices are per row; lists never are."""
    X, y = data
    ids = container(range(len(y)))  # one entry per row, by coincidence of its length
    stack = StackingRegressor([("rec", ParamRecorder())], final_estimator=ParamRecorder(),
                              cv=3, refit=False)
    stack.fit(X, y, rec__row_ids=ids, final_estimator__row_ids=ids)
    for model in [*stack.named_estimators_["rec"].estimators, stack.final_estimator_]:
        assert model.row_ids_ == ids


def test_per_estimator_sample_weight_list_is_sliced_as_an_array(data):
    X, y = data
    weights = [1.0, 2.0, 3.0] * (len(y) // 3)
    stack = StackingRegressor([("rec", ParamRecorder()), ("lin", LinearRegression())],
                              cv=3, refit=False)
    stack.fit(X, y, lin__sample_weight=weights)  # LinearRegression checks its length
    with pytest.raises(ValueError, match=r"lin__sample_weight must have shape \(90,\)"):
        stack.fit(X, y, lin__sample_weight=weights[:-1])


# LightGBM's wrapper records the given names as feature_names_in_, so predicting numpy warns
@pytest.mark.filterwarnings("ignore:X does not have valid feature names:UserWarning")
def test_lightgbm_feature_names_as_many_as_rows_reach_every_fold():
    """A wide table: as many columns as rows, so feature_name has one entry per row."""
    X, y = make_regression(n_samples=40, n_features=40, random_state=1)
    names = [f"gene_{i}" for i in range(40)]
    stack = StackingRegressor(
        [("lgbm", LGBMRegressor(n_estimators=3, min_child_samples=2, verbose=-1))], cv=3,
    ).fit(X, y, lgbm__feature_name=names)
    assert stack.named_estimators_["lgbm"].booster_.feature_name() == names
