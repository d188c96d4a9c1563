"""Race scenarios on MariaDB: forced interleavings give the same verdict on every run.

The shipped DDL wins every race at MariaDB's default isolation level and at READ
COMMITTED, which clients often set per connection; breaking a chain rule loses the
races built on it, every run. A check done by a trigger's SELECT, the seed's hole on
PostgreSQL, holds on MariaDB: a SELECT inside an INSERT's trigger is a locking read at
both levels (tests/mariadb/trigger-checks/ keeps those DDLs, and these tests keep the
porting guide's word on it true).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mariadb_paths import BROKEN, MARIADB_DDL
from races import backend_for, explain, race_scenarios, verdicts

from conformance.backends.mariadb import MariadbBackend, MariadbSession, MariadbStore

pytestmark = pytest.mark.mariadb

SCENARIOS = race_scenarios()
MUST_RACES = ("races.same_previous", "races.first_event", "races.stale_replay")
MUST_RACE_SCENARIOS = [s for s in SCENARIOS if set(s.rules) & set(MUST_RACES)]
REPEAT = 20  # runs per scenario, as on the other engines
TRIGGER_CHECKS = Path(__file__).parent / "trigger-checks"
# Each trigger check and the races it must win.
TRIGGER_RACES = {
    TRIGGER_CHECKS / "first-event-trigger.ddl": ("races.first_event", "races.stale_replay"),
    TRIGGER_CHECKS / "linear-trigger.ddl": ("races.same_previous", "races.stale_replay"),
}
# Chain breaks and the races built on the rule each one breaks.
CHAIN_BREAKS = {
    BROKEN / "chain.linear.ddl": ("races.same_previous", "races.stale_replay"),
    BROKEN / "chain.first_event--nulls-distinct.ddl": ("races.first_event",),
}


class ReadCommittedStore(MariadbStore):
    def session(self) -> MariadbSession:
        session = super().session()
        session.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        return session


class ReadCommittedBackend(MariadbBackend):
    """Sessions at READ COMMITTED, as a client that sets it on every connection has them."""

    def create_store(self) -> MariadbStore:
        return ReadCommittedStore(self, self.databases.take())


@pytest.fixture(scope="module")
def mariadb_backend(mariadb_dsn: str) -> Iterator[MariadbBackend]:
    with backend_for(MariadbBackend, mariadb_dsn, MARIADB_DDL) as backend:
        yield backend


def test_every_race_scenario_runs_on_mariadb() -> None:
    assert [s.name for s in SCENARIOS if MariadbBackend.not_applicable(s.requirements)] == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_each_race_scenario_passes_every_run_on_mariadb(
    mariadb_backend: MariadbBackend, scenario
) -> None:
    results = verdicts(mariadb_backend, scenario, REPEAT)
    assert all(r.passed for r in results), explain(results)


def test_the_shipped_ddl_wins_every_race_at_read_committed(mariadb_dsn: str) -> None:
    with backend_for(ReadCommittedBackend, mariadb_dsn, MARIADB_DDL) as backend:
        for scenario in MUST_RACE_SCENARIOS:
            results = verdicts(backend, scenario, REPEAT)
            assert all(r.passed for r in results), explain(results)


@pytest.mark.parametrize("path", list(CHAIN_BREAKS), ids=lambda path: path.stem)
def test_a_chain_break_loses_its_races_every_run(path: Path, mariadb_dsn: str) -> None:
    races = CHAIN_BREAKS[path]
    scenarios = [s for s in MUST_RACE_SCENARIOS if set(s.rules) & set(races)]
    with backend_for(MariadbBackend, mariadb_dsn, path) as backend:
        lost = []
        for scenario in scenarios:
            results = verdicts(backend, scenario, REPEAT)
            assert len({r.passed for r in results}) == 1, f"{scenario.name}: verdict changed"
            if not results[0].passed:
                assert all(set(r.violated_rules) <= set(races) for r in results), explain(results)
                lost += results[0].scenario.rules
    assert set(lost) == set(races), f"{path.name}: races not lost: {set(races) - set(lost)}"


@pytest.mark.parametrize("path", list(TRIGGER_RACES), ids=lambda path: path.stem)
@pytest.mark.parametrize("kind", [MariadbBackend, ReadCommittedBackend], ids=["RR", "RC"])
def test_a_trigger_check_wins_its_races_on_mariadb(
    path: Path, kind: type[MariadbBackend], mariadb_dsn: str
) -> None:
    races = set(TRIGGER_RACES[path])
    with backend_for(kind, mariadb_dsn, path) as backend:
        for scenario in [s for s in MUST_RACE_SCENARIOS if races & set(s.rules)]:
            results = verdicts(backend, scenario, REPEAT)
            assert all(r.passed for r in results), explain(results)
