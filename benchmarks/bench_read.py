"""Reading benchmark: which reader should the command line use for CSV and Parquet files?

``stackkit fit`` / ``predict`` read a data file into a pandas DataFrame
(:func:`stackkit.cli._data.read_table`). This compares, on real tables from
``../shared/data`` (written once as CSV to a temporary folder, and as the Parquet file
itself), the readers that could do it:

* CSV: pandas' C engine (today's reader), pandas' pyarrow engine, polars then
  ``to_pandas()``, pyarrow's CSV reader then ``to_pandas()``;
* Parquet: ``pandas.read_parquet`` (today's reader), polars then ``to_pandas()``,
  ``pyarrow.parquet.read_table`` then ``to_pandas()``.

A faster reader is only of use if nothing changes for the stack: for each reader it
prints the best of ``--repeats`` times (the readers interleaved, so load on the machine
hits each alike), its time over today's reader's, and whether it gives the same dtypes
and the same frame (``pandas.testing.assert_frame_equal``) as today's reader. Read the
ratios, not the seconds, on a shared machine. The load average is printed before and
after.

Run it by hand from the repository root (it is not a test)::

    python benchmarks/bench_read.py                          # nyc_flights_delay, adult
    python benchmarks/bench_read.py --datasets us_births --repeats 5
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")

READERS = {
    "csv": {
        "pandas (C engine)": pd.read_csv,
        "pandas (pyarrow engine)": lambda path: pd.read_csv(path, engine="pyarrow"),
        "polars": lambda path: pl.read_csv(path).to_pandas(),
        "pyarrow": lambda path: pa_csv.read_csv(path).to_pandas(),
    },
    "parquet": {
        "pandas": pd.read_parquet,
        "polars": lambda path: pl.read_parquet(path).to_pandas(),
        "pyarrow": lambda path: pq.read_table(path).to_pandas(),
    },
}


def _files(name, folder):
    """``{"csv": path, "parquet": path}`` of one dataset: its CSV written once to ``folder``."""
    parquet = DATA / "public" / f"{name}.parquet"
    csv = Path(folder) / f"{name}.csv"
    pd.read_parquet(parquet).to_csv(csv, index=False)
    return {"csv": csv, "parquet": parquet}


def _same(frame, reference):
    """``(same dtypes, same frame)`` of a reader's frame and today's reader's."""
    same_dtypes = frame.dtypes.astype(str).to_dict() == reference.dtypes.astype(str).to_dict()
    try:
        pd.testing.assert_frame_equal(frame, reference, check_exact=True)
    except (AssertionError, TypeError, ValueError):
        return same_dtypes, False
    return same_dtypes, True


def _time_readers(readers, path, repeats):
    """The best time of each reader over ``repeats`` rounds, readers interleaved."""
    best = dict.fromkeys(readers, float("inf"))
    for _ in range(repeats):
        for label, read in readers.items():
            started = time.perf_counter()
            read(path)
            best[label] = min(best[label], time.perf_counter() - started)
    return best


def _report(name, kind, path, repeats):
    readers = READERS[kind]
    frames = {label: read(path) for label, read in readers.items()}
    today = next(iter(readers))
    best = _time_readers(readers, path, repeats)
    rows, columns = frames[today].shape
    size = path.stat().st_size / 1e6
    print(f"\n{name}.{kind} ({rows:,} rows, {columns} columns, {size:.1f} MB)")
    print(f"  {'reader':<26}{'seconds':>9}{'x today':>9}  same dtypes?  same frame?")
    for label, seconds in best.items():
        same_dtypes, same_frame = _same(frames[label], frames[today])
        print(f"  {label:<26}{seconds:9.3f}{seconds / best[today]:9.2f}  "
              f"{'yes' if same_dtypes else 'NO':<12}  {'yes' if same_frame else 'NO'}")
        if not same_dtypes:
            _print_dtype_differences(frames[label], frames[today])


def _print_dtype_differences(frame, reference):
    ours, theirs = frame.dtypes.astype(str), reference.dtypes.astype(str)
    differ = [c for c in reference.columns if c in ours and ours[c] != theirs[c]]
    for column in differ[:4]:
        print(f"      {column}: {ours[column]} instead of {theirs[column]}")
    if len(differ) > 4:
        print(f"      ... and {len(differ) - 4} more columns")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["nyc_flights_delay", "adult"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()}")
    print(f"pandas {pd.__version__}, polars {pl.__version__}, "
          f"pyarrow {sys.modules['pyarrow'].__version__}")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.datasets:
            for kind, path in _files(name, folder).items():
                _report(name, kind, path, args.repeats)
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
