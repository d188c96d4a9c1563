"""Profiles on PostgreSQL: the snake_case DDL, and appends through a function that
returns the eventId the database made, bound to the scenario's symbolic ids."""

from __future__ import annotations

import pytest
from helpers import one_error_line
from profile_cases import (
    BROKEN,
    DDL,
    FUNCTION_PROFILE,
    failed,
    fuzz_through,
    run_corpus,
    run_kit,
)

from conformance.backends.postgres import PostgresBackend
from conformance.results.failure import failure_text

pytestmark = pytest.mark.postgres

FUNCTION_DDL = DDL / "postgres-append-function.ddl"


def test_the_snake_case_ddl_passes_with_the_snake_case_profile(pg_dsn: str) -> None:
    results = run_corpus(PostgresBackend, pg_dsn, DDL / "postgres-snake-case.ddl", "snake_case")
    assert len(results) > 130
    assert failed(results) == []


def test_without_its_profile_the_snake_case_ddl_stops_at_the_preflight(
    pytester: pytest.Pytester, pg_dsn: str
) -> None:
    result = run_kit(pytester, DDL / "postgres-snake-case.ddl", f"--dsn={pg_dsn}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert "profile spec: column events.entityKey is not in the DDL" in line
    assert 'column "entitykey" does not exist' in line


def test_appends_through_a_function_returning_the_eventId_pass_with_their_profile(
    pg_dsn: str,
) -> None:
    results = run_corpus(PostgresBackend, pg_dsn, FUNCTION_DDL, FUNCTION_PROFILE)
    assert len(results) > 100
    assert failed(results) == []
    passed = {r.scenario.name for r in results if r.passed}
    # Its replay names each event by the symbolic id the returned eventId was bound to.
    assert "an instance replays its events in insertion order" in passed


def test_a_function_returning_another_id_than_it_stored_fails(pg_dsn: str) -> None:
    results = run_corpus(
        PostgresBackend, pg_dsn, BROKEN / "postgres-append-function-wrong-id.ddl", FUNCTION_PROFILE
    )
    broken = [r for r in results if not r.passed]
    assert len(broken) > 50
    assert "accepted, but the store does not hold exactly the row sent" in failure_text(broken[0])


def test_without_its_profile_the_function_ddl_stops_at_the_missing_table(
    pytester: pytest.Pytester, pg_dsn: str
) -> None:
    result = run_kit(pytester, FUNCTION_DDL, f"--dsn={pg_dsn}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "profile spec: table events is not in the DDL" in one_error_line(result)


def test_a_profile_naming_a_missing_function_fails_the_preflight_at_its_line(
    pytester: pytest.Pytester, pg_dsn: str
) -> None:
    text = FUNCTION_PROFILE.read_text().replace("SELECT define_event(", "SELECT define_kind(")
    profile = pytester.path / "typo.yaml"
    profile.write_text(text)
    result = run_kit(pytester, FUNCTION_DDL, f"--dsn={pg_dsn}", f"--profile={profile}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    number = next(i for i, t in enumerate(text.splitlines(), 1) if "define_kind" in t)
    assert f"{profile}:{number}: statement define does not prepare" in line
    assert "function define_kind(" in line


def test_the_fuzzer_learns_the_eventIds_the_database_makes(pg_dsn: str) -> None:
    report = fuzz_through(PostgresBackend, pg_dsn, FUNCTION_DDL, FUNCTION_PROFILE, examples=10)
    assert report.stats.steps > 100
    assert not report.found, report.divergence
    wrong = BROKEN / "postgres-append-function-wrong-id.ddl"
    broken = fuzz_through(PostgresBackend, pg_dsn, wrong, FUNCTION_PROFILE, examples=10)
    assert broken.reproducer is not None
    assert "id: e" in broken.reproducer.text  # symbolic ids, bound to what the database makes
    assert not broken.reproducer.result.passed
