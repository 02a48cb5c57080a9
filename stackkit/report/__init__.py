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
from sklearn.base import clone, is_classifier
from sklearn.metrics import get_scorer
from sklearn.model_selection import cross_validate
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from .._compat import pyplot
from .._display import Section, register_section
from .._display import html as display_html
from .._plane import take_rows
from ..meta._base import FixedClassifier, FixedRegressor, as_probabilities

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
    try:
        rows = {name: _base_row(stack, name, columns, scorer)
                for name, columns in zip(stack.layout_.names, stack.layout_.slices())}
        rows["stack"] = _stack_row(stack, scorer, nested, X, y, cv)
    except ValueError as exc:
        if stack.layout_.target_kind != "multilabel":
            raise
        raise ValueError(f"scoring={scoring!r} cannot score this multilabel stack ({exc}); "
                         "use one that takes multilabel targets, e.g. 'accuracy', "
                         "'f1_macro' or 'roc_auc'") from exc
    for name, error in stack.dropped_.items():
        rows[name] = {"kind": "dropped", "note": error}
    weights = _final_weights(stack)
    board = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=COLUMNS)
    board["weight"] = pd.Series(weights)
    return board


def oof_correlation(stack, method="pearson"):
    """Correlation between the base models' out-of-fold predictions (their diversity).

    Each model's block of columns (one per class for multiclass probabilities) is
    flattened, over the rows some fold tested.

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
    tested = ~np.isnan(stack.oof_).any(axis=1)
    blocks = {name: stack.oof_[tested][:, columns].ravel()
              for name, columns in zip(stack.layout_.names, stack.layout_.slices())}
    return pd.DataFrame(blocks).corr(method=method)


def _base_row(stack, name, columns, scorer):
    log = stack.task_log_[stack.task_log_.estimator == name]
    method = stack.stack_method_[stack.layout_.names.index(name)]
    folds = _scores_or_note(lambda: _fold_scores(
        stack, lambda rows: _answer(stack, stack.oof_[rows][:, columns], method), scorer),
        f"its {method} output")
    return {"kind": "base model", **folds, "fit_time": log.fit_time.sum(),
            "predict_time": log.predict_time.sum(), "estimate": "oof"}


def _scores_or_note(scores, what):
    try:
        return scores()
    except AttributeError:  # the scorer asks for an output (e.g. probabilities) not there
        return {"note": f"not scored: the scorer needs an output other than {what}"}


def _fold_scores(stack, answer, scorer):
    """Score over every tested row, and per fold, of the model ``answer(rows)`` gives.

    Rows count with the fit's ``sample_weight``, as they did in the fits.
    """
    y, weights = stack.oof_target_, stack.oof_sample_weight_

    def score(rows):
        weighted = {} if weights is None else {"sample_weight": weights[rows]}
        return scorer(answer(rows), rows[:, None], y[rows], **weighted)

    tested = np.flatnonzero(~np.isnan(stack.oof_).any(axis=1))
    per_fold = [score(rows) for rows in stack.oof_folds_]
    return {"score": score(tested), "fold_mean": float(np.mean(per_fold)),
            "fold_std": float(np.std(per_fold))}


def _answer(stack, block, method):
    """A stand-in estimator giving a scorer the OOF ``block`` as ``method``'s output."""
    kind = stack.layout_.target_kind
    if kind in ("continuous", "continuous-multioutput"):
        return FixedRegressor(block[:, 0] if block.shape[1] == 1 else block)
    if kind == "multilabel":  # one column per label; classes_ as MultiOutputClassifier's
        labels = (block > (0.0 if method == "decision_function" else 0.5)).astype(int)
        return FixedClassifier(stack.classes_, labels=labels,
                               proba=block if method == "predict_proba" else None,
                               decision=block if method == "decision_function" else None)
    classes = np.arange(len(stack.classes_))
    if method == "predict_proba":
        return FixedClassifier(classes, proba=as_probabilities(block, len(classes)))
    if method == "decision_function":
        return FixedClassifier(classes, decision=block[:, 0] if block.shape[1] == 1 else block)
    return FixedClassifier(classes, labels=block[:, 0].astype(int))


def _stack_row(stack, scorer, nested, X, y, cv):
    log = stack.task_log_
    row = {"kind": "stack", "fit_time": log.fit_time.sum(), "predict_time": log.predict_time.sum()}
    if nested:
        scores = cross_validate(clone(stack), X, y, cv=cv, scoring=scorer)["test_score"]
        return {**row, "score": scores.mean(), "fold_mean": scores.mean(),
                "fold_std": scores.std(), "estimate": "nested"}
    if stack.passthrough and X is None:
        return {**row, "note": "pass X= to score a passthrough stack"}
    meta = stack._final_input(stack.oof_, X) if stack.passthrough else stack.oof_
    answers = _meta_cv_answers(stack, meta)
    scores = _scores_or_note(lambda: _fold_scores(stack, answers.subset, scorer),
                             "the final estimator's")
    return {**row, **scores, "estimate": "meta-cv"}


