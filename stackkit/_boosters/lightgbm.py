"""LightGBM (``lightgbm.LGBMClassifier``, ``LGBMRegressor``, raw ``lightgbm.Booster``)."""

import inspect

import numpy as np

from ._library import Library

# LightGBM's names of its early-stopping parameter
ALIASES = ("early_stopping_round", "early_stopping_rounds", "early_stopping", "n_iter_no_change")


class LightGBM(Library):
    """LightGBM: ``n_jobs``, ``device_type="gpu"``, ``early_stopping_round``, ``init_model``."""

    name = module = "lightgbm"
    thread_params = ("n_jobs", "num_threads", "nthread")

    gpu_values = {"device_type": ("cuda", "gpu")}

    @staticmethod
    def device_params(gpu):
        return {"device_type": "gpu" if gpu else "cpu"}

    @staticmethod
    def device_changes(params, prefix, name, value, device):
        key = f"{prefix}gpu_device_id"
        return {} if key in params else {key: device}

    @staticmethod
    def remove_param(model, name):
        # Keyword parameters beyond LightGBM's signature live in _other_params (and as
        # attributes): the only way to take one back off a fitted model.
        model._other_params.pop(name, None)
        vars(model).pop(name, None)

    rounds_param = "n_estimators"

    @staticmethod
    def requested(params, fit_params):
        return any(_positive(params.get(alias)) for alias in ALIASES) or any(
            _is_stopper(cb) for cb in (fit_params or {}).get("callbacks") or ())

    @staticmethod
    def fit_with_eval_set(model, template, fit_data, eval_data, eval_weight, fit_params):
        extra = dict(fit_params)
        if eval_weight is not None:
            extra["eval_sample_weight"] = [eval_weight]
        if "eval_X" in inspect.signature(template.fit).parameters:  # LightGBM >= 4.7
            extra.update(eval_X=(eval_data[0],), eval_y=(eval_data[1],))
        else:
            extra["eval_set"] = [eval_data]
        model.fit(*fit_data, **extra)

    @staticmethod
    def kept_rounds(model):
        return model.best_iteration_

    @staticmethod
    def without_stopping(params):
        return {alias: 0 for alias in ALIASES if _positive(params.get(alias))}

    @staticmethod
    def without_stopping_callbacks(fit_params):
        if not fit_params.get("callbacks"):
            return fit_params
        kept = [cb for cb in fit_params["callbacks"] if not _is_stopper(cb)]
        return {**fit_params, "callbacks": kept}

    callbacks_in = "fit"

    @staticmethod
    def deadline_callback(booster, watch):
        return _DeadlineCallback(watch)

    init_param = "init_model"

    @staticmethod
    def raw_booster(model):
        return model.booster_

    @staticmethod
    def rounds(booster):
        return booster.current_iteration()

    @staticmethod
    def best_iteration(model):
        return getattr(model, "best_iteration_", None) or getattr(model, "best_iteration", None)

    @staticmethod
    def cut(booster, n_rounds):
        return type(booster)(model_str=booster.model_to_string(num_iteration=n_rounds))

    @staticmethod
    def booster_features(booster):
        names = booster.feature_name()
        generic = names == [f"Column_{i}" for i in range(len(names))]
        return (None if generic else names), booster.num_feature()

    @staticmethod
    def booster_classes(booster):
        per_round = booster.num_model_per_iteration()
        return per_round if per_round > 1 else None


def _positive(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def _is_stopper(callback):
    return hasattr(callback, "stopping_rounds")  # what lightgbm.early_stopping() returns


class _DeadlineCallback:
    """A LightGBM callback ending training, with every round grown so far, at a deadline.

    It runs after LightGBM's early stopping (``order`` 30), which thus still stops first
    when it would. LightGBM then predicts with every round so far: the best round its
    early stopping tracked is not public, so a deadline cuts nothing off.
    """

    def __init__(self, watch):
        self.watch = watch
        self.order = 40  # an instance attribute: LightGBM gives callbacks without one theirs

    def __call__(self, env):
        if self.watch.passed():
            from lightgbm.callback import EarlyStopException  # loaded: it is training

            raise EarlyStopException(env.iteration - env.begin_iteration,
                                     env.evaluation_result_list)
