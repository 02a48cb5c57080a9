"""GPU benchmark: XGBoost in the GPU lane beside the CPU tasks, against the same stack on CPU.

Fits the four base estimators of ``bench_fit.py`` (a linear model, a random forest,
XGBoost, LightGBM) twice on the same folds, in the same run, alternating:

- **CPU**: every task on the CPU workers (``n_jobs``), XGBoost with ``device="cpu"``;
- **GPU lane**: the same stack with XGBoost on ``device="cuda"``: its fold and refit
  tasks run one at a time in the GPU lane (a thread per visible device) while the
  linear model, the forest and LightGBM run on the CPU workers.

It prints each fit's wall time, the floor of the CPU tasks (their summed time divided
by the cores), XGBoost's summed task time, how long the GPU lane and the CPU workers
were busy at the same time, the holdout score of both stacks, and the speed-up of the
GPU stack over the CPU one, from the same run. It checks, from ``task_log_``, that
every XGBoost task of the GPU stack ran in a GPU lane (``device`` is ``gpu:<n>``) and
every other task on the CPU; it stops with an error if not.

No figure from this benchmark has been measured yet: the machines stackkit is built
on have no GPU. Without a visible CUDA device, with an XGBoost built without CUDA,
or when a one-tree XGBoost model asked for ``device="cuda"`` trains on the CPU
(XGBoost falls back when the listed device cannot be used), it prints one line saying
that it is skipped and why, and exits with status 0: it never reports a CPU run as a
GPU figure.

Run it by hand from the repository root on a CUDA machine (it is not a test)::

    python benchmarks/bench_gpu.py                                 # nyc_flights_delay
    python benchmarks/bench_gpu.py --dataset electricity --repeats 3
    python benchmarks/bench_gpu.py --quick                         # 3,000-row smoke run
"""

import argparse
import json
import shlex
import sys
import time
import warnings
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import KFold, StratifiedKFold  # noqa: E402

import bench_fit  # noqa: E402
import stackkit  # noqa: E402
from stackkit import _gpu  # noqa: E402

BOOSTER = "xgb"  # the estimator of bench_fit.base_estimators that goes to the GPU


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="nyc_flights_delay",
                        help="a binary or regression dataset from shared/data "
                             "(default nyc_flights_delay, 327k rows)")
    parser.add_argument("--n-jobs", type=int, default=2, help="CPU workers of both stacks")
    parser.add_argument("--repeats", type=int, default=2,
                        help="fits per stack, alternating CPU and GPU; the fastest is kept")
    parser.add_argument("--quick", action="store_true",
                        help=f"subsample to {bench_fit.QUICK_ROWS:,} rows (smoke run)")
    parser.add_argument("--data-dir", type=Path, default=bench_fit.DEFAULT_DATA_DIR,
                        help="folder with load.py and manifest.json")
    return parser.parse_args(argv)


def skip_reason():
    """Why this machine cannot run the benchmark, or None when it can.

    Asks the GPU lane's own device count first, so the benchmark runs exactly when
    stackkit would use a GPU; XGBoost is imported only when a device is visible.
    """
    devices = _gpu.visible_gpus()
    if not devices:
        return ("no CUDA device is visible (CUDA_VISIBLE_DEVICES, "
                "/proc/driver/nvidia/gpus and nvidia-smi list none)")
    import xgboost

    if not xgboost.build_info().get("USE_CUDA"):
        return f"XGBoost {xgboost.__version__} is built without CUDA"
    device = probe_device(xgboost)
    if not device.startswith("cuda"):
        return (f"{devices} CUDA device(s) listed, but XGBoost trained on {device!r} "
                "when asked for 'cuda' (it falls back to the CPU when it finds no GPU)")
    return None


