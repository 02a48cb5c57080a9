"""The ``stackkit`` command: fit, predict, report and demo, from a terminal.

::

    stackkit fit train.csv --target class --out model.skops
    stackkit report model.skops --plots plots/
    stackkit predict model.skops new.csv --out predictions.csv --proba
    stackkit demo

Exit status: 0 on success, 2 for a problem with the command's input (a path, a
column, the config), 1 when fitting or predicting fails, 130 when interrupted. Each
problem is one line on stderr; ``--debug`` shows the traceback instead. Warnings are
one line each too.
"""

import argparse
import sys
import warnings

from .. import demo
from . import _commands
from ._data import TASKS, CommandError

__all__ = ["main"]

EXIT_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED = 2, 1, 130


def build_parser():
    """The argument parser of ``stackkit`` and its subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error")
    parser = argparse.ArgumentParser(
        prog="stackkit", epilog="stackkit COMMAND --help describes each command.",
        description="Stacked ensembles from a terminal: fit, predict, report, demo.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_fit(commands.add_parser("fit", parents=[common], help="fit a stack on a data file"))
    _add_predict(commands.add_parser("predict", parents=[common],
                                     help="predict with a saved model"))
    report = commands.add_parser("report", parents=[common],
                                 help="leaderboard, correlations and plots of a saved model")
    report.add_argument("model", help="a model file saved by stackkit fit")
    report.add_argument("--plots", metavar="DIR",
                        help="write leaderboard.png, correlation.png, weights.png here")
    report.set_defaults(run=_commands.report_)
    demo_parser = commands.add_parser("demo", parents=[common],
                                      help="stack four models on the bundled MAGIC data")
    demo.add_arguments(demo_parser)
    demo_parser.set_defaults(run=demo.run_demo)
    return parser


def _add_fit(fit):
    fit.add_argument("data", help="a .csv (optionally compressed) or .parquet file")
    fit.add_argument("--target", required=True, metavar="COL", help="the column to predict")
    fit.add_argument("--out", required=True, metavar="MODEL",
                     help="where to save the fitted model (skops format)")
    fit.add_argument("--task", choices=("auto",) + TASKS, default="auto",
                     help="default: inferred from the target column")
    fit.add_argument("--config", metavar="TOML",
                     help="estimators and stack parameters (default: stackkit.presets)")
    fit.add_argument("--time-limit", type=_seconds, default=None, metavar="SECONDS",
                     help="fit the ordered portfolio preset (stackkit.presets.portfolio_stack)"
                          " within this many seconds, dropping the models that cannot finish;"
                          " with --config, the config's stack gets the limit")
    fit.add_argument("--cv", type=int, default=None,
                     help="folds, shuffled and seeded (default: the config's, else 5)")
    fit.add_argument("--groups", metavar="COL",
                     help="keep rows with the same value of COL in one fold (COL is then "
                          "not a feature), e.g. a customer or patient id")
    fit.add_argument("--n-jobs", type=int, default=-1,
                     help="parallel fold tasks (default: -1, all cores)")
    fit.add_argument("--memory", metavar="DIR", help="cache fold fits in this folder")
    fit.add_argument("--seed", type=int, default=0, help="seed of folds and models")
    fit.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                     help="where the preset's XGBoost trains; its LightGBM stays on the "
                          "CPU (default: auto)")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(run=_commands.fit)


def _seconds(text):
    """``--time-limit``: a finite number of seconds > 0."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return seconds


def _add_predict(predict):
    predict.add_argument("model", help="a model file saved by stackkit fit")
    predict.add_argument("data", help="a .csv or .parquet file with the training columns")
    predict.add_argument("--out", required=True, metavar="PRED",
                         help="where to write the predictions (.csv or .parquet)")
    predict.add_argument("--proba", action="store_true",
                         help="class probabilities instead of labels")
    predict.set_defaults(run=_commands.predict)


def main(argv=None):
    """Run the ``stackkit`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after ``stackkit``; None: the process's (``sys.argv[1:]``).

    Returns
    -------
    status : int
        The exit status: 0 on success, 2 for a problem with the command's input, 1
        when fitting or predicting fails, 130 when interrupted.
    """
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            if not args.debug:
                warnings.showwarning = _one_line_warning
            status = args.run(args)
    except KeyboardInterrupt:
        print(f"stackkit {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # every failure becomes one line, unless --debug
        if args.debug:
            raise
        code = EXIT_INPUT if isinstance(exc, CommandError) else EXIT_FAILURE
        print(f"stackkit {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return code
    return status or 0


def _one_line_warning(message, category, *args, **kwargs):
    print(f"warning: {message}", file=sys.stderr)


def _one_line(exc):
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    if isinstance(exc, CommandError):
        return text
    return f"{type(exc).__name__}: {text} (--debug shows the traceback)"

