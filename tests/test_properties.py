"""Generated inputs to fit, predict and transform (issue 12, part 4).

For now, the inputs the generators found, each fixed in its own commit.
"""

import re
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from stackkit import StackingClassifier, _tasks


# -- inputs the generators found -----------------------------------------------------------

FOUND = [  # each fixed in its own commit; the row failed before the fix
    pytest.param(dict(sample_weight=np.array(["heavy", "light"] * 6, dtype=object)),
                 "sample_weight must hold numbers", id="sample_weight-text"),
    pytest.param(dict(y=np.array(["one", 1] * 6, dtype=object)),
                 "y mixes labels of types int and str", id="y-mixed-text-first"),
    pytest.param(dict(y=np.array([1, "one"] * 6, dtype=object)),
                 "y mixes labels of types int and str", id="y-mixed-int-first"),
    pytest.param(dict(y=np.array([None] + ["no", "yes"] * 5 + ["no"], dtype=object)),
                 "y has 1 missing labels", id="y-None-label"),
    pytest.param(dict(y=pd.Series([pd.NA] + ["no", "yes"] * 5 + ["no"], dtype="string")),
                 "y has 1 missing labels", id="y-pd.NA-label"),
    pytest.param(dict(y=np.array([1, 2] * 6, dtype=object)),
                 "y holds int labels in an object array", id="y-object-ints"),
    pytest.param(dict(estimators=[("tree", DecisionTreeClassifier)]),
                 "estimator 'tree' is the class DecisionTreeClassifier", id="estimator-class"),
    pytest.param(dict(final_estimator=LogisticRegression),
                 "final_estimator is the class LogisticRegression", id="final-estimator-class"),
    pytest.param(dict(estimators=[("tree", DecisionTreeClassifier())], passthrough=True,
                      X=np.where(np.eye(12, 3) > 0, np.nan, 1.0)),
                 "estimator 'final_estimator' (LogisticRegression) does not accept missing",
                 id="passthrough-nan-final-rejects-nan"),
]


@pytest.mark.parametrize("change, match", FOUND)
def test_inputs_found_by_the_generators_get_a_clear_error_before_fold_work(change, match):
    args = dict(X=np.random.default_rng(0).normal(size=(12, 3)), y=np.array([0, 1] * 6))
    args.update({k: v for k, v in change.items() if k in ("X", "y", "sample_weight")})
    params = dict(estimators=[("dummy", DummyClassifier())], cv=2)
    params.update({k: v for k, v in change.items() if k not in args})
    with mock.patch.object(_tasks, "_fit_and_predict") as folds, \
            pytest.raises((ValueError, TypeError), match=re.escape(match)):
        StackingClassifier(**params).fit(**args)
    assert not folds.called
