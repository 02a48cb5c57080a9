"""The examples run: on a small subset of the real data they were written for."""

import importlib.util
import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOK_ROWS = 2000  # the notebook's own 5,000 took 48 s of the suite's 9 minutes


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


def test_quickstart_notebook_runs_and_shows_the_leaderboard(tmp_path):
    """Execute examples/quickstart.ipynb top to bottom in a fresh kernel, on fewer rows.

    As papermill does, a cell after the one tagged ``parameters`` sets the test's size.
    """
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    tagged = [i for i, cell in enumerate(notebook.cells)
              if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1 and "ROWS = " in notebook.cells[tagged[0]].source
    notebook.cells.insert(tagged[0] + 1, nbformat.v4.new_code_cell(f"ROWS = {NOTEBOOK_ROWS}"))
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code"
               for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.output_type == "error"]
    text = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    auc = float(text.split("stack holdout ROC AUC: ")[1].split()[0])
    assert 0.85 < auc <= 1.0
    html = "".join(out.get("data", {}).get("text/html", "") for out in outputs
                   if out.output_type == "execute_result")
    assert "Leaderboard" in html and "meta-cv" in html
    seconds = json.loads(text.split("mean fit seconds per candidate: ")[1].splitlines()[0])
    assert seconds[0] > 3 * max(seconds[1:])  # later candidates reuse the cached base fits
