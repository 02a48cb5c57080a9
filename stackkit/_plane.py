"""The data plane: the one module that knows the containers rows come in.

Every other module reaches rows through the functions below: count them, take some by
position, fingerprint them for the cache, name and inspect their columns, and join the
meta-features with them. :func:`plane_for` picks the implementation for a container,
in one place; a second plane (Dask collections) is one more class chosen there.

In memory: numpy arrays, pandas DataFrames (kept as they are: column names and
dtypes, categorical ones included), pandas Series (per-row fit parameters) and scipy
sparse matrices. On a cluster: Dask DataFrames and Arrays
(:class:`~stackkit._dask_plane.DaskRows`, imported only for them); every plane says
whether its rows are ``on_cluster``, which :mod:`stackkit._fit_steps` reads to choose
the steps of a fit. :func:`validate_rows` is the edge where the user's ``X`` enters: a
DataFrame is kept, a polars DataFrame or pyarrow Table becomes one (:mod:`stackkit._frames`),
anything else becomes a numpy array or a CSR/CSC matrix.
"""

import joblib
import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

from ._dask_plane import check_estimators_for, is_dask_collection
from ._frames import as_pandas
from ._oof import to_columns


def plane_for(X):
    """The rows of ``X``: an object with the plane's methods for its container.

    Anything that is not pandas, scipy sparse or Dask is read as a numpy array.
    """
    if is_dask_collection(X):
        from ._dask_plane import DaskRows

        return DaskRows(X)
    if isinstance(X, pd.DataFrame):
        return _FrameRows(X)
    if hasattr(X, "iloc"):  # a Series, or a table with pandas' row indexing
        return _PandasRows(X)
    if sp.issparse(X):
        return _SparseRows(X)
    return _ArrayRows(X)


def validate_rows(estimator, X, *, reset):
    """``X`` checked by scikit-learn's ``validate_data`` and ready for the plane.

    Records ``n_features_in_`` (and ``feature_names_in_``) on ``estimator``. A
    DataFrame is returned as it is (its columns reach the base estimators untouched)
    and must not be empty; a polars DataFrame or pyarrow Table is converted to one
    first; sparse input becomes CSR or CSC with 32-bit indices where its size allows.
    """
    return plane_for(as_pandas(X)).validated(estimator, reset)


def count_rows(X):
    """Number of rows of ``X``."""
    return plane_for(X).n_rows()


def take_rows(X, rows):
    """The rows of ``X`` at integer positions ``rows``, in the container of ``X``.

    Every row in order (a full refit's rows) is ``X`` itself, not a copy: at a million
    rows a copy is the size of the data, in every worker that refits.
    """
    return plane_for(X).take_rows(rows)


def predict_rows(model, method, X, rows, target_kind, dtype):
    """``model``'s meta-feature columns for the rows of ``X`` named by ``rows``.

    In memory: a block of ``dtype`` (see :func:`~stackkit._oof.to_columns`). On a
    cluster: the fold's prediction deferred (the plane's own record), assembled lazily
    with the other folds'.
    """
    return plane_for(X).predict(model, method, rows, target_kind, dtype)


def labels_of(classes, codes):
    """The class labels of encoded predictions ``codes`` (lazy for a Dask array)."""
    return plane_for(codes).labels(classes)


def _all_in_order(rows, n_rows):
    return (rows.ndim == 1 and np.issubdtype(rows.dtype, np.integer) and len(rows) == n_rows
            and n_rows > 0 and rows[0] == 0
            and bool(np.all(np.diff(rows) == 1)))


def size_in_bytes(X):
    """Bytes the rows of ``X`` take in memory (a DataFrame's object columns: their pointers)."""
    return plane_for(X).nbytes()


def float_dtype(X):
    """The float dtype of the meta-features of ``X``: float32 if X's floats all are.

    float32 data stays float32 end to end (fold predictions, ``oof_``, ``transform``);
    anything else (float64, integers only, ...) gives float64.
    """
    return np.dtype(np.float32) if plane_for(X).floats_are_32bit() else np.dtype(np.float64)


