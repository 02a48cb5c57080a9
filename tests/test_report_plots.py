"""stackkit.report's pictures read right: sorted bars on an axis that shows the differences,
the stack and the dropped models marked, a clustered correlation map legible at 30 models.

Drawn with matplotlib's Agg backend; the tests read the artists (bars, texts, tick labels),
never compare images.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from stackkit import StackingClassifier, StackingRegressor, report
from stackkit.exceptions import StackkitWarning
from stackkit.meta import BlendClassifier
from stackkit.report import _plots

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(n_samples=300, n_features=8, n_informative=4, random_state=0)
    return StackingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB()),
                               ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))],
                              cv=3).fit(X, y)


def bars_by_name(ax):
    """``{tick label: bar}`` of a horizontal bar chart (bars are drawn top row first)."""
    labels = [t.get_text() for t in ax.get_yticklabels()]
    return dict(zip(labels, ax.patches))


def value_texts(ax):
    return [t.get_text() for t in ax.texts]


def hand_made(values, kinds=None):
    names = [f"m{i}" for i in range(len(values))]
    return pd.DataFrame({"value": values, "std": 0.001,
                         "kind": kinds or ["base model"] * len(values)}, index=names)


# -- the leaderboard -------------------------------------------------------------------


def test_bars_are_in_the_order_of_the_scores_best_on_top(fitted):
    ax = report.plot_leaderboard(fitted)
    board = report.leaderboard(fitted).sort_values("fold_mean", ascending=False)
    assert [t.get_text() for t in ax.get_yticklabels()] == board.index.tolist()
    ends = [bar.get_x() + bar.get_width() for bar in ax.patches]
    np.testing.assert_allclose(ends, board.fold_mean)
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # the first row drawn at the top
    assert "higher is better" in ax.get_xlabel() and "meta-cv" in ax.get_title()


def test_a_lower_is_better_metric_reads_the_right_way_round(fitted):
    ax = report.plot_leaderboard(fitted, "neg_log_loss")
    loss = -report.leaderboard(fitted, "neg_log_loss").fold_mean.sort_values(ascending=False)
    assert [t.get_text() for t in ax.get_yticklabels()] == loss.index.tolist()
    ends = [bar.get_x() + bar.get_width() for bar in ax.patches]
    np.testing.assert_allclose(ends, loss)  # the loss itself, smallest on top
    assert ax.get_xlabel().startswith("log loss (lower is better)")


def test_close_scores_get_an_axis_that_shows_them_apart():
    scores = hand_made([0.933, 0.939, 0.936, 0.9415], ["base model"] * 3 + ["stack"])
    ax = _plots.draw_leaderboard(scores, {}, "accuracy", lower_is_better=False)
    left, right = ax.get_xlim()
    assert 0.9 < left < 0.933 and right > 0.9415
    texts = value_texts(ax)  # best first: the stack, then 0.939, 0.936, 0.933
    assert [float(t) for t in texts] == pytest.approx([0.9415, 0.939, 0.936, 0.933], abs=5e-5)
    assert len(set(texts)) == 4


def test_scores_reaching_zero_keep_zero_as_the_axis_start():
    ax = _plots.draw_leaderboard(hand_made([0.05, 0.6, 0.9]), {}, "r2", lower_is_better=False)
    assert ax.get_xlim()[0] == 0.0


def test_the_stack_and_the_best_base_model_have_their_own_colours(fitted):
    bars = bars_by_name(report.plot_leaderboard(fitted))
    colours = {name: bar.get_facecolor() for name, bar in bars.items()}
    assert colours["stack"] == to_rgba(_plots.COLOURS["stack"])
    best = max(["lr", "nb", "tree"], key=report.leaderboard(fitted).fold_mean.get)
    assert colours[best] == to_rgba(_plots.COLOURS["best"])
    others = {colours[name] for name in ("lr", "nb", "tree") if name != best}
    assert others == {to_rgba(_plots.COLOURS["base model"])}


class Broken(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("broken on purpose")

    def predict(self, X):
        raise AssertionError("never fitted")


class OutOfTime(StackingRegressor):
    """A stack whose budget refuses the estimator named 'slow' (the budget's hook)."""

    def _admit(self, task):
        return "time_limit: estimated to end in 9.0 s, 1.0 s left" if task.name == "slow" \
            else None


def test_dropped_models_are_listed_greyed_with_a_short_reason():
    X, y = make_regression(n_samples=120, n_features=4, random_state=0)
    stack = OutOfTime([("ridge", Ridge()), ("broken", Broken()), ("knn", KNeighborsRegressor()),
                       ("slow", DecisionTreeRegressor())], cv=3, on_error="warn")
    with pytest.warns(StackkitWarning):
        stack.fit(X, y)
    assert set(stack.dropped_) == {"broken", "slow"}
    ax = report.plot_leaderboard(stack)
    labels = ax.get_yticklabels()
    assert [t.get_text() for t in labels[-2:]] == ["broken", "slow"]  # after the bars
    assert len(ax.patches) == 3  # ridge, knn and the stack
    assert labels[-1].get_color() == _plots.COLOURS["dropped"] != labels[0].get_color()
    texts = [t.get_text().strip() for t in ax.texts]
    assert "dropped: RuntimeError: broken on purpose" in texts
    assert "dropped: time limit" in texts
    assert ax.get_title().endswith("; 2 dropped")


def test_an_unscored_stack_is_listed_with_its_note():
    X, y = make_classification(n_samples=150, random_state=0)
    stack = StackingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())], cv=3,
                               passthrough=True).fit(X, y)
    ax = report.plot_leaderboard(stack)
    assert ax.get_yticklabels()[-1].get_text() == "stack" and len(ax.patches) == 2
    assert "pass X= to score a passthrough stack" in ax.texts[-1].get_text()
    assert ax.get_title().endswith("and the stack (not scored)")


