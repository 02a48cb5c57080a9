"""Tasks are handed out longest-first, whatever order the estimators are listed in."""

import numpy as np
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier

from stackkit import StackingClassifier
from stackkit._schedule import LongestFirst
from stackkit._split import SplitPlan
from stackkit._tasks import make_tasks


def three_estimator_tasks(refit):
    X, y = np.zeros((30, 1)), np.arange(30) % 2
    plan = SplitPlan.from_cv(3, X, y, None, classifier=True)
    named = [(name, DummyClassifier()) for name in ("a", "b", "c")]
    no_params = {name: ({}, ()) for name, _ in named}
    return make_tasks(named, ["predict_proba"] * 3, plan, refit=refit, fit_params=no_params)


def test_refits_first_then_measured_longest_then_unmeasured_first():
    tasks = three_estimator_tasks(refit=True)
    scheduler = LongestFirst(tasks)
    schedule = iter(scheduler)
    order = [next(schedule)[1] for _ in range(3)]
    assert [(t.name, t.fold) for t in order] == [("a", None), ("b", None), ("c", None)]
    scheduler.observe(order[0], 1.0)
    scheduler.observe(order[1], 5.0)
    _, task = next(schedule)
    assert (task.name, task.fold) == ("c", 0)  # not measured yet: counted as longest
    scheduler.observe(order[2], 0.5)
    rest = [(t.name, t.fold) for _, t in schedule]
    assert rest == [("b", 0), ("b", 1), ("b", 2), ("a", 0), ("a", 1), ("a", 2),
                    ("c", 1), ("c", 2)]


def test_every_task_is_handed_out_once():
    tasks = three_estimator_tasks(refit=False)
    handed = [i for i, _ in LongestFirst(tasks)]
    assert sorted(handed) == list(range(len(tasks)))


def test_slow_estimator_listed_last_starts_its_folds_first():
    X, y = make_classification(n_samples=600, n_features=10, random_state=0)
    stack = StackingClassifier(
        [("quick", DummyClassifier()),
         ("slow", RandomForestClassifier(n_estimators=60, random_state=0))],
        cv=4, n_jobs=1,
    ).fit(X, y)
    folds = stack.task_log_[stack.task_log_["fold"] != "full"].sort_values("started")
    started = folds["estimator"].tolist()
    assert started[:2] == ["slow", "slow"], started
    assert started[-1] == "quick"
