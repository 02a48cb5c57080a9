"""The ``stackkit`` command: ``stackkit.cli.main`` in this process, the console script in one.

A subprocess costs seconds of imports per call, so the tests call ``main`` here, as a
process of its own would run it (see :func:`stackkit`). The fixture ``magic`` fits
through the installed console script itself, and so do the two tests that need a fresh
interpreter (a hidden skops, an uncaught traceback).
"""

import contextlib
import io as text_io
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest

from stackkit import demo, io
from stackkit.cli import main as cli_main
from stackkit.cli._data import resolve_task
from stackkit.schema import TableSchema

SCRIPT = Path(sys.executable).with_name("stackkit")
ONE_CORE = {"LOKY_MAX_CPU_COUNT": "1", "OMP_NUM_THREADS": "1"}
FAST_CONFIG = """
[stack]
cv = 3
final_estimator = { class = "stackkit.meta.BlendClassifier" }

[[estimators]]
name = "linear"
steps = [
    { class = "sklearn.preprocessing.OneHotEncoder", params = { handle_unknown = "ignore" } },
    { class = "sklearn.linear_model.LogisticRegression", params = { max_iter = 500 } },
]

[[estimators]]
name = "lgbm"
class = "lightgbm.LGBMClassifier"
params = { n_estimators = 30, verbose = -1, min_child_samples = 5 }
"""


