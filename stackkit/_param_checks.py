"""The parameters of stackkit's estimators: declared constraints, checked first in ``fit``.

Every estimator declares ``_parameter_constraints`` in scikit-learn's vocabulary, and
its ``fit`` starts with :func:`validate_params`. A value no constraint accepts raises
scikit-learn's ``InvalidParameterError``, which is both a ``ValueError`` and a
``TypeError``, so the same mistake raises the same type on every class; its message is
scikit-learn's sentence followed by stackkit's own explanation of the value (the
messages of the checks below).

This is the only stackkit module that imports scikit-learn's private
``sklearn.utils._param_validation``. Declaring constraints in its terms is what lets
scikit-learn's own ``check_param_validation`` test them; the names the other modules
need are re-exported from here, so a change of that private module is mended here.

The other checks of the stack's own parameters (the ``(train, test)`` pairs of a ``cv``
iterable, the estimator list's names, ``stack_method`` per name) are not a parameter's
type or range; they stay as they are, here and in :mod:`stackkit._validation`.
"""

import numbers
import os
from collections.abc import Iterable

import joblib
import numpy as np
from sklearn.utils._param_validation import (  # HasMethods, StrOptions: used by others too
    HasMethods,
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)


class _IntegersNotBool(Interval):
    """scikit-learn's interval of integers, without ``True`` and ``False``.

    Python counts a bool as an int; stackkit always refused ``n_jobs=True`` or
    ``verbose=True`` as a likely mistake (scikit-learn's ``"verbose"`` accepts them).
    """

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


def integers(left=None, right=None):
    """The constraint "an int (not a bool) in ``[left, right]``"; None: unbounded."""
    closed = {(True, True): "both", (True, False): "left", (False, True): "right",
              (False, False): "neither"}[left is not None, right is not None]
    return _IntegersNotBool(numbers.Integral, left, right, closed=closed)


class _Seconds(Interval):
    """Seconds of a time limit: a real number > 0 (not a bool; the interval refuses
    inf and NaN)."""

    def __init__(self):
        super().__init__(numbers.Real, 0, None, closed="neither")

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)

    def __str__(self):
        return "a finite float > 0 (seconds)"


class _Splitter(HasMethods):
    """An object with a ``split`` method (never a string, whose ``split`` is no splitter's).

    ``"cv_object"`` also asks for ``get_n_splits``; stackkit draws the folds once and
    never asks for their number, so, like scikit-learn's ``check_cv``, it takes a
    splitter without it.
    """

    def __init__(self):
        super().__init__("split")

    def is_satisfied_by(self, val):
        return not isinstance(val, (str, bytes)) and super().is_satisfied_by(val)


STACK_CONSTRAINTS = {
    "estimators": [list, tuple],
    "final_estimator": [None, HasMethods(["fit", "predict"])],
    "cv": ["cv_object", _Splitter(), StrOptions({"prefit"})],
    "stack_method": [StrOptions({"auto", "predict_proba", "decision_function", "predict"}), dict],
    "passthrough": ["boolean"],
    "refit": ["boolean"],
    "memory": [None, str, os.PathLike, joblib.Memory],
    "on_error": [StrOptions({"raise", "warn"})],
    "n_jobs": [None, integers(1, None), integers(None, -1)],
    "verbose": [integers(0, None)],
    "time_limit": [None, _Seconds()],
}


def validate_params(estimator, explain=None):
    """Check ``estimator``'s parameters against its ``_parameter_constraints``.

    Parameters
    ----------
    estimator : estimator
        Its ``get_params(deep=False)``, checked in the order of its
        ``_parameter_constraints``.
    explain : dict of str to callable, default=None
        Per parameter, stackkit's own check of a value: called with a refused value,
        it raises a ``TypeError`` or ``ValueError`` whose message says what is wrong
        with it and what would do, appended to scikit-learn's sentence.

    Raises
    ------
    InvalidParameterError
        For the first parameter whose value no constraint accepts.
    """
    params = estimator.get_params(deep=False)
    for name, constraints in estimator._parameter_constraints.items():
        try:
            validate_parameter_constraints({name: constraints}, {name: params[name]},
                                           caller_name=type(estimator).__name__)
        except InvalidParameterError as exc:
            hint = _explanation((explain or {}).get(name), params[name])
            raise InvalidParameterError(f"{exc} {hint}".rstrip()) from None


