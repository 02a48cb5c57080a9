"""Scale benchmark: time and memory of a stack fit from 100k to 3M rows, against scikit-learn.

Both libraries stack the same base estimators (LogisticRegression or Ridge, XGBoost and
LightGBM, with few trees so a 1M-row fit takes minutes) over the same folds with the same
``n_jobs`` on synthetic rows x 50 columns: float64 up to 1M rows, float32 at 3M. With
``--input frame`` X is a DataFrame with two categorical columns (one-hot encoded for the
linear model, native for the boosters).

Each fit runs in a fresh Python process (so the memory baseline and the worker pool are
the same for every fit), and the fits of one size are interleaved (stackkit, scikit-learn,
stackkit refit=False). Printed per fit:

- wall time of ``fit``, and stackkit's "floor": the summed fit and predict time of every
  task in ``task_log_`` divided by the cores (what a perfectly packed schedule with no
  overhead would take), and wall / floor;
- peak PSS (proportional set size: memory maps shared between processes count once) of the
  whole process tree, sampled by a thread every 0.1 s, and the extra over the baseline taken
  just before ``fit`` (X is in the baseline), also as a multiple of X's size. "cold" is
  over the process alone (the fit starts the worker pool, whose interpreters and imported
  libraries take some 100-250 MB each whatever the data); "warm" is over the same process
  after a 2,000-row fit of the same stack started the pool: the part that grows with X;
- the dtype of stackkit's ``oof_``;
- the CPU time the process tree burns in the 2 s after the fit, when nothing should run
  (a spinning pool, in a worker or in this process, shows here);
- per series, the growth exponent of time in rows (the log-log slope).

Timings are only comparable within one run (ratios against scikit-learn measured side by
side); the load average is printed with them. Memory figures do not depend on the load.

Run it by hand from the repository root (it is not a test)::

    python benchmarks/bench_scale.py --sizes 100k,300k            # find the problems
    python benchmarks/bench_scale.py --sizes 1m --input array --refit true
    python benchmarks/bench_scale.py                              # everything (an hour or more)
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import psutil

N_FEATURES = 50
N_CATEGORIES = (8, 100)  # levels of the DataFrame's two categorical columns
SEED = 0
SIZES = {"100k": 100_000, "300k": 300_000, "1m": 1_000_000, "3m": 3_000_000}
FLOAT32_FROM = 3_000_000  # sizes from here on are float32


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,300k,1m,3m",
                        help=f"comma-separated sizes among {', '.join(SIZES)}")
    parser.add_argument("--input", default="array,frame", help="array, frame or both")
    parser.add_argument("--refit", default="true,false",
                        help="stackkit's refit: true, false or both")
    parser.add_argument("--task", choices=("classification", "regression"),
                        default="classification")
    parser.add_argument("--libraries", default="stackkit,sklearn",
                        help="stackkit, sklearn or both (sklearn has no refit=False)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--n-estimators", type=int, default=50,
                        help="trees of XGBoost and LightGBM")
    parser.add_argument("--backend", default="default",
                        help="joblib backend of both stacks (joblib.parallel_config): loky, "
                             "threading, or 'default', each library's own choice (stackkit: "
                             "threads for X from 32 MB, scikit-learn: loky)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: one fit, as JSON
    return parser.parse_args(argv)


# -- data and stacks ---------------------------------------------------------------------


def make_data(n_rows, frame, task, dtype):
    """Seeded synthetic rows: X (array or DataFrame with 2 categorical columns) and y."""
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((n_rows, N_FEATURES), dtype=dtype)
    signal = X[:, :5] @ np.array([1.0, -0.8, 0.6, 0.4, -0.3]) + 0.5 * np.sin(3 * X[:, 5])
    codes = [rng.integers(0, k, n_rows) for k in N_CATEGORIES]
    signal = signal + 0.3 * (codes[0] % 3) + rng.standard_normal(n_rows)
    y = (signal > 0).astype(np.int64) if task == "classification" else signal
    if not frame:
        return X, y
    n_float = N_FEATURES - len(N_CATEGORIES)
    data = pd.DataFrame(X[:, :n_float], columns=[f"f{i}" for i in range(n_float)], copy=True)
    del X
    for k, (levels, code) in enumerate(zip(N_CATEGORIES, codes)):
        data[f"c{k}"] = pd.Categorical.from_codes(code.astype(np.int16),
                                                  [f"v{i}" for i in range(levels)])
    return data, y


def base_estimators(task, frame, n_estimators):
    """The linear model (one-hot encoding the categorical columns) and two boosters."""
    from lightgbm import LGBMClassifier, LGBMRegressor
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    from xgboost import XGBClassifier, XGBRegressor

    clf = task == "classification"
    linear = LogisticRegression(max_iter=200) if clf else Ridge()
    if frame:  # one-hot c0 (8 levels), leave the 100 levels of c1 to the boosters: a dense
        # one-hot of both would make the linear model's copy of its rows 3x X's columns, and
        # the figure would measure the encoder, not the stack
        encode = make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["c0"]),
            ("drop", ["c1"]), remainder="passthrough")
        linear = make_pipeline(encode, linear)
    boost = dict(n_estimators=n_estimators, random_state=SEED)
    xgb = (XGBClassifier if clf else XGBRegressor)(max_depth=6, tree_method="hist",
                                                  enable_categorical=frame, **boost)
    lgbm = (LGBMClassifier if clf else LGBMRegressor)(num_leaves=31, verbose=-1, **boost)
    return [("linear", linear), ("xgb", xgb), ("lgbm", lgbm)]


def make_stack(library, refit, task, frame, n_jobs, n_estimators):
    """One stack of the same estimators over the same (seeded) folds."""
    from sklearn import ensemble
    from sklearn.model_selection import KFold, StratifiedKFold

    import stackkit

    clf = task == "classification"
    cv = (StratifiedKFold if clf else KFold)(n_splits=5, shuffle=True, random_state=SEED)
    estimators = base_estimators(task, frame, n_estimators)
    if library == "sklearn":
        cls = ensemble.StackingClassifier if clf else ensemble.StackingRegressor
        return cls(estimators, cv=cv, n_jobs=n_jobs)
    cls = stackkit.StackingClassifier if clf else stackkit.StackingRegressor
    return cls(estimators, cv=cv, refit=refit, n_jobs=n_jobs)


# -- measuring one fit (in a child process) -----------------------------------------------


def tree_pss():
    """PSS of this process and all its children, in bytes (processes gone meanwhile skipped)."""
    me = psutil.Process()
    total = 0
    for proc in [me, *me.children(recursive=True)]:
        try:
            total += proc.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


class PeakSampler(threading.Thread):
    """Sample :func:`tree_pss` every ``interval`` seconds; ``peak`` is the largest seen."""

    def __init__(self, interval=0.1):
        super().__init__(daemon=True)
        self.interval, self.peak = interval, 0
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            self.peak = max(self.peak, tree_pss())
            self._stop_event.wait(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, tree_pss())
        return self.peak


def idle_cpu_seconds(seconds=2.0):
    """CPU seconds the process tree uses in the next ``seconds`` while this thread sleeps.

    The fit is over: any CPU used now is spinning (a busy-waiting pool, in a worker or here).
    """
    def cpu():
        seconds_by_pid = {}
        me = psutil.Process()
        for proc in [me, *me.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                seconds_by_pid[proc.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return seconds_by_pid

    before = cpu()
    time.sleep(seconds)
    after = cpu()
    # Only processes alive at both readings: a worker that exits meanwhile (an idle pool
    # timing out) would otherwise subtract its whole life's CPU time.
    return sum(after[pid] - before[pid] for pid in after.keys() & before.keys())


def measure_one(spec):
    """Fit one stack as ``spec`` says; return its figures as a dict.

    A 2,000-row fit of the same stack first starts the worker pool: the baseline before it
    gives the "cold" extra, the one after it the "warm" extra (the part that grows with X).
    """
    import joblib

    frame = spec["input"] == "frame"
    dtype = np.float32 if spec["n_rows"] >= FLOAT32_FROM else np.float64

    def stack():
        return make_stack(spec["library"], spec["refit"], spec["task"], frame,
                          spec["n_jobs"], spec["n_estimators"])

    chosen = spec["backend"] != "default"
    with joblib.parallel_config(backend=spec["backend"]) if chosen else contextlib.nullcontext():
        X, y = make_data(spec["n_rows"], frame, spec["task"], dtype)
        x_bytes = int(X.memory_usage(deep=True).sum()) if frame else X.nbytes
        cold = tree_pss()
        stack().fit(*make_data(2000, frame, spec["task"], dtype))
        fitted = stack()
        warm = tree_pss()
        sampler = PeakSampler()
        sampler.start()
        start = time.perf_counter()
        fitted.fit(X, y)
        wall = time.perf_counter() - start
        peak = sampler.stop()
        out = dict(spec, wall=wall, x_bytes=x_bytes, baseline=cold, warm_baseline=warm,
                   peak=peak, idle_cpu=idle_cpu_seconds(), load=os.getloadavg()[0])
    if spec["library"] == "stackkit":
        log = fitted.task_log_
        out["floor"] = float((log.fit_time + log.predict_time).sum()) / psutil.cpu_count()
        out["oof_dtype"] = str(fitted.oof_.dtype)
    return out


# -- the parent: run every fit in its own process, print -----------------------------------


def run_child(spec):
    """Run :func:`measure_one` in a fresh interpreter; its figures, or None if it failed."""
    cmd = [sys.executable, os.path.abspath(__file__), "--one", json.dumps(spec)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"  FAILED: {spec}\n{done.stderr[-2000:]}", flush=True)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def plan(args):
    """The fits to run, interleaved per size and input: stackkit then scikit-learn."""
    libraries = args.libraries.split(",")
    refits = [r == "true" for r in args.refit.split(",")]
    specs = []
    for size in args.sizes.split(","):
        for kind in args.input.split(","):
            base = dict(n_rows=SIZES[size], input=kind, task=args.task, n_jobs=args.n_jobs,
                        n_estimators=args.n_estimators, backend=args.backend)
            runs = [("stackkit", r) for r in refits if "stackkit" in libraries]
            if "sklearn" in libraries:
                runs.insert(1 if runs else 0, ("sklearn", True))
            specs += [dict(base, library=lib, refit=refit) for lib, refit in runs]
    return specs


def label(r):
    refit = "" if r["library"] == "sklearn" else f" refit={r['refit']}"
    return f"{r['library']}{refit}"


def report_line(r, sklearn_wall):
    mb = 2 ** 20
    extra = r["peak"] - r["baseline"]
    warm = r["peak"] - r["warm_baseline"]
    ratio = f"{r['wall'] / sklearn_wall:5.2f}x sklearn" if sklearn_wall else " " * 14
    floor = (f"floor {r['floor']:7.1f} s (wall/floor {r['wall'] / r['floor']:4.2f})"
             if "floor" in r else " " * 34)
    return (f"  {label(r):21s} wall {r['wall']:7.1f} s  {ratio}  {floor}  peak PSS "
            f"{r['peak'] / mb:6.0f} MB, extra cold {extra / mb:6.0f} MB = "
            f"{extra / r['x_bytes']:4.2f} x X, warm {warm / mb:6.0f} MB = "
            f"{warm / r['x_bytes']:4.2f} x X  oof {r.get('oof_dtype', '-')}  "
            f"idle CPU {r['idle_cpu']:4.2f} s/2 s  load {r['load']:.2f}")


def growth_exponents(results):
    """Log-log slope of wall time in rows, per (library, refit, input) series."""
    series = {}
    for r in results:
        series.setdefault((label(r), r["input"]), []).append((r["n_rows"], r["wall"]))
    for (name, kind), points in series.items():
        if len(points) >= 2:
            rows, walls = np.log(np.array(points)).T
            print(f"  {name:21s} {kind:5s} time ~ rows^{np.polyfit(rows, walls, 1)[0]:.2f}")


def main(argv=None):
    args = parse_args(argv)
    if args.one:
        print(json.dumps(measure_one(json.loads(args.one))))
        return
    print(f"cores {psutil.cpu_count()}, n_jobs {args.n_jobs}, backend {args.backend}, "
          f"load {os.getloadavg()}")
    results, groups = [], {}
    for spec in plan(args):
        groups.setdefault((spec["n_rows"], spec["input"]), []).append(spec)
    for (n_rows, kind), specs in groups.items():
        dtype = "float32" if n_rows >= FLOAT32_FROM else "float64"
        print(f"\n{n_rows:,} rows x {N_FEATURES} ({dtype}), {kind}", flush=True)
        done = []
        for spec in specs:  # each line as it comes, then again with the ratios
            r = run_child(spec)
            if r is not None:
                done.append(r)
                print(report_line(r, None), flush=True)
        sklearn_wall = next((r["wall"] for r in done if r["library"] == "sklearn"), None)
        if sklearn_wall is not None:
            print("  against scikit-learn's time, measured in this run:")
            for r in done:
                print(report_line(r, sklearn_wall), flush=True)
        results += done
    print("\ngrowth of time in rows")
    growth_exponents(results)


if __name__ == "__main__":
    main()
