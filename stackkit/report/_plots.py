"""The report's pictures, drawn from its tables, legible from two models to thirty and more.

The leaderboard is a horizontal bar per model, best on top, on an axis that starts just
below the worst score shown (never at 0 when the scores are close), the value written at
each bar's end; the stack has its own colour, the best base model is marked, and the
models a fit dropped (or a scorer could not score) are listed at the bottom with why.
The correlation map orders its models by hierarchical clustering, so that models that
predict alike sit together, and writes each cell's value in the colour that reads on it
while the map is small enough to read them.
"""

import math

import numpy as np
from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering
from scipy.spatial.distance import squareform

from .._compat import pyplot

COLOURS = {"stack": "tab:orange", "best": "#1f4e9c", "base model": "#9ecae1",
           "dropped": "0.55"}
# Models up to which a correlation map writes each cell's value; beyond, the colour bar.
NUMBERS_UP_TO = 15
_ROW_INCHES = 0.3   # height of one leaderboard row, so that 30 labels stay apart


def draw_leaderboard(scores, missing, metric, *, lower_is_better, ax=None):
    """Draw sorted horizontal bars of ``scores`` and list the ``missing`` models below.

    Parameters
    ----------
    scores : DataFrame
        Indexed by model, with columns ``value`` and ``std`` (in the metric's own sign)
        and ``kind`` ("base model" or "stack"); rows with no value are not drawn.
    missing : dict of str to str
        Models with no bar (dropped, not scored) and the short reason shown for each.
    metric : str
        The metric's name, for the axis.
    lower_is_better : bool
        Sort (and say on the axis) that a lower value is better.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    kept = scores.dropna(subset=["value"]).sort_values(
        "value", ascending=lower_is_better, kind="stable")
    ax = _axes(ax, (7.5, 1.6 + _ROW_INCHES * (len(kept) + len(missing))))
    left, right = _value_range(kept.value, kept["std"].fillna(0.0))
    colours = _bar_colours(kept, lower_is_better)
    rows = np.arange(len(kept))
    ax.barh(rows, kept.value - left, left=left, xerr=kept["std"].fillna(0.0),
            color=colours, error_kw={"ecolor": "0.25", "capsize": 2, "linewidth": 0.8})
    _write_values(ax, kept, right - left)
    _list_missing(ax, missing, start=len(kept), x=left)
    names = [*kept.index, *missing]
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)  # best on top
    ax.set_xlim(left, right)
    for label, name in zip(ax.get_yticklabels(), names):
        label.set_color(COLOURS["dropped"] if name in missing else "black")
        label.set_fontweight("bold" if name in kept.index and kept.kind[name] == "stack"
                             else "normal")
    ax.set_xlabel(f"{metric} ({'lower' if lower_is_better else 'higher'} is better), "
                  "fold mean ± std")
    ax.grid(axis="x", alpha=0.3)
    _legend(ax, kept, lower_is_better)
    return ax


def _value_range(values, std):
    """The axis range: a little below the lowest whisker (0 if the scores reach it) to a
    little above the highest, with room on the right for the values written there."""
    low, high = float((values - std).min()), float((values + std).max())
    span = high - low or max(abs(high), 1.0) * 0.01
    left = low - 0.12 * span
    if low >= 0 > left:
        left = 0.0
    return left, high + 0.28 * span


def _bar_colours(kept, lower_is_better):
    best = _best_base(kept, lower_is_better)
    return [COLOURS["stack"] if kind == "stack" else
            COLOURS["best"] if name == best else COLOURS["base model"]
            for name, kind in zip(kept.index, kept.kind)]


def _best_base(kept, lower_is_better):
    """The name of the best base model (the first, as the bars are sorted), else None."""
    bases = kept.index[kept.kind == "base model"]
    return bases[0] if len(bases) else None


def _write_values(ax, kept, span):
    """Each bar's value at the end of its whisker, to as many decimals as tell them apart."""
    decimals = value_decimals(kept.value.to_numpy())
    ends = kept.value + kept["std"].fillna(0.0)
    for row, (value, end) in enumerate(zip(kept.value, ends)):
        ax.text(end + 0.01 * span, row, f"{value:.{decimals}f}", va="center", fontsize=8)


def value_decimals(values):
    """Decimals for ``values`` (sorted best first): to a twentieth of their spread, and
    enough to tell the first two apart (up to two more), from 0 to 6."""
    values = np.asarray(values, dtype=float)
    span = float(np.ptp(values)) if len(values) > 1 else 0.0
    if span == 0:
        return 3
    decimals = _decimals_for(span / 20)
    top_gap = abs(values[0] - values[1])
    if top_gap > 0:
        decimals = max(decimals, min(_decimals_for(top_gap), decimals + 2))
    return int(np.clip(decimals, 0, 6))


