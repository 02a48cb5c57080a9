"""Reading the command line's data files and deciding what the target asks for.

Every problem is a :class:`CommandError`: one line for the user, no traceback.
"""

import difflib
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import StackkitError
from ..schema import is_numeric

# pandas' own readers, measured against polars, pyarrow and pandas' pyarrow engine
# (benchmarks/bench_read.py): the CSV readers that are faster on large files read dates,
# "NA"-like words, empty columns or huge integers as other dtypes, and polars' Parquet
# reader loses pandas' categories; pd.read_parquet already is pyarrow's reader.
READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}
TASKS = ("binary", "multiclass", "regression")
MAX_INFERRED_CLASSES = 10


class CommandError(StackkitError):
    """A problem with the command's input, reported on one line (exit status 2)."""


def read_table(path):
    """The DataFrame in a ``.csv`` (optionally compressed) or ``.parquet`` file."""
    path = Path(path)
    reader = READERS.get(_data_suffix(path))
    if reader is None:
        raise CommandError(f"{path}: unknown file type; expected .csv, .csv.gz or .parquet")
    if not path.exists():
        raise CommandError(f"{path}: no such file")
    if path.is_dir():
        raise CommandError(f"{path}: is a folder, not a data file")
    try:
        frame = reader(path)
    except pd.errors.EmptyDataError:
        raise CommandError(f"{path}: the file is empty") from None
    except Exception as exc:  # pandas and pyarrow raise many kinds; all mean unreadable
        raise CommandError(f"{path}: cannot read it as {reader.__name__[5:]}: "
                           f"{_first_line(exc)}") from exc
    if frame.empty:
        raise CommandError(f"{path}: the file has no data rows")
    return frame


def _data_suffix(path):
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes[-1:] and suffixes[-1] in (".gz", ".bz2", ".zip", ".xz", ".zst"):
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _first_line(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def split_target(frame, target, path):
    """``(X, y)``: the target column and the others; every target value must be known."""
    if target not in frame.columns:
        raise CommandError(f"--target: no column {target!r} in {path}{_suggestion(target, frame)}")
    y = frame[target]
    if y.isna().any():
        raise CommandError(f"--target: column {target!r} has {int(y.isna().sum())} missing "
                           f"values in {path}; drop or fill those rows first")
    if frame.shape[1] == 1:
        raise CommandError(f"{path}: no feature columns besides the target {target!r}")
    return frame.drop(columns=[target]), y


def split_groups(X, column, path):
    """``(X without column, groups)``: rows sharing a group value stay in one fold."""
    if column not in X.columns:
        raise CommandError(f"--groups: no feature column {column!r} in {path}"
                           f"{_suggestion(column, X)}")
    groups = X[column]
    if groups.isna().any():
        raise CommandError(f"--groups: column {column!r} has {int(groups.isna().sum())} "
                           "missing values; every row needs a group")
    return X.drop(columns=[column]), groups


def _suggestion(name, frame):
    columns = [str(c) for c in frame.columns]
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(columns[:12]) + (", ..." if len(columns) > 12 else "")
    return f"{hint} (columns: {shown})"


def resolve_task(y, task, target):
    """``task`` checked against ``y``, or inferred from it when ``task`` is ``"auto"``.

    Inferred: a non-numeric target is a classification; a numeric one is binary with
    two values, multiclass with at most ten whole-number values, else regression.
    """
    numeric = is_numeric(y)
    n_values = y.nunique()
    if task == "auto":
        task = _inferred_task(y, numeric, n_values)
    if task != "regression" and n_values < 2:
        raise CommandError(f"--target: column {target!r} has a single value "
                           f"({y.tolist()[0]!r}): there is nothing to classify")
    if task == "binary" and n_values != 2:
        raise CommandError(f"--task binary: column {target!r} has {n_values} classes; "
                           "use --task multiclass")
    if task == "regression" and not numeric:
        raise CommandError(f"--task regression: column {target!r} is not numeric "
                           f"(e.g. {y.iloc[0]!r})")
    return task


def _inferred_task(y, numeric, n_values):
    if not numeric or n_values == 2:
        return "binary" if n_values <= 2 else "multiclass"
    whole = np.all(np.mod(y.to_numpy(dtype=float), 1) == 0)
    return "multiclass" if whole and n_values <= MAX_INFERRED_CLASSES else "regression"
