"""Race scenarios on MariaDB beyond the engine-parametrized suite
(tests/execution/test_races_by_engine.py): the shipped DDL also wins every race at READ
COMMITTED, which clients often set per connection. A check done by a trigger's SELECT, the seed's hole on
PostgreSQL, holds on MariaDB: a SELECT inside an INSERT's trigger is a locking read at
both levels (tests/broken/mariadb-trigger-checks/ keeps those DDLs, and these tests keep the
porting guide's word on it true).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import BROKEN, MARIADB_DDL
from races import backend_for, explain, race_scenarios, verdicts

from conformance.backends.mariadb import MariadbBackend, MariadbSession, MariadbStore

pytestmark = pytest.mark.mariadb

SCENARIOS = race_scenarios()
MUST_RACES = ("races.same_previous", "races.first_event", "races.stale_replay")
MUST_RACE_SCENARIOS = [s for s in SCENARIOS if set(s.rules) & set(MUST_RACES)]
REPEAT = 20  # runs per scenario, as on the other engines
TRIGGER_CHECKS = BROKEN / "mariadb-trigger-checks"
# Each trigger check and the races it must win.
TRIGGER_RACES = {
    TRIGGER_CHECKS / "first-event-trigger.ddl": ("races.first_event", "races.stale_replay"),
    TRIGGER_CHECKS / "linear-trigger.ddl": ("races.same_previous", "races.stale_replay"),
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


def test_the_shipped_ddl_wins_every_race_at_read_committed(mariadb_dsn: str) -> None:
    with backend_for(ReadCommittedBackend, mariadb_dsn, MARIADB_DDL) as backend:
        for scenario in MUST_RACE_SCENARIOS:
            results = verdicts(backend, scenario, REPEAT)
            assert all(r.passed for r in results), explain(results)


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
