"""The vendored dataset and ``python -m stackkit.demo``."""

import hashlib
import re
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from stackkit import demo
from stackkit.datasets import MAGIC_FEATURES, load_magic_telescope

N_ROWS = 19_020
CLASS_COUNTS = {"gamma": 12_332, "hadron": 6_688}


def test_loader_returns_documented_frame():
    X, y = load_magic_telescope()
    assert X.shape == (N_ROWS, 10)
    assert list(X.columns) == list(MAGIC_FEATURES)
    assert (X.dtypes == np.float64).all()
    assert not X.isna().any().any()
    assert y.name == "class" and pd.api.types.is_string_dtype(y)
    assert y.value_counts().to_dict() == CLASS_COUNTS


def test_loader_returns_arrays_without_frame():
    X, y = load_magic_telescope(as_frame=False)
    assert isinstance(X, np.ndarray) and X.dtype == np.float64 and X.shape == (N_ROWS, 10)
    assert isinstance(y, np.ndarray) and y.shape == (N_ROWS,)
    assert set(y) == set(CLASS_COUNTS)


def test_vendored_file_matches_readme_checksum():
    package = files("stackkit.datasets")
    readme = package.joinpath("README.md").read_text(encoding="utf-8")
    documented = re.search(r"sha256 \(csv\.gz\) \| `([0-9a-f]{64})`", readme).group(1)
    actual = hashlib.sha256(package.joinpath("magic_telescope.csv.gz").read_bytes()).hexdigest()
    assert actual == documented


def _stack_auc(output):
    """The ROC AUC column of the table row that starts with "stack"."""
    row = next(line for line in output.splitlines() if line.startswith("stack "))
    return float(row.split()[1])


def test_demo_prints_every_model_and_a_real_stack_score(capsys, monkeypatch):
    # One core for everything: OpenMP boosters with several threads slow down by 10-50x
    # on a machine already busy with other jobs (spin-waiting), which a CI box often is.
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "1")
    status = demo.main(["--sample", "2000", "--cv", "3", "--n-jobs", "1", "--seed", "1"])
    out = capsys.readouterr().out
    assert status == 0
    assert "2,000 rows" in out and "1,500 training rows, 500 holdout rows" in out
    for name, _ in demo.base_estimators(seed=0):
        assert re.search(rf"^{name}\s+0\.\d{{4}}\s", out, flags=re.MULTILINE), name
    assert 0.5 < _stack_auc(out) <= 1.0
    assert "Stack vs best base model" in out
    assert "4 models x (3 folds + 1 refit)" in out


@pytest.mark.parametrize("argv", [["--sample", "10"], ["--cv", "1"], ["--n-jobs", "two"]],
                         ids=["sample-too-small", "cv-below-2", "n-jobs-not-int"])
def test_demo_rejects_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        demo.main(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err
