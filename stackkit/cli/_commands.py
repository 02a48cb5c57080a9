"""What each ``stackkit`` subcommand does; :mod:`stackkit.cli` parses and reports."""

import sys
import tempfile
from pathlib import Path

import pandas as pd
from sklearn.base import is_classifier
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import Pipeline

from .. import io, report
from .._compat import skops_io
from .._source import column_differences
from ..classifier import StackingClassifier
from ..exceptions import ModelFileError, UntrustedTypeError
from ..presets import default_estimators, portfolio_stack
from ..regressor import StackingRegressor
from ..schema import TableSchema
from ._config import read_config
from ._data import CommandError, read_table, resolve_task, split_groups, split_target

PLOTS = {"leaderboard": report.plot_leaderboard, "correlation": report.plot_correlation,
         "weights": report.plot_weights}


def fit(args):
    """``stackkit fit``: read, check, fit a stack behind a :class:`TableSchema`, save."""
    _check_writable(args.out, "--out", "model.skops")
    _require_skops()  # say so before the fit, not after it
    frame = read_table(args.data)
    X, y = split_target(frame, args.target, args.data)
    X, groups = split_groups(X, args.groups, args.data) if args.groups else (X, None)
    task = resolve_task(y, args.task, args.target)
    estimators, params = read_config(args.config) if args.config else (None, {})
    stack = _stack(task, estimators, params, args, groups)
    print(_describe(args, X, y, task, stack))
    model = Pipeline([("schema", TableSchema()), ("stack", stack)])
    model.fit(X, y, **({} if groups is None else {"stack__groups": groups}))
    scoring = default_scoring(stack)
    board = report.leaderboard(stack, scoring,
                               X=model[0].transform(X) if stack.passthrough else None)
    print(format_board(board, scoring))
    io.dump(model, args.out)
    print(f"\nSaved the model to {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB).")


def _stack(task, estimators, params, args, groups):
    classify = task != "regression"
    config_cv = params.pop("cv", 5)
    cv = config_cv if args.cv is None else args.cv
    if isinstance(cv, bool) or not isinstance(cv, int) or cv < 2:
        raise CommandError(f"cv must be a whole number of folds >= 2, got {cv!r}")
    if groups is not None and groups.nunique() < cv:
        raise CommandError(f"--groups {args.groups!r} has {groups.nunique()} distinct values, "
                           f"fewer than the {cv} folds; use a smaller --cv")
    # shuffled, since the rows of a file are often sorted; seeded
    cv = _splitter(classify, groups is not None)(cv, shuffle=True, random_state=args.seed)
    verbose = 0 if args.quiet else 1
    if args.time_limit is not None:
        params["time_limit"] = args.time_limit
    if estimators is None and args.time_limit is not None:
        stack = portfolio_stack(task, time_limit=args.time_limit, device=args.device,
                                random_state=args.seed, n_jobs=args.n_jobs, verbose=verbose)
        return stack.set_params(cv=cv, memory=args.memory, **params)
    if estimators is None:
        estimators = default_estimators(task, device=args.device, random_state=args.seed)
    stacking = StackingClassifier if classify else StackingRegressor
    return stacking(estimators, cv=cv, n_jobs=args.n_jobs, memory=args.memory,
                    verbose=verbose, **params)


def _splitter(classify, grouped):
    if grouped:
        return StratifiedGroupKFold if classify else GroupKFold
    return StratifiedKFold if classify else KFold


def _describe(args, X, y, task, stack):
    names = ", ".join(name for name, _ in stack.estimators)
    if stack.time_limit is not None:
        names = (f"{len(stack.estimators)} estimators in priority order ({names}); time "
                 f"limit {stack.time_limit:g} s")
    classes = "" if task == "regression" else \
        f" with classes {', '.join(map(str, sorted(y.unique())))}"
    return (f"{args.data}: {len(X):,} rows x {X.shape[1]} feature columns; target "
            f"{args.target!r} ({task}{classes})\nstack of {names}; "
            f"{stack.cv.get_n_splits()} folds ({type(stack.cv).__name__}, shuffled, seed "
            f"{args.seed})")


def default_scoring(stack):
    """ROC AUC for a binary stack, accuracy for a multiclass one, R² for regression."""
    if not is_classifier(stack):
        return "r2"
    return "roc_auc" if len(stack.classes_) == 2 else "accuracy"


def format_board(board, scoring):
    """The leaderboard as text, without columns that are empty for every model."""
    shown = board.dropna(axis="columns", how="all")
    return (f"\nLeaderboard ({scoring}; base models out-of-fold, the stack "
            f"{board.loc['stack', 'estimate']}):\n"
            + shown.to_string(float_format=lambda v: f"{v:.4f}", na_rep=""))


