"""Content-addressed cache of fold-task results and base-model predictions (``memory=``).

A task entry holds what a task returned (fitted model if kept, held-out predictions,
timings) under a hash of everything that decides it: the estimator's class and
parameters, the prediction method, the target kind, the data (X, y), the fit
parameters (sample_weight among them) and the task's training and test rows. A
prediction entry holds one fitted base model's meta-feature columns for one X, under a
hash of the keys of the tasks that made the model, the method and X: the candidates of
a grid search share their base models, and each outer test fold is predicted once.
Entries are written atomically (a temporary file renamed into place) with a checksum,
so a reader never uses a half-written, truncated, corrupted or foreign file: such an
entry is a miss and is recomputed. Task keys also hold the installed versions of
stackkit, scikit-learn and the boosters, so an upgrade never serves a model an older
library fit.

A task entry is a :class:`~stackkit._results.TaskOutput` record; one that is not a
record of the current format (an older version's tuple, or a record of another
version) is a miss too.

Entries are unpickled: whoever can write the folder can run code in the process that
reads it. The folder must be writable by its user only, as for ``joblib.Memory``.
"""

import hashlib
import os
import pickle
import tempfile
import time
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import joblib
import numpy as np

from ._boosters import BOOSTER_LIBRARIES
from ._plane import fingerprint
from ._results import FORMAT_VERSION, is_current_output
from .exceptions import warn

FORMAT = f"stackkit-task-cache-v{FORMAT_VERSION}\n".encode()
_DIGEST_SIZE = 32  # sha256
# Libraries whose version decides what a cached model is (distribution names).
VERSIONED = ("stackkit", "scikit-learn", *BOOSTER_LIBRARIES)
# A temporary file is written in one go and renamed at once; one left this long
# untouched belongs to a writer that was killed (or is stalled; it then skips its entry).
STALE_SECONDS = 600


@cache
def library_versions():
    """``(distribution, version)`` of each library in :data:`VERSIONED`; None if absent."""
    return tuple((name, _installed_version(name)) for name in VERSIONED)


