"""What stackkit asks of a boosting library: the interface every library module answers.

Each library module (:mod:`.xgboost`, :mod:`.lightgbm`, :mod:`.catboost`,
:mod:`.hist_gradient_boosting`) holds one subclass of :class:`Library`, with everything
stackkit knows of that library; what a library does not offer keeps the default here.
The methods are static: a library is a table of facts and small functions, not state.
They run only on a model of that library, so the library is already imported when
they import it.
"""


class Library:
    """The defaults: an estimator stackkit knows nothing particular about.

    Such an estimator has no thread parameter stackkit sets, asks for a GPU in
    XGBoost's convention (``device="cuda"``), has no early stopping stackkit serves and
    cannot be warm-started.
    """

    # -- detection: the root module of the library's classes, and their name prefix
    name = None  # the library's name in messages
    module = None
    class_prefix = ""

    # -- threads
    thread_params = ()  # parameters taking a thread count (None: every core)

    @staticmethod
    def set_thread_param(model, name, value):
        """Give ``model``'s thread parameter ``name`` back the user's ``value``."""
        model.set_params(**{name: value})

    @staticmethod
    def restore_threads(model):
        """Fix up a fitted ``model`` whose thread parameters were set back to the user's."""

    # -- devices
    gpu_values = {"device": ("cuda", "gpu")}  # parameter -> values asking for a GPU

    @staticmethod
    def device_params(gpu):
        """The parameters that put a new model on the GPU (``gpu``) or on the CPU."""
        return {"device": "cuda" if gpu else "cpu"}

    @staticmethod
    def device_changes(params, prefix, name, value, device):
        """Parameters pointing the GPU request ``name=value`` at device number ``device``.

        ``params`` are the model's deep parameters and ``prefix`` the request's owner
        (``"step__"`` or ``""``). Only a request that names no device is passed here.
        """
        return {f"{prefix}{name}": f"{value}:{device}"} if name == "device" else {}

    @staticmethod
    def remove_param(model, name):
        """Take parameter ``name``, added by :meth:`device_changes`, back off ``model``."""
        raise TypeError(f"{type(model).__name__} has no added parameter {name!r} to remove")

    # -- early stopping
    rounds_param = None  # the parameter holding the number of boosting rounds
    needs_eval_set = True  # False: the model holds out its own validation rows

    @staticmethod
    def requested(params, fit_params):
        """Whether a model with ``params``, fit with ``fit_params``, asks to stop early."""
        return False

    @staticmethod
    def fit_with_eval_set(model, template, fit_data, eval_data, eval_weight, fit_params):
        """Fit ``model`` on ``fit_data``, early-stopped on ``eval_data``.

        ``template`` is the unfitted booster whose ``fit`` is called in the end (``model``
        itself, or the booster a warm start trains).
        """
        raise TypeError(f"stackkit gives no evaluation set to {type(template).__name__}")

    @staticmethod
    def kept_rounds(model):
        """The rounds an early-stopped fitted ``model`` kept."""
        raise TypeError(f"{type(model).__name__} records no early stopping")

    @staticmethod
    def without_stopping(params):
        """The settings that turn early stopping off, for a model with ``params``."""
        return {}

    @staticmethod
    def without_stopping_callbacks(fit_params):
        """``fit_params`` without callbacks that stop early."""
        return fit_params

    # -- warm start
    init_param = None  # the fit parameter taking the model to continue from

    @staticmethod
    def raw_booster(model):
        """The raw booster inside a fitted scikit-learn wrapper of the library."""
        raise TypeError(f"{type(model).__name__} cannot be warm-started from")

    @staticmethod
    def rounds(booster):
        """Boosting rounds a raw booster holds."""
        raise TypeError(f"{type(booster).__name__} cannot be warm-started from")

    @staticmethod
    def best_iteration(model):
        """Rounds an early-stopped fitted model predicts with (None or 0: it did not stop)."""
        return None

    @staticmethod
    def cut(booster, n_rounds):
        """A copy of the raw ``booster`` holding its first ``n_rounds`` rounds."""
        raise TypeError(f"{type(booster).__name__} cannot be cut to its best iteration")

    # -- time budget: a training callback that stops growing trees at a deadline
    callbacks_in = None  # where callbacks go: "params" (the model's), "fit" (fit's), None

    @staticmethod
    def deadline_callback(booster, watch):
        """A training callback stopping ``booster`` once ``watch.passed()`` is True.

        ``watch`` is a :class:`stackkit._boosters.DeadlineWatch`, asked after each
        boosting round; the trees grown so far are kept. None: the library (or this
        booster) takes no such callback, and a deadline does not stop it.
        """
        return None

    # -- a raw booster as a source model (fitted scikit-learn wrappers say it themselves)
    @staticmethod
    def booster_features(booster):
        """``(column names or None, number of columns)`` a raw booster was trained on."""
        return None, None

    @staticmethod
    def booster_classes(booster):
        """Number of classes a raw booster predicts, or None (regression, binary)."""
        return None