def predict(args):
    """``stackkit predict``: load, check the columns, write predictions."""
    _check_writable(args.out, "--out", "predictions.csv")
    model = load_model(args.model)
    frame = read_table(args.data)
    schema = model[0] if isinstance(model, Pipeline) else None
    expected = getattr(schema or model, "feature_names_in_", None)
    if expected is not None:
        frame = _training_columns(frame, list(expected), args.data)
    predictions = _predictions(model, frame, args.proba, schema)
    _write_table(predictions, args.out)
    print(f"Wrote {len(predictions):,} predictions to {args.out}.")


def _training_columns(frame, expected, path):
    missing, extra = column_differences(expected, frame.columns)
    if missing:
        raise CommandError(f"{path}: missing {len(missing)} column(s) the model was trained "
                           f"on: {', '.join(missing)}")
    if extra:
        print(f"note: ignoring {len(extra)} column(s) the model was not trained on: "
              f"{', '.join(extra)}", file=sys.stderr)
    return frame.rename(columns=str)[expected]


def _predictions(model, frame, proba, schema):
    name = getattr(schema, "target_name_", None) or "prediction"
    if not proba:
        return pd.DataFrame({name: model.predict(frame)}, index=frame.index)
    if not hasattr(model, "predict_proba"):
        raise CommandError("--proba: the model is a regressor; it has no probabilities")
    classes = model.classes_
    return pd.DataFrame(model.predict_proba(frame), index=frame.index,
                        columns=[f"proba_{label}" for label in classes])


def _write_table(frame, path):
    if str(path).lower().endswith((".parquet", ".pq")):
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)


def report_(args):
    """``stackkit report``: leaderboard, OOF correlation and, with ``--plots``, PNG files."""
    stack = final_stack(load_model(args.model))
    scoring = default_scoring(stack)
    print(format_board(report.leaderboard(stack, scoring), scoring).lstrip())
    print("\nCorrelation of out-of-fold predictions:")
    print(report.oof_correlation(stack).to_string(float_format=lambda v: f"{v:.3f}"))
    if args.plots:
        _save_plots(stack, Path(args.plots), scoring)


def _save_plots(stack, folder, scoring):
    try:
        import matplotlib
    except ImportError:
        raise CommandError("--plots needs matplotlib: pip install 'stackkit[plot]'") from None
    matplotlib.use("Agg")
    folder.mkdir(parents=True, exist_ok=True)
    for name, plot in PLOTS.items():
        try:
            ax = plot(stack, scoring) if name == "leaderboard" else plot(stack)
        except ValueError as exc:  # e.g. a final estimator without weights to plot
            print(f"(no {name}.png: {exc})")
            continue
        ax.figure.savefig(folder / f"{name}.png", dpi=120, bbox_inches="tight")
        matplotlib.pyplot.close(ax.figure)
        print(f"Wrote {folder / f'{name}.png'}")


def load_model(path):
    """A model file saved by ``stackkit fit`` (or ``stackkit.io.dump``), loaded safely."""
    if not Path(path).is_file():
        raise CommandError(f"{path}: no such model file")
    _require_skops()
    try:
        return io.load(path)
    except UntrustedTypeError as exc:
        raise CommandError(f"{path}: {exc}") from exc
    except ModelFileError as exc:  # its message starts with the path
        raise CommandError(str(exc)) from exc
    except Exception as exc:  # skops raises many kinds for a file it cannot read
        raise CommandError(f"{path}: not a model file saved by stackkit "
                           f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
                           ) from exc


def final_stack(model):
    """The stack inside a model file's pipeline (or the model itself)."""
    stack = model[-1] if isinstance(model, Pipeline) else model
    if not hasattr(stack, "layout_"):
        raise CommandError(f"the model is a {type(stack).__name__}, not a fitted stackkit stack")
    return stack


def _require_skops():
    try:
        skops_io()
    except ImportError:
        raise CommandError("model files need skops: pip install 'stackkit[cli]'") from None


def _check_writable(path, option, example):
    """Fail before any work unless a file can be written at ``path``."""
    if Path(path).is_dir():
        raise CommandError(f"{option} {path}: is a folder; give a file path, e.g. "
                           f"{Path(path) / example}")
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise CommandError(f"{option} {path}: folder {folder} does not exist")
    try:  # the one sure test (permissions, read-only file systems, root)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".stackkit-probe-"):
            pass
    except OSError as exc:
        raise CommandError(f"{option} {path}: cannot write in folder {folder} "
                           f"({exc.strerror or exc})") from None
