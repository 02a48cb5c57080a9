"""stackkit.schema.TableSchema: training columns and categories, enforced later."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from stackkit.exceptions import StackkitWarning
from stackkit.schema import TableSchema

TRAIN = pd.DataFrame({"size": [1.0, 2.0, 3.0], "colour": ["red", "blue", "red"],
                      "flag": [True, False, True]})


def test_columns_are_reordered_and_text_gets_the_training_codes():
    schema = TableSchema().fit(TRAIN, pd.Series([0, 1, 0], name="label"))
    later = schema.transform(pd.DataFrame({"flag": [False], "colour": ["red"], "size": [5]}))
    assert later.columns.tolist() == ["size", "colour", "flag"]
    assert later["colour"].cat.codes.tolist() == [1]  # 'red' is code 1 of ['blue', 'red']
    assert later["flag"].cat.categories.tolist() == ["False", "True"]
    assert schema.target_name_ == "label"


def test_unseen_categories_are_missing_with_a_warning_naming_the_column():
    schema = TableSchema().fit(TRAIN)
    with pytest.warns(StackkitWarning, match=r"column 'colour': 1 values not seen.*'green'"):
        later = schema.transform(TRAIN.assign(colour=["green", "red", "blue"]))
    assert later["colour"].isna().tolist() == [True, False, False]


@pytest.mark.parametrize("frame, error, match", [
    (TRAIN.drop(columns="size"), ValueError, "missing columns the model was trained on: size"),
    (TRAIN.assign(size=["1", "big", "3"]), ValueError,
     r"column 'size' was numeric in training but holds 'big'"),
])
def test_bad_tables(frame, error, match):
    with pytest.raises(error, match=match):
        TableSchema().fit(TRAIN).transform(frame)


def test_date_columns_are_refused_by_name():
    with pytest.raises(ValueError, match="column 'when' holds dates or times"):
        TableSchema().fit(TRAIN.assign(when=pd.to_datetime(["2024-01-01"] * 3)))


def test_numbers_read_as_text_are_restored():
    out = TableSchema().fit(TRAIN).transform(TRAIN.assign(size=["1", "2.5", None]))
    np.testing.assert_array_equal(out["size"], [1.0, 2.5, np.nan])


def test_estimator_contract():
    with pytest.raises(NotFittedError):
        TableSchema().transform(TRAIN)
    with pytest.raises(TypeError, match="needs a pandas DataFrame"):
        TableSchema().fit(TRAIN.to_numpy())
    fitted = TableSchema().fit(TRAIN)
    assert clone(fitted).get_params() == {} and not hasattr(clone(fitted), "categories_")
