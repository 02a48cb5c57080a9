"""scikit-learn's ``HistGradientBoostingClassifier`` and ``HistGradientBoostingRegressor``.

Its threads are OpenMP's (limited by threadpoolctl, no parameter), it has no GPU, and
it carves its own validation rows for early stopping from the rows it is fit on.
"""

from ._library import Library


class HistGradientBoosting(Library):
    """scikit-learn's histogram boosting: ``early_stopping=True``, ``max_iter``."""

    name = "HistGradientBoosting"
    module = "sklearn"
    class_prefix = "HistGradientBoosting"

    gpu_values = {}

    rounds_param = "max_iter"
    needs_eval_set = False  # it holds out its own validation rows

    @staticmethod
    def requested(params, fit_params):
        return params.get("early_stopping") is True

    @staticmethod
    def kept_rounds(model):
        return model.n_iter_

    @staticmethod
    def without_stopping(params):
        return {"early_stopping": False}
