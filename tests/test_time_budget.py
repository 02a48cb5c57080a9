"""time_limit=: the budget's admission (on a fake clock), the list order it runs in, the
boosters' deadline callbacks, what a too-small budget drops and where it shows."""

import heapq
import pickle
import time
import warnings
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lightgbm import LGBMClassifier
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from xgboost import XGBClassifier, XGBRegressor
from xgboost.callback import TrainingCallback

from stackkit import StackingClassifier, StackingRegressor, StackkitWarning
from stackkit._budget import RESERVE, Budget
from stackkit._fold_average import FoldAverage
from stackkit._results import TaskOutput
from stackkit._schedule import InListOrder
from stackkit._split import SplitPlan
from stackkit._tasks import make_tasks, run_task

N_ROWS, N_FOLDS = 30, 3  # fold tasks train on 20 rows, the refit on 30


class Clock:
    """A fake wall clock: ``now`` moves only when the test says."""

    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def tasks_for(n_estimators, refit=True):
    X, y = np.zeros((N_ROWS, 1)), np.arange(N_ROWS) % 2
    plan = SplitPlan.from_cv(N_FOLDS, X, y, None, classifier=True)
    named = [(f"e{i}", DummyClassifier()) for i in range(n_estimators)]
    no_params = {name: ({}, ()) for name, _ in named}
    return make_tasks(named, ["predict_proba"] * n_estimators, plan, refit=refit,
                      fit_params=no_params)


def output(seconds, clock):
    """The record of a task that took ``seconds`` and ended now (all of it fitting)."""
    return TaskOutput(model=None, predictions=None, fit_time=seconds, predict_time=0.0,
                      started=clock() - seconds, finished=clock())


def in_list_order(tasks):
    return [task for _, task in InListOrder(tasks)]


def budget_for(tasks, time_limit, clock, n_workers=1):
    budget = Budget(time_limit, clock=clock)
    budget.expect(tasks, n_workers)
    return budget


def run_serially(budget, tasks, clock, seconds):
    """Admit and 'run' ``tasks`` one after another; ``seconds(task)`` is each one's cost."""
    statuses = {}
    for task in in_list_order(tasks):
        reason = budget.admit(task)
        statuses[task.est_index, task.fold] = reason
        if reason is None:
            clock.now += seconds(task)
            budget.observe(task, output(seconds(task), clock))
    return statuses


# -- the admission, on a fake clock ----------------------------------------------------------

def test_an_estimator_that_cannot_finish_is_skipped_before_it_starts_or_after_one_fold():
    """e0 costs 1 s per 20-row fold, so e1 is expected to cost as much (the prior) and is
    admitted; e1 really costs 10 s per 20 rows, so after its first fold its other tasks
    are skipped; e2, unmeasured, is expected at the mean rate of e0 and e1: too slow.
    The refits come last: e0's still fits in the time left."""
    clock = Clock()
    tasks = tasks_for(3)
    budget = budget_for(tasks, time_limit=20 / (1 - RESERVE), clock=clock)  # deadline +20 s
    rate = {0: 1 / 20, 1: 10 / 20, 2: 1 / 20}  # seconds per training row
    statuses = run_serially(budget, tasks, clock, lambda t: rate[t.est_index] * len(t.train))
    assert all(statuses[0, fold] is None for fold in (0, 1, 2))  # 1 + 1 + 1 s
    assert statuses[1, 0] is None  # its folds expected to take 3 s, with 17 s left
    # then measured: 10 + 10 s for its remaining two folds, with 7 s left
    assert statuses[1, 1] == ("time_limit: estimated to end in 20.0 s with its 2 remaining "
                              "tasks, 7.0 s left")
    assert statuses[1, 2] == statuses[1, None] == statuses[1, 1]  # none of it runs now
    # e2's prior is the mean rate of e0 and e1, 0.275 s per row: 60 rows take 16.5 s
    assert statuses[2, 0] == ("time_limit: estimated to end in 16.5 s with its 3 remaining "
                              "tasks, 7.0 s left")
    assert statuses[0, None] is None  # e0's refit: 1.5 s, with 7 s left


