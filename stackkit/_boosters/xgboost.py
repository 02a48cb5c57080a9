"""XGBoost (``xgboost.XGBClassifier``, ``XGBRegressor``, raw ``xgboost.Booster``)."""

import json

from ._library import Library


class XGBoost(Library):
    """XGBoost: ``n_jobs``, ``device="cuda"``, ``early_stopping_rounds``, ``xgb_model``."""

    name = module = "xgboost"
    thread_params = ("n_jobs", "nthread")

    @staticmethod
    def restore_threads(model):
        """Tell a fitted booster its user's setting: XGBoost's ``set_params`` does not.

        ``nthread=0`` is XGBoost's own "every core" (the ``None`` the user left).
        """
        if hasattr(model, "n_features_in_"):  # a template inside a wrapper is not fitted
            model.get_booster().set_param({"nthread": 0})

    # device="cuda" (the default convention); set_params("cuda:1") also tells the
    # fitted booster, so a saved model does not ask for device 1 where it is loaded.

    rounds_param = "n_estimators"

    @staticmethod
    def requested(params, fit_params):
        return params.get("early_stopping_rounds") is not None or any(
            _is_stopper(cb) for cb in params.get("callbacks") or ())

    @staticmethod
    def fit_with_eval_set(model, template, fit_data, eval_data, eval_weight, fit_params):
        extra = {"verbose": False, **fit_params}
        if eval_weight is not None:
            extra["sample_weight_eval_set"] = [eval_weight]
        model.fit(*fit_data, eval_set=[eval_data], **extra)

    @staticmethod
    def kept_rounds(model):
        return model.best_iteration + 1

    @staticmethod
    def without_stopping(params):
        kept = [cb for cb in params.get("callbacks") or () if not _is_stopper(cb)]
        return {"early_stopping_rounds": None, "callbacks": kept or None}

    callbacks_in = "params"

    @staticmethod
    def deadline_callback(booster, watch):
        if type(booster).__name__.startswith("XGBRF"):  # one round; takes no callbacks
            return None
        return _deadline_callback(watch)

    init_param = "xgb_model"

    @staticmethod
    def raw_booster(model):
        return model.get_booster()

    @staticmethod
    def rounds(booster):
        return booster.num_boosted_rounds()

    @staticmethod
    def best_iteration(model):
        try:
            return model.best_iteration + 1
        except AttributeError:  # it did not stop early
            return None

    @staticmethod
    def cut(booster, n_rounds):
        return booster[:n_rounds]

    @staticmethod
    def booster_features(booster):
        return booster.feature_names, booster.num_features()

    @staticmethod
    def booster_classes(booster):
        config = json.loads(booster.save_config())
        n_classes = int(config["learner"]["learner_model_param"].get("num_class", 0))
        return n_classes if n_classes > 1 else None


def _is_stopper(callback):
    from xgboost.callback import EarlyStopping  # xgboost is loaded: it made the estimator

    return isinstance(callback, EarlyStopping)


def _deadline_callback(watch):
    """An XGBoost training callback that stops training when ``watch.passed()``.

    It asks before each round but the first, not after one: XGBoost stops calling the
    other callbacks' ``after_iteration`` at the first that says stop, so a stop there
    would leave the user's callbacks and early stopping a round behind (with none
    after the first round, early stopping would record no best iteration at all).
    """
    from xgboost.callback import TrainingCallback  # xgboost is loaded: it made the booster

    class DeadlineCallback(TrainingCallback):
        def __init__(self):
            super().__init__()
            self.rounds = 0

        def before_iteration(self, model, epoch, evals_log):
            self.rounds += 1
            return self.rounds > 1 and watch.passed()  # True: no more rounds, keep these

    return DeadlineCallback()
