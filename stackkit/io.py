"""Saving and loading fitted models in skops' secure format.

A pickle runs whatever code its author chose when it is loaded. skops stores a model as
data plus the names of the types it needs, and :func:`load` checks every name before
anything is built: types from stackkit, scikit-learn, XGBoost and LightGBM, and the
few containers they use, are trusted; any other type (say, a function such as
``os.system`` hidden in a transformer) is refused with its name, unless the caller
trusts it explicitly.

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

import importlib
import os
import zipfile
from pathlib import Path

from ._compat import skops_io
from .exceptions import UntrustedTypeError

TRUSTED_ROOTS = ("stackkit", "sklearn", "xgboost", "lightgbm")
TRUSTED_NAMES = frozenset({
    "collections.OrderedDict", "numpy.dtype",
    # the column selectors of stackkit.presets
    "stackkit.presets.numeric_columns", "stackkit.presets.categorical_columns",
})


def dump(model, path):
    """Save ``model`` to ``path`` in skops' format, compressed.

    The file appears whole or not at all: it is written under a temporary name in the
    same folder and renamed.

    Parameters
    ----------
    model : estimator
        A fitted stack (or any estimator skops can store).
    path : str or path-like
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

    Parameters
    ----------
    path : str or path-like
    trusted : sequence of str, default=()
        Further type names (``"module.Name"``) to trust, beyond stackkit's list.

    Returns
    -------
    model : estimator

    Raises
    ------
    UntrustedTypeError
        The file names a type that is neither trusted by stackkit nor in
        ``trusted``; nothing from the file has been built.
    """
    skops = skops_io()
    needed = skops.get_untrusted_types(file=path)
    refused = [name for name in needed if not is_trusted(name) and name not in trusted]
    if refused:
        raise UntrustedTypeError(
            f"{path} needs types stackkit does not trust: {', '.join(refused)}; load it "
            "with trusted=[...] naming them only if you trust where the file came from"
        )
    return skops.load(path, trusted=needed)


def is_trusted(name):
    """Whether stackkit trusts the type or function called ``name`` in a saved model.

    Classes of stackkit, scikit-learn, XGBoost and LightGBM are trusted; functions only
    when listed in :data:`TRUSTED_NAMES` (a function can be called at predict time).
    """
    if name in TRUSTED_NAMES:
        return True
    module, _, attribute = name.rpartition(".")
    if module.split(".", 1)[0] not in TRUSTED_ROOTS:
        return False
    try:
        return isinstance(getattr(importlib.import_module(module), attribute), type)
    except (ImportError, AttributeError):
        return False