def _decimals_for(step):
    return math.ceil(-math.log10(step))


def _list_missing(ax, missing, *, start, x):
    for row, reason in enumerate(missing.values(), start=start):
        ax.text(x, row, f"  {reason}", va="center", fontsize=8, style="italic",
                color=COLOURS["dropped"])


def _legend(ax, kept, lower_is_better):
    from matplotlib.patches import Patch  # matplotlib is there: pyplot() found it

    n_bases = int((kept.kind == "base model").sum())
    shown = [("stack", "the stack")] if (kept.kind == "stack").any() else []
    shown += [("best", "best base model")] if n_bases else []
    shown += [("base model", "other base models")] if n_bases > 1 else []
    handles = [Patch(color=COLOURS[key], label=label) for key, label in shown]
    ax.legend(handles=handles, loc="upper right" if lower_is_better else "lower right",
              fontsize=8, framealpha=0.9)


def draw_weights(weights, label, ax=None):
    """Draw a horizontal bar per model of ``weights`` (a Series), largest on top.

    Parameters
    ----------
    weights : Series
        The final estimator's weight (or coefficient) per base model.
    label : str
        What the values are, for the axis.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    weights = weights.sort_values(ascending=False, kind="stable")
    ax = _axes(ax, (6.5, 1.4 + _ROW_INCHES * len(weights)))
    ax.barh(range(len(weights)), weights.to_numpy(), color="tab:green")
    ax.set_yticks(range(len(weights)), weights.index)
    ax.set_ylim(len(weights) - 0.5, -0.5)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(label)
    ax.grid(axis="x", alpha=0.3)
    return ax


def cluster_order(correlation):
    """The models of a correlation matrix ordered so that those that correlate sit together.

    Average-linkage clustering of the distance ``1 - r``, its leaves in the order that
    puts the most alike neighbours next to each other (scipy's optimal leaf ordering).
    """
    names = list(correlation.index)
    if len(names) < 3:
        return names
    r = np.nan_to_num(correlation.to_numpy(dtype=float), nan=0.0)
    r = (r + r.T) / 2
    np.fill_diagonal(r, 1.0)
    distance = squareform(np.clip(1.0 - r, 0.0, None), checks=False)
    tree = optimal_leaf_ordering(linkage(distance, "average"), distance)
    return [names[i] for i in leaves_list(tree)]


def draw_correlation(correlation, ax=None):
    """Draw ``correlation`` in cluster order; cell values while there are few models.

    Parameters
    ----------
    correlation : DataFrame of shape (n_models, n_models)
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    order = cluster_order(correlation)
    matrix = correlation.loc[order, order].to_numpy(dtype=float)
    n = len(order)
    cell = 0.5 if n <= NUMBERS_UP_TO else 0.3
    ax = _axes(ax, (max(5.0, cell * n + 3.2), max(4.0, cell * n + 2.2)))
    image = ax.imshow(matrix, vmin=colour_floor(matrix), vmax=1.0, cmap="viridis")
    size = 9 if n <= NUMBERS_UP_TO else 8
    ax.set_xticks(range(n), order, rotation=60, ha="right", rotation_mode="anchor",
                  fontsize=size)
    ax.set_yticks(range(n), order, fontsize=size)
    if n <= NUMBERS_UP_TO:
        _write_cells(ax, image, matrix)
    ax.figure.colorbar(image, ax=ax, label="correlation", shrink=0.8)
    ax.set_title("Correlation of out-of-fold predictions\n(clustered: alike models together)",
                 fontsize=10)
    return ax


def colour_floor(matrix):
    """The bottom of the colour scale: the lowest off-diagonal value, rounded down to 0.05,
    so that maps of models that all correlate above 0.9 still show their differences."""
    off = matrix[~np.eye(len(matrix), dtype=bool)]
    off = off[np.isfinite(off)]
    if not off.size:
        return 0.0
    return max(-1.0, min(0.9, math.floor(off.min() * 20) / 20))


def _write_cells(ax, image, matrix):
    for (i, j), value in np.ndenumerate(matrix):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                    color=text_colour(image.cmap(image.norm(value))))


def text_colour(rgba):
    """White on a dark background, black on a light one (by relative luminance)."""
    red, green, blue = (_linear(channel) for channel in rgba[:3])
    return "white" if 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.18 else "black"


def _linear(channel):
    """An sRGB channel value as linear light (the sRGB transfer curve)."""
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _axes(ax, size):
    if ax is not None:
        return ax
    return pyplot().subplots(figsize=size, layout="constrained")[1]
