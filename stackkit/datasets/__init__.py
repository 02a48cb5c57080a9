"""Small real datasets shipped inside the package (used by :mod:`stackkit.demo`).

The files are read with :mod:`importlib.resources`, so they work from a wheel or a
zip import and never touch the network. ``README.md`` next to this module records
where each file comes from, its licence and its checksum.
"""

from importlib.resources import files

import pandas as pd

__all__ = ["load_magic_telescope"]

MAGIC_FEATURES = (
    "fLength", "fWidth", "fSize", "fConc", "fConcl",
    "fAsym", "fM3Long", "fM3Trans", "fAlpha", "fDist",
)


def load_magic_telescope(*, as_frame=True):
    """Load the MAGIC Gamma Telescope dataset (binary classification, 19,020 rows).

    Monte Carlo simulated images of showers in an imaging Cherenkov telescope. Each
    row describes one shower image by 10 numeric Hillas parameters; the task is to
    tell showers caused by gamma rays (signal) from those caused by hadrons
    (background). The full UCI table is shipped, rows in source order, no missing
    values.

    ==============  =========================================
    rows            19,020 (12,332 ``"gamma"``, 6,688 ``"hadron"``)
    features        10, all float64
    target          ``"gamma"`` (signal, the positive class) or ``"hadron"``
    ==============  =========================================

    Parameters
    ----------
    as_frame : bool, default=True
        If True, return a pandas DataFrame and Series; if False, numpy arrays.

    Returns
    -------
    X : DataFrame or ndarray of shape (19020, 10)
        The features ``fLength, fWidth, fSize, fConc, fConcl, fAsym, fM3Long,
        fM3Trans, fAlpha, fDist`` (float64).
    y : Series or ndarray of shape (19020,)
        Class labels as strings, ``"gamma"`` or ``"hadron"``; the Series is named
        ``"class"``. Libraries that need integer labels (e.g. XGBoost) can use
        ``(y == "gamma").astype(int)``, so that 1 means gamma.

    Notes
    -----
    Source: Bock, R. (2004). MAGIC Gamma Telescope [Dataset]. UCI Machine Learning
    Repository. https://doi.org/10.24432/C52C8B, licensed under CC BY 4.0
    (https://creativecommons.org/licenses/by/4.0/). The copy shipped here was taken
    from the pycaret/datasets mirror of the UCI file; the class codes ``g``/``h``
    were renamed ``gamma``/``hadron``, nothing else was changed (see
    ``stackkit/datasets/README.md``).

    Examples
    --------
    >>> from stackkit.datasets import load_magic_telescope
    >>> X, y = load_magic_telescope()
    >>> X.shape
    (19020, 10)
    >>> y.value_counts().to_dict()
    {'gamma': 12332, 'hadron': 6688}
    """
    frame = _read_csv("magic_telescope.csv.gz", dtype=dict.fromkeys(MAGIC_FEATURES, "float64"))
    y = frame.pop("class")
    if as_frame:
        return frame, y
    return frame.to_numpy(), y.to_numpy(dtype=object)


def _read_csv(name, dtype):
    """Read one of the package's gzip'd CSV files into a DataFrame."""
    with files(__name__).joinpath(name).open("rb") as handle:
        return pd.read_csv(handle, compression="gzip", dtype=dtype)
