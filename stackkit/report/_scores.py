"""How a stack's leaderboard and correlation are scored: per base model on its out-of-fold
predictions, and for the stack by refitting its final estimator fold by fold (meta-cv)."""

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import cross_validate
from sklearn.utils.validation import has_fit_parameter

from .._plane import take_rows
from ..meta._base import FixedClassifier, FixedRegressor, as_probabilities


def base_row(stack, name, columns, scorer):
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


def stack_row(stack, scorer, nested, X, y, cv):
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


def final_weights(stack):
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


def missing_reasons(stack, board):
    """A short reason for each row of ``board`` without a score, in the board's order."""
    return {name: (f"dropped: {_drop_reason(stack.task_log_, name)}" if kind == "dropped"
                   else _shorten(str(note)))
            for name, kind, note in zip(board.index, board.kind, board.note)
            if np.isnan(board.fold_mean[name])}


def _drop_reason(log, name):
    """Why ``name`` was dropped, in a few words: "time limit", or its error, shortened."""
    lost = log[(log.estimator == name) & log.status.isin(["failed", "skipped"])]
    if lost.empty:
        return "no model"
    status, error = lost.status.iloc[0], str(lost.error.iloc[0])
    if status == "skipped":
        return "time limit" if "time_limit" in error or "time limit" in error else "skipped"
    return _shorten(error.split("training rows): ")[-1])


def _shorten(text, length=48):
    return text if len(text) <= length else text[:length - 1].rstrip() + "…"
