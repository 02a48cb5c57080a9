"""Exceptions and warnings raised by stackkit."""

import sys
import warnings
from pathlib import Path

__all__ = ["FoldFitError", "ModelFileError", "StackkitError", "StackkitWarning",
           "UntrustedTypeError"]

_PACKAGE_DIR = str(Path(__file__).resolve().parent)


class StackkitError(Exception):
    """Base class of every error stackkit raises itself."""


class FoldFitError(StackkitError, RuntimeError):
    """A base estimator failed inside one task (a fold or the full refit).

    The message names the estimator and the fold; the original exception is the
    ``__cause__``.
    """


class UntrustedTypeError(StackkitError, TypeError):
    """A saved model holds a type ``stackkit.io.load`` does not trust; nothing was loaded."""


class ModelFileError(StackkitError, ValueError):
    """``stackkit.io.load`` was given something that is not a sound stackkit model file.

    Not a skops file at all (empty, truncated, random bytes, a pickle), a damaged one
    (missing or malformed ``schema.json``, contents that cannot be built), or one whose
    loaded stack is inconsistent (e.g. a ``stack_method_`` that is not a prediction
    method). The message names what was wrong.
    """


class StackkitWarning(UserWarning):
    """Something the user should know about a fit, e.g. rows no fold tested."""


def warn(message, category=StackkitWarning):
    """Issue a warning attributed to the first caller outside stackkit."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)