def test_the_first_estimators_folds_are_always_admitted_even_past_the_deadline():
    """Its refit is optional like every refit: past the deadline it is skipped."""
    clock = Clock()
    tasks = tasks_for(2)
    budget = budget_for(tasks, time_limit=1.0, clock=clock)
    statuses = run_serially(budget, tasks, clock, lambda task: 5.0)
    assert [statuses[0, fold] for fold in (0, 1, 2)] == [None] * 3
    # 7.5 s: its 30 rows at the 5 s per 20 rows its folds took
    assert statuses[0, None].startswith("time_limit: estimated to end in 7.5 s with its 1 ")
    assert all(statuses[1, fold] is not None for fold in (0, 1, 2, None))


def test_with_nothing_measured_a_task_is_admitted_while_time_is_left():
    clock = Clock()
    tasks = tasks_for(2)
    order = in_list_order(tasks)
    budget = budget_for(tasks, time_limit=10.0, clock=clock, n_workers=2)
    assert [budget.admit(task) for task in order[:5]] == [None] * 5
    spent = budget_for(tasks, time_limit=1.0, clock=clock, n_workers=2)
    clock.now += 1.0
    assert [spent.admit(task) is None for task in order[:5]] == [True] * 3 + [False] * 2


def test_a_task_running_longer_than_its_estimate_raises_its_estimators_estimate():
    """e1's first fold was admitted on the prior (1 s) but has run 8 s: it has not
    finished when its second fold asks (the result is collected after the next task is
    handed out), so its estimator's tasks are expected to cost 8 s per 20 rows."""
    clock = Clock()
    tasks = tasks_for(2)
    order = in_list_order(tasks)
    budget = budget_for(tasks, time_limit=25.0 / (1 - RESERVE), clock=clock)
    run_serially(budget, order[:3], clock, lambda t: len(t.train) / 20)  # e0's folds: 3 s
    assert budget.admit(order[3]) is None  # the prior: 1 + 1 + 1 s
    clock.now += 8.0
    # 8 s per fold now: the running one ends now, then 8 + 8 s
    assert budget.admit(order[4]) == ("time_limit: estimated to end in 16.0 s with its 2 "
                                      "remaining tasks, 14.0 s left")


def test_two_workers_fit_work_that_one_worker_cannot():
    def admitted(n_workers):
        clock = Clock()
        tasks = tasks_for(2)
        budget = budget_for(tasks, time_limit=5.2 / (1 - RESERVE), clock=clock,
                            n_workers=n_workers)
        order = in_list_order(tasks)
        run_serially(budget, order[:3], clock, lambda t: 1.0)  # e0's folds: 1 s each
        # e1's prior: 1 s per 20-row fold, 3 s on one worker, 2 s on two; 2.2 s are left
        return budget.admit(order[3])

    assert admitted(1) is not None
    assert admitted(2) is None


def test_a_held_refit_handed_out_as_a_copy_is_the_same_task_to_the_budget():
    clock = Clock()
    tasks = tasks_for(2)
    budget = budget_for(tasks, time_limit=100.0, clock=clock)
    refit = next(t for t in tasks if t.est_index == 1 and t.fold is None)
    assert budget.admit(replace(refit, estimator=Ridge())) is None
    assert all(t.fold is not None for t in budget._waiting[1])


@settings(max_examples=100, deadline=None)
@example(rates=[0.05, 0.05], noise=[1.0] * 24, time_limit=5.0, n_workers=1)
@given(
    rates=st.lists(st.floats(0.001, 2.0), min_size=1, max_size=6),
    noise=st.lists(st.floats(0.5, 2.0), min_size=24, max_size=24),
    time_limit=st.floats(1.0, 120.0),
    n_workers=st.integers(1, 3),
)
def test_admitted_work_ends_within_the_budget_plus_one_tasks_estimate_error(
        rates, noise, time_limit, n_workers):
    """Random task costs (a rate per estimator, each task off by a random factor) on
    ``n_workers``: every fold of the first estimator runs, and the work ends by the
    deadline plus the largest error of an admitted task's estimate (of those checked: all
    but the first estimator's folds), or when the first estimator's folds end."""
    clock = Clock()
    tasks = tasks_for(len(rates))
    budget = budget_for(tasks, time_limit, clock, n_workers)
    cost = {(t.est_index, t.fold): rates[t.est_index] * len(t.train) * noise[i % len(noise)]
            for i, t in enumerate(tasks)}
    running, errors, first_end, end = [], [0.0], clock(), clock()
    for number, task in enumerate(in_list_order(tasks)):
        if len(running) == n_workers:  # wait for a worker
            clock.now, _, done = heapq.heappop(running)
            budget.observe(done, output(cost[done.est_index, done.fold], clock))
        estimate = budget._cost(task, clock())
        always = task.est_index == 0 and task.fold is not None  # the first one's folds
        if budget.admit(task) is None:
            seconds = cost[task.est_index, task.fold]
            if not always:  # those are never checked
                errors.append(seconds - estimate)
            heapq.heappush(running, (clock() + seconds, number, task))
            end = max(end, clock() + seconds)
            if always:
                first_end = max(first_end, clock() + seconds)
        else:
            assert not always
    assert end <= max(budget.deadline + max(errors), first_end) + 1e-9


