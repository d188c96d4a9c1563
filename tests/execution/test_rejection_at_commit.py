"""A race rule's rejection may come at the append or at its transaction's COMMIT:
a PostgreSQL DDL whose unique constraints are DEFERRABLE INITIALLY DEFERRED is
conformant, and a DDL that rejects at neither still loses every race scenario."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import REPO
from races import backend_for, explain, race_scenarios, run_once

from conformance.backends.postgres import PostgresBackend
from conformance.results.failure import failure_text
from conformance.scenario.objects import RaceStep

pytestmark = pytest.mark.postgres

DEFERRED = REPO / "tests" / "conformant" / "postgres" / "deferred-unique.ddl"
NOT_LINEAR = REPO / "tests" / "broken" / "postgres" / "chain.linear.ddl"
SCENARIOS = race_scenarios()
STEP_BY_STEP = [
    s for s in SCENARIOS if not any(isinstance(step, RaceStep) for step in s.steps) and s.concurrent
]
STALE = [
    s
    for s in STEP_BY_STEP
    if s.rules[0] in ("races.same_previous", "races.stale_replay")
    and "o-3" not in str(s.steps)  # the first-event one needs the first-event rule
]


@pytest.fixture(scope="module")
def deferred(pg_dsn: str) -> Iterator[PostgresBackend]:
    with backend_for(PostgresBackend, pg_dsn, DEFERRED) as backend:
        yield backend


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_deferred_unique_constraints_pass_every_race_scenario(
    deferred: PostgresBackend, scenario
) -> None:
    results = [run_once(deferred, scenario) for _ in range(3)]
    assert all(r.passed for r in results), explain(results)


def test_the_losing_append_is_shown_rejected_at_commit(deferred: PostgresBackend) -> None:
    scenario = next(s for s in SCENARIOS if s.name.endswith("same event, step by step"))
    result = run_once(deferred, scenario)
    summaries = [(step.summary, step.actual) for step in result.steps if not step.setup]
    due = "[bob] append 'order'/'o-1' 'cancelled' previous=o1_paid (accepted: its rejection is due at COMMIT)"
    assert (due, "accepted") in summaries
    ended = [s for s in result.steps if "sent as COMMIT" in s.summary]
    assert [(s.actual, s.passed) for s in ended] == [("rejected", True)], failure_text(result)


@pytest.mark.parametrize("scenario", STALE, ids=lambda s: s.name)
def test_an_append_rejected_neither_at_insert_nor_at_commit_fails(pg_dsn: str, scenario) -> None:
    with backend_for(PostgresBackend, pg_dsn, NOT_LINEAR) as backend:
        result = run_once(backend, scenario)
    assert not result.passed
    failure = result.failure
    assert failure is not None and failure.violated == tuple(scenario.rules), failure_text(result)
    assert "rejected neither by its append nor by its transaction's COMMIT" in failure.detail
