"""The notebook diagram as a person sees it: the stack's HTML opened in headless Chromium.

Needs Debian's ``chromium`` and the ``browser`` extra (playwright, used only to drive that
browser; none of playwright's own browsers is downloaded). ``.ci/run`` installs both.
"""

import shutil

import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

from stackkit import StackingClassifier

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if shutil.which(CHROMIUM) is None:
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does)",
                allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is missing (pip install -e '.[browser]')")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium with a fresh profile for the module."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=FLAGS, headless=True,
            viewport={"width": 1100, "height": 800})
        yield context
        context.close()


@pytest.fixture(scope="module")
def stacks():
    X, y = make_classification(n_samples=80, n_features=5, random_state=0)
    stack = StackingClassifier([("logreg", LogisticRegression(C=0.5)), ("bayes", GaussianNB(var_smoothing=1e-6))],
                               cv=2)
    return clone(stack), stack.fit(X, y)


def _open(browser, stack, tmp_path, name):
    path = tmp_path / f"{name}.html"
    path.write_text(f"<html><body>{stack._repr_html_()}</body></html>", encoding="utf-8")
    page = browser.new_page()
    page.goto(path.as_uri())
    return page


def _box(page, selector, text):
    """The on-screen box of the one visible element matching ``selector`` with ``text``."""
    element = page.locator(selector).filter(has_text=text)
    assert element.count() == 1 and element.is_visible()
    return element.bounding_box()


def _expand(page, estimator, section):
    """Click ``estimator``'s box, then its ``section`` ("Parameters", "Fitted attributes")."""
    box = page.locator(".sk-estimator").filter(has_text=estimator)
    box.locator("label.sk-toggleable__label").click()
    box.locator("summary").filter(has_text=section).click()
    return box


def _names_then_final(page):
    """The base estimators' name labels side by side, the final estimator below them."""
    logreg = _box(page, ".sk-label-container label", "logreg")
    bayes = _box(page, ".sk-label-container label", "bayes")
    final = _box(page, ".sk-label-container label", "final_estimator")
    assert abs(logreg["y"] - bayes["y"]) < 2 and logreg["x"] + logreg["width"] < bayes["x"]
    assert final["y"] > max(logreg["y"], bayes["y"]) + logreg["height"]
    return final


def test_unfitted_stack_shows_its_structure_and_expands_a_base_estimator(browser, stacks,
                                                                        tmp_path):
    page = _open(browser, stacks[0], tmp_path, "unfitted")
    _names_then_final(page)
    row = page.locator("tr").filter(has=page.locator("td.param", has_text="var_smoothing"))
    assert not row.is_visible()
    _expand(page, "GaussianNB", "Parameters")
    assert row.is_visible() and row.locator("td.value").inner_text() == "1e-06"
    assert page.locator(".stackkit-leaderboard").count() == 0
    page.screenshot(path=tmp_path / "unfitted.png", full_page=True)


def test_fitted_stack_shows_fitted_estimators_and_the_leaderboard_beneath(browser, stacks,
                                                                          tmp_path):
    page = _open(browser, stacks[1], tmp_path, "fitted")
    final = _names_then_final(page)
    assert page.locator(".sk-estimator.fitted").filter(has_text="GaussianNB").count() == 1
    theta = page.locator("tr").filter(has=page.locator("td.param", has_text="theta_"))
    assert not theta.is_visible()
    _expand(page, "GaussianNB", "Fitted attributes")
    assert theta.is_visible()  # the fitted model's attributes: the fitted one is drawn
    assert "(2, 5)" in theta.locator("td.fitted-att-type").inner_text()  # 2 classes, 5 features
    table = page.locator(".stackkit-leaderboard table")
    assert table.is_visible() and table.bounding_box()["y"] > final["y"]
    rows = table.locator("tbody th").all_inner_texts()
    assert rows == ["logreg", "bayes", "stack"]
    shot = tmp_path / "fitted.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
