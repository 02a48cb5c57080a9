"""Quality at equal time: stackkit's portfolio stack against AutoGluon's best_quality.

For every table: a seeded 75/25 split (stratified for classification), the training rows
capped at ``--max-train-rows`` (a stratified subsample), then

- stackkit: ``stackkit.presets.portfolio_stack(task, time_limit=T, n_jobs=2)``;
- AutoGluon: ``TabularPredictor(label, problem_type, eval_metric).fit(train,
  presets="best_quality", time_limit=T, num_cpus=2, num_gpus=0)`` without the models that
  need torch (no neural networks on either side) and without CatBoost unless stackkit's
  stack uses it. AutoGluon runs in its own virtual environment (``--autogluon-python``)
  through ``benchmarks/_autogluon_side.py``; the two exchange parquet/JSON/npz files in a
  temporary folder, and both sides are scored here by the same functions.

Metrics (from the data manifest's suggestions): ROC AUC (binary), log loss (multiclass,
lower is better), R2 (regression). A tie is a gap within 0.0005 (AUC, R2) or within 0.1%
of AutoGluon's log loss. A side that fails loses its table. The targets of issue 13:
stackkit ahead of or level with AutoGluon on at least half of the tables, never below its
own best member (a tie with it counts as level), and every fit within T + 5%.

Run it by hand from the repository root on an otherwise idle 2-core machine::

    python benchmarks/bench_automl.py --autogluon-python /work/agvenv/bin/python \\
        --out automl.json                              # 10 tables, T = 180 s: ~75 min
    python benchmarks/bench_automl.py --only stackkit --datasets credit_g --time-limit 30
    python benchmarks/bench_automl.py --table-from automl.json   # the README table again
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np
from sklearn.metrics import log_loss, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

import stackkit
from _automl_report import print_report  # beside this script
from stackkit import StackingClassifier, StackingRegressor
from stackkit.presets import default_estimators

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = HERE.parents[1] / "shared" / "data"
DEFAULT_DATASETS = ("adult,credit_g,electricity,magic_telescope,connect_4,kddcup99,"
                    "california_housing,diamonds,bike_sharing,wine_quality")
METRICS = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "r2"}
N_CORES = 2
# AutoGluon 1.6 model keys that need torch (neural networks, foundation models).
TORCH_MODELS = ["NN_TORCH", "FASTAI", "FT_TRANSFORMER", "TABPFNMIX", "TABM", "MITRA",
                "REALMLP", "TABICL", "TABDPT", "TABDPT-TURBO", "REALTABPFN-V2",
                "REALTABPFN-V2.5", "TABPFN-2.6", "TABPFN-3", "AG_AUTOMM", "AG_TEXT_NN",
                "AG_IMAGE_NN"]


def parse_args(argv=None):
    """Parse the command line; refuse a missing AutoGluon Python before any work."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--autogluon-python", type=Path,
                        help="Python of AutoGluon's virtualenv (needed unless --only stackkit)")
    parser.add_argument("--time-limit", type=float, default=180.0, help="T, seconds (180)")
    parser.add_argument("--datasets", default=DEFAULT_DATASETS, help="comma-separated names")
    parser.add_argument("--max-train-rows", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=["stackkit", "autogluon"], help="run one side")
    parser.add_argument("--stackkit-preset", choices=["best", "quick"], default="best",
                        help="best: portfolio_stack (the benchmark); quick: the four-model "
                             "default_estimators, ONLY to try the script before the portfolio")
    parser.add_argument("--out", type=Path, help="write every result record to this JSON")
    parser.add_argument("--table-from", type=Path, nargs="+",
                        help="print the table and targets from result JSONs; fit nothing")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    if not args.table_from and args.only != "stackkit":
        if args.autogluon_python is None or not args.autogluon_python.is_file():
            parser.error(f"--autogluon-python must name AutoGluon's Python (a file); got "
                         f"{args.autogluon_python}. Use --only stackkit to skip AutoGluon.")
    if not args.table_from and not (args.data_dir / "load.py").is_file():
        parser.error(f"--data-dir must hold load.py and manifest.json; {args.data_dir} does not")
    return args


# -- data and scores -------------------------------------------------------------------


def load_split(name, args):
    """The seeded 75/25 split of one table, training rows capped (stratified)."""
    if str(args.data_dir) not in sys.path:
        sys.path.insert(0, str(args.data_dir))
    from load import load

    X, y, info = load(name)
    stratify = y if info["task"] != "regression" else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=args.seed, stratify=stratify)
    if len(X_train) > args.max_train_rows:
        stratify = y_train if info["task"] != "regression" else None
        X_train, _, y_train, _ = train_test_split(
            X_train, y_train, train_size=args.max_train_rows, random_state=args.seed,
            stratify=stratify)
    return {"name": name, "task": info["task"], "n_classes": info.get("n_classes"),
            "X_train": X_train, "X_test": X_test, "y_train": y_train, "y_test": y_test}


