"""CatBoost (``catboost.CatBoostClassifier``, ``CatBoostRegressor``).

stackkit gives CatBoost a thread budget and a GPU lane; it serves neither its early
stopping (no evaluation set is carved for it) nor a warm start.
"""

from ._library import Library


class CatBoost(Library):
    """CatBoost: ``thread_count``, ``task_type="GPU"`` with ``devices``."""

    name = module = "catboost"
    thread_params = ("thread_count", "n_jobs")

    gpu_values = {"task_type": ("gpu",)}

    @staticmethod
    def device_params(gpu):
        return {"task_type": "GPU" if gpu else "CPU"}

    @staticmethod
    def device_changes(params, prefix, name, value, device):
        key = f"{prefix}devices"
        return {} if key in params else {key: str(device)}

    @classmethod
    def set_thread_param(cls, model, name, value):
        # CatBoost refuses set_params once fitted, and the user's None is an absent one
        cls.remove_param(model, name)

    @staticmethod
    def remove_param(model, name):
        # CatBoost keeps the parameters it was given in _init_params, and offers no
        # public way to take one back off a (fitted) model.
        model._init_params.pop(name, None)
