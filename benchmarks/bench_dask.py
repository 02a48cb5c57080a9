"""A stack of distributed boosters on Dask DataFrames larger than one worker's memory.

On a ``LocalCluster`` of 2 worker processes with a memory limit each, fits
``StackingRegressor([DaskXGBRegressor, DaskLGBMRegressor], NNLSRegressor(), cv=3)`` on
synthetic tables from 1M rows up to ``--max-factor`` times what one worker's memory limit
holds, each table generated on the workers partition by partition (it never exists in
the client), and prints per size: fit time, the peak memory of each worker (the largest
process RSS the worker reported over the fit, sampled every ``--sample`` seconds) and
the holdout R^2; a size stackkit's memory check refuses (the workers' limits cannot take
it) prints the check's error and the run goes on. On the largest sample that fits in
this process (``--in-memory-rows``) it also fits the same stack in memory
(XGBRegressor, LGBMRegressor) and prints both holdout scores, fit on the same rows.

Run niced on a shared machine; the figures of a quiet machine are the lead's::

    nice -n 19 python benchmarks/bench_dask.py --memory-limit 1GiB --max-factor 3
    nice -n 19 python benchmarks/bench_dask.py --smoke      # seconds: tiny sizes
"""

import argparse
import threading
import time

import numpy as np
import pandas as pd

N_FEATURES = 20


