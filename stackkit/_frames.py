"""DataFrames of other libraries, made the pandas DataFrame a pandas user would pass.

A polars DataFrame or a pyarrow Table is converted once, where the user's ``X`` enters
(:func:`stackkit._plane.validate_rows`, at fit and at every prediction), by its own
library's ``to_pandas``: column names are kept, polars ``Categorical``/``Enum`` and Arrow
dictionary columns become pandas ``category`` (categories in the order polars or Arrow
holds them), strings become pandas strings, nulls become missing values. The base
estimators then see exactly what they would see with that pandas frame.

Neither library is imported here: a frame of one can only exist once its library has
been imported by the caller, so it is looked up in ``sys.modules``.
"""

import sys

# (module, class name) of the tables and columns converted with their own ``to_pandas()``.
CONVERTED = (("polars", "DataFrame"), ("pyarrow", "Table"),
             ("polars", "Series"), ("pyarrow", "ChunkedArray"), ("pyarrow", "Array"))


def as_pandas(X, name="X"):
    """``X`` as pandas if it is a polars DataFrame or Series or a pyarrow Table or array.

    Tables become DataFrames, columns Series; anything else is returned as it is.

    A polars LazyFrame is a ``TypeError`` naming ``name`` (what ``X`` is to the caller): it
    holds a query, not rows, and collecting it is the caller's decision.
    """
    if any(_is_instance(X, module, cls) for module, cls in CONVERTED):
        return X.to_pandas()
    if _is_instance(X, "polars", "LazyFrame"):
        raise TypeError(f"{name} is a polars LazyFrame, a query rather than rows; call "
                        ".collect() on it and pass the DataFrame it returns")
    return X


def _is_instance(X, module, cls):
    library = sys.modules.get(module)
    return library is not None and isinstance(X, getattr(library, cls, ()))
