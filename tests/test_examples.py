"""The examples run: on a small subset of the real data they were written for."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_categorical_columns_example():
    example = load_example("categorical_columns")
    if not (example.DATA_DIR / "load.py").exists():
        pytest.skip(f"the shared datasets are not at {example.DATA_DIR}")
    scores, rounds = example.main(rows=2000)
    assert set(scores) == {"linear", "xgb", "lgbm", "stack"}
    assert all(0.8 < auc <= 1.0 for auc in scores.values())  # adult's AUCs are near 0.9
    assert set(rounds) == {"xgb", "lgbm"}
