"""Race scenarios on PostgreSQL: the same verdict on every one of 20 runs, with the shipped
DDL passing each (the never-wait SHOULD rule included) and the seed's first-event trigger
losing its races every run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import REPO
from races import backend_for, explain, race_scenarios, verdicts

from conformance.backends.postgres import PostgresBackend

pytestmark = pytest.mark.postgres

SCENARIOS = race_scenarios()
SHIPPED = REPO / "ddl" / "postgres-event-store.ddl"
SEED_TRIGGER = REPO / "tests" / "broken" / "postgres" / "races.first_event--seed-trigger.ddl"


@pytest.fixture(scope="module")
def shipped(pg_dsn: str) -> Iterator[PostgresBackend]:
    with backend_for(PostgresBackend, pg_dsn, SHIPPED) as backend:
        yield backend


def test_every_race_scenario_applies_on_postgres() -> None:
    assert [s.name for s in SCENARIOS if PostgresBackend.not_applicable(s.requirements)] == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_each_race_scenario_passes_every_run_on_postgres(
    shipped: PostgresBackend, scenario
) -> None:
    results = verdicts(shipped, scenario)
    assert all(r.passed for r in results), explain(results)


@pytest.mark.parametrize(
    "scenario", [s for s in SCENARIOS if "races.first_event" in s.rules], ids=lambda s: s.name
)
def test_the_seed_first_event_trigger_loses_every_run(pg_dsn: str, scenario) -> None:
    with backend_for(PostgresBackend, pg_dsn, SEED_TRIGGER) as backend:
        results = verdicts(backend, scenario)
    assert not any(r.passed for r in results), "a run passed: the hole was not caught"
    assert all("races.first_event" in r.violated_rules for r in results), explain(results)