def _explanation(check, value):
    """The message of ``check(value)``'s error; empty without a check or an error."""
    if check is None:
        return ""
    try:
        check(value)
    except (TypeError, ValueError) as exc:
        return str(exc)
    return ""


def short_repr(value, limit=80):
    """``repr(value)``, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_flag(value, name):
    """Raise unless ``value`` is a bool (``passthrough``, ``refit``)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")


def check_on_error(value):
    """Raise unless ``on_error`` is ``"raise"`` or ``"warn"``."""
    if value not in ("raise", "warn"):
        raise ValueError(f"on_error must be 'raise' or 'warn'; got {value!r}")


def check_verbose(value):
    """Raise unless ``verbose`` is a non-negative integer."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
        raise ValueError(f"verbose must be a non-negative integer; got {value!r}")


def check_n_jobs(value):
    """Raise unless ``n_jobs`` is None or a non-zero integer (``-1``: every core)."""
    if value is None:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        raise TypeError(
            "n_jobs must be an int (the number of parallel fold tasks, -1 for every core) "
            f"or None; got {type(value).__name__}: {value!r}"
        )
    if value == 0:
        raise ValueError("n_jobs must not be 0; use an int >= 1, -1 for every core, or None")


def validate_cv(cv):
    """Return ``cv`` ready to split: an int, a splitter or "prefit" as it is, an iterable as a list.

    An iterable (a list, a generator) is read once here, each entry checked to be a
    ``(train, test)`` pair of 1-D integer row positions or boolean masks; the row
    range is checked once the number of rows is known.
    """
    if isinstance(cv, (bool, np.bool_)):
        raise TypeError(f"cv must be an int number of folds, not a bool; got {cv!r}")
    if isinstance(cv, str) and cv == "prefit":  # the base estimators are fitted already
        return cv
    if isinstance(cv, numbers.Integral):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got {cv}")
        return cv
    if cv is None or (hasattr(cv, "split") and not isinstance(cv, (str, bytes))):
        return cv
    if isinstance(cv, (str, bytes)) or not isinstance(cv, Iterable):
        raise TypeError(
            "cv must be an int (the number of folds), a cross-validation splitter, an "
            "iterable of (train, test) index arrays or 'prefit' (base estimators fitted "
            f"already); got {type(cv).__name__}: {short_repr(cv)}"
        )
    return [_cv_pair(pair, i) for i, pair in enumerate(cv)]


def _cv_pair(pair, index):
    if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
        found = (f"a {type(pair).__name__} of {len(pair)} items"
                 if hasattr(pair, "__len__") and not isinstance(pair, (str, bytes))
                 else f"{type(pair).__name__}: {short_repr(pair)}")
        raise ValueError(f"cv[{index}] must be a (train, test) pair of index arrays; got {found}")
    return tuple(_cv_rows(rows, f"cv[{index}] {what}")
                 for rows, what in zip(pair, ("train", "test")))


def _cv_rows(rows, where):
    try:
        array = np.asarray(rows)
    except ValueError:  # a ragged nested sequence
        array = None
    if array is not None and array.size == 0:
        return array.astype(np.intp)
    if array is None or array.ndim != 1 or not (array.dtype == bool
                                               or np.issubdtype(array.dtype, np.integer)):
        found = "a ragged nested sequence" if array is None else \
            f"a {array.ndim}-D array of {array.dtype}"
        raise ValueError(f"{where} indices must be a 1-D array of integer row positions or "
                         f"a boolean mask; got {found}")
    return array


def check_count(value, name, low):
    """Raise unless ``value`` is an integer (not a bool) of at least ``low``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)) \
            or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")


def check_time_limit(value):
    """Raise unless ``time_limit`` is None or a finite number of seconds > 0."""
    if value is None:
        return
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError("time_limit must be a number of seconds (e.g. 60 or 2.5) or None "
                        f"for no limit; got {type(value).__name__}: {short_repr(value)}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError("time_limit must be a finite number of seconds > 0, or None for "
                         f"no limit; got {value!r}")


# stackkit's own checks of a stack's parameters that live here; the stack adds those of
# estimators, final_estimator and memory (in _validation and _cache)
STACK_EXPLANATIONS = {
    "passthrough": lambda value: check_flag(value, "passthrough"),
    "refit": lambda value: check_flag(value, "refit"),
    "verbose": check_verbose,
    "on_error": check_on_error,
    "n_jobs": check_n_jobs,
    "cv": validate_cv,
    "time_limit": check_time_limit,
}