def console_script(*args, cwd, env=None):
    """Run the installed console script in a subprocess; return the finished process."""
    env = {**os.environ, **ONE_CORE, **(env or {})}
    return subprocess.run([str(SCRIPT), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def stackkit(*args, cwd):
    """Run ``stackkit`` in this process in folder ``cwd``; return it as a finished process.

    As in a process of its own: warnings are printed, not raised (the suite makes
    stackkit's warnings errors), ``n_jobs=-1`` means one core, and an exit of argparse
    is the status.
    """
    out, err = text_io.StringIO(), text_io.StringIO()
    with _working_folder(cwd), mock.patch.dict(os.environ, ONE_CORE), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings():
        warnings.simplefilter("default")
        try:
            status = cli_main([str(arg) for arg in args])
        except SystemExit as exc:
            status = exc.code
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _working_folder(folder):
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


@pytest.fixture(scope="module")
def magic(tmp_path_factory):
    """The demo's data split written as CSV files, and a preset stack fit on them.

    The fit runs the installed console script: the suite's end-to-end run of a command.
    """
    folder = tmp_path_factory.mktemp("magic")
    demo.write_split(demo.load_split(sample=800, seed=0), folder)
    fitted = console_script("fit", "magic_train.csv", "--target", "class", "--out", "model.skops",
                      "--cv", "3", "--n-jobs", "1", cwd=folder)
    assert fitted.returncode == 0, fitted.stderr
    return folder, fitted


def test_fit_prints_the_leaderboard_shows_progress_and_saves_a_schema_and_stack(magic):
    folder, fitted = magic
    for name in ("linear", "extra_trees", "xgb", "lgbm", "stack"):
        assert re.search(rf"^{name}\s+(base model|stack)\s+0\.\d{{4}}", fitted.stdout, re.M), name
    assert "600 rows x 10 feature columns; target 'class' (binary" in fitted.stdout
    assert "fold tasks" in fitted.stderr and "100%" in fitted.stderr
    model = io.load(folder / "model.skops")
    assert isinstance(model[0], TableSchema) and model[0].target_name_ == "class"
    assert model[-1].classes_.tolist() == ["gamma", "hadron"]


def test_predict_writes_what_the_saved_model_predicts(magic):
    folder, _ = magic
    labels = stackkit("predict", "model.skops", "magic_holdout.csv", "--out", "labels.csv",
                      cwd=folder)
    proba = stackkit("predict", "model.skops", "magic_holdout.csv", "--out", "proba.parquet",
                     "--proba", cwd=folder)
    assert labels.returncode == proba.returncode == 0, labels.stderr + proba.stderr
    assert "ignoring 1 column(s) the model was not trained on: class" in labels.stderr
    holdout = pd.read_csv(folder / "magic_holdout.csv")
    model = io.load(folder / "model.skops")
    written = pd.read_csv(folder / "labels.csv")
    assert written.columns.tolist() == ["class"] and len(written) == len(holdout) == 200
    np.testing.assert_array_equal(written["class"], model.predict(holdout.drop(columns="class")))
    probabilities = pd.read_parquet(folder / "proba.parquet")
    assert probabilities.columns.tolist() == ["proba_gamma", "proba_hadron"]
    np.testing.assert_allclose(probabilities, model.predict_proba(holdout.drop(columns="class")))
    assert (written["class"] == holdout["class"]).mean() > 0.7


def test_report_prints_the_leaderboard_and_writes_the_plots(magic):
    folder, _ = magic
    shown = stackkit("report", "model.skops", "--plots", "plots", cwd=folder)
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"^stack\s+stack\s+0\.\d{4}", shown.stdout, re.M)
    assert "Correlation of out-of-fold predictions" in shown.stdout
    for name in ("leaderboard", "correlation", "weights"):
        png = (folder / "plots" / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 5000, name


def test_a_config_names_estimators_pipelines_and_the_final_estimator(tmp_path):
    rng = np.random.default_rng(0)
    colour = rng.choice(["red", "green", "blue"], 300)
    size = rng.normal(size=300)
    label = np.where((colour == "red") ^ (size > 0.5), "yes", "no")
    pd.DataFrame({"colour": colour, "size": size, "label": label}).to_csv(tmp_path / "d.csv",
                                                                         index=False)
    (tmp_path / "stack.toml").write_text(FAST_CONFIG)
    fitted = stackkit("fit", "d.csv", "--target", "label", "--config", "stack.toml",
                      "--out", "m.skops", "--quiet", cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    assert "fold tasks" not in fitted.stderr
    stack = io.load(tmp_path / "m.skops")[-1]
    assert [name for name, _ in stack.estimators] == ["linear", "lgbm"]
    assert type(stack.final_estimator_).__name__ == "BlendClassifier"
    assert stack.cv.get_n_splits() == 3 and stack.cv.shuffle
    assert set(stack.final_estimator_.weights_.index) == {"linear", "lgbm"}


def test_text_columns_keep_their_training_codes_in_any_prediction_file(tmp_path):
    """A file holding one category of a text column must not code it as the first one."""
    rng = np.random.default_rng(1)
    colour = rng.choice(["blue", "green", "red"], 400)
    y = (colour == "red") * 10.0 + rng.normal(size=400)
    frame = pd.DataFrame({"colour": colour, "noise": rng.normal(size=400), "y": y})
    frame.to_csv(tmp_path / "train.csv", index=False)
    frame[frame.colour == "red"].to_csv(tmp_path / "red.csv", index=False)
    (tmp_path / "stack.toml").write_text(
        '[[estimators]]\nname = "lgbm"\nclass = "lightgbm.LGBMRegressor"\n'
        'params = { n_estimators = 20, verbose = -1 }\n')
    assert stackkit("fit", "train.csv", "--target", "y", "--config", "stack.toml", "--out",
                    "m.skops", "--quiet", cwd=tmp_path).returncode == 0
    assert stackkit("predict", "m.skops", "red.csv", "--out", "p.csv",
                    cwd=tmp_path).returncode == 0
    assert pd.read_csv(tmp_path / "p.csv")["y"].mean() > 8  # red rows, not blue ones
    frame.head(3).assign(colour=["purple", "red", "red"]).to_csv(tmp_path / "new.csv",
                                                                 index=False)
    unseen = stackkit("predict", "m.skops", "new.csv", "--out", "p.csv", cwd=tmp_path)
    assert unseen.returncode == 0
    assert unseen.stderr.splitlines() == [
        "note: ignoring 1 column(s) the model was not trained on: y",
        "warning: column 'colour': 1 values not seen in training ('purple') are treated "
        "as missing"]


@pytest.mark.parametrize("args, files, message", [
    (("fit", "missing.csv", "--target", "y", "--out", "m.skops"), {},
     r"missing\.csv: no such file"),
    (("fit", "data.txt", "--target", "y", "--out", "m.skops"), {"data.txt": "y\n1\n"},
     r"unknown file type"),
    (("fit", "empty.csv", "--target", "y", "--out", "m.skops"), {"empty.csv": ""},
     r"empty\.csv: the file is empty"),
    (("fit", "header.csv", "--target", "y", "--out", "m.skops"), {"header.csv": "x,y\n"},
     r"has no data rows"),
    (("fit", "broken.parquet", "--target", "y", "--out", "m.skops"),
     {"broken.parquet": "not parquet at all"}, r"cannot read it as parquet"),
    (("fit", "d.csv", "--target", "yy", "--out", "m.skops"), {"d.csv": "x,y\n1,a\n2,b\n"},
     r"no column 'yy' in d\.csv; did you mean 'y'\?"),
    (("fit", "d.csv", "--target", "y", "--out", "m.skops"), {"d.csv": "x,y\n1,a\n2,a\n"},
     r"column 'y' has a single value \('a'\)"),
    (("fit", "d.csv", "--target", "y", "--out", "m.skops"), {"d.csv": "x,y\n1,a\n2,\n"},
     r"column 'y' has 1 missing values"),
    (("fit", "d.csv", "--target", "y", "--task", "regression", "--out", "m.skops"),
     {"d.csv": "x,y\n1,a\n2,b\n"}, r"--task regression: column 'y' is not numeric"),
    (("fit", "d.csv", "--target", "y", "--config", "s.toml", "--out", "m.skops"),
     {"d.csv": "x,y\n1,a\n2,b\n", "s.toml": '[[estimators]]\nname = "rf"\n'
      'class = "sklearn.ensemble.RandomForestClassifer"\n'},
     r"estimators\[1\] \('rf'\): sklearn.ensemble has no class 'RandomForestClassifer'"),
    (("fit", "d.csv", "--target", "y", "--config", "s.toml", "--out", "m.skops"),
     {"d.csv": "x,y\n1,a\n2,b\n", "s.toml": '[[estimators]]\nname = "rf"\n'
      'class = "no_such_package.Model"\n'}, r"cannot import 'no_such_package'"),
    (("fit", "d.csv", "--target", "y", "--config", "s.toml", "--out", "m.skops"),
     {"d.csv": "x,y\n1,a\n2,b\n", "s.toml": "[stack\n"}, r"s\.toml: not valid TOML"),
    (("fit", "d.csv", "--target", "y", "--out", "no/such/folder/m.skops"),
     {"d.csv": "x,y\n1,a\n2,b\n"}, r"--out .*folder .* does not exist"),
    (("predict", "missing.skops", "d.csv", "--out", "p.csv"), {"d.csv": "x\n1\n"},
     r"missing\.skops: no such model file"),
    (("predict", "d.csv", "d.csv", "--out", "p.csv"), {"d.csv": "x\n1\n"},
     r"d\.csv: not a model file saved by stackkit"),
])
def test_bad_input_is_one_line_on_stderr_with_status_2(tmp_path, args, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    done = stackkit(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert re.search(rf"^stackkit {args[0]}: error: .*{message}", done.stderr), done.stderr
    assert not list(tmp_path.glob("*.skops")) or args[0] == "predict"


def _unwritable_folder(tmp_path):
    """A folder no file can be created in: read-only by its mode, or /sys for root."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, Path("/sys")):
        try:
            (candidate / ".probe").touch()
            (candidate / ".probe").unlink()
        except OSError:
            return candidate
    pytest.skip("no unwritable folder here (root ignores modes, and /sys is writable)")


@pytest.mark.parametrize("command, out, message", [
    ("fit", lambda tmp: tmp / "models", r"--out .*models: is a folder; give a file path, "
                                        r"e\.g\. .*models/model\.skops"),
    ("predict", lambda tmp: tmp / "models", r"--out .*models: is a folder; give a file path, "
                                            r"e\.g\. .*models/predictions\.csv"),
    ("fit", lambda tmp: _unwritable_folder(tmp) / "m.skops",
     r"--out .*m\.skops: cannot write in folder .*\(.+\)"),
], ids=["fit-out-is-a-folder", "predict-out-is-a-folder", "fit-out-in-unwritable-folder"])
def test_out_that_cannot_be_written_is_refused_before_any_work(tmp_path, command, out, message):
    """The fit would succeed: only --out is wrong, and it is said before fitting."""
    pd.DataFrame({"x": np.arange(40) % 7, "y": np.arange(40) % 2}).to_csv(tmp_path / "d.csv",
                                                                         index=False)
    (tmp_path / "models").mkdir()
    args = (["fit", "d.csv", "--target", "y", "--cv", "2", "--quiet"] if command == "fit"
            else ["predict", "missing.skops", "d.csv"])
    done = stackkit(*args, "--out", out(tmp_path), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert re.search(rf"^stackkit {command}: error: {message}$", done.stderr.strip())


def test_predict_names_missing_columns_and_a_numeric_column_holding_text(magic):
    folder, _ = magic
    holdout = pd.read_csv(folder / "magic_holdout.csv")
    holdout.drop(columns=["fAlpha", "fDist"]).to_csv(folder / "partial.csv", index=False)
    holdout.assign(fSize="big").to_csv(folder / "text.csv", index=False)
    partial = stackkit("predict", "model.skops", "partial.csv", "--out", "p.csv", cwd=folder)
    assert partial.returncode == 2
    assert "missing 2 column(s) the model was trained on: fAlpha, fDist" in partial.stderr
    text = stackkit("predict", "model.skops", "text.csv", "--out", "p.csv", cwd=folder)
    assert text.returncode == 1 and "Traceback" not in text.stderr
    assert "column 'fSize' was numeric in training but holds 'big'" in text.stderr


def test_debug_shows_the_traceback(tmp_path):
    done = console_script("fit", "missing.csv", "--target", "y", "--out", "m.skops", "--debug",
                    cwd=tmp_path)
    assert done.returncode != 0 and "Traceback" in done.stderr


def test_a_model_holding_an_untrusted_type_is_refused(tmp_path):
    import skops.io
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    skops.io.dump(make_pipeline(FunctionTransformer(os.system)), tmp_path / "evil.skops")
    (tmp_path / "d.csv").write_text("x\n1\n")
    done = stackkit("predict", "evil.skops", "d.csv", "--out", "p.csv", cwd=tmp_path)
    assert done.returncode == 2 and "does not trust" in done.stderr
    assert not (tmp_path / "p.csv").exists()


def test_demo_subcommand_prints_leaderboard_and_gain(tmp_path):
    done = stackkit("demo", "--sample", "1000", "--cv", "3", "--n-jobs", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Stack vs best base model" in done.stdout
    assert re.search(r"^stack\s+0\.\d{4}\s+0\.\d{4}.*meta-cv$", done.stdout, re.M)


@pytest.mark.parametrize("values, task", [
    (["no", "yes", "no"], "binary"),
    ([0, 1, 1], "binary"),
    ([True, False, True], "binary"),
    (["a", "b", "c"], "multiclass"),
    ([3, 4, 5, 6, 7], "multiclass"),
    ([0.5, 1.5, 2.0], "regression"),
    (list(range(11)), "regression"),
])
def test_task_inference(values, task):
    assert resolve_task(pd.Series(values), "auto", "y") == task


def test_multiclass_probabilities_name_every_class(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 3))
    label = np.array(["low", "mid", "high"])[np.digitize(X[:, 0], [-0.5, 0.5])]
    pd.DataFrame(X, columns=["a", "b", "c"]).assign(level=label).to_csv(tmp_path / "d.csv",
                                                                       index=False)
    (tmp_path / "s.toml").write_text('[[estimators]]\nname = "lr"\n'
                                     'class = "sklearn.linear_model.LogisticRegression"\n')
    fitted = stackkit("fit", "d.csv", "--target", "level", "--config", "s.toml", "--out",
                      "m.skops", "--quiet", cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    assert "(multiclass with classes high, low, mid)" in fitted.stdout
    assert re.search(r"^Leaderboard \(accuracy;", fitted.stdout, re.M)
    done = stackkit("predict", "m.skops", "d.csv", "--out", "p.csv", "--proba", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    proba = pd.read_csv(tmp_path / "p.csv")
    assert proba.columns.tolist() == ["proba_high", "proba_low", "proba_mid"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba.idxmax(axis=1).str[6:] == label).mean() > 0.8


def test_predict_with_a_stack_saved_from_python(tmp_path):
    """A bare stack saved by stackkit.io.dump: its feature_names_in_ are the columns."""
    from sklearn.linear_model import LinearRegression

    from stackkit import StackingRegressor

    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(120, 2)), columns=["u", "v"])
    stack = StackingRegressor([("lin", LinearRegression())], cv=3).fit(X, X.u * 3 + X.v)
    io.dump(stack, tmp_path / "m.skops")
    X[["v", "u"]].to_csv(tmp_path / "d.csv", index=False)  # other column order
    done = stackkit("predict", "m.skops", "d.csv", "--out", "p.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(pd.read_csv(tmp_path / "p.csv")["prediction"], stack.predict(X))
    X[["u"]].to_csv(tmp_path / "short.csv", index=False)
    short = stackkit("predict", "m.skops", "short.csv", "--out", "p.csv", cwd=tmp_path)
    assert short.returncode == 2
    assert "missing 1 column(s) the model was trained on: v" in short.stderr


def test_groups_keep_their_rows_in_one_fold_and_are_not_a_feature(tmp_path):
    rng = np.random.default_rng(4)
    patient = np.repeat(np.arange(40), 5)
    X = rng.normal(size=(200, 2)) + patient[:, None] * 0.01
    y = np.where(X[:, 0] > 0, "sick", "well")
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(patient=patient, status=y)
    frame.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "s.toml").write_text('[[estimators]]\nname = "lr"\n'
                                     'class = "sklearn.linear_model.LogisticRegression"\n')
    args = ("fit", "d.csv", "--target", "status", "--config", "s.toml", "--out", "m.skops",
            "--quiet", "--cv", "4")
    done = stackkit(*args, "--groups", "patient", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "4 folds (StratifiedGroupKFold, shuffled, seed 0)" in done.stdout
    model = io.load(tmp_path / "m.skops")
    assert model[0].feature_names_in_.tolist() == ["a", "b"]
    fold_of_row = np.empty(200, int)
    for fold, rows in enumerate(model[-1].oof_folds_):
        fold_of_row[rows] = fold
    assert all(len(set(fold_of_row[patient == p])) == 1 for p in range(40))
    few = stackkit(*args[:-1], "50", "--groups", "patient", cwd=tmp_path)
    assert few.returncode == 2 and "has 40 distinct values, fewer than the 50 folds" in few.stderr
    typo = stackkit(*args, "--groups", "patiend", cwd=tmp_path)
    assert typo.returncode == 2 and "did you mean 'patient'?" in typo.stderr


def test_without_skops_fit_says_which_extra_to_install_before_any_work(tmp_path):
    hidden = tmp_path / "no_skops" / "skops"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('skops is not installed')\n")
    (tmp_path / "d.csv").write_text("x,y\n1,a\n2,b\n")
    done = console_script("fit", "d.csv", "--target", "y", "--out", "m.skops", cwd=tmp_path,
                          env={"PYTHONPATH": str(hidden.parent)})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == ("stackkit fit: error: model files need skops: "
                                   "pip install 'stackkit[cli]'")


def test_time_limit_fits_the_portfolio_in_priority_order_and_drops_what_cannot_finish(magic):
    from stackkit.presets import default_estimators

    folder, _ = magic
    fitted = stackkit("fit", "magic_train.csv", "--target", "class", "--out", "timed.skops",
                      "--time-limit", "3", "--cv", "3", "--quiet", cwd=folder)
    assert fitted.returncode == 0, fitted.stderr
    portfolio = [name for name, _ in default_estimators("binary", portfolio="best")]
    assert f"{len(portfolio)} estimators in priority order ({portfolio[0]}, " in fitted.stdout
    assert "time limit 3 s" in fitted.stdout
    stack = io.load(folder / "timed.skops")[-1]
    assert stack.time_limit == 3 and [name for name, _ in stack.estimators] == portfolio
    assert stack.layout_.names[0] == portfolio[0]  # the first always stays
    assert stack.dropped_ and all("time_limit: " in why for why in stack.dropped_.values())
    assert "skipped and are dropped" in fitted.stderr or "was skipped" in fitted.stderr


@pytest.mark.parametrize("value", ["0", "-5", "abc", "inf", "nan"])
def test_a_time_limit_that_is_no_positive_number_of_seconds_is_refused(tmp_path, value):
    (tmp_path / "d.csv").write_text("x,y\n1,a\n2,b\n")
    done = stackkit("fit", "d.csv", "--target", "y", "--out", "m.skops", "--time-limit", value,
                    cwd=tmp_path)
    assert done.returncode == 2
    assert "argument --time-limit: expected a number of seconds" in done.stderr
    assert repr(value) in done.stderr and not (tmp_path / "m.skops").exists()