def make_partition(seed, n_rows):
    """One partition of the synthetic regression table (features, then ``y``)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, N_FEATURES)).astype(np.float32)
    y = (X[:, 0] * 2 - X[:, 1] + np.sin(3 * X[:, 2]) + X[:, 3] * X[:, 4]
         + rng.normal(scale=0.5, size=n_rows))
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(N_FEATURES)])
    frame["y"] = y
    return frame


def dask_table(n_rows, rows_per_part, seed):
    """A Dask DataFrame of ``n_rows`` made on the workers, one partition per task."""
    import dask
    import dask.dataframe as dd

    sizes = [rows_per_part] * (n_rows // rows_per_part)
    sizes += [n_rows % rows_per_part] if n_rows % rows_per_part else []
    parts = [dask.delayed(make_partition)(seed * 100_000 + i, n) for i, n in enumerate(sizes)]
    return dd.from_delayed(parts, meta=make_partition(0, 0), verify_meta=False)


class PeakRss:
    """Samples every worker's process memory (RSS) in a thread; keeps each one's peak."""

    def __init__(self, client, every):
        self.client, self.every, self.peaks = client, every, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for worker, info in self.client.scheduler_info()["workers"].items():
                rss = info.get("metrics", {}).get("memory", 0)
                self.peaks[worker] = max(self.peaks.get(worker, 0), rss)
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def dask_stack(n_trees):
    from lightgbm import DaskLGBMRegressor
    from xgboost.dask import DaskXGBRegressor

    from stackkit import StackingRegressor
    from stackkit.meta import NNLSRegressor

    return StackingRegressor(
        [("xgb", DaskXGBRegressor(n_estimators=n_trees, max_depth=6, tree_method="hist")),
         ("lgbm", DaskLGBMRegressor(n_estimators=n_trees, num_leaves=63, verbose=-1))],
        NNLSRegressor(), cv=3)


def memory_stack(n_trees):
    from lightgbm import LGBMRegressor
    from xgboost import XGBRegressor

    from stackkit import StackingRegressor
    from stackkit.meta import NNLSRegressor

    return StackingRegressor(
        [("xgb", XGBRegressor(n_estimators=n_trees, max_depth=6, tree_method="hist")),
         ("lgbm", LGBMRegressor(n_estimators=n_trees, num_leaves=63, verbose=-1))],
        NNLSRegressor(), cv=3)


def r2(y, predicted):
    y, predicted = np.asarray(y), np.asarray(predicted)
    return 1 - np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2)


def run_size(client, n_rows, args):
    """Fit on ``n_rows`` generated rows, score on a holdout table of another seed."""
    table = dask_table(n_rows, args.rows_per_part, seed=1)
    holdout = make_partition(999, args.holdout_rows)
    X, y = table.drop(columns="y"), table["y"]
    share = n_rows * N_FEATURES * 4 / args.limit_bytes
    started = time.perf_counter()
    try:
        with PeakRss(client, args.sample) as peaks:
            stack = dask_stack(args.trees).fit(X, y)
    except ValueError as exc:  # stackkit's memory check refused it before any fold
        print(f"{n_rows:>11,} rows  (X {share:.2f}x one worker's limit) refused in "
              f"{time.perf_counter() - started:.1f} s: {exc}", flush=True)
        return None
    seconds = time.perf_counter() - started
    import dask.dataframe as dd

    rows = dd.from_pandas(holdout.drop(columns="y"), npartitions=2)
    score = r2(holdout["y"], stack.predict(rows).compute())
    peak = ", ".join(f"{rss / 2**30:.2f}" for rss in peaks.peaks.values())
    print(f"{n_rows:>11,} rows  (X {share:.2f}x one worker's limit)  fit {seconds:8.1f} s  "
          f"peak RSS per worker (GiB) [{peak}]  holdout R2 {score:.4f}", flush=True)
    return stack


def compare_in_memory(client, args):
    """The same stack, in memory and on the cluster, on the same rows; holdout R^2 of each."""
    import dask.dataframe as dd

    frame = make_partition(7, args.in_memory_rows)
    holdout = make_partition(999, args.holdout_rows)
    X, y = frame.drop(columns="y"), frame["y"]
    local = memory_stack(args.trees).fit(X, y)
    parts = max(2, args.in_memory_rows // args.rows_per_part)
    on_cluster = dask_stack(args.trees).fit(dd.from_pandas(X, npartitions=parts),
                                            dd.from_pandas(y, npartitions=parts))
    rows = dd.from_pandas(holdout.drop(columns="y"), npartitions=2)
    print(f"in memory vs Dask on {args.in_memory_rows:,} rows: holdout R2 "
          f"{r2(holdout['y'], local.predict(holdout.drop(columns='y'))):.4f} vs "
          f"{r2(holdout['y'], on_cluster.predict(rows).compute()):.4f}", flush=True)


def sizes(args):
    """1M rows, then doubling, up to ``max_factor`` times what one worker's limit holds
    (or the ``--rows`` given)."""
    if args.rows:
        return [int(n) for n in args.rows.split(",")]
    bytes_per_row = (N_FEATURES * 4 + 8 + 8)  # float32 features, y, index
    top = int(args.max_factor * args.limit_bytes / bytes_per_row)
    out, n = [], args.min_rows
    while n < top:
        out.append(n)
        n *= 2
    return out + [top]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-limit", default="1GiB", help="each worker's memory limit")
    parser.add_argument("--max-factor", type=float, default=3.0)
    parser.add_argument("--min-rows", type=int, default=1_000_000)
    parser.add_argument("--rows", help="comma-separated sizes instead of the doubling")
    parser.add_argument("--rows-per-part", type=int, default=250_000)
    parser.add_argument("--holdout-rows", type=int, default=100_000)
    parser.add_argument("--in-memory-rows", type=int, default=1_000_000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--sample", type=float, default=0.5)
    parser.add_argument("--no-workers-timeout", default="60s",
                        help="the scheduler fails a task pinned to a lost worker after this")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    args = parser.parse_args()
    import dask
    from dask.utils import parse_bytes
    from distributed import Client, LocalCluster

    if args.smoke:
        args.memory_limit, args.min_rows, args.rows_per_part = "400MiB", 20_000, 10_000
        args.holdout_rows, args.in_memory_rows, args.trees, args.max_factor = (
            5_000, 20_000, 10, 0.01)
    args.limit_bytes = parse_bytes(args.memory_limit)
    # A worker lost after LightGBM has pinned its training task to it (its nanny kills it
    # at the memory limit) leaves that task waiting for it forever; this scheduler
    # setting fails such a task, so the fit raises instead of hanging.
    dask.config.set({"distributed.scheduler.no-workers-timeout": args.no_workers_timeout})
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit=args.memory_limit) as cluster, \
            Client(cluster) as client:
        print(f"LocalCluster: 2 workers x 1 thread, memory limit {args.memory_limit} each; "
              f"sizes {sizes(args)}", flush=True)
        for n_rows in sizes(args):
            run_size(client, n_rows, args)
        compare_in_memory(client, args)


if __name__ == "__main__":
    main()
