"""Generated data files for ``stackkit fit`` and ``stackkit predict`` (issue 12, part 4).

Small CSV files with columns of many kinds (numbers with gaps, text, dates, booleans,
constant and empty columns) and targets of many kinds, fit with a config of cheap
one-hot pipelines, then predicted with the training file or a changed one. The CLI
runs in this process (``stackkit.cli.main``), as a subprocess costs seconds per call.

Each run ends with status 0 and a checked predictions file (one row per input row, no
NaN, labels seen in training, probabilities that sum to one), or with status 2 (a
problem with the input) or 1 naming a ``ValueError``, ``TypeError`` or stackkit
error, on one ``stackkit <command>: error:`` line. A file without any defect must fit.
"""

import contextlib
import io as text_io
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackkit.cli._data import CommandError, resolve_task
from stackkit.cli import main as cli_main

CLI_ESTIMATORS = {  # one-hot encoding takes every column kind, NaN included
    True: ("sklearn.tree.DecisionTreeClassifier", "sklearn.linear_model.LogisticRegression"),
    False: ("sklearn.tree.DecisionTreeRegressor", "sklearn.linear_model.Ridge"),
}
CLI_FEATURES = ("float", "float-nan", "int", "bool", "text", "text-nan", "date", "constant",
                "empty")
CLI_TARGETS = ("binary-text", "binary-int", "multiclass", "float", "bool", "one-value",
               "missing", "rare")
CLEAN_TARGETS = {"binary-text", "binary-int", "multiclass", "float", "bool"}
CLEAR_NAMES = {"ValueError", "TypeError", "FoldFitError", "StackkitError",
               "UntrustedTypeError", "InvalidParameterError"}


def cli_config(classify):
    tree, linear = CLI_ESTIMATORS[classify]
    encoder = ('{ class = "sklearn.preprocessing.OneHotEncoder", '
               'params = { handle_unknown = "ignore" } }')
    return "\n".join(f'[[estimators]]\nname = "{name}"\n'
                     f'steps = [{encoder}, {{ class = "{cls}" }}]\n'
                     for name, cls in (("tree", tree), ("linear", linear)))


def cli_column(rng, kind, n_rows):
    values = rng.normal(size=n_rows)
    text = np.array(["red", "green", "blue"], dtype=object)[rng.integers(0, 3, n_rows)]
    column = {
        "float": values, "float-nan": np.where(values > 1, np.nan, values),
        "int": rng.integers(-3, 3, n_rows), "bool": values > 0, "text": text,
        "text-nan": np.where(values > 1, None, text),
        "date": pd.date_range("2024-01-01", periods=n_rows).astype(str),
        "constant": np.full(n_rows, 4), "empty": np.full(n_rows, np.nan),
    }[kind]
    return column


def first_replaced(values, value):
    values = values.astype(object)
    values[:1] = value
    return values


def cli_target(rng, kind, n_rows):
    codes = rng.permutation(np.arange(n_rows) % 3)
    target = {
        "binary-text": np.where(codes % 2, "yes", "no"), "binary-int": codes % 2,
        "multiclass": codes + 1, "float": rng.normal(size=n_rows) * 10,
        "bool": codes % 2 == 1, "one-value": np.full(n_rows, "x"),
        "missing": first_replaced(np.where(codes % 2, "yes", "no"), None),
        "rare": first_replaced(np.where(codes % 2, "yes", "no"), "rare"),
    }[kind]
    return target


