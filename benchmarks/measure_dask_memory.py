"""What one fold fit of a distributed booster holds in a worker's memory, per row of X.

Starts a fresh ``LocalCluster`` of 2 workers (no memory limit, so nothing spills or
restarts) for each case, generates the table of ``bench_dask`` on the workers, and fits
one booster on one fold's training rows exactly as a stack's fold task does (the lazy
filter ``X[folds != k]``). Each worker samples its own RSS every 20 ms in a thread; the
figure printed is ``(peak RSS - RSS before the fit) / (the worker's share of the fold's
rows x X's bytes per row)``: how many times its share of X a worker holds at its peak.

    nice -n 19 python benchmarks/measure_dask_memory.py --rows 4000000 --trees 20

Cases are ``what:container``: ``persist`` (only the fold's rows of X and y, held as the
boosters hold them before training), ``xgb`` or ``lgbm`` (one booster's fit), on a Dask
DataFrame (``frame``) or Dask arrays (``array``). ``--shuffle`` draws shuffled folds
(interleaved rows) instead of contiguous blocks.
"""

import argparse
import threading
import time

import numpy as np

from bench_dask import N_FEATURES, dask_table


def _start_sampler(dask_worker):
    import psutil

    process = psutil.Process()
    dask_worker._rss_peak = process.memory_info().rss

    def run():
        while True:
            dask_worker._rss_peak = max(dask_worker._rss_peak, process.memory_info().rss)
            time.sleep(0.02)

    threading.Thread(target=run, daemon=True).start()


def _reset(dask_worker):
    import gc

    import psutil

    gc.collect()
    dask_worker._rss_peak = psutil.Process().memory_info().rss
    return dask_worker._rss_peak


def _peak(dask_worker):
    return dask_worker._rss_peak


def _warm(dask_worker):
    """Import the boosters, so the RSS before a fit includes their libraries."""
    import importlib

    for module in ("lightgbm", "xgboost.dask"):
        importlib.import_module(module)


def fold_rows(X, y, cv):
    """The first fold's training rows of X and y, as a stack's fold task takes them."""
    from stackkit import StackingRegressor
    from stackkit._dask_plane import DaskRows
    from stackkit._fit_steps import OnCluster

    target = OnCluster.target(StackingRegressor([]), y, X)
    plan = OnCluster.split_plan(cv, X, target, None, False)
    train = plan.folds[0][0]
    return DaskRows(X).take(train), DaskRows(target.values).take(train), len(train)


def booster(kind, trees):
    if kind == "xgb":
        from xgboost.dask import DaskXGBRegressor

        return DaskXGBRegressor(n_estimators=trees, max_depth=6, tree_method="hist")
    from lightgbm import DaskLGBMRegressor

    return DaskLGBMRegressor(n_estimators=trees, num_leaves=63, verbose=-1)


def array_table(n_rows, rows_per_part, seed):
    """``bench_dask``'s table as Dask arrays X (float32) and y, one block per partition."""
    import dask
    import dask.array as da

    from bench_dask import make_partition

    sizes = [rows_per_part] * (n_rows // rows_per_part)
    parts = [dask.delayed(make_partition)(seed * 100_000 + i, n) for i, n in enumerate(sizes)]
    X = [da.from_delayed(dask.delayed(lambda f: f.drop(columns="y").to_numpy())(p),
                         shape=(n, N_FEATURES), dtype=np.float32) for p, n in zip(parts, sizes)]
    y = [da.from_delayed(dask.delayed(lambda f: f["y"].to_numpy())(p), shape=(n,),
                         dtype=np.float64) for p, n in zip(parts, sizes)]
    return da.concatenate(X), da.concatenate(y)


def as_case(n_rows, rows_per_part, container):
    """X and y as the case gives them: a DataFrame and Series, or Dask arrays."""
    if container == "array":
        return array_table(n_rows, rows_per_part, seed=1)
    table = dask_table(n_rows, rows_per_part, seed=1)
    return table.drop(columns="y"), table["y"]


def measure(kind, container, args):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit=0) as cluster, \
            Client(cluster) as client:
        client.run(_warm)
        client.run(_start_sampler)
        X, y = as_case(args.rows, args.rows_per_part, container)
        if kind == "persist":  # the fold's rows only, held as XGBoost/LightGBM hold them
            Xf, yf, n_train = fold_rows(X, y, args.cv)
            before = client.run(_reset)
            started = time.perf_counter()
            held = client.persist([Xf, yf])
            from distributed import wait

            wait(held)
        else:
            Xf, yf, n_train = fold_rows(X, y, args.cv)
            before = client.run(_reset)
            started = time.perf_counter()
            booster(kind, args.trees).fit(Xf, yf)
        seconds = time.perf_counter() - started
        peaks = client.run(_peak)
    share = n_train / 2 * N_FEATURES * 4
    extra = [(peaks[w] - before[w]) for w in sorted(peaks)]
    print(f"{kind:8s} {container:6s} {args.rows:>10,} rows, fold {n_train:>10,}: "
          f"{seconds:6.1f} s; RSS before (GiB) "
          f"[{', '.join(f'{before[w] / 2**30:.2f}' for w in sorted(before))}]  "
          f"peak - before (MiB) [{', '.join(f'{e / 2**20:.0f}' for e in extra)}]  "
          f"= [{', '.join(f'{e / share:.2f}' for e in extra)}] x the worker's share of X "
          f"({share / 2**20:.0f} MiB)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rows-per-part", type=int, default=250_000)
    parser.add_argument("--trees", type=int, default=20)
    parser.add_argument("--cases", default="persist:frame,xgb:frame,lgbm:frame,"
                                           "persist:array,xgb:array,lgbm:array")
    parser.add_argument("--shuffle", action="store_true",
                        help="KFold(3, shuffle=True): folds interleaved within partitions")
    args = parser.parse_args()
    from sklearn.model_selection import KFold

    args.cv = KFold(3, shuffle=True, random_state=0) if args.shuffle else 3
    for case in args.cases.split(","):
        kind, container = case.split(":")
        measure(kind, container, args)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
