"""Shared test hooks: the Hypothesis profile and the outcome counts of generated inputs."""

from collections import Counter

import pytest

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # only the test_properties* modules need it (the dev extra has it)
    settings = None
else:
    # Seeded and repeatable: the same inputs in every run, nothing stored between runs.
    settings.register_profile(
        "stackkit", derandomize=True, database=None, deadline=None, print_blob=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    settings.load_profile("stackkit")

OUTCOMES = pytest.StashKey[Counter]()


def pytest_configure(config):
    config.stash[OUTCOMES] = Counter()


@pytest.fixture(scope="session")
def outcome_counts(request):
    """A Counter of ``(test, outcome, detail)``, one count per generated input."""
    return request.config.stash[OUTCOMES]


def pytest_sessionfinish(session):
    """On a pytest-xdist worker: hand the counts to the controller, which prints them."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        counts = session.config.stash[OUTCOMES]
        workeroutput["outcome_counts"] = [[*key, n] for key, n in counts.items()]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """On the pytest-xdist controller: add up the counts each worker handed over."""
    counts = node.config.stash[OUTCOMES]
    for *key, n in getattr(node, "workeroutput", {}).get("outcome_counts", []):
        counts[tuple(key)] += n


def pytest_terminal_summary(terminalreporter, config):
    """How each generated input ended, per test: the figures the issue asks for."""
    counts = config.stash.get(OUTCOMES, None)
    if not counts:
        return
    reporter = terminalreporter
    reporter.section("generated inputs")
    by_outcome = Counter()
    for (_, outcome, _), n in counts.items():
        by_outcome[outcome] += n
    totals = ", ".join(f"{n} {outcome}" for outcome, n in sorted(by_outcome.items()))
    reporter.write_line(f"{sum(counts.values())} generated inputs: {totals}")
    for (test, outcome, detail), n in sorted(counts.items()):
        reporter.write_line(f"{n:6d}  {test}: {outcome}{f' ({detail})' if detail else ''}")


@pytest.fixture(autouse=True, scope="module")
def _fresh_loky_workers():
    """Each test module starts without the loky workers an earlier module left idle.

    Idle workers that ran LightGBM tasks were measured using about two thirds of a core
    each, which made a later sequential fit up to 8 times slower (a stackkit issue to
    fix on its own, reported in the closing note of issue 12); here it only keeps test
    modules independent.
    """
    yield
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)


@pytest.fixture
def new_tasks(client):
    """``watch = new_tasks()`` starts watching the scheduler; ``watch()`` then counts the
    tasks it has been given since (each one entering ``waiting`` or ``processing``).

    Not its transition counter: releasing an earlier computation's results moves that
    too, whenever the scheduler gets to it.
    """
    def start():
        since = client.run_on_scheduler(_scheduler_time)
        return lambda: client.run_on_scheduler(_tasks_given_since, since=since)
    return start


def _scheduler_time(dask_scheduler=None):
    import time

    return time.time()


def _tasks_given_since(since, dask_scheduler=None):
    return sum(entry.finish in ("waiting", "processing") and entry.timestamp >= since
               for entry in dask_scheduler.transition_log)


@pytest.fixture(scope="module")
def client():
    """A real dask.distributed cluster on this machine: 2 worker processes, 1 thread each."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client