@st.composite
def cli_cases(draw):
    """A data file, the ``stackkit fit`` options, and whether a fit must succeed."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    odd = draw(st.sampled_from(["none", "none", "rows", "target", "options", "features"]))
    n_rows = draw(st.sampled_from([0, 1, 3] if odd == "rows" else [16, 24]))
    kinds = draw(st.lists(st.sampled_from(CLI_FEATURES), min_size=0 if odd == "features" else 1,
                          max_size=4))
    target_kind = draw(st.sampled_from(CLI_TARGETS if odd == "target" else sorted(CLEAN_TARGETS)))
    columns = [f"f{i}" if odd != "features" else f"{i} α b" for i in range(len(kinds))]
    frame = pd.DataFrame({c: cli_column(rng, k, n_rows) for c, k in zip(columns, kinds)})
    frame["target"] = cli_target(rng, target_kind, n_rows)
    options = dict(task="auto", cv=2, target="target", groups=None)
    if odd == "options":
        options = dict(task=draw(st.sampled_from(["auto", "binary", "multiclass", "regression"])),
                       cv=draw(st.sampled_from([1, 2, 3])),
                       target=draw(st.sampled_from(["target", "Target"])),
                       groups=draw(st.sampled_from([None, "f0", "nope"])))
    clean = (n_rows >= 16 and kinds and target_kind in CLEAN_TARGETS and options["cv"] >= 2
             and options["target"] == "target" and options["groups"] is None
             and cli_task_fits(options["task"], target_kind))
    return frame, options, bool(clean)


def cli_task_fits(task, target_kind):
    return {"auto": True, "binary": target_kind in ("binary-text", "binary-int", "bool"),
            "multiclass": target_kind != "float",
            "regression": target_kind in ("binary-int", "multiclass", "float")}[task]


def run_cli(argv):
    """``stackkit`` in this process: ``(exit status, stdout, stderr)``."""
    out, err = text_io.StringIO(), text_io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings():
        warnings.simplefilter("default")  # as in a real process: printed, not raised
        status = cli_main([str(arg) for arg in argv])
    return status, out.getvalue(), err.getvalue()


def cli_outcome(argv, counts, test, must_succeed):
    """Run the CLI; a failure must be one clear line on stderr with status 1 or 2."""
    status, out, err = run_cli(argv)
    if status == 0:
        counts[test, "ok", ""] += 1
        return True
    assert not must_succeed, f"valid input failed: {err}"
    command = argv[0]
    lines = [line for line in err.splitlines() if line.startswith(f"stackkit {command}: error:")]
    assert len(lines) == 1, err
    if status == 2:
        detail = "CommandError"
    else:
        assert status == 1, (status, err)
        detail = re.match(rf"stackkit {command}: error: (\w+): ", lines[0]).group(1)
        assert detail in CLEAR_NAMES, lines[0]
    counts[test, "clear error", detail] += 1
    return False


def check_cli_predictions(path, frame, classify, proba):
    written = pd.read_csv(path)
    assert len(written) == len(frame)
    assert not written.isna().any().any(), "NaN in the written predictions"
    if proba:
        np.testing.assert_allclose(written.sum(axis=1), 1.0)
    elif classify:
        labels = set(frame["target"].astype(str))
        assert set(written.iloc[:, 0].astype(str)) <= labels


@settings(max_examples=30)
@given(cli_cases(), st.sampled_from(["same", "same", "missing column", "text in a number",
                                     "unseen text", "proba"]))
def test_cli_fit_and_predict_end_in_a_result_or_one_clear_line(outcome_counts, case, change):
    frame, options, clean = case
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        frame.to_csv(folder / "train.csv", index=False)
        classify = cli_classifies(frame, options)
        (folder / "stack.toml").write_text(cli_config(classify))
        argv = ["fit", folder / "train.csv", "--target", options["target"], "--out",
                folder / "model.skops", "--config", folder / "stack.toml", "--task",
                options["task"], "--cv", options["cv"], "--n-jobs", 1, "--quiet"]
        argv += ["--groups", options["groups"]] if options["groups"] else []
        if not cli_outcome(argv, outcome_counts, "cli fit", clean):
            return
        new, must_succeed = cli_new_data(frame, change, classify)
        new.to_csv(folder / "new.csv", index=False)
        argv = ["predict", folder / "model.skops", folder / "new.csv", "--out",
                folder / "out.csv"] + (["--proba"] if change == "proba" and classify else [])
        if cli_outcome(argv, outcome_counts, "cli predict", must_succeed):
            check_cli_predictions(folder / "out.csv", frame, classify,
                                  change == "proba" and classify)


def cli_classifies(frame, options):
    """Whether ``stackkit fit`` will fit a classifier (it decides; we only pick a config)."""
    if frame.empty:
        return True
    try:
        return resolve_task(frame["target"], options["task"], "target") != "regression"
    except (CommandError, KeyError):
        return True


def cli_new_data(frame, change, classify):
    """Rows to predict: the training file, or one changed as ``change`` says."""
    new = frame.copy()
    features = [c for c in new.columns if c != "target"]
    numeric = [c for c in features if pd.api.types.is_float_dtype(new[c])]
    text = [c for c in features if new[c].dtype == object]
    if change == "missing column":
        return new.drop(columns=features[0]), False
    if change == "text in a number" and numeric:
        new[numeric[0]] = new[numeric[0]].astype(object)
        new.loc[new.index[0], numeric[0]] = "n/a?"
        return new, False
    if change == "unseen text" and text:
        new.loc[new.index[0], text[0]] = "never seen"
    return new, True


def test_a_single_value_target_is_shown_as_a_plain_value():
    """Found by the generator above: the message read "(np.int64(1))"."""
    with pytest.raises(CommandError, match=r"has a single value \(1\): there is nothing"):
        resolve_task(pd.Series(np.ones(5, dtype=np.int64)), "auto", "target")
