"""Fitted state without pandas objects, so that skops' secure format can hold a stack.

skops (``stackkit.io``) refuses pandas internals, so ``__getstate__`` turns every
DataFrame or Series attribute into a plain dict of numpy arrays and ``__setstate__``
turns it back; pickle and joblib go through the same two methods. skops also stores
an object once per reference, so ``named_estimators_`` (the same models as
``estimators_``) is stored as its names alone and rebuilt on loading.
"""

import pandas as pd
from sklearn.utils import Bunch

TAG = "__stackkit_pandas__"


class PlainState:
    """Mixin: DataFrame and Series attributes are stored as plain dicts."""

    def __getstate__(self):
        state = {key: _plain(value) for key, value in super().__getstate__().items()}
        if "named_estimators_" in state:
            state["named_estimators_"] = list(state["named_estimators_"])
        return state

    def __setstate__(self, state):
        state = {key: _restored(value) for key, value in state.items()}
        if "named_estimators_" in state:
            state["named_estimators_"] = Bunch(**dict(zip(state["named_estimators_"],
                                                          state["estimators_"])))
        super().__setstate__(state)


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