# -- the order ---------------------------------------------------------------------------

def test_in_list_order_hands_out_every_estimators_folds_then_the_refits():
    order = [(t.name, t.fold) for t in in_list_order(tasks_for(2))]
    assert order == [("e0", 0), ("e0", 1), ("e0", 2), ("e1", 0), ("e1", 1), ("e1", 2),
                     ("e0", None), ("e1", None)]


def test_under_a_budget_the_estimators_start_in_list_order(classification):
    """Without a budget the slow estimator listed last starts first (test_schedule)."""
    from sklearn.ensemble import RandomForestClassifier

    X, y = classification
    stack = StackingClassifier(
        [("quick", DummyClassifier()),
         ("slow", RandomForestClassifier(n_estimators=30, random_state=0))],
        cv=3, n_jobs=1, time_limit=600,
    ).fit(X, y)
    started = stack.task_log_.sort_values("started").estimator.tolist()
    assert started == ["quick"] * 3 + ["slow"] * 3 + ["quick", "slow"]


# -- a real fit ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def classification():
    return make_classification(n_samples=300, n_features=8, random_state=0)


def test_a_budget_spent_before_the_tasks_keeps_the_first_estimator_only(classification):
    X, y = classification
    stack = StackingClassifier(
        [("lr", LogisticRegression()), ("dummy", DummyClassifier()),
         ("ridge_lr", LogisticRegression(C=0.1))],
        cv=3, time_limit=1e-6)
    with pytest.warns(StackkitWarning) as seen:
        stack.fit(X, y)
    messages = [str(w.message) for w in seen if issubclass(w.category, StackkitWarning)]
    assert len(messages) == 2  # one line for the skipped estimators, one for the refit
    assert messages[0].startswith("the full refit of 'lr' was skipped (time_limit: ")
    assert messages[0].endswith("the average of its fold models predicts instead (as with "
                                "refit=False)")
    assert messages[1].startswith("2 base estimators were skipped and are dropped from the "
                                  "stack ('dummy', 'ridge_lr'); dropped_ says why for each")
    assert stack.layout_.names == ("lr",)
    assert set(stack.dropped_) == {"dummy", "ridge_lr"}
    assert "time_limit: estimated to end in" in stack.dropped_["dummy"]
    log = stack.task_log_
    mine = log[log.estimator == "lr"]
    assert (mine.status == "ran").sum() == 3
    assert mine[mine.fold == "full"].status.item() == "skipped"
    skipped = log[log.estimator != "lr"]
    assert (skipped.status == "skipped").all() and len(skipped) == 8
    assert skipped.error.str.startswith("time_limit: ").all()
    # its three fold models stand in for the refit, and predict as their average
    lr = stack.estimators_[0]
    assert isinstance(lr, FoldAverage) and len(lr.estimators) == 3
    expected = np.mean([model.predict_proba(X) for model in lr.estimators], axis=0)
    np.testing.assert_allclose(lr.predict_proba(X), expected)
    assert stack.predict(X).shape == (len(y),)


def test_cached_tasks_cost_nothing_and_are_never_skipped(classification, tmp_path):
    X, y = classification
    estimators = [("lr", LogisticRegression()), ("dummy", DummyClassifier())]
    StackingClassifier(estimators, cv=3, memory=str(tmp_path), time_limit=600).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StackkitWarning)
        stack = StackingClassifier(estimators, cv=3, memory=str(tmp_path),
                                   time_limit=1e-6).fit(X, y)
        # a fit without a budget is served by the budgeted fit's entries too
        unbudgeted = StackingClassifier(estimators, cv=3, memory=str(tmp_path)).fit(X, y)
    assert (stack.task_log_.status == "cached").all()
    assert (unbudgeted.task_log_.status == "cached").all()
    assert stack.dropped_ == {}