def score(metric, y_true, pred):
    """The holdout score; ``pred`` holds class probabilities (or scores) or values."""
    if metric == "roc_auc":
        return roc_auc_score(y_true, pred[:, 1] if pred.ndim == 2 else pred)
    if metric == "log_loss":
        return log_loss(y_true, pred, labels=np.arange(pred.shape[1]))
    return r2_score(y_true, pred)


def align(proba, labels, n_classes):
    """Probability columns in class order 0..n_classes-1 (a class never seen gets 0)."""
    full = np.zeros((len(proba), n_classes))
    full[:, np.asarray(labels, dtype=int)] = proba
    return full


def best_of(metric, scores):
    """``(name, score)`` of the best of a ``{name: score}`` dict (NaN scores ignored)."""
    valid = {name: s for name, s in scores.items() if np.isfinite(s)}
    if not valid:
        return None, float("nan")
    pick = min if metric == "log_loss" else max
    name = pick(valid, key=valid.get)
    return name, valid[name]


# -- stackkit --------------------------------------------------------------------------


def make_stack(task, args):
    """The unfitted stack of this run: the portfolio, or the labelled quick fallback."""
    if args.stackkit_preset == "quick":
        cls = StackingRegressor if task == "regression" else StackingClassifier
        budget = ({"time_limit": args.time_limit}
                  if "time_limit" in cls([]).get_params() else {})
        return cls(default_estimators(task, random_state=args.seed), n_jobs=N_CORES, **budget)
    try:
        from stackkit.presets import portfolio_stack
    except ImportError:
        raise SystemExit("stackkit.presets.portfolio_stack is not on this branch yet; "
                         "--stackkit-preset quick tries the script with the four-model preset")
    return portfolio_stack(task, time_limit=args.time_limit, n_jobs=N_CORES,
                           random_state=args.seed)


def uses_catboost(stack):
    """Whether any estimator inside ``stack`` comes from CatBoost (or wraps it)."""
    return any("catboost" in f"{type(v).__module__}.{type(v).__name__}".lower()
               for v in stack.get_params(deep=True).values())


def member_predictions(stack, X, classify):
    """``{name: holdout prediction}`` of every fitted base model (failures left out)."""
    out = {}
    for name, model in stack.named_estimators_.items():
        try:
            if not classify:
                out[name] = np.asarray(model.predict(X), dtype=float)
            elif hasattr(model, "predict_proba"):
                proba = model.predict_proba(X)
                out[name] = align(proba, model.classes_, len(stack.classes_))
            else:  # a score ranks rows: enough for ROC AUC, not for log loss
                out[name] = np.asarray(model.decision_function(X), dtype=float)
        except Exception as exc:  # a benchmark reports a member's failure and goes on
            print(f"    member {name} failed to predict: {type(exc).__name__}: {exc}")
    return out


def run_stackkit(data, args):
    """Fit and score the stack; return its result record."""
    classify, metric = data["task"] != "regression", METRICS[data["task"]]
    stack = make_stack(data["task"], args)
    start = time.perf_counter()
    stack.fit(data["X_train"], data["y_train"])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    pred = stack.predict_proba(data["X_test"]) if classify else stack.predict(data["X_test"])
    predict_seconds = time.perf_counter() - start
    if classify:
        pred = align(pred, stack.classes_, data["n_classes"])
    members = {name: score(metric, data["y_test"], p) if p.ndim == 2 or metric != "log_loss"
               else float("nan")
               for name, p in member_predictions(stack, data["X_test"], classify).items()}
    return {"score": score(metric, data["y_test"], pred), "fit_seconds": fit_seconds,
            "predict_seconds": predict_seconds, "member_scores": members,
            "dropped": [str(d) for d in getattr(stack, "dropped_", [])],
            "preset": args.stackkit_preset, "budget": "time_limit" in stack.get_params(),
            "version": f"stackkit {stackkit.__version__}"}


# -- AutoGluon -------------------------------------------------------------------------


def autogluon_spec(data, args, catboost):
    """The JSON spec ``_autogluon_side.py`` reads."""
    excluded = TORCH_MODELS + ([] if catboost else ["CAT"])
    return {"label": "__target__", "problem_type": data["task"],
            "eval_metric": METRICS[data["task"]], "time_limit": args.time_limit,
            "excluded_model_types": excluded, "num_cpus": N_CORES}


