"""The GPU lane: which tasks ask for a GPU, how many devices are visible, which runs where.

An estimator asks for a GPU through its library's own parameter, on itself or on a
nested estimator (a pipeline step): ``device="cuda"`` or ``"gpu"`` (XGBoost, and
estimators that follow its convention), ``device_type="gpu"`` or ``"cuda"``
(LightGBM), ``task_type="GPU"`` (CatBoost); each library's module in
:mod:`stackkit._boosters` says how it asks and how a model is placed on a device and
taken off it again. Such tasks run in one lane per visible
device: a thread of the process that calls ``fit``, running the device's tasks one after
another, beside the CPU tasks (which go through joblib, whatever ``n_jobs``).
"""

import os
import shutil
import subprocess
import threading
from pathlib import Path

from sklearn import config_context, get_config

from ._boosters import LIBRARIES, Library, for_estimator
from .exceptions import warn

# parameter name -> values that ask for a GPU (compared in lower case, before any ":N"),
# whatever the estimator's library: others follow these conventions too
GPU_VALUES = {name: values for library in (Library, *LIBRARIES)
              for name, values in library.gpu_values.items()}
NVIDIA_PROC = Path("/proc/driver/nvidia/gpus")


def gpu_request(estimator):
    """``"<param>=<value>"`` of the first parameter by which ``estimator`` asks for a GPU."""
    for key, value in estimator.get_params(deep=True).items():
        name = key.rpartition("__")[2]
        if isinstance(value, str) and name in GPU_VALUES:
            if value.lower().partition(":")[0] in GPU_VALUES[name]:
                return f"{key}={value!r}"
    return None


def visible_gpus():
    """Number of CUDA devices this process may use, without importing a GPU library.

    ``CUDA_VISIBLE_DEVICES`` decides when set; otherwise the NVIDIA driver's device
    list (``/proc/driver/nvidia/gpus``) or, where that does not exist, ``nvidia-smi -L``.
    """
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        devices = [d for d in listed.split(",") if d.strip()]
        return 0 if not devices or devices[0].strip().startswith("-") else len(devices)
    if NVIDIA_PROC.is_dir():
        return len(list(NVIDIA_PROC.iterdir()))
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return 0
        return sum(line.startswith("GPU") for line in out.stdout.splitlines())
    return 0


def warn_without_gpus(named_estimators, n_devices):
    """Warn once, naming them, when estimators ask for a GPU and none is visible.

    They then run as CPU tasks: XGBoost falls back to its CPU algorithm, LightGBM and
    CatBoost raise, as each does on its own.
    """
    requests = _requests_by_name(named_estimators)
    asked = ", ".join(f"{name!r} ({req})" for name, req in requests.items() if req)
    if asked and not n_devices:
        warn(f"estimators ask for a GPU but none is visible: {asked}; they run on the CPU "
             "workers, where XGBoost falls back to the CPU and LightGBM or CatBoost raise")


def _requests_by_name(named_estimators):
    """``{name: gpu_request(estimator)}``, asked once per name (a name's tasks share it).

    Reading deep parameters is slow (a pipeline inspects every step's signature), and a
    fit has several tasks per estimator.
    """
    return {name: gpu_request(est) for name, est in dict(named_estimators).items()}


def plan_lanes(tasks, n_devices):
    """Split task indices into CPU tasks and one list per GPU lane (device 0, 1, ...).

    GPU tasks go round-robin to the lanes, full refits first; with no visible device
    every task is a CPU task.
    """
    requests = _requests_by_name((t.name, t.estimator) for t in tasks) if n_devices else {}
    wanting = sorted((i for i, t in enumerate(tasks) if requests.get(t.name)),
                     key=lambda i: tasks[i].fold is not None)
    lanes = [wanting[d::n_devices] for d in range(min(n_devices, len(wanting)))]
    cpu = [i for i, t in enumerate(tasks) if not requests.get(t.name)]
    return cpu, lanes


def place_on_device(model, device):
    """Point each GPU request in ``model`` that names no device ordinal at ``device``.

    XGBoost-style ``device="cuda"`` becomes ``"cuda:<device>"``; LightGBM gets
    ``gpu_device_id`` and CatBoost ``devices``, unless the user set them. Returns what
    :func:`restore_devices` needs to give the fitted model back the user's parameters.
    """
    params = model.get_params(deep=True)
    changes = {}
    for key, value in params.items():
        owner_key, _, name = key.rpartition("__")
        if not (isinstance(value, str) and value.lower() in GPU_VALUES.get(name, ())):
            continue  # no GPU request, or one that already names its device
        prefix = f"{owner_key}__" if owner_key else ""
        library = _library(params[owner_key] if owner_key else model)
        changes.update(library.device_changes(params, prefix, name, value, device))
    model.set_params(**changes)
    return {key: params.get(key, _ADDED) for key in changes}


_ADDED = object()  # a parameter place_on_device added (the user never set it)


def restore_devices(model, placed):
    """Undo :func:`place_on_device` on the fitted ``model``: the user's GPU parameters.

    ``device="cuda:1"`` goes back to ``"cuda"``; an added ``gpu_device_id`` or
    ``devices`` is removed.
    """
    if not placed:
        return
    model.set_params(**{key: value for key, value in placed.items() if value is not _ADDED})
    params = model.get_params(deep=True)
    for key in [key for key, value in placed.items() if value is _ADDED]:
        owner_key, _, name = key.rpartition("__")
        owner = params[owner_key] if owner_key else model
        _library(owner).remove_param(owner, name)


def _library(estimator):
    """``estimator``'s library, or the conventions of one stackkit does not know."""
    return for_estimator(estimator) or Library


class GpuLanes:
    """Run each lane's tasks one after another, in a thread per device, beside the caller.

    Parameters
    ----------
    lanes : list of list of (int, Task)
        Per device (0, 1, ...), its tasks with their indices.
    run : callable
        ``run(task, device=<n>)`` returns a task's output.
    collect : callable
        ``collect(index, output, device)``, called in the lane's thread as each task
        finishes (it must be thread-safe).

    Used as a context manager: entering starts the lanes, leaving waits for them. A
    lane whose task raises stops, and so do the others after their current task; the
    error is raised by :meth:`raise_failure` or on leaving. Leaving on an error of the
    caller (e.g. Ctrl-C) also stops the lanes after their current task.
    """

    def __init__(self, lanes, run, collect):
        self._config = get_config()  # scikit-learn's settings are per thread
        self._stop = threading.Event()
        self._failure = None
        self._threads = [
            threading.Thread(target=self._run_lane, args=(lane, device, run, collect),
                             name=f"stackkit-gpu-lane-{device}", daemon=True)
            for device, lane in enumerate(lanes)
        ]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is not None:
            self._stop.set()
        for thread in self._threads:
            thread.join()
        if exc_type is None:
            self.raise_failure()

    def raise_failure(self):
        """Raise the error of a failed lane task, if any."""
        if self._failure is not None:
            raise self._failure

    def _run_lane(self, lane, device, run, collect):
        with config_context(**self._config):
            for index, task in lane:
                if self._stop.is_set():
                    return
                try:
                    collect(index, run(task, device=device), device)
                except BaseException as exc:  # handed to the caller's thread
                    self._failure = self._failure or exc
                    self._stop.set()
                    return
