"""Metadata routing (scikit-learn's, enabled by ``enable_metadata_routing``) and the
parameters of the prediction methods, with routing on and off (issue 17).

Routing is switched on only inside ``sklearn.config_context``, so no state leaks.
"""

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.linear_model import ARDRegression, LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, KFold, TimeSeriesSplit

from stackkit import StackingClassifier, StackingRegressor
from stackkit.exceptions import StackkitWarning

N = 24
X = np.column_stack([np.arange(N, dtype=float), np.random.RandomState(0).rand(N)])
Y = X[:, 1] + 0.1 * np.arange(N) % 3
META = np.arange(N) * 10.0  # per-row metadata: a row's value is 10 x its id (column 0)


def routing():
    return sklearn.config_context(enable_metadata_routing=True)


class Recorder(RegressorMixin, BaseEstimator):
    """Records the rows (column 0 of X holds row ids) and metadata each fit received;
    its predictions add the ``offset`` metadata given to ``predict``."""

    def fit(self, X, y, sample_weight=None, metadata=None):
        self.rows_ = np.asarray(X)[:, 0].copy()
        self.sample_weight_ = sample_weight
        self.metadata_ = metadata
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X, offset=None):
        return np.full(len(X), self.mean_ + (0.0 if offset is None else offset))


def fold_models(stack, name):
    """The fold models of base estimator ``name`` of a stack fit with ``refit=False``."""
    return stack.named_estimators_[name].estimators


def test_requested_metadata_reaches_each_fold_sliced_to_its_training_rows():
    with routing():
        stack = StackingRegressor(
            [("asks", Recorder().set_fit_request(metadata=True, sample_weight=True)),
             ("declines", Recorder().set_fit_request(metadata=False, sample_weight=False))],
            final_estimator=Recorder().set_fit_request(metadata=True, sample_weight=False),
            cv=KFold(3), refit=False,
        ).fit(X, Y, sample_weight=META + 1, metadata=META)
    for model in fold_models(stack, "asks"):
        assert len(model.rows_) == 16  # a training fold of 3
        np.testing.assert_array_equal(model.metadata_, model.rows_ * 10)
        np.testing.assert_array_equal(model.sample_weight_, model.rows_ * 10 + 1)
    for model in fold_models(stack, "declines"):
        assert model.metadata_ is None and model.sample_weight_ is None
    np.testing.assert_array_equal(stack.final_estimator_.metadata_, META)
    assert stack.final_estimator_.sample_weight_ is None


def test_final_estimator_gets_the_metadata_of_the_tested_rows_only():
    cv = TimeSeriesSplit(3)  # forward-only: the first rows are never tested
    tested = np.concatenate([test for _, test in cv.split(X)])
    with routing(), pytest.warns(StackkitWarning):
        stack = StackingRegressor(
            [("r", Recorder().set_fit_request(metadata=False))],
            final_estimator=Recorder().set_fit_request(metadata=True),
            cv=cv,
        ).fit(X, Y, metadata=META)
    np.testing.assert_array_equal(stack.final_estimator_.metadata_, META[tested])


def test_custom_metadata_is_passed_whole_when_not_per_row():
    with routing():
        stack = StackingRegressor(
            [("r", Recorder().set_fit_request(metadata=True))],
            final_estimator=Recorder().set_fit_request(metadata=True), cv=3, refit=False,
        ).fit(X, Y, metadata="a")
    assert [m.metadata_ for m in fold_models(stack, "r")] == ["a"] * 3
    assert stack.final_estimator_.metadata_ == "a"


@pytest.mark.parametrize("Stack, final", [(StackingRegressor, Recorder()),
                                          (StackingClassifier, None)])
def test_unrequested_metadata_is_scikit_learns_error_before_any_fit(Stack, final):
    class NeverFit(Recorder):
        def fit(self, X, y, sample_weight=None, metadata=None):
            raise AssertionError("fit ran")

    stack = Stack([("sub", NeverFit())], final_estimator=final, cv=3)
    y = Y if Stack is StackingRegressor else Y > Y.mean()
    with routing(), pytest.raises(UnsetMetadataPassedError,
                                  match=r"\[metadata\] are passed but are not explicitly"):
        stack.fit(X, y, metadata=META)
    with routing(), pytest.raises(TypeError, match="not routed to any object"):
        stack.fit(X, y, nobody=1)


def test_sample_weight_follows_the_requests_not_every_estimator():
    """Routing on: a weight nobody of the final estimator's kind asked for is an error."""
    with routing():
        estimators = [("r", Ridge().set_fit_request(sample_weight=True))]
        with pytest.raises(UnsetMetadataPassedError, match="Ridge.fit"):
            StackingRegressor(estimators, final_estimator=Ridge(), cv=3).fit(
                X, Y, sample_weight=META + 1)
        weighted = StackingRegressor(
            estimators, final_estimator=Ridge().set_fit_request(sample_weight=False), cv=3,
        ).fit(X, Y, sample_weight=META + 1)
    plain = StackingRegressor([("r", Ridge())], final_estimator=Ridge(), cv=3).fit(X, Y)
    assert not np.allclose(weighted.oof_, plain.oof_)  # the base model was weighted
    np.testing.assert_allclose(weighted.final_estimator_.coef_,
                               Ridge().fit(weighted.oof_, Y).coef_)  # the final was not