def probe_device(xgboost):
    """The device a one-tree XGBoost model asked for ``device="cuda"`` really trained on."""
    X = np.arange(40.0).reshape(20, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # XGBoost warns when it falls back to the CPU
        model = xgboost.XGBRegressor(n_estimators=1, device="cuda").fit(X, X[:, 0])
    config = json.loads(model.get_booster().save_config())
    return config["learner"]["generic_param"]["device"]


# -- the stacks ------------------------------------------------------------------------


def make_stacks(X, task, n_jobs):
    """``{label: unfitted stack}``: XGBoost on the CPU, and on the GPU lane."""
    splitter = StratifiedKFold if task == "binary" else KFold
    cv = splitter(5, shuffle=True, random_state=bench_fit.SEED)
    cls = stackkit.StackingClassifier if task == "binary" else stackkit.StackingRegressor
    stacks = {}
    for label, device in (("CPU", "cpu"), ("GPU lane", "cuda")):
        estimators = [(name, clone(est).set_params(device=device) if name == BOOSTER
                       else clone(est)) for name, est in bench_fit.base_estimators(X, task)]
        stacks[label] = cls(estimators, cv=cv, n_jobs=n_jobs)
    return stacks


def check_placement(label, log):
    """Stop unless the booster's tasks ran where the stack asked and the others on CPU."""
    booster = log["estimator"] == BOOSTER
    on_gpu = log["device"].astype(str).str.startswith("gpu:")
    wanted = booster if label == "GPU lane" else np.zeros(len(log), dtype=bool)
    wrong = log[on_gpu != wanted]
    if len(wrong):
        raise SystemExit(f"{label} stack: tasks ran on the wrong device:\n"
                         f"{wrong[['estimator', 'fold', 'device']].to_string()}")


def busy_together(log):
    """Seconds during which a GPU-lane task and a CPU task were running at the same time."""
    on_gpu = log["device"].astype(str).str.startswith("gpu:")
    gpu = list(zip(log.loc[on_gpu, "started"], log.loc[on_gpu, "finished"]))
    cpu = list(zip(log.loc[~on_gpu, "started"], log.loc[~on_gpu, "finished"]))
    return sum(_overlap(a, b) for a in gpu for b in _merged(cpu))


def _merged(intervals):
    """Union of ``(start, end)`` intervals, as disjoint sorted intervals."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _overlap(a, b):
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


# -- measuring -------------------------------------------------------------------------


def measure(label, stack, data):
    """Fit a clone of ``stack``; return its result row."""
    X_train, X_test, y_train, y_test, task = data
    fitted = clone(stack)
    start = time.perf_counter()
    fitted.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    log = fitted.task_log_
    check_placement(label, log)
    cpu = ~log["device"].astype(str).str.startswith("gpu:")
    task_seconds = log["fit_time"] + log["predict_time"]
    row = {"stack": label, "seconds": seconds,
           "cpu_floor": task_seconds[cpu].sum() / joblib.cpu_count(),
           "booster_seconds": task_seconds[log["estimator"] == BOOSTER].sum(),
           "together": busy_together(log),
           "score": bench_fit.holdout_score(fitted, X_test, y_test, task)}
    print(f"    {label:<9} {seconds:8.1f} s  (XGBoost tasks {row['booster_seconds']:.1f} s)",
          flush=True)
    return row


def fastest(stacks, data, repeats):
    """Each stack's fastest of ``repeats`` fits, alternating stacks so load hits both."""
    best = {}
    for _ in range(repeats):
        for label, stack in stacks.items():
            row = measure(label, stack, data)
            if label not in best or row["seconds"] < best[label]["seconds"]:
                best[label] = row
    return best


def markdown(rows, n_rows, task):
    """The result table, as markdown."""
    metric = "AUC" if task == "binary" else "RMSE"
    cpu = rows["CPU"]["seconds"]
    lines = [f"| stack ({n_rows:,} rows) | fit time (s) | speed-up vs CPU | CPU-task floor (s) "
             f"| XGBoost tasks (s) | GPU and CPU busy together (s) | holdout {metric} |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for label, r in rows.items():
        lines.append(f"| {label} | {r['seconds']:.1f} | {cpu / r['seconds']:.2f}x "
                     f"| {r['cpu_floor']:.1f} | {r['booster_seconds']:.1f} "
                     f"| {r['together']:.1f} | {r['score']:.4f} |")
    return "\n".join(lines)


def main(argv=None):
    """Run the benchmark, or say in one line why it is skipped; return the exit status."""
    args = parse_args(argv)
    reason = skip_reason()
    if reason is not None:
        print(f"bench_gpu: skipped: {reason}; no GPU figure was measured", flush=True)
        return 0
    print(bench_fit.environment(), flush=True)
    print(f"visible CUDA devices: {_gpu.visible_gpus()}", flush=True)
    data = bench_fit.load_dataset(args.dataset, args.data_dir, args.quick)
    print(f"{args.dataset}: {len(data[0]):,} training rows, n_jobs={args.n_jobs}, "
          f"repeats={args.repeats}{', quick' if args.quick else ''}", flush=True)
    rows = fastest(make_stacks(data[0], data[4], args.n_jobs), data, args.repeats)
    print("\n" + markdown(rows, len(data[0]), data[4]) + "\n")
    print(f"after the run: {bench_fit.machine_load()}")
    print("\ncommand: python " + shlex.join(sys.argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
