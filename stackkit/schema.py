"""The columns a model was trained on, enforced on the tables it later predicts.

A CSV or Parquet file read at predict time rarely has its text columns encoded as at
training time: pandas reads them as strings, and the categories a booster saw as codes
0, 1, 2 must map to the same codes again. :class:`TableSchema` records each column's
kind at fit time and turns every later table into the same shape, order and dtypes.
The command line puts it in front of every stack it fits.

>>> import pandas as pd
>>> train = pd.DataFrame({"size": [1.0, 2.0, 3.0], "colour": ["red", "blue", "red"]})
>>> schema = TableSchema().fit(train)
>>> schema.categories_
{'colour': ['blue', 'red']}
>>> schema.transform(pd.DataFrame({"colour": ["red"], "size": [4.0]})).dtypes.astype(str).tolist()
['float64', 'category']
"""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._frames import as_pandas
from ._param_checks import validate_params
from ._source import column_differences
from .exceptions import warn

__all__ = ["TableSchema"]


class TableSchema(TransformerMixin, BaseEstimator):
    """Check a table's columns against the training columns and restore their dtypes.

    Numeric columns stay numeric; every other column (text, category, boolean) becomes
    a pandas ``category`` with the categories seen in training, so that XGBoost and
    LightGBM read it natively and code it the same way at every call.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        The training columns, in order.
    n_features_in_ : int
    categories_ : dict
        Category values (sorted) of each non-numeric column.
    target_name_ : str or None
        The name of ``y`` at fit time (a Series' name), for labelling predictions.
    """

    _parameter_constraints = {}  # none yet; a new one must be declared (and is checked)

    def fit(self, X, y=None):
        """Record the columns of the DataFrame ``X`` and the name of ``y``.

        Parameters
        ----------
        X : DataFrame
            The training table (a polars DataFrame or pyarrow Table is converted to
            pandas first).
        y : Series or array-like, default=None
            The target; only its name is kept.

        Returns
        -------
        self : TableSchema
            The fitted schema.

        Raises
        ------
        TypeError
            ``X`` is not a DataFrame.
        ValueError
            A column holds dates or times.
        """
        validate_params(self)
        X = as_pandas(X)
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"TableSchema needs a pandas DataFrame, got {type(X).__name__}")
        dates = [str(c) for c in X.columns if _is_time(X[c])]
        if dates:  # as categories, every timestamp would be a level of its own
            raise ValueError(f"column {dates[0]!r} holds dates or times; derive numbers from "
                             "it (year, month, days since ...) or drop it")
        self.feature_names_in_ = np.asarray([str(column) for column in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        self.categories_ = {
            str(column): sorted(X[column].dropna().astype(str).unique().tolist())
            for column in X.columns if not is_numeric(X[column])
        }
        self.target_name_ = None if getattr(y, "name", None) is None else str(y.name)
        return self

    def transform(self, X):
        """Restore ``X``'s training columns, in training order, with the training dtypes.

        Values of a non-numeric column not seen in training become missing, with a
        warning.

        Parameters
        ----------
        X : DataFrame
            A table with (at least) the training columns, in any order (pandas, polars
            or a pyarrow Table).

        Returns
        -------
        X_restored : DataFrame
            The training columns only, numeric ones as numbers and the others as pandas
            ``category`` with the training categories.

        Raises
        ------
        ValueError
            A training column is missing, or a numeric column holds text.
        """
        check_is_fitted(self)
        X = as_pandas(X)
        missing, _ = column_differences(self.feature_names_in_, X.columns)
        if missing:
            raise ValueError(f"missing columns the model was trained on: {', '.join(missing)}")
        frame = X.rename(columns=str)[list(self.feature_names_in_)]
        return pd.DataFrame({name: self._restored(name, frame[name])
                             for name in self.feature_names_in_}, index=frame.index)

    def _restored(self, name, column):
        if name in self.categories_:
            return _as_categories(name, column, self.categories_[name])
        if is_numeric(column):
            return column
        values = pd.to_numeric(column, errors="coerce")
        bad = column[values.isna() & column.notna()]
        if len(bad):
            raise ValueError(f"column {name!r} was numeric in training but holds "
                             f"{bad.iloc[0]!r} (and {len(bad) - 1} other non-numbers)")
        return values

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


def _is_time(column):
    return (pd.api.types.is_datetime64_any_dtype(column)
            or pd.api.types.is_timedelta64_dtype(column))


def is_numeric(column):
    """Whether a column holds numbers (booleans are categories here)."""
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _as_categories(name, column, categories):
    text = column.astype("string")
    unseen = text.notna() & ~text.isin(categories)
    if unseen.any():
        examples = ", ".join(repr(v) for v in text[unseen].unique()[:3])
        warn(f"column {name!r}: {int(unseen.sum())} values not seen in training ({examples}) "
             "are treated as missing")
    return pd.Categorical(text.where(~unseen), categories=categories)