def test_the_figure_grows_with_the_number_of_models():
    heights = [_plots.draw_leaderboard(hand_made(np.linspace(0.8, 0.9, n)), {}, "auc",
                                       lower_is_better=False).figure.get_figheight()
               for n in (4, 30)]
    assert heights[1] > heights[0] + 6  # 26 more rows of at least ~0.25 inch


# -- the correlation map ---------------------------------------------------------------


def two_blocks():
    """Six models, a/c/e alike and b/d/f alike, interleaved so that order alone fails."""
    names = list("abcdef")
    block = np.array([i % 2 for i in range(6)])
    r = np.where(block[:, None] == block[None, :], 0.9, 0.1)
    np.fill_diagonal(r, 1.0)
    return pd.DataFrame(r, index=names, columns=names)


def test_cluster_order_puts_each_block_of_alike_models_together():
    order = _plots.cluster_order(two_blocks())
    assert {frozenset(order[:3]), frozenset(order[3:])} == {frozenset("ace"), frozenset("bdf")}
    ax = _plots.draw_correlation(two_blocks())
    assert [t.get_text() for t in ax.get_xticklabels()] == order
    assert [t.get_text() for t in ax.get_yticklabels()] == order
    np.testing.assert_allclose(ax.images[0].get_array(), two_blocks().loc[order, order])


def contrast(colour, background):
    """WCAG's contrast ratio of two colours (1 to 21)."""
    def luminance(rgb):
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return np.dot(linear, [0.2126, 0.7152, 0.0722])

    high, low = sorted([luminance(to_rgba(colour)[:3]), luminance(background[:3])], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_cell_text_is_white_on_dark_cells_and_black_on_light_ones():
    ax = _plots.draw_correlation(two_blocks())
    image = ax.images[0]
    for text in ax.texts:
        background = image.cmap(image.norm(float(text.get_text())))
        other = "black" if text.get_color() == "white" else "white"
        assert contrast(text.get_color(), background) >= contrast(other, background)
    colours = {float(t.get_text()): t.get_color() for t in ax.texts}
    assert colours[0.1] == "white" and colours[1.0] == "black"  # both colours are used


@pytest.mark.parametrize("n, n_texts", [(_plots.NUMBERS_UP_TO, _plots.NUMBERS_UP_TO ** 2),
                                        (_plots.NUMBERS_UP_TO + 1, 0)])
def test_cell_values_are_written_only_while_the_map_is_small(n, n_texts):
    r = np.random.default_rng(0).uniform(0.5, 0.9, (n, n))
    r = (r + r.T) / 2
    np.fill_diagonal(r, 1.0)
    names = [f"model_{i}" for i in range(n)]
    ax = _plots.draw_correlation(pd.DataFrame(r, index=names, columns=names))
    assert len(ax.texts) == n_texts
    assert len(ax.figure.axes) == 2  # the map and its colour bar
    assert all(t.get_rotation() == 60 for t in ax.get_xticklabels())


def test_correlation_plot_of_a_stack_shows_its_matrix_in_cluster_order(fitted):
    ax = report.plot_correlation(fitted)
    order = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(order) == ["lr", "nb", "tree"]
    np.testing.assert_allclose(ax.images[0].get_array(),
                               report.oof_correlation(fitted).loc[order, order])
    assert len(ax.texts) == 9


# -- the weights -----------------------------------------------------------------------


def test_weights_plot_has_a_bar_per_model_largest_on_top():
    X, y = make_classification(n_samples=300, random_state=0)
    stack = StackingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB()),
                                ("tree", DecisionTreeClassifier(max_depth=2, random_state=0))],
                               BlendClassifier(), cv=3).fit(X, y)
    ax = report.plot_weights(stack)
    weights = stack.final_estimator_.weights_.sort_values(ascending=False)
    assert [t.get_text() for t in ax.get_yticklabels()] == weights.index.tolist()
    np.testing.assert_allclose([bar.get_width() for bar in ax.patches], weights)
    assert ax.get_xlabel() == "weight" and "BlendClassifier" in ax.get_title()