def test_a_budgeted_fit_reruns_folds_cached_without_their_models(classification, tmp_path):
    """Without a budget (refit=True) fold models are not kept, nor cached; a budgeted fit
    keeps them (they stand in for a skipped refit), so it fits those folds again."""
    X, y = classification
    estimators = [("lr", LogisticRegression())]
    StackingClassifier(estimators, cv=3, memory=str(tmp_path)).fit(X, y)
    stack = StackingClassifier(estimators, cv=3, memory=str(tmp_path), time_limit=600)
    stack.fit(X, y)
    log = stack.task_log_
    assert (log[log.fold != "full"].status == "ran").all()
    assert log[log.fold == "full"].status.item() == "cached"


# -- the boosters' deadline --------------------------------------------------------------------

class CountRounds(TrainingCallback):
    """A user's own XGBoost callback: it must still be called under a deadline."""

    def __init__(self):
        self.rounds = 0

    def after_iteration(self, model, epoch, evals_log):
        self.rounds += 1
        return False


def one_task(estimator, X, y, fold=0):
    plan = SplitPlan.from_cv(3, X, y, None, classifier=True)
    [task] = [t for t in make_tasks([("booster", estimator)], ["predict_proba"], plan,
                                    refit=False, fit_params={"booster": ({}, ())})
              if t.fold == fold]
    return task


def xgb(**params):
    return XGBClassifier(n_estimators=200, max_depth=2, n_jobs=1, **params)


def lgbm(**params):
    return LGBMClassifier(n_estimators=200, num_leaves=4, verbose=-1, n_jobs=1, **params)


@pytest.mark.parametrize("make, rounds", [
    (xgb, lambda m: m.get_booster().num_boosted_rounds()),
    (lgbm, lambda m: m.booster_.current_iteration()),
    (lambda: make_pipeline(StandardScaler(), xgb()),
     lambda m: m[-1].get_booster().num_boosted_rounds()),
    (lambda: make_pipeline(StandardScaler(), lgbm()),
     lambda m: m[-1].booster_.current_iteration()),
], ids=["xgboost", "lightgbm", "xgboost-pipeline", "lightgbm-pipeline"])
def test_a_past_deadline_stops_a_booster_after_its_first_round(classification, make, rounds):
    X, y = classification
    task = one_task(make(), X, y)
    cut = run_task(task, X, y, "binary", 1, deadline=time.time() - 1)
    assert cut.truncated and rounds(cut.model) == 1
    assert cut.predictions.shape == (len(task.test), 1)  # binary: one column
    whole = run_task(task, X, y, "binary", 1, deadline=time.time() + 3600)
    assert not whole.truncated and rounds(whole.model) == 200
    assert pickle.loads(pickle.dumps(cut.model)) is not None  # no callback left on it


def test_the_users_callbacks_and_early_stopping_are_kept_under_a_deadline(classification):
    X, y = classification
    task = one_task(xgb(callbacks=[CountRounds()], early_stopping_rounds=5,
                        learning_rate=0.5), X, y)
    cut = run_task(task, X, y, "binary", 1, deadline=time.time() - 1)
    [counter] = cut.model.get_params()["callbacks"]  # the user's (cloned) list, given back
    assert cut.truncated and isinstance(counter, CountRounds) and counter.rounds == 1
    free = run_task(task, X, y, "binary", 1, deadline=time.time() + 3600)
    assert not free.truncated and cut.stopped.rounds == 1
    assert free.stopped.rounds < 200  # early stopping still stopped it
    seen = []

    def users_callback(env):
        seen.append(env.iteration)

    task = replace(one_task(lgbm(), X, y), fit_params={"callbacks": [users_callback]})
    cut = run_task(task, X, y, "binary", 1, deadline=time.time() - 1)
    assert cut.truncated and seen == [0]


def test_truncated_tasks_are_never_cached(classification, tmp_path):
    X, y = classification
    estimators = [("xgb", xgb()), ("lr", LogisticRegression())]
    with pytest.warns(StackkitWarning) as seen:
        cut = StackingClassifier(estimators, cv=3, memory=str(tmp_path),
                                 time_limit=1e-6).fit(X, y)
    assert any("'lr' (LogisticRegression) was skipped" in str(w.message) for w in seen)
    log = cut.task_log_[cut.task_log_.estimator == "xgb"]
    folds = log[log.fold != "full"]
    assert folds.truncated.all() and log.cache_key.isna().all()
    assert not list(tmp_path.rglob("*.pkl"))
    again = StackingClassifier(estimators, cv=3, memory=str(tmp_path)).fit(X, y)
    log = again.task_log_
    assert (log.status == "ran").all() and not log.truncated.any()
    assert again.named_estimators_["xgb"].get_booster().num_boosted_rounds() == 200


