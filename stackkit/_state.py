"""Fitted state without pandas objects, so that skops' secure format can hold a stack.

skops (``stackkit.io``) refuses pandas internals, so ``__getstate__`` turns every
DataFrame or Series attribute into a plain dict of numpy arrays and ``__setstate__``
turns it back; pickle and joblib go through the same two methods.
"""

import pandas as pd

TAG = "__stackkit_pandas__"


class PlainState:
    """Mixin: DataFrame and Series attributes are stored as plain dicts."""

    def __getstate__(self):
        return {key: _plain(value) for key, value in super().__getstate__().items()}

    def __setstate__(self, state):
        super().__setstate__({key: _restored(value) for key, value in state.items()})


def _plain(value):
    if isinstance(value, pd.DataFrame):
        return {TAG: "DataFrame", "columns": [str(c) for c in value.columns],
                "data": [value[c].to_numpy() for c in value.columns],
                "index": value.index.to_numpy()}
    if isinstance(value, pd.Series):
        return {TAG: "Series", "name": value.name, "values": value.to_numpy(),
                "index": value.index.to_numpy()}
    return value


def _restored(value):
    if not (isinstance(value, dict) and TAG in value):
        return value
    if value[TAG] == "DataFrame":
        return pd.DataFrame(dict(zip(value["columns"], value["data"])), index=value["index"])
    return pd.Series(value["values"], index=value["index"], name=value["name"])
