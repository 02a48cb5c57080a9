"""benchmarks/bench_gpu.py without a GPU: one line saying why it is skipped, exit 0,
nothing loaded or fitted; and its measure of GPU and CPU tasks running together."""

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_gpu  # noqa: E402


@pytest.fixture
def no_data(monkeypatch):
    """Loading a dataset fails the test: a skipped benchmark must not get that far."""
    def load(*args, **kwargs):
        raise AssertionError("the benchmark loaded data instead of skipping")
    monkeypatch.setattr(bench_gpu.bench_fit, "load_dataset", load)


def test_without_a_visible_gpu_it_says_why_in_one_line_and_exits_0(no_data, monkeypatch,
                                                                   capsys):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert bench_gpu.main([]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "bench_gpu: skipped: no CUDA device is visible (CUDA_VISIBLE_DEVICES, "
        "/proc/driver/nvidia/gpus and nvidia-smi list none); no GPU figure was measured"]


def test_with_an_xgboost_built_without_cuda_it_is_skipped_too(no_data, monkeypatch, capsys):
    import xgboost

    monkeypatch.setattr(bench_gpu._gpu, "visible_gpus", lambda: 1)
    monkeypatch.setattr(xgboost, "build_info", lambda: {"USE_CUDA": False})
    assert bench_gpu.main(["--quick"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("bench_gpu: skipped: XGBoost ") and "built without CUDA" in line


def test_a_listed_device_xgboost_cannot_use_is_skipped_not_measured_on_cpu(no_data,
                                                                          monkeypatch, capsys):
    import xgboost

    monkeypatch.setattr(bench_gpu._gpu, "visible_gpus", lambda: 1)  # listed, but none here
    monkeypatch.setattr(xgboost, "build_info", lambda: {"USE_CUDA": True})
    assert bench_gpu.main([]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("bench_gpu: skipped: 1 CUDA device(s) listed, but XGBoost "
                           "trained on 'cpu'")


def test_busy_together_counts_gpu_time_overlapping_any_cpu_task():
    log = pd.DataFrame({"device": ["gpu:0", "gpu:0", "cpu", "cpu", "cpu"],
                        "started": [0.0, 10.0, 1.0, 2.0, 12.0],
                        "finished": [5.0, 20.0, 3.0, 4.0, 30.0]})
    # gpu [0, 5] meets cpu [1, 4] (two overlapping tasks count once): 3 s;
    # gpu [10, 20] meets cpu [12, 30]: 8 s
    assert bench_gpu.busy_together(log) == pytest.approx(11.0)