def _meta_cv_answers(stack, meta):
    """The final estimator's outputs for each fold's rows, fit on the other folds' rows."""
    tested = ~np.isnan(stack.oof_).any(axis=1)
    methods = ("predict_proba", "decision_function", "predict")
    outputs = {}
    for rows in stack.oof_folds_:
        train = np.flatnonzero(tested & ~np.isin(np.arange(len(tested)), rows))
        final = clone(stack.final_estimator_)
        extra = {"layout": stack.layout_} if has_fit_parameter(final, "layout") else {}
        if stack.oof_sample_weight_ is not None:
            extra["sample_weight"] = stack.oof_sample_weight_[train]
        final.fit(take_rows(meta, train), stack.oof_target_[train], **extra)
        for method in filter(lambda m: hasattr(final, m), methods):
            out = getattr(final, method)(take_rows(meta, rows))
            # multilabel probabilities may come as one (n, 2) array per label
            out = np.column_stack([p[:, -1] for p in out]) if isinstance(out, list) \
                else np.asarray(out)
            outputs.setdefault(method, np.zeros((len(tested),) + out.shape[1:], out.dtype))
            outputs[method][rows] = out
    return _MetaAnswers(stack, outputs)


class _MetaAnswers:
    """Stand-in estimators over the meta-cv outputs, for any subset of rows."""

    def __init__(self, stack, outputs):
        self.stack, self.outputs = stack, outputs

    def subset(self, rows):
        picked = {method: values[rows] for method, values in self.outputs.items()}
        if not is_classifier(self.stack):
            return FixedRegressor(picked["predict"])
        classes = getattr(self.stack.final_estimator_, "classes_", None)
        return FixedClassifier(classes, proba=picked.get("predict_proba"),
                               decision=picked.get("decision_function"),
                               labels=picked.get("predict"))


def _final_weights(stack):
    """Per base model: the final estimator's weight, or its coefficient(s) for the model."""
    final = stack.final_estimator_
    if hasattr(final, "weights_"):
        return final.weights_.to_dict()
    if getattr(final, "coef_", None) is None:
        return {}
    coef = np.atleast_2d(final.coef_)
    weights = {}
    for name, columns in zip(stack.layout_.names, stack.layout_.slices()):
        block = coef[:, columns]
        weights[name] = float(block[0, 0]) if block.size == 1 else float(np.abs(block).mean())
    return weights


# -- plots (matplotlib, the "plot" extra) ------------------------------------------------


def plot_leaderboard(stack, scoring=None, *, ax=None, **leaderboard_params):
    """Bar chart of each model's fold mean score, with its fold standard deviation.

    Parameters
    ----------
    stack : fitted StackingClassifier or StackingRegressor
        The stack to report on.
    scoring : str or callable, default=None
        As in :func:`leaderboard`.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's Axes by default.
    **leaderboard_params : dict
        Passed to :func:`leaderboard` (``nested``, ``X``, ``y``, ``cv``).

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on.
    """
    board = leaderboard(stack, scoring, **leaderboard_params).dropna(subset=["fold_mean"])
    ax = _axes(ax)
    colours = ["tab:orange" if kind == "stack" else "tab:blue" for kind in board.kind]
    ax.bar(board.index, board.fold_mean, yerr=board.fold_std, color=colours, capsize=4)
    ax.set_ylabel(f"score ({scoring or 'default metric'}), fold mean ± std")
    ax.set_title("Leaderboard: base models (out-of-fold) and the stack "
                 f"({board.loc['stack', 'estimate'] if 'stack' in board.index else 'n/a'})")
    return ax


def plot_correlation(stack, *, ax=None):
    """Draw a heat map of :func:`oof_correlation`, each cell labelled with its value.

    Parameters
    ----------
    stack : fitted StackingClassifier or StackingRegressor
        The stack to report on.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's Axes by default.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on.
    """
    correlation = oof_correlation(stack)
    ax = _axes(ax)
    image = ax.imshow(correlation.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
    names = correlation.columns.tolist()
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    for (i, j), value in np.ndenumerate(correlation.to_numpy()):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8)
    ax.figure.colorbar(image, ax=ax)
    ax.set_title("Correlation of out-of-fold predictions")
    return ax


def plot_weights(stack, *, ax=None):
    """Draw a bar chart of the final estimator's weight (or coefficient) per base model.

    Parameters
    ----------
    stack : fitted StackingClassifier or StackingRegressor
        The stack to report on.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure's Axes by default.

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
    weights = pd.Series(_final_weights(stack), dtype=float)
    if weights.empty:
        raise ValueError(f"final estimator {type(stack.final_estimator_).__name__} has "
                         "neither weights_ nor coef_ to plot")
    ax = _axes(ax)
    ax.bar(weights.index, weights.to_numpy(), color="tab:green")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("weight" if hasattr(stack.final_estimator_, "weights_") else "coefficient")
    ax.set_title(f"Meta-learner: {type(stack.final_estimator_).__name__}")
    return ax


def _axes(ax):
    return pyplot().subplots()[1] if ax is None else ax


# -- notebook display ------------------------------------------------------------------


def html(stack):
    """scikit-learn's diagram of ``stack``, then its leaderboard once it is fitted."""
    return display_html(stack)


def _leaderboard_table(stack):
    return leaderboard(stack).to_html(float_format=lambda v: f"{v:.4f}", na_rep="")


# the engine's notebook display (``stack._repr_html_()``) shows the leaderboard
register_section(Section("leaderboard", "Leaderboard", _leaderboard_table))