def _installed_version(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _estimator_key(est, fit_params):
    """Hash of an estimator's class and state and its fit parameters; None if unpicklable.

    The cache format and the library versions are in it, so they are in every task key.
    """
    try:
        return joblib.hash((FORMAT, library_versions(),
                            f"{type(est).__module__}.{type(est).__qualname__}", est,
                            fit_params))
    except (pickle.PicklingError, AttributeError, TypeError):
        return None


def _task_digest(est_key, data_key, method, train, test):
    """A task's key: its estimator's and data's keys, method and rows, hashed as bytes.

    The rows go to the hash as raw buffers (with dtype and length), not through
    ``joblib.hash``'s pickler, which costs more than the hashing itself for a fold.
    """
    digest = hashlib.blake2b(digest_size=16)  # as long as joblib.hash's md5 keys
    digest.update(f"{est_key}\n{data_key}\n{method}\n".encode())
    for rows in (train, test):
        if rows is None:  # a refit's test rows
            digest.update(b"none\n")
            continue
        rows = np.ascontiguousarray(rows)
        digest.update(f"{rows.dtype.str}{rows.shape}\n".encode())
        digest.update(rows.data)
    return digest.hexdigest()


class TaskCache:
    """The task cache in one folder (``<location>/stackkit``).

    Parameters
    ----------
    location : str or path-like
        The folder given as ``memory=`` (or a ``joblib.Memory``'s location).
    """

    def __init__(self, location):
        self.folder = Path(location) / "stackkit"
        self.write_error = None  # the first OSError of save(); nothing is stored after it
        self._warned = False

    @classmethod
    def from_memory(cls, memory):
        """Return the cache for a ``memory`` parameter, or None when caching is off."""
        if memory is None:
            return None
        if isinstance(memory, joblib.Memory):
            return None if memory.location is None else cls(memory.location)
        if isinstance(memory, (str, os.PathLike)):
            return cls(memory)
        raise TypeError(
            f"memory must be None, a folder path or a joblib.Memory; got {memory!r}"
        )

    @staticmethod
    def data_key(X, y, target_kind):
        """Hash of the fit's data, computed once per fit and shared by every task key."""
        return joblib.hash((fingerprint(X), fingerprint(y), target_kind))

    @staticmethod
    def task_keys(tasks, data_key):
        """Hash identifying each task's result; None where the estimator cannot be hashed.

        An estimator holding a lambda or a closure cannot be pickled for hashing; its
        tasks then run uncached. Each estimator (with its fit parameters) is hashed once,
        however many tasks share it (its folds and refit do): hashing one pickles it
        whole, which costs far more than hashing a task's rows. Whether the task keeps
        its model is not in the key: an entry holding the model serves both kinds, one
        without it only a task that does not keep it (the runner checks).
        """
        estimator_keys = {}
        keys = []
        for task in tasks:
            # a task holds its estimator and fit parameters, so their ids are unique here
            shared = (id(task.estimator), id(task.fit_params))
            if shared not in estimator_keys:
                estimator_keys[shared] = _estimator_key(task.estimator, task.fit_params)
            est_key = estimator_keys[shared]
            keys.append(None if est_key is None else _task_digest(
                est_key, data_key, task.method, task.train, task.test))
        return keys

    @staticmethod
    def prediction_key(task_keys, method, x_key):
        """Hash identifying one base model's predictions on the data hashed as ``x_key``.

        ``task_keys`` are the keys of the tasks that made the model; None if any of them
        was not cached (the model then has no identity in the cache).
        """
        if not task_keys or any(key is None for key in task_keys):
            return None
        return joblib.hash((FORMAT, "predictions", tuple(task_keys), method, x_key))

    def fetch(self, key, compute):
        """The value stored under ``key``; on a miss, ``compute()`` stored and returned."""
        value = self.read(key)
        if value is None:
            value = compute()
            self.save(key, value)
        return value

    def _path(self, key):
        return self.folder / key[:2] / f"{key}.pkl"

    def load(self, key):
        """The task record stored under ``key``, or None if absent or not trustworthy.

        Only a :class:`~stackkit._results.TaskOutput` of the current format version
        counts; anything else (e.g. an older version's tuple) is a miss.
        """
        output = self.read(key)
        return output if is_current_output(output) else None

    def read(self, key):
        """The value stored under ``key``, or None if absent, foreign or damaged."""
        try:
            blob = self._path(key).read_bytes()
        except OSError:
            return None
        header = FORMAT + key.encode() + b"\n"
        digest_end = len(header) + _DIGEST_SIZE
        if not blob.startswith(header) or len(blob) < digest_end:
            return None
        payload = blob[digest_end:]
        if hashlib.sha256(payload).digest() != blob[len(header):digest_end]:
            return None
        try:
            return pickle.loads(payload)
        except Exception:  # written by an incompatible version of a library
            return None

    def save(self, key, output):
        """Store ``output`` (a task record, or a prediction) under ``key`` atomically.

        If the folder cannot be written (read-only, full, not a folder), the error is
        kept in ``write_error`` and nothing more is stored; :meth:`warn_unwritable`
        reports it. Stored entries are still read.
        """
        if self.write_error is not None:
            return
        try:
            self._write(key, output)
        except OSError as exc:
            self.write_error = exc

    def _write(self, key, output):
        payload = pickle.dumps(output, protocol=pickle.HIGHEST_PROTOCOL)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = FORMAT + key.encode() + b"\n"
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
            tmp.write(header + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp.name, path)

    def warn_unwritable(self):
        """Warn, once for this cache object, if :meth:`save` could not store results."""
        if self.write_error is None or self._warned:
            return
        self._warned = True
        exc = self.write_error
        warn(f"the memory= cache {str(self.folder)!r} cannot be written "
             f"({type(exc).__name__}: {exc}); results are computed but not stored "
             "(entries already stored are still used)")

    def remove_stale_temporaries(self):
        """Delete the temporary files of writers killed mid-write (see STALE_SECONDS).

        Younger ones may belong to another process filling the cache at this moment,
        and are left alone.
        """
        oldest_live = time.time() - STALE_SECONDS
        for tmp in self.folder.glob("*/*.tmp"):
            try:
                if tmp.stat().st_mtime < oldest_live:
                    tmp.unlink()
            except OSError:  # removed meanwhile by another process, or read-only
                pass