def test_a_fit_that_boosting_alone_would_keep_busy_for_minutes_ends_near_its_limit():
    """100,000 rounds per task: minutes without the deadline. The bound is generous (the
    machine is shared); the benchmark measures the overshoot."""
    X, y = make_regression(n_samples=200, n_features=5, random_state=0)
    stack = StackingRegressor([("xgb", XGBRegressor(n_estimators=100_000, max_depth=2,
                                                    n_jobs=1))], cv=3, time_limit=2.0)
    start = time.time()
    with pytest.warns(StackkitWarning, match="the full refit of 'xgb' was skipped"):
        stack.fit(X, y)
    assert time.time() - start < 30
    log = stack.task_log_
    assert log[log.status == "ran"].truncated.all() and len(log[log.status == "ran"]) == 3


# -- the parameter -----------------------------------------------------------------------------

@pytest.mark.parametrize("value, message", [
    (0, "time_limit must be a finite number of seconds > 0, or None for no limit; got 0"),
    (-1.5, "time_limit must be a finite number of seconds > 0, or None for no limit; "
           "got -1.5"),
    (float("inf"), "got inf"),
    (float("nan"), "got nan"),
    ("10", "time_limit must be a number of seconds .* or None for no limit; got str: '10'"),
    (True, "got bool: True"),
], ids=["zero", "negative", "inf", "nan", "string", "bool"])
@pytest.mark.parametrize("cls", [StackingClassifier, StackingRegressor])
def test_time_limit_is_a_finite_positive_number_of_seconds(classification, cls, value,
                                                           message):
    X, y = classification
    stack = cls([("dummy", Ridge() if cls is StackingRegressor else DummyClassifier())],
                time_limit=value)
    with pytest.raises(ValueError, match="The 'time_limit' parameter of .* must be None or a "
                                         "finite float > 0") as raised:
        stack.fit(X, y)
    assert isinstance(raised.value, TypeError)
    assert raised.match(message)


@pytest.mark.parametrize("value", [1, 2.5, np.float32(60.0), np.int64(5)])
def test_time_limit_takes_ints_floats_and_numpy_numbers(value):
    from stackkit._param_checks import validate_params

    validate_params(StackingClassifier([("dummy", DummyClassifier())], time_limit=value))


class SlowFit(RegressorMixin, BaseEstimator):
    """A stand-in for a slow model: its fit takes ``seconds`` of wall time, and logs when
    it started in ``STARTS`` (the threading backend shares it)."""

    STARTS = []

    def __init__(self, tag="", seconds=0.0):
        self.tag = tag
        self.seconds = seconds

    def fit(self, X, y):
        SlowFit.STARTS.append((self.tag, len(y), time.time()))
        time.sleep(self.seconds)
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def test_a_task_is_admitted_only_when_a_worker_can_start_it(monkeypatch):
    """joblib asks for two jobs at some completions; the budget must not be asked about
    a task that would then wait in joblib's queue (it could run past the deadline)."""
    from joblib import parallel_config
    from stackkit import _budget

    admitted = []
    real = _budget.Budget.admit

    def admit(self, task):
        admitted.append((task.name, time.time()))
        return real(self, task)

    monkeypatch.setattr(_budget.Budget, "admit", admit)
    monkeypatch.setattr(SlowFit, "STARTS", [])
    X, y = make_regression(90, 3, random_state=0)
    estimators = [(f"fast{i}", SlowFit(f"fast{i}", 0.02)) for i in range(3)] + \
        [("slow", SlowFit("slow", 0.5))]
    with parallel_config(backend="threading"):
        StackingRegressor(estimators, cv=3, n_jobs=2, time_limit=120, refit=False).fit(X, y)
    slow_admitted = [t for name, t in admitted if name == "slow"]
    slow_started = sorted(t for tag, n, t in SlowFit.STARTS if tag == "slow" and n == 60)
    assert len(slow_admitted) == len(slow_started) == 3
    # each slow fold starts right after its admission, not a slow fold's time later
    assert max(s - a for a, s in zip(sorted(slow_admitted), slow_started)) < 0.25
