"""Nested parameters of a stack: ``<name>__<param>``, ``<name>=...`` and ``final_estimator__*``."""

from sklearn.base import BaseEstimator


class StackParamsMixin:
    """``get_params``/``set_params`` over the ``estimators`` list, as scikit-learn's ensembles.

    Beyond scikit-learn, ``final_estimator__<param>`` also works while
    ``final_estimator=None``: the default final estimator is put in place first, so a
    grid over ``final_estimator__C`` needs no explicit final estimator.
    """

    def get_params(self, deep=True):
        """Get the stack's parameters, with each estimator's under its name.

        Parameters
        ----------
        deep : bool, default=True
            Also return each base estimator by its name and its parameters as
            ``<name>__<param>`` (and the final estimator's as ``final_estimator__*``).

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = BaseEstimator.get_params(self, deep=deep)
        if not deep or not _is_pair_list(self.estimators):
            return params
        for name, est in self.estimators:
            params[name] = est
            if hasattr(est, "get_params"):
                for key, value in est.get_params(deep=True).items():
                    params[f"{name}__{key}"] = value
        return params

    def set_params(self, **params):
        """Set the stack's parameters, a base estimator's by its name.

        ``<name>=estimator`` (or ``"drop"``) replaces a base estimator,
        ``<name>__<param>`` sets one of its parameters, and ``final_estimator__<param>``
        works even while ``final_estimator=None`` (the default is put in place first).

        Parameters
        ----------
        **params : dict
            Parameter names mapped to their new values.

        Returns
        -------
        self : object
            The stack.
        """
        if "estimators" in params:
            self.estimators = params.pop("estimators")
        if "final_estimator" in params:
            self.final_estimator = params.pop("final_estimator")
        names = [name for name, _ in self.estimators] if _is_pair_list(self.estimators) else []
        replaced = {name: params.pop(name) for name in names if name in params}
        if replaced:
            self.estimators = [(name, replaced.get(name, est)) for name, est in self.estimators]
        if self.final_estimator is None and any(k.startswith("final_estimator__") for k in params):
            self.final_estimator = self._default_final_estimator()
        return BaseEstimator.set_params(self, **params)


def _is_pair_list(estimators):
    """Whether ``estimators`` is a list (or tuple) of pairs; never reads a generator."""
    return isinstance(estimators, (list, tuple)) and all(
        isinstance(pair, (tuple, list)) and len(pair) == 2 for pair in estimators)
