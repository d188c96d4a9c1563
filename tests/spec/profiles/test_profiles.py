"""Profiles end to end on SQLite: DDLs spelled otherwise than the spec pass through their
profile, fail the preflight in one line without it, and broken variants still fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import corpus, one_error_line
from profile_cases import BROKEN, DDL, VIEW_PROFILE, failed, fuzz_through, run_corpus, run_kit

from conformance.backends.sqlite import SqliteBackend
from conformance.ddl_script import DdlScript
from conformance.execution.run import not_applicable, write_form_not_applicable
from conformance.spec.profile import load_profile

SNAKE_DDL = DDL / "sqlite-snake-case.ddl"
VIEW_DDL = DDL / "sqlite-append-view.ddl"


def test_the_snake_case_ddl_passes_every_scenario_with_the_snake_case_profile() -> None:
    results = run_corpus(SqliteBackend, None, SNAKE_DDL, "snake_case")
    assert len(results) > 100
    assert failed(results) == []


def test_without_its_profile_the_snake_case_ddl_stops_at_the_preflight(
    pytester: pytest.Pytester,
) -> None:
    result = run_kit(pytester, SNAKE_DDL)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert "profile spec: column events.entityKey is not in the DDL" in line
    assert "no such column: entityKey" in line


def test_the_plugin_runs_through_a_bundled_profile_named_on_the_command_line(
    pytester: pytest.Pytester,
) -> None:
    report = pytester.path / "report.json"
    result = run_kit(pytester, SNAKE_DDL, "--profile=snake_case", f"--conformance-report={report}")
    assert result.ret == pytest.ExitCode.OK
    sha256 = load_profile("snake_case").sha256
    result.stdout.fnmatch_lines([f"profile: snake_case (bundled:snake_case, sha256 {sha256[:12]})"])
    data = json.loads(report.read_text())
    assert data["profile"]["name"] == "snake_case"
    assert data["profile"]["sha256"] == sha256


def test_the_ini_key_names_a_profile_file_relative_to_the_ini_file(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "profiles").mkdir()
    (pytester.path / "profiles" / "view.yaml").write_text(VIEW_PROFILE.read_text())
    pytester.makeini("[pytest]\nconformance_profile = profiles/view.yaml\n")
    result = run_kit(pytester, VIEW_DDL, "-m", "chain.linear")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["profile: append-view (*profiles/view.yaml, sha256 *)"])


def test_appends_through_a_view_with_an_instead_of_trigger_pass_with_their_profile() -> None:
    results = run_corpus(SqliteBackend, None, VIEW_DDL, VIEW_PROFILE)
    assert len(results) > 100
    assert failed(results) == []


def test_a_view_that_drops_conflicting_appends_fails_through_the_same_profile() -> None:
    results = run_corpus(
        SqliteBackend, None, BROKEN / "sqlite-append-view-or-ignore.ddl", VIEW_PROFILE
    )
    broken = failed(results)
    assert "an eventId already used in the same entity is rejected" in broken
    assert "an append based on a stale replay is rejected" in broken


def test_without_its_profile_the_view_ddl_stops_at_the_missing_events_table(
    pytester: pytest.Pytester,
) -> None:
    result = run_kit(pytester, VIEW_DDL)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "profile spec: table events is not in the DDL" in one_error_line(result)


def test_a_statement_that_does_not_prepare_is_named_with_its_line_in_the_profile(
    pytester: pytest.Pytester,
) -> None:
    profile = pytester.path / "typo.yaml"
    text = VIEW_PROFILE.read_text().replace("INSERT INTO append_events (entity, entity_key, event, data, event_id, command_id, previous_id)",
                                            "INSERT INTO append_event (entity, entity_key, event, data, event_id, command_id, previous_id)")  # fmt: skip
    profile.write_text(text)
    result = run_kit(pytester, VIEW_DDL, f"--profile={profile}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    statement_line = text.splitlines().index("  append-next: >-") + 1
    assert f"{profile}:{statement_line}: statement append-next does not prepare" in line
    assert "no such table: append_event" in line


# --- a DDL without a definitions table ----------------------------------------------


def without_definitions(tmp_path: Path) -> tuple[Path, Path]:
    """The snake_case DDL with no definitions table (names are not checked), and its profile."""
    text = SNAKE_DDL.read_text()
    start = text.index("CREATE TABLE IF NOT EXISTS entity_events")
    text = text[:start] + text[text.index("CREATE TABLE IF NOT EXISTS events") :]
    start = text.index("-- The (entity, event) pair of every event must be defined.")
    text = text[:start] + text[text.index("-- previous_id names an existing") :]
    text = text[: text.index("CREATE TRIGGER IF NOT EXISTS entity_events_no_update")]
    ddl = tmp_path / "no-definitions.ddl"
    ddl.write_text(text)
    profile = tmp_path / "no-definitions.yaml"
    profile.write_text(
        "name: no-definitions\n"
        "columns: {entityKey: entity_key, eventId: event_id, commandId: command_id,"
        " previousId: previous_id}\n"
        "lacks:\n  definitions: event names are free text in this store\n"
    )
    return ddl, profile


def test_rules_needing_definitions_are_not_applicable_with_the_profiles_reason(
    tmp_path: Path,
) -> None:
    ddl, profile = without_definitions(tmp_path)
    backend = SqliteBackend(None, DdlScript.read(ddl))
    backend.profile = load_profile(str(profile))
    reasons = {s.name: not_applicable(s, backend) for s in corpus()}
    backend.close()
    skipped = {name for name, reason in reasons.items() if reason}
    assert "a definition with both names is accepted" in skipped
    assert reasons["a definition with both names is accepted"] == (
        "profile no-definitions: the DDL lacks definitions (a definitions table): "
        "event names are free text in this store"
    )
    results = run_corpus(SqliteBackend, None, ddl, profile)
    assert failed(results) == []
    assert len(results) > 90


def test_the_report_scope_names_what_the_profile_left_out(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    ddl, profile = without_definitions(tmp_path)
    report = pytester.path / "report.json"
    result = run_kit(pytester, ddl, f"--profile={profile}", f"--conformance-report={report}")
    assert result.ret == pytest.ExitCode.OK
    data = json.loads(report.read_text())
    assert data["profile"]["lacks"] == {"definitions": "event names are free text in this store"}
    rows = {row["id"]: row for row in data["rules"]}
    assert rows["definitions.required"]["status"] == "not applicable"
    result.stdout.fnmatch_lines(
        ["scope: profile no-definitions lacks definitions: event names are free text*"]
    )


def test_the_fuzzer_goes_through_the_profile() -> None:
    report = fuzz_through(SqliteBackend, None, VIEW_DDL, VIEW_PROFILE, examples=10)
    assert report.stats.steps > 100
    assert not report.found, report.divergence
    broken = fuzz_through(
        SqliteBackend, None, BROKEN / "sqlite-append-view-or-ignore.ddl", VIEW_PROFILE, 50
    )
    assert broken.found and broken.reproducer is not None
    assert not broken.reproducer.result.passed  # the written scenario file reproduces it


def test_write_forms_around_the_statements_ask_the_profile_first(tmp_path: Path) -> None:
    backend = SqliteBackend(None, DdlScript.read(SNAKE_DDL))
    try:
        assert write_form_not_applicable(backend) is None
        profile = tmp_path / "function-only.yaml"
        profile.write_text("lacks:\n  table-writes: appends go through append_event() only\n")
        backend.profile = load_profile(str(profile))
        assert write_form_not_applicable(backend) == (
            "profile function-only: the DDL lacks table-writes (direct writes to the events "
            "table): appends go through append_event() only"
        )
    finally:
        backend.close()
