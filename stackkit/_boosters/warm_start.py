"""What the engine reads of a booster that continues training from a source model.

:class:`stackkit.transfer.WarmStart` is one; any estimator subclassing
:class:`WarmStartedBooster` gets the same treatment in a stack: its source is checked
against the target data before any fold work, it stops early as its template booster
asks (on rows stackkit holds out of each training fold), and the refit trains the mean
number of *new* rounds its fold models kept.
"""

from abc import ABC, abstractmethod


class WarmStartedBooster(ABC):
    """A booster that continues from a source model: what the stack reads of it.

    Its template booster is the parameter named by :attr:`template_param`, so the
    template's own parameters are nested under ``"<template_param>__"`` (the stack sets
    the refit's rounds and turns early stopping off through them).
    """

    template_param = "estimator"

    def booster_template(self):
        """The unfitted booster it trains (its early stopping is the template's).

        Returns
        -------
        template : estimator
            The parameter named by :attr:`template_param`.
        """
        return getattr(self, self.template_param)

    @abstractmethod
    def booster_source(self):
        """The fitted model it continues from, as given (possibly ``FrozenEstimator``)."""

    @abstractmethod
    def fitted_booster(self):
        """After ``fit``: the fitted booster (source rounds plus new ones)."""

    @abstractmethod
    def source_rounds(self):
        """After ``fit``: the boosting rounds taken from the source."""


def template_param(estimator):
    """The parameter holding a warm-started booster's template, or None for any other."""
    return estimator.template_param if isinstance(estimator, WarmStartedBooster) else None