def fingerprint(X):
    """A content hash of ``X``: what the cache keys hold instead of the rows.

    Equal content gives an equal fingerprint whatever the memory layout (array order,
    a DataFrame's internal blocks, a sparse matrix's index dtype or entry order); a
    different cell, column name, dtype, index label, container or row order gives
    another one.
    """
    return joblib.hash(plane_for(X).content())


def column_names(X):
    """The column labels of a DataFrame ``X`` as a list, else None."""
    return plane_for(X).column_names()


def nonfinite_columns(X):
    """``(columns with NaN, columns with infinity)``: labels of a DataFrame, else positions."""
    return plane_for(X).nonfinite_columns()


def join_columns(meta, X, meta_names, input_names):
    """The meta-features ``meta`` followed by the columns of ``X`` (passthrough).

    A DataFrame ``X`` gives a DataFrame with the columns named ``meta_names`` then
    ``input_names`` (as ``get_feature_names_out`` names them) and ``X``'s index; a
    sparse ``X`` a CSR matrix; anything else a numpy array.
    """
    return plane_for(X).join(meta, meta_names, input_names)


def holds_rows(value):
    """Whether ``value`` is a container of rows the plane takes rows from.

    A numpy array, a pandas object, a sparse matrix or a Dask collection is; a list or
    tuple never is.
    """
    return (isinstance(value, np.ndarray) or sp.issparse(value) or hasattr(value, "iloc")
            or is_dask_collection(value))


class _ArrayRows:
    """A numpy array (or any array-like, read as one)."""

    on_cluster = False
    runs_in_client = False  # tasks may go to joblib's workers

    def __init__(self, X):
        self.X = X

    def take_rows(self, rows):
        rows = np.asarray(rows)
        if _all_in_order(rows, self.n_rows()):
            return self.X
        return self.take(rows)

    def predict(self, model, method, rows, target_kind, dtype):
        raw = getattr(model, method)(take_rows(self.X, rows))
        return to_columns(raw, method, target_kind, dtype=dtype)

    def labels(self, classes):
        return classes[np.asarray(self.X, dtype=np.int64)]

    def check_fit(self, named, settings):
        """Refuse what needs rows on a cluster: the distributed boosters, Dask fit params."""
        check_estimators_for(named, on_cluster=False)
        for key, value in settings.get("fit_params", {}).items():
            if is_dask_collection(value):
                raise TypeError(f"fit parameter {key!r} is a Dask collection, but X is in "
                                "memory; pass it in memory too, or X and y as Dask "
                                "collections")

    def validated(self, estimator, reset):
        return validate_data(estimator, self.X, reset=reset, accept_sparse=["csr", "csc"],
                             ensure_all_finite=False, dtype="numeric")

    def n_rows(self):
        return self.X.shape[0]

    def nbytes(self):
        return np.asarray(self.X).nbytes

    def take(self, rows):
        return self.X[rows]

    def content(self):
        return "ndarray", np.ascontiguousarray(self.X)

    def column_names(self):
        return None

    def floats_are_32bit(self):
        return np.asarray(self.X).dtype == np.float32

    def nonfinite_columns(self):
        values = np.asarray(self.X)
        if not np.issubdtype(values.dtype, np.number):
            return [], []
        nan, inf = _nonfinite_mask(values.reshape(len(values), -1))
        return np.flatnonzero(nan).tolist(), np.flatnonzero(inf).tolist()

    def join(self, meta, meta_names, input_names):
        return np.hstack([meta, self.X])


class _SparseRows(_ArrayRows):
    """A scipy sparse matrix or array; taking rows keeps its format."""

    def validated(self, estimator, reset):
        return _with_int32_indices(super().validated(estimator, reset))

    def content(self):
        X = self.X if self.X.format in ("csr", "csc") else self.X.tocsr()
        if not X.has_canonical_format or np.any(X.data == 0):
            X = X.copy()
            X.sum_duplicates()  # also sorts the indices
            X.eliminate_zeros()
        return ("sparse", X.format, X.shape, np.ascontiguousarray(X.data),
                X.indices.astype(np.int64), X.indptr.astype(np.int64))

    def nbytes(self):
        index_arrays = [getattr(self.X, name, None) for name in ("indices", "indptr", "row", "col")]
        return self.X.data.nbytes + sum(a.nbytes for a in index_arrays if a is not None)

    def floats_are_32bit(self):
        return self.X.dtype == np.float32

    def nonfinite_columns(self):
        values = self.X.tocsc()
        columns = np.repeat(np.arange(values.shape[1]), np.diff(values.indptr))
        return (sorted(set(columns[np.isnan(values.data)].tolist())),
                sorted(set(columns[np.isinf(values.data)].tolist())))

    def join(self, meta, meta_names, input_names):
        return sp.hstack([sp.csr_matrix(meta), self.X], format="csr")


