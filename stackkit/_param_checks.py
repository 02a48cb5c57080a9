"""Checks of the stack's own parameters (flags, ``verbose``, ``on_error``, ``n_jobs``, ``cv``).

Each raises a ``TypeError`` for a value of the wrong type and a ``ValueError`` for a
value of the right type out of range, naming the parameter; all run in ``fit`` before
any fold work.
"""

import numbers
from collections.abc import Iterable

import numpy as np


def short_repr(value, limit=80):
    """``repr(value)``, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_flag(value, name):
    """Raise unless ``value`` is a bool (``passthrough``, ``refit``)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")


def check_on_error(value):
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
    """Return ``cv`` ready to split: an int or a splitter as it is, an iterable as a list.

    An iterable (a list, a generator) is read once here, each entry checked to be a
    ``(train, test)`` pair of 1-D integer row positions or boolean masks; the row
    range is checked once the number of rows is known.
    """
    if isinstance(cv, (bool, np.bool_)):
        raise TypeError(f"cv must be an int number of folds, not a bool; got {cv!r}")
    if isinstance(cv, numbers.Integral):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got {cv}")
        return cv
    if cv is None or (hasattr(cv, "split") and not isinstance(cv, (str, bytes))):
        return cv
    if isinstance(cv, (str, bytes)) or not isinstance(cv, Iterable):
        raise TypeError(
            "cv must be an int (the number of folds), a cross-validation splitter or an "
            f"iterable of (train, test) index arrays; got {type(cv).__name__}: {short_repr(cv)}"
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
