"""What a fitted stack learned: a leaderboard of its models and how alike their predictions are.

>>> from sklearn.datasets import load_breast_cancer
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.naive_bayes import GaussianNB
>>> from stackkit import StackingClassifier, report
>>> X, y = load_breast_cancer(return_X_y=True)
>>> stack = StackingClassifier([("lr", LogisticRegression(max_iter=5000)), ("nb", GaussianNB())],
...                            cv=3).fit(X, y)
>>> board = report.leaderboard(stack)
>>> board.index.tolist()
['lr', 'nb', 'stack']
>>> board.estimate.tolist()
['oof', 'oof', 'meta-cv']
>>> report.oof_correlation(stack).shape
(2, 2)
"""

import numpy as np
import pandas as pd
from sklearn.base import is_classifier
from sklearn.metrics import get_scorer
from sklearn.utils.validation import check_is_fitted

from .._display import Section, register_section
from .._display import html as display_html
from ._plots import draw_correlation, draw_leaderboard, draw_weights
from ._records import in_memory, on_cluster
from ._scores import base_row, final_weights, missing_reasons, stack_row

__all__ = ["leaderboard", "oof_correlation", "plot_correlation", "plot_leaderboard",
           "plot_weights"]

COLUMNS = ["kind", "score", "fold_mean", "fold_std", "fit_time", "predict_time", "weight",
           "estimate", "note"]


def leaderboard(stack, scoring=None, *, nested=False, X=None, y=None, cv=5):
    """One row per base model, then the stack, then any dropped base model.

    Base models are scored on their out-of-fold predictions (``estimate="oof"``): over
    every tested row (``score``) and per fold (``fold_mean``, ``fold_std``). The stack's
    row is never scored on rows its final estimator was fit on: by default the final
    estimator is refit fold by fold on the other folds' out-of-fold predictions
    (``"meta-cv"``, cheap, but the base models of those predictions saw every row once);
    with ``nested=True`` the whole stack is cross-validated on ``X, y`` (``"nested"``,
    as many stack fits as ``cv`` has folds). When the stack was fit with
    ``sample_weight``, the OOF and meta-cv scores weight rows by it (the nested
    estimate does not: it refits without weights).

    A multilabel stack is scored as scikit-learn scores any multilabel classifier:
    ``accuracy`` (the default) is subset accuracy, as ``stack.score``; ``f1_macro``,
    ``roc_auc``, ``average_precision`` and the like average the per-label scores over
    the labels. A scorer without multilabel support (e.g. ``f1``) is a ``ValueError``.
    A model whose output the scorer cannot use (``roc_auc`` of a model stacked by
    ``predict``) gets no score, and a note saying why.

    A stack fit on a Dask collection is scored the same way, from its out-of-fold
    predictions, target, weights and folds collected once to this process, up to
    ``stackkit._dask_fit.COLLECT_LIMIT_BYTES`` (above it, and with ``nested=True``, a
    ``ValueError`` says why).

    Parameters
    ----------
    stack : fitted StackingClassifier or StackingRegressor
        The stack to report on.
    scoring : str or callable, default=None
        Any scikit-learn scorer; None: the stack's ``score`` metric (accuracy or R²).
        Higher is better, as for every scikit-learn scorer.
    nested : bool, default=False
        Score the stack by nested cross-validation on ``X`` and ``y``.
    X, y : array-like, default=None
        The training data; needed for ``nested=True`` (and for the ``"meta-cv"`` row
        of a stack with ``passthrough=True``).
    cv : int or splitter, default=5
        The outer folds of ``nested=True``.

    Returns
    -------
    board : DataFrame
        Indexed by model name, with columns ``kind`` (base model, stack, dropped),
        ``score``, ``fold_mean``, ``fold_std``, ``fit_time`` and ``predict_time``
        (seconds over its tasks), ``weight`` (the final estimator's ``weights_``, else
        its coefficient for the model's column, or the mean absolute coefficient over
        its columns), ``estimate`` (oof, meta-cv, nested) and ``note``.
    """
    check_is_fitted(stack)
    scorer = get_scorer("accuracy" if is_classifier(stack) else "r2") if scoring is None \
        else get_scorer(scoring)
    if nested and (X is None or y is None):
        raise ValueError("leaderboard(nested=True) needs the training data: pass X= and y=")
    stack = in_memory(stack, nested=nested)
    try:
        rows = {name: base_row(stack, name, columns, scorer)
                for name, columns in zip(stack.layout_.names, stack.layout_.slices())}
        rows["stack"] = stack_row(stack, scorer, nested, X, y, cv)
    except ValueError as exc:
        if stack.layout_.target_kind != "multilabel":
            raise
        raise ValueError(f"scoring={scoring!r} cannot score this multilabel stack ({exc}); "
                         "use one that takes multilabel targets, e.g. 'accuracy', "
                         "'f1_macro' or 'roc_auc'") from exc
    for name, error in stack.dropped_.items():
        rows[name] = {"kind": "dropped", "note": error}
    weights = final_weights(stack)
    board = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=COLUMNS)
    board["weight"] = pd.Series(weights)
    return board


