"""The notebook display: scikit-learn's diagram, then the sections capabilities register."""

import re
import sys

import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import StackingClassifier as SkStackingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from stackkit import StackingClassifier, StackingRegressor, _display, report
from stackkit.exceptions import StackkitWarning


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(n_samples=80, random_state=0)
    return StackingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())],
                              cv=2).fit(X, y)


@pytest.fixture
def sections(monkeypatch):
    """The registry, restored after the test."""
    monkeypatch.setattr(_display, "_SECTIONS", dict(_display._SECTIONS))


def test_a_failing_leaderboard_is_one_line_saying_why(fitted, monkeypatch):
    def broken(stack, *args, **kwargs):
        raise RuntimeError("no scores")

    monkeypatch.setattr(report, "leaderboard", broken)
    page = fitted._repr_html_()
    assert page.endswith('<div class="stackkit-leaderboard"><h4>Leaderboard</h4>'
                         "<p>leaderboard unavailable: RuntimeError: no scores</p></div>")
    assert page.index("StackingClassifier") < page.index("stackkit-leaderboard")


def test_registered_sections_follow_the_diagram_in_order(fitted, sections):
    _display.register_section(_display.Section("notes", "Notes", lambda stack: "<p>hi</p>"))
    page = fitted._repr_html_()
    assert page.endswith('<div class="stackkit-notes"><h4>Notes</h4><p>hi</p></div>')
    assert "Leaderboard" in page and page.index("Leaderboard") < page.index("Notes")
    assert "Notes" not in clone(fitted)._repr_html_()


def test_registering_a_name_again_replaces_the_section(fitted, sections):
    _display.register_section(_display.Section("leaderboard", "Board", lambda stack: "<p/>"))
    page = fitted._repr_html_()
    assert page.count("stackkit-leaderboard") == 1 and "<h4>Board</h4><p/>" in page


# -- the diagram: scikit-learn's visual-block protocol ---------------------------------


def _labels(page):
    """The names and boxes a reader sees in a diagram, in page order (ids left out)."""
    return re.findall(r"<label>([^<]*)</label>|<label for=\"[^\"]*\" class=\"sk-toggleable"
                      r"__label[^>]*><div><div>([^<]*)</div>", page)


def _estimators():
    return [("lr", make_pipeline(StandardScaler(), LogisticRegression(C=0.5))),
            ("off", "drop"), ("nb", GaussianNB())]


@pytest.mark.parametrize("final", [None, DecisionTreeClassifier(max_depth=2)],
                         ids=["default-final", "given-final"])
def test_unfitted_diagram_is_the_one_scikit_learn_draws(final):
    ours = StackingClassifier(_estimators(), final, passthrough=True)._repr_html_()
    theirs = SkStackingClassifier(_estimators(), final, passthrough=True)._repr_html_()
    assert _labels(ours) == _labels(theirs)
    assert [x or y for x, y in _labels(ours)][:6] == [
        "StackingClassifier", "lr", "StandardScaler", "LogisticRegression", "off", "drop"]


def test_unfitted_diagram_shows_the_configured_estimators():
    stack = StackingRegressor(_regressors())
    block = stack._sk_visual_block_()
    bases, final = block.estimators
    assert list(bases.names) == ["ridge", "off"] and list(final.names) == ["final_estimator"]
    assert bases.estimators[0] is stack.estimators[0][1] and bases.estimators[1] == "drop"
    assert isinstance(final.estimators[0], LinearRegression) and block.kind == "serial"
    assert final.estimators[0].positive  # the default final estimator, drawn unfitted


def _regressors():
    return [("ridge", Ridge()), ("off", "drop")]


def test_fitted_diagram_shows_the_fitted_estimators(fitted):
    bases, final = fitted._sk_visual_block_().estimators
    assert bases.estimators[0] is fitted.named_estimators_["lr"]
    assert bases.estimators[1] is fitted.named_estimators_["nb"]
    assert final.estimators[0] is fitted.final_estimator_
    page = fitted._repr_html_()
    assert page.index("GaussianNB") < page.index("final_estimator") < page.index("Leaderboard")
    assert "theta_" in page  # the fitted GaussianNB's attributes, shown when expanded


def test_an_estimator_dropped_in_fit_is_shown_as_dropped():
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    stack = StackingRegressor([("ridge", Ridge()), ("bad", FailsToFit())], cv=2,
                              on_error="warn")
    with pytest.warns(StackkitWarning, match="'bad'"):
        stack.fit(X, y)
    bases, _ = stack._sk_visual_block_().estimators
    assert bases.estimators[0] is stack.named_estimators_["ridge"]
    assert bases.estimators[1].names == "dropped in fit"
    assert "no fit today" in bases.estimators[1].name_details
    assert "dropped in fit" in stack._repr_html_()


class FailsToFit(RegressorMixin, BaseEstimator):
    """A regressor whose fit always raises."""

    def fit(self, X, y):
        raise ValueError("no fit today")

    def predict(self, X):
        raise AssertionError("never fitted")


def test_nested_stacks_and_pipelines_are_drawn_inside(fitted):
    inner = StackingClassifier([("inner_lr", LogisticRegression()), ("inner_nb", GaussianNB())])
    outer = StackingClassifier([("inner", inner), ("scaled", make_pipeline(StandardScaler(),
                                                                            GaussianNB()))])
    seen = [x or y for x, y in _labels(outer._repr_html_())]
    assert seen[:4] == ["StackingClassifier", "inner", "inner_lr", "LogisticRegression"]
    assert seen.count("final_estimator") == 2 and "StandardScaler" in seen


def test_without_scikit_learns_block_class_the_default_diagram_is_shown(fitted, monkeypatch):
    assert '<div class="sk-parallel">' in fitted._repr_html_()
    assert "<label>nb</label>" in fitted._repr_html_()
    # a scikit-learn release that moved the private class: its import fails
    monkeypatch.setitem(sys.modules, "sklearn.utils._repr_html.estimator", None)
    assert not hasattr(fitted, "_sk_visual_block_")
    page = fitted._repr_html_()
    assert '<div class="sk-parallel">' not in page and "<label>nb</label>" not in page
    assert "StackingClassifier" in page and "stackkit-leaderboard" in page
