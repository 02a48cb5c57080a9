"""The notebook display: scikit-learn's diagram, then the sections capabilities register."""

import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from stackkit import StackingClassifier, _display, report


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