def run_autogluon(data, args, catboost):
    """Fit and score AutoGluon in its own Python; return its result record."""
    with tempfile.TemporaryDirectory(prefix="bench_automl_") as tmp:
        work = Path(tmp)
        data["X_train"].assign(__target__=data["y_train"]).to_parquet(work / "train.parquet")
        data["X_test"].assign(__target__=data["y_test"]).to_parquet(work / "test.parquet")
        spec = autogluon_spec(data, args, catboost)
        (work / "spec.json").write_text(json.dumps(spec))
        done = subprocess.run([str(args.autogluon_python), str(HERE / "_autogluon_side.py"),
                               str(work)], capture_output=True, text=True,
                              timeout=3 * args.time_limit + 900)
        if done.returncode != 0:
            raise RuntimeError("AutoGluon side failed:\n" + done.stderr[-2000:])
        result = json.loads((work / "result.json").read_text())
        with np.load(work / "predictions.npz") as arrays:
            preds = {key: arrays[key] for key in arrays.files}
    metric, labels = METRICS[data["task"]], result.pop("class_labels")
    if labels is not None:
        preds = {key: align(p, labels, data["n_classes"]) for key, p in preds.items()}
    members = {key.split("::", 1)[1]: score(metric, data["y_test"], p)
               for key, p in preds.items() if key.startswith("member::")}
    return {"score": score(metric, data["y_test"], preds["final"]),
            "member_scores": members, "catboost": catboost, **result}


# -- one table -------------------------------------------------------------------------


def record(data, library, args, run):
    """Run one side on one table; a failure becomes a record with its error."""
    base = {"dataset": data["name"], "task": data["task"], "metric": METRICS[data["task"]],
            "library": library, "train_rows": len(data["X_train"]),
            "test_rows": len(data["X_test"]), "time_limit": args.time_limit, "error": ""}
    try:
        base.update(run())
    except Exception as exc:
        return {**base, "error": f"{type(exc).__name__}: {exc}"}
    base["predict_s_per_1k"] = 1000 * base.pop("predict_seconds") / base["test_rows"]
    base["overshoot_pct"] = 100 * (base["fit_seconds"] / args.time_limit - 1)
    base["best_member"], base["best_member_score"] = best_of(base["metric"],
                                                             base["member_scores"])
    return base


def bench_table(name, args):
    """Both sides (or ``--only`` one) on one table; return their records."""
    data = load_split(name, args)
    print(f"{name}: {data['task']}, {len(data['X_train']):,} training rows, "
          f"{len(data['X_test']):,} holdout rows", flush=True)
    records = []
    if args.only != "autogluon":
        records.append(record(data, "stackkit", args, lambda: run_stackkit(data, args)))
    if args.only != "stackkit":
        catboost = uses_catboost(make_stack(data["task"], args))
        records.append(record(data, "autogluon", args,
                              lambda: run_autogluon(data, args, catboost)))
    for r in records:
        print("    " + (f"{r['library']:<10} FAILED: {r['error']}" if r["error"] else
                        f"{r['library']:<10} {r['metric']} {r['score']:.4f} in "
                        f"{r['fit_seconds']:.1f} s"), flush=True)
    return records


# -- run -------------------------------------------------------------------------------


def read_results(paths):
    """The records of ``--out`` files, refused if they mix time limits or repeat a side."""
    records = [r for path in paths for r in json.loads(path.read_text())]
    limits = {r["time_limit"] for r in records}
    keys = [(r["dataset"], r["library"]) for r in records]
    if len(limits) > 1 or len(set(keys)) < len(keys):
        raise SystemExit(f"--table-from: the files must be one run's sides: time limits "
                         f"{sorted(limits)}, {len(keys) - len(set(keys))} repeated table/side")
    return records


def checked_names(args):
    """The ``--datasets`` names, refused before any fit if the data folder lacks one."""
    sys.path.insert(0, str(args.data_dir))
    from load import names as known

    names = args.datasets.split(",")
    unknown = [n for n in names if n not in known()]
    if unknown:
        raise SystemExit(f"--datasets: unknown {unknown} in {args.data_dir}; known: {known()}")
    return names


def environment(args):
    """Cores, versions and load average, for the record."""
    one, five, _ = os.getloadavg()
    busy = " (busy: other processes compete for the cores)" if one > 0.5 else ""
    return (f"cores: {joblib.cpu_count()}; stackkit {stackkit.__version__}; "
            f"T = {args.time_limit:g} s; load average {one:.1f} (1 min), {five:.1f} "
            f"(5 min){busy}")


def main(argv=None):
    """Run the benchmark (or re-read results) and print the table and the targets."""
    args = parse_args(argv)
    if args.table_from:
        print_report(read_results(args.table_from))
        return
    names = checked_names(args)
    sides = 1 if args.only else 2
    print(environment(args))
    minutes = len(names) * (sides * args.time_limit + 40) / 60
    print(f"{len(names)} tables; expect about {minutes:.0f} min (each side T per table, plus "
          "loading and predictions)", flush=True)
    records = []
    for name in names:
        records += bench_table(name, args)
        if args.out:  # after every table: a run that dies keeps what it measured
            args.out.write_text(json.dumps(records, indent=1, default=float))
    print_report(records)
    print("\ncommand: python " + shlex.join(sys.argv))


if __name__ == "__main__":
    main()