def oof_correlation(stack, method="pearson"):
    """Correlation between the base models' out-of-fold predictions (their diversity).

    Each model's block of columns (one per class for multiclass probabilities) is
    flattened, over the rows some fold tested. A stack fit on a Dask collection has its
    out-of-fold predictions collected first, as :func:`leaderboard` does.

    Parameters
    ----------
    stack : fitted StackingClassifier or StackingRegressor
        The stack to report on.
    method : {"pearson", "spearman", "kendall"}, default="pearson"

    Returns
    -------
    correlation : DataFrame of shape (n_models, n_models)
        Indexed and labelled by base model name.
    """
    check_is_fitted(stack)
    stack = in_memory(stack)
    tested = ~np.isnan(stack.oof_).any(axis=1)
    blocks = {name: stack.oof_[tested][:, columns].ravel()
              for name, columns in zip(stack.layout_.names, stack.layout_.slices())}
    return pd.DataFrame(blocks).corr(method=method)


# -- plots (matplotlib, the "plot" extra) ------------------------------------------------


def plot_leaderboard(stack, scoring=None, *, ax=None, **leaderboard_params):
    """Draw each model's fold mean score as a horizontal bar, best on top.

    The axis starts a little below the lowest score shown (at 0 only if the scores
    reach down to it), so that 0.933 and 0.939 look different, and each bar's value is
    written at its end with as many decimals as tell the closest two apart. The stack's
    bar has its own colour and the best base model's its own; the whiskers are the
    fold standard deviation. Models dropped in fit, and those the scorer could not
    score, are listed at the bottom in grey with the reason (e.g. "dropped: time
    limit"). A ``neg_*`` scorer (``neg_log_loss``, ``neg_root_mean_squared_error``) is
    drawn as the metric itself, lower is better (so the axis says). The figure grows
    with the number of models.

    Parameters
    ----------
    stack : fitted StackingClassifier or StackingRegressor
        The stack to report on.
    scoring : str or callable, default=None
        As in :func:`leaderboard`.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's Axes, sized for the number of models, by default.
    **leaderboard_params : dict
        Passed to :func:`leaderboard` (``nested``, ``X``, ``y``, ``cv``).

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on.
    """
    board = leaderboard(stack, scoring, **leaderboard_params)
    lower = isinstance(scoring, str) and scoring.startswith("neg_")
    scores = pd.DataFrame({"value": board.fold_mean * (-1.0 if lower else 1.0),
                           "std": board.fold_std, "kind": board.kind})
    ax = draw_leaderboard(scores[board.kind != "dropped"], missing_reasons(stack, board),
                          _metric_name(stack, scoring), lower_is_better=lower, ax=ax)
    n_dropped = int((board.kind == "dropped").sum())
    estimate = board.estimate.get("stack")
    estimate = estimate if isinstance(estimate, str) else "not scored"
    n_bases = len(stack.layout_.names)
    ax.set_title(f"Leaderboard: {n_bases} base model{'s' if n_bases > 1 else ''} (out-of-fold) "
                 f"and the stack ({estimate})" + (f"; {n_dropped} dropped" if n_dropped else ""),
                 fontsize=10)
    return ax


def _metric_name(stack, scoring):
    if scoring is None:
        return "accuracy" if is_classifier(stack) else "R²"
    if not isinstance(scoring, str):
        return "score"
    return scoring.removeprefix("neg_").replace("_", " ")


def plot_correlation(stack, *, ax=None):
    """Draw a map of :func:`oof_correlation`, models that predict alike side by side.

    Rows and columns are ordered by hierarchical clustering of the correlation, and
    the colour scale starts at the lowest correlation (rounded down to 0.05), so that
    models which all correlate above 0.9 still differ in colour. Up to 15 models each
    cell shows its value, in white on dark cells and black on light ones; beyond that
    the colour bar alone reads the values. The figure grows with the number of models.

    Parameters
    ----------
    stack : fitted StackingClassifier or StackingRegressor
        The stack to report on.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's Axes, sized for the number of models, by default.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on.
    """
    return draw_correlation(oof_correlation(stack), ax=ax)


def plot_weights(stack, *, ax=None):
    """Draw the final estimator's weight (or coefficient) per base model, largest on top.

    Parameters
    ----------
    stack : fitted StackingClassifier or StackingRegressor
        The stack to report on.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's Axes, sized for the number of models, by default.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on.

    Raises
    ------
    ValueError
        The final estimator has neither ``weights_`` nor ``coef_``.
    """
    check_is_fitted(stack)
    weights = pd.Series(final_weights(stack), dtype=float)
    if weights.empty:
        raise ValueError(f"final estimator {type(stack.final_estimator_).__name__} has "
                         "neither weights_ nor coef_ to plot")
    label = "weight" if hasattr(stack.final_estimator_, "weights_") else "coefficient"
    ax = draw_weights(weights, label, ax=ax)
    ax.set_title(f"Meta-learner: {type(stack.final_estimator_).__name__}", fontsize=10)
    return ax


# -- notebook display ------------------------------------------------------------------


def html(stack):
    """scikit-learn's diagram of ``stack``, then its leaderboard once it is fitted."""
    return display_html(stack)


def _leaderboard_table(stack):
    if on_cluster(stack):  # a display must not start work on a cluster
        return ("<p>fit on a Dask collection: stackkit.report.leaderboard(stack) collects "
                "its out-of-fold predictions and scores them</p>")
    return leaderboard(stack).to_html(float_format=lambda v: f"{v:.4f}", na_rep="")


# the engine's notebook display (``stack._repr_html_()``) shows the leaderboard
register_section(Section("leaderboard", "Leaderboard", _leaderboard_table))
