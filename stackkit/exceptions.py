"""Exceptions and warnings raised by stackkit."""


class StackkitError(Exception):
    """Base class of every error stackkit raises itself."""


class FoldFitError(StackkitError, RuntimeError):
    """A base estimator failed inside one task (a fold or the full refit).

    The message names the estimator and the fold; the original exception is the
    ``__cause__``.
    """


class StackkitWarning(UserWarning):
    """Something the user should know about a fit, e.g. rows no fold tested."""
