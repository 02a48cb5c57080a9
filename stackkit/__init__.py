"""stackkit: stacked ensembles for scikit-learn."""

from . import io, meta, presets, report, transfer
from ._fold_average import FoldAverage
from .classifier import StackingClassifier
from .exceptions import FoldFitError, StackkitError, StackkitWarning
from .layout import Layout
from .regressor import StackingRegressor

__all__ = [
    "FoldAverage",
    "Layout",
    "io",
    "meta",
    "presets",
    "report",
    "transfer",
    "FoldFitError",
    "StackingClassifier",
    "StackingRegressor",
    "StackkitError",
    "StackkitWarning",
]
__version__ = "0.1.0"
