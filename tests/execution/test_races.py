"""Race scenarios: forced interleavings give the same verdict on every run, broken DDLs
are caught on every run, and the schedule machinery cleans up after itself."""

from __future__ import annotations

import os
import sqlite3
import textwrap
from pathlib import Path

import pytest
from conftest import SQLITE_DDL
from helpers import BROKEN
from races import (
    SCHEDULE_HEADER,
    backend_for,
    race_scenarios,
    session_threads,
    verdicts,
)

from conformance.backends.sqlite import SqliteBackend
from conformance.errors import ScenarioError
from conformance.execution.run import run_scenario
from conformance.results.failure import failure_text
from conformance.scenario.loader import load_file

SCENARIOS = race_scenarios()
MUST_RACES = ("races.same_previous", "races.first_event", "races.stale_replay")


APPLICABLE_ON_SQLITE = [s for s in SCENARIOS if not SqliteBackend.not_applicable(s.requirements)]


def test_only_the_never_wait_rule_is_not_applicable_on_sqlite() -> None:
    skipped = [s for s in SCENARIOS if s not in APPLICABLE_ON_SQLITE]
    assert skipped and all(s.all_rules == ("races.independent_writers",) for s in skipped)
    assert all(
        SqliteBackend.not_applicable(s.requirements).startswith("SQLite allows one writer")
        for s in skipped
    )


def test_not_applicable_scenarios_are_skips_with_the_reason(
    pytester: pytest.Pytester, sqlite_ddl: Path
) -> None:
    result = pytester.runpytest(f"--ddl={sqlite_ddl}", "-m", "races.independent_writers", "-rs")
    skipped = len(SCENARIOS) - len(APPLICABLE_ON_SQLITE)
    result.assert_outcomes(skipped=skipped)
    result.stdout.fnmatch_lines(
        [
            f"SKIPPED [[]{skipped}[]] *races.yaml: not applicable: SQLite allows one writer at a time*"
        ]
    )


# --- schedules written for the tests --------------------------------------------------


def scenario_file(tmp_path: Path, body: str):
    path = tmp_path / "schedule.yaml"
    path.write_text(SCHEDULE_HEADER + textwrap.indent(textwrap.dedent(body), "  "))
    return load_file(path, display="schedule.yaml").scenarios[0]


def open_handles(path: Path) -> list[str]:
    """This process's open file descriptors on a database file (Linux /proc)."""
    fds = Path("/proc/self/fd")
    found = []
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(path)):
            found.append(target)
    return found


def test_a_session_left_open_is_rolled_back_and_closed(tmp_path: Path) -> None:
    scenario = scenario_file(
        tmp_path,
        """\
        - name: left open
          rules: [races.no_trace]
          sessions: [alice]
          steps:
            - {session: alice, begin: true}
            - session: alice
              append: {entity: order, entityKey: o-1, event: shipped, previous: created}
              expect: accepted
        """,
    )
    with backend_for(SqliteBackend, f"sqlite://{tmp_path}/stores", SQLITE_DDL) as backend:
        store = backend.create_store()
        try:
            result = run_scenario(scenario, store, backend)
            assert result.passed, failure_text(result)
            assert session_threads() == []
            assert open_handles(store.path) == []  # every connection of the run is closed
            with sqlite3.connect(store.path, timeout=0, isolation_level=None) as check:
                check.execute("BEGIN IMMEDIATE")  # no lock is left behind
                assert check.execute("SELECT count(*) FROM events").fetchone() == (1,)
                check.execute("ROLLBACK")
            check.close()
        finally:
            store.close()


def test_a_step_still_waiting_when_the_schedule_ends_is_a_scenario_error(tmp_path: Path) -> None:
    scenario = scenario_file(
        tmp_path,
        """\
        - name: never released
          rules: [races.first_event]
          sessions: [alice, bob]
          steps:
            - {session: alice, begin: true}
            - session: alice
              append: {entity: order, entityKey: o-2, event: created}
              expect: accepted
            - session: bob
              append: {entity: order, entityKey: o-2, event: created}
              expect: rejected
        """,
    )
    with backend_for(SqliteBackend, None, SQLITE_DDL) as backend:
        store = backend.create_store()
        try:
            with pytest.raises(ScenarioError) as error:
                run_scenario(scenario, store, backend)
        finally:
            store.close()
    assert str(error.value).startswith("schedule.yaml:14: session 'bob' still waits for a lock")
    assert session_threads() == []


def test_nowait_fails_a_step_that_waits(tmp_path: Path) -> None:
    """SQLite has one writer at a time, so a second writer's begin must wait: nowait says so."""
    scenario = scenario_file(
        tmp_path,
        """\
        - name: bob must not wait
          rules: [races.independent_writers]
          sessions: [alice, bob]
          steps:
            - {session: alice, begin: true}
            - session: alice
              append: {entity: order, entityKey: o-1, event: shipped, previous: created}
              expect: accepted
            - {session: bob, begin: true, nowait: true}
            - {session: alice, commit: true}
        """,
    )
    with backend_for(SqliteBackend, None, SQLITE_DDL) as backend:
        for result in verdicts(backend, scenario):
            assert not result.passed
            failure = result.failure
            assert failure is not None and failure.location.line == 14
            assert failure.summary == "[bob] begin <waiting ...>"
            assert failure.violated == ("races.independent_writers",)


def test_the_report_shows_the_waiting_step_and_its_later_outcome(
    pytester: pytest.Pytester, sqlite_ddl: Path, tmp_path: Path
) -> None:
    ddl = BROKEN / "sqlite" / "chain.linear.ddl"
    result = pytester.runpytest(
        f"--ddl={ddl}", "-k", "appending and step", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*[[]bob[]] begin <waiting ...>  -> ok",
        "*[[]bob[]] append 'order'/'o-1' 'cancelled' previous=o1_paid <waiting ...>  -> ok",
        "*[[]alice[]] commit  -> ok",
        "*[[]bob[]] append 'order'/'o-1' 'cancelled' previous=o1_paid (accepted: its rejection is due at COMMIT) <... completed>  -> ok",
        "*[[]bob[]] rollback, sent as COMMIT: the append it ends must be rejected by now  -> FAILED",
        "*expected: rejected",
        "*actual:   committed",
        "*rejected neither by its append nor by its transaction's COMMIT",
        "*rule broken: races.same_previous*",
    ])  # fmt: skip
    assert "Traceback" not in result.stdout.str()


class LockChecksFail:
    """A store whose lock-wait checks fail, as when the server drops the kit's
    monitoring connection in the middle of a race."""

    def __init__(self, store: object) -> None:
        self.store = store

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def waiting(self, session: object) -> bool:
        raise OSError("the monitoring connection was lost")


def test_no_session_thread_outlives_a_race_whose_lock_checks_fail(tmp_path: Path) -> None:
    scenario = next(s for s in race_scenarios() if s.name.startswith("two writers creating"))
    with backend_for(SqliteBackend, f"sqlite://{tmp_path}/stores", SQLITE_DDL) as backend:
        store = backend.create_store()
        try:
            with pytest.raises(OSError, match="monitoring connection"):
                run_scenario(scenario, LockChecksFail(store), backend)  # type: ignore[arg-type]
            assert session_threads() == []
        finally:
            store.close()
