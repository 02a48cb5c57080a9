"""Solvers behind the meta-learners: non-negative least squares, simplex log loss, greedy selection."""

import numpy as np
from scipy.optimize import minimize, nnls

EPS = 1e-15


def least_squares_weights(A, b, row_weight=None, *, sum_to_one=False):
    """Non-negative ``w`` minimising ``||sqrt(row_weight) * (A w - b)||^2``.

    With ``sum_to_one`` the weights also sum to one (a convex combination). Then
    ``A w - b = (A - b 1^T) w``, so ``w`` is the point of the simplex closest to zero
    under the models' residuals; the constraint enters non-negative least squares as
    one heavily weighted extra row (exact up to rounding), then ``w`` is renormalised.
    """
    if row_weight is not None:
        root = np.sqrt(row_weight)[:, None]
        A, b = A * root, b * root[:, 0]
    if not sum_to_one:
        return nnls(A, b)[0]
    residuals = A - b[:, None]
    penalty = 1e4 * max(np.linalg.norm(residuals), EPS)
    stacked = np.vstack([residuals, np.full((1, A.shape[1]), penalty)])
    weights = nnls(stacked, np.r_[np.zeros(len(b)), penalty])[0]
    return weights / weights.sum()


def log_loss_weights(truth_proba, row_weight=None):
    """Simplex weights minimising the log loss of the blended probabilities.

    ``truth_proba[i, m]`` is the probability model ``m`` gives row ``i``'s true class;
    the blend gives it ``truth_proba[i] @ w``, so the loss is convex in ``w``.
    """
    Q = np.clip(truth_proba, EPS, 1.0)
    s = np.ones(len(Q)) if row_weight is None else np.asarray(row_weight, dtype=float)
    total = s.sum()
    return _on_simplex(lambda w: -(s * np.log(Q @ w)).sum() / total,
                       lambda w: -(Q.T @ (s / (Q @ w))) / total, Q.shape[1])


def _on_simplex(loss, gradient, n_models):
    start = np.full(n_models, 1.0 / n_models)
    result = minimize(loss, start, jac=gradient, method="SLSQP",
                      bounds=[(0.0, 1.0)] * n_models, options={"ftol": 1e-12, "maxiter": 500},
                      constraints={"type": "eq", "fun": lambda w: w.sum() - 1.0,
                                   "jac": lambda w: np.ones_like(w)})
    weights = np.clip(result.x, 0.0, None)
    return weights / weights.sum()


def greedy_selection(outputs, score, *, n_init, n_iterations):
    """Caruana et al. (2004) ensemble selection with replacement.

    Starts from the ``n_init`` best single models (each counted once), then adds,
    ``n_iterations`` times, the model whose addition gives the best-scoring average
    (ties: the first). Returns the counts at the best-scoring step, so the ensemble
    never scores below its start, and each single model's score.

    Parameters
    ----------
    outputs : list of ndarray
        Each model's predictions (probabilities or values), all the same shape.
    score : callable
        Maps an averaged prediction to a score, higher is better.
    """
    singles = np.array([score(output) for output in outputs])
    counts = np.zeros(len(outputs), dtype=int)
    total = np.zeros_like(outputs[0], dtype=float)
    for m in np.argsort(-singles, kind="stable")[:n_init]:
        counts[m] += 1
        total = total + outputs[m]
    best_score, best_counts = score(total / counts.sum()), counts.copy()
    for _ in range(n_iterations):
        k = counts.sum()
        trials = [score((total + output) / (k + 1)) for output in outputs]
        pick = int(np.argmax(trials))
        counts[pick] += 1
        total = total + outputs[pick]
        if trials[pick] > best_score:
            best_score, best_counts = trials[pick], counts.copy()
    return best_counts, singles


def gram_weights(gram, cross, square, *, sum_to_one=False):
    """:func:`least_squares_weights` from ``A^T A``, ``A^T b`` and ``b^T b`` alone.

    ``||A w - b||^2 = ||R w - d||^2 + const`` for a square root ``R^T R = A^T A`` and
    ``R^T d = A^T b`` (``A^T b`` lies in the range of ``A^T A``), so non-negative least
    squares on the small ``R`` gives the weights. With ``sum_to_one`` the residual
    matrix ``A - b 1^T`` has the Gram matrix below, and the target is zero.
    """
    gram, cross = np.asarray(gram, dtype=float), np.asarray(cross, dtype=float)
    if not sum_to_one:
        root, target = _square_root(gram, cross)
        return nnls(root, target)[0]
    ones = np.ones_like(cross)
    residual_gram = (gram - np.outer(cross, ones) - np.outer(ones, cross)
                     + float(square) * np.outer(ones, ones))
    root, _ = _square_root(residual_gram, np.zeros_like(cross))
    penalty = 1e4 * max(np.sqrt(max(np.trace(residual_gram), 0.0)), EPS)
    stacked = np.vstack([root, np.full((1, len(cross)), penalty)])
    weights = nnls(stacked, np.r_[np.zeros(len(root)), penalty])[0]
    return weights / weights.sum()


def _square_root(gram, cross):
    """``(R, d)`` with ``R^T R = gram`` and ``R^T d = cross`` (on the range of ``gram``)."""
    values, vectors = np.linalg.eigh((gram + gram.T) / 2)
    keep = values > max(values.max(), 0.0) * 1e-12
    scale = np.sqrt(values[keep])
    root = scale[:, None] * vectors[:, keep].T
    return root, (vectors[:, keep].T @ cross) / scale
