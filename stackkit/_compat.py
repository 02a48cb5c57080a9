"""Optional dependencies, imported lazily when a feature needs them, and device arrays.

Optional packages (tqdm, dask, matplotlib, skops) are imported here. The boosting
libraries are known in :mod:`stackkit._boosters`, one module each.
"""


def to_host(array):
    """A device array (CuPy, as GPU boosters may return) copied to host memory; else as is."""
    if type(array).__module__.split(".", 1)[0] == "cupy":
        return array.get()
    return array


def progress_bar(total, done, description):
    """A tqdm progress bar (notebook-aware), or None when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=done, desc=description, unit="task",
                postfix=f"{done} cached" if done else None)


def pyplot():
    """``matplotlib.pyplot``, or an ImportError saying which extra installs it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "stackkit's plots need matplotlib: pip install 'stackkit[plot]'"
        ) from exc
    return plt


def skops_io():
    """``skops.io``, or an ImportError saying which extra installs it."""
    try:
        import skops.io
    except ImportError as exc:
        raise ImportError(
            "saving and loading stacks needs skops: pip install 'stackkit[io]'"
        ) from exc
    return skops.io