def test_groups_reach_the_splitter():
    groups = np.repeat(np.arange(4), 6)
    with routing():
        stack = StackingRegressor([("r", Recorder())], final_estimator=Recorder(),
                                  cv=GroupKFold(4), refit=False).fit(X, Y, groups=groups)
    for model in fold_models(stack, "r"):  # each fold leaves one whole group out
        assert len(np.unique(groups[model.rows_.astype(int)])) == 3
    with routing(), pytest.raises(TypeError, match="groups"):  # KFold does not take them
        StackingRegressor([("r", Recorder())], cv=KFold(3)).fit(X, Y, groups=groups)


def test_prediction_metadata_reaches_the_base_models_that_requested_it():
    with routing():
        stack = StackingRegressor(
            [("asks", Recorder().set_predict_request(offset=True)),
             ("declines", Recorder().set_predict_request(offset=False))],
            final_estimator=LinearRegression(), cv=3,
        ).fit(X, Y)
        plain = stack.transform(X[:4])
        shifted = stack.transform(X[:4], offset=100.0)
        np.testing.assert_allclose(shifted[:, 0], plain[:, 0] + 100.0)
        np.testing.assert_allclose(shifted[:, 1], plain[:, 1])
        assert not np.allclose(stack.predict(X[:4], offset=100.0), stack.predict(X[:4]))
        routes = stack.get_metadata_routing()
        assert routes.consumes("predict", ["offset"]) == {"offset"}
        with pytest.raises(TypeError, match="not routed to any object"):
            stack.predict(X[:4], nobody=1)


def test_prediction_metadata_is_part_of_the_prediction_cache_key(tmp_path):
    with routing():
        stack = StackingRegressor([("asks", Recorder().set_predict_request(offset=True))],
                                  cv=3, memory=str(tmp_path)).fit(X, Y)
        first = stack.transform(X[:4], offset=1.0)
        second = stack.transform(X[:4], offset=2.0)
        again = stack.transform(X[:4], offset=1.0)
    np.testing.assert_allclose(second - first, 1.0)
    np.testing.assert_allclose(again, first)


def test_fold_cache_keys_the_routed_metadata(tmp_path):
    def fit(values):
        with routing():
            return StackingRegressor(
                [("r", Recorder().set_fit_request(metadata=True))],
                final_estimator=Recorder().set_fit_request(metadata=True), cv=3, refit=False,
                memory=str(tmp_path),
            ).fit(X, Y, metadata=values)

    fit(META)
    other = fit(META + 1)
    assert set(other.task_log_.status) == {"ran"}  # no entry shared with the first fit
    for model in fold_models(other, "r"):
        np.testing.assert_array_equal(model.metadata_, model.rows_ * 10 + 1)
    assert set(fit(META + 1).task_log_.status) == {"cached"}


@pytest.mark.parametrize("final", [GaussianProcessRegressor(), ARDRegression()],
                         ids=["gaussian-process", "ard"])
def test_predict_params_reach_the_final_estimator_without_routing(final):
    stack = StackingRegressor([("ridge", Ridge())], final_estimator=final, cv=3).fit(X, Y)
    mean, std = stack.predict(X[:5], return_std=True)
    np.testing.assert_allclose(mean, stack.predict(X[:5]))
    _, expected = stack.final_estimator_.predict(stack.transform(X[:5]), return_std=True)
    np.testing.assert_allclose(std, expected)


def test_return_std_under_routing_is_metadata_the_final_estimator_requests():
    """As scikit-learn's stacks: with routing on, return_std must be requested."""
    with routing():
        stack = StackingRegressor([("ridge", Ridge())], final_estimator=ARDRegression(),
                                  cv=3).fit(X, Y)
        with pytest.raises(UnsetMetadataPassedError, match="return_std"):
            stack.predict(X[:5], return_std=True)
        stack.final_estimator_.set_predict_request(return_std=True)
        mean, std = stack.predict(X[:5], return_std=True)
    assert mean.shape == std.shape == (5,)


def test_classifier_prediction_methods_pass_their_parameters_to_the_final_estimator():
    class Tempered(LogisticRegression):
        def predict_proba(self, X, temperature=1.0):
            return super().predict_proba(X) ** (1 / temperature)

        def decision_function(self, X, temperature=1.0):
            return super().decision_function(X) / temperature

    y = Y > np.median(Y)
    stack = StackingClassifier([("lr", LogisticRegression())], final_estimator=Tempered(),
                               cv=3).fit(X, y)
    np.testing.assert_allclose(stack.decision_function(X[:4], temperature=2.0),
                               stack.decision_function(X[:4]) / 2)
    np.testing.assert_allclose(stack.predict_proba(X[:4], temperature=2.0),
                               stack.predict_proba(X[:4]) ** 0.5)


def test_routing_disabled_keeps_name_routing_and_names_the_switch():
    stack = StackingRegressor([("r", Recorder())], final_estimator=Recorder(), cv=3,
                              refit=False).fit(X, Y, r__metadata=META)
    for model in fold_models(stack, "r"):
        np.testing.assert_array_equal(model.metadata_, model.rows_ * 10)
    with pytest.raises(TypeError, match="enable_metadata_routing=True"):
        stack.transform(X, offset=1.0)
    with pytest.raises(ValueError, match="only supported if enable_metadata_routing=True"):
        stack.fit(X, Y, metadata=META)
