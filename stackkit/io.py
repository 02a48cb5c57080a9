"""Saving and loading fitted models in skops' secure format.

A pickle runs whatever code its author chose when it is loaded. skops stores a model as
data plus the names of the types it needs, and :func:`load` checks every name before
anything is built: only names on stackkit's explicit list (:mod:`stackkit._trust`) that
are the object's own name are trusted, so an alias such as ``sklearn.datasets._base.Path``
(``pathlib.Path``) or a function such as ``os.system`` hidden in a transformer is refused
with its name. The loaded stack's fitted attributes are then checked
(:mod:`stackkit._file_checks`) before any of them can drive a call.

>>> import tempfile, pathlib
>>> from sklearn.datasets import load_iris
>>> from sklearn.linear_model import LogisticRegression
>>> from stackkit import StackingClassifier, io
>>> X, y = load_iris(return_X_y=True)
>>> stack = StackingClassifier([("lr", LogisticRegression(max_iter=500))], cv=3).fit(X, y)
>>> path = pathlib.Path(tempfile.mkdtemp()) / "stack.skops"
>>> io.dump(stack, path)
>>> bool((io.load(path).predict_proba(X) == stack.predict_proba(X)).all())
True
"""

import json
import os
import zipfile
import zlib
from io import BytesIO
from pathlib import Path

from . import _trust
from ._compat import skops_io
from ._file_checks import check_loaded
from .exceptions import ModelFileError, UntrustedTypeError

__all__ = ["dump", "is_trusted", "load"]

# Deflate expands at most ~1032x: a zip that declares more is a zip bomb.
MAX_EXPANSION = 1100
PICKLE_START = b"\x80"  # protocol 2 and later


def dump(model, path):
    """Save ``model`` to ``path`` in skops' format, compressed.

    The file appears whole or not at all: it is written under a temporary name in the
    same folder and renamed.

    Parameters
    ----------
    model : estimator
        A fitted stack (or any estimator skops can store).
    path : str or path-like
        Where to write the file (conventionally ``.skops``).
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        # deflate at level 1: tree ensembles shrink about 4x, in no more time than storing
        skops_io().dump(model, partial, compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def load(path, *, trusted=()):
    """Load a model saved by :func:`dump`, refusing types it does not trust.

    The file is read once. Every type and function named in it is checked before
    anything is built; after building, every stack in the model is checked (its
    ``stack_method_`` are prediction methods, its ``estimators_`` estimators that have
    them, its ``layout_`` and ``classes_`` what ``fit`` makes of them) and gets
    ``memory=None``: the loading machine, not the file, chooses a cache folder.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`dump`.
    trusted : sequence of str, default=()
        Further names (``"module.Name"``, as the class or function calls itself) to
        trust, beyond stackkit's list. An alias (a name under which a module merely
        imported the object) is refused even here.

    Returns
    -------
    model : estimator
        The model, checked, with ``memory=None`` on every stack.

    Raises
    ------
    UntrustedTypeError
        The file names a type or function that is neither trusted by stackkit nor in
        ``trusted``, or asks for a bound method or a constructor call; nothing from the
        file has been built.
    ModelFileError
        ``path`` is not a sound model file: empty, truncated, random bytes, a pickle, a
        zip without a valid ``schema.json``, contents that cannot be built, or a loaded
        stack whose fitted attributes are inconsistent.
    OSError
        ``path`` cannot be read.
    """
    data = Path(path).read_bytes()
    asked = _requests(_schema(data, path), path)
    refused = _trust.refusals(asked, tuple(trusted))
    if refused:
        raise UntrustedTypeError(
            f"{path} needs types stackkit does not trust: {', '.join(refused)}. Aliases, "
            "bound methods and constructor calls are never trusted; name other types in "
            "trusted=[...] only if you trust where the file came from"
        )
    model = _build(data, sorted(name for _, name in asked), path)
    try:
        check_loaded(model)
    except ValueError as exc:
        raise ModelFileError(f"{path}: holds an inconsistent model: {exc}") from exc
    return model


def is_trusted(name):
    """Whether stackkit trusts the type or function called ``name`` in a saved model.

    Parameters
    ----------
    name : str
        ``module.Qualname``, as a model file names a type or function.

    Returns
    -------
    trusted : bool
        True for the names on stackkit's list (see the README, "Saving a stack
        safely") that resolve to an object calling itself by that name.
    """
    return _trust.is_trusted(name) or _trust.is_trusted(name, "function")


def _schema(data, path):
    """The parsed ``schema.json`` of the skops file held in ``data``."""
    if not data:
        raise ModelFileError(f"{path}: empty, not a model file")
    if data.startswith(PICKLE_START):
        raise ModelFileError(f"{path}: looks like a pickle; stackkit never loads pickles "
                             "(loading one runs code): save models with stackkit.io.dump")
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            declared = sum(info.file_size for info in archive.infolist())
            if declared > MAX_EXPANSION * len(data):
                raise ModelFileError(f"{path}: declares {declared} bytes unpacked from "
                                     f"{len(data)}: a zip bomb, not a model file")
            raw = archive.read("schema.json")
    except KeyError:
        raise ModelFileError(f"{path}: a zip archive without schema.json, not a "
                             "model file saved by stackkit.io.dump") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
        raise ModelFileError(f"{path}: not a model file saved by stackkit.io.dump "
                             f"(not a readable zip archive: {exc})") from exc
    try:
        schema = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: its schema.json is not valid JSON ({exc})") from exc
    if not isinstance(schema, dict):
        raise ModelFileError(f"{path}: its schema.json is not a skops schema")
    return schema


def _requests(schema, path):
    try:
        return _trust.requests(schema)
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc


def _build(data, names, path):
    """Build the model, trusting exactly the (already checked) ``names``."""
    skops = skops_io()
    try:
        return skops.loads(data, trusted=names)
    except skops.exceptions.UntrustedTypesFoundException as exc:  # a name only skops sees
        raise UntrustedTypeError(f"{path} needs types stackkit does not trust: {exc}") from exc
    except Exception as exc:  # skops and the types' own setstate raise many kinds
        raise ModelFileError(f"{path}: could not be built from its contents "
                             f"({type(exc).__name__}: {exc})") from exc