class _PandasRows(_ArrayRows):
    """A pandas Series (a per-row fit parameter); rows are taken with their index."""

    def take(self, rows):
        return self.X.take(rows, axis=0)

    def nbytes(self):
        return int(np.sum(self.X.memory_usage(index=True, deep=False)))

    def content(self):
        X = self.X
        return ("series", X.name, str(X.dtype), _column_content(X), _index_content(X.index))


class _FrameRows(_PandasRows):
    """A pandas DataFrame, kept as it is: column names, dtypes and index."""

    def validated(self, estimator, reset):
        validate_data(estimator, self.X, reset=reset, skip_check_array=True)
        if self.X.shape[0] == 0 or self.X.shape[1] == 0:
            raise ValueError(f"X must have at least one row and one column; got {self.X.shape}")
        return self.X

    def content(self):
        columns = [(label, str(column.dtype), _column_content(column))
                   for label, column in self.X.items()]
        return "frame", columns, _index_content(self.X.index)

    def column_names(self):
        return list(self.X.columns)

    def floats_are_32bit(self):
        floats = [dtype for dtype in self.X.dtypes
                  if not isinstance(dtype, pd.CategoricalDtype)
                  and pd.api.types.is_float_dtype(dtype)]
        return bool(floats) and all(dtype == np.float32 for dtype in floats)

    def nonfinite_columns(self):
        # Column by column: a float64 copy of the whole table would be the size of X.
        nan_cols, inf_cols = [], []
        for label, column in self.X.items():
            if column.isna().any():
                nan_cols.append(label)
            if pd.api.types.is_numeric_dtype(column.dtype) and not isinstance(
                    column.dtype, pd.CategoricalDtype):
                values = column.to_numpy(dtype=np.float64, na_value=np.nan)
                if np.isinf(values).any():
                    inf_cols.append(label)
        return nan_cols, inf_cols

    def join(self, meta, meta_names, input_names):
        meta_frame = pd.DataFrame(meta, columns=meta_names, index=self.X.index)
        return pd.concat([meta_frame, self.X.set_axis(input_names, axis=1)], axis=1)


def _nonfinite_mask(values, block_rows=65536):
    """Per column of a 2-D array: ``(has NaN, has infinity)``, a block of rows at a time.

    A mask of the whole array at once would be an eighth of its size, or more.
    """
    nan = np.zeros(values.shape[1], dtype=bool)
    inf = np.zeros(values.shape[1], dtype=bool)
    for start in range(0, len(values), block_rows):
        block = values[start:start + block_rows]
        if np.isfinite(block).all():
            continue
        nan |= np.isnan(block).any(axis=0)
        inf |= np.isinf(block).any(axis=0)
    return nan, inf


def _column_content(column):
    """A column's (or an index's) values, whatever their memory layout."""
    if isinstance(column.dtype, pd.CategoricalDtype):  # a Series or a CategoricalIndex
        values = column.array
        return (np.asarray(values.categories), values.ordered,
                np.ascontiguousarray(values.codes))
    return np.ascontiguousarray(column.to_numpy())


def _index_content(index):
    return type(index).__name__, list(index.names), str(index.dtype), _column_content(index)


def _with_int32_indices(X):
    """Return a CSR/CSC matrix with 32-bit indices when its size allows it.

    Many estimators (trees among them) reject 64-bit sparse indices even for small
    matrices; a matrix small enough for 32-bit indices is converted so they all take it.
    """
    limit = np.iinfo(np.int32).max
    if X.indices.dtype == np.int32 or max(X.nnz, *X.shape) >= limit:
        return X
    X = X.copy()
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X
