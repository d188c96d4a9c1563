"""The gate never says more than the run showed: fuzz findings count like scenarios, an
error is never a warning, part of the corpus is `partial`, database messages are
bounded everywhere, and a refused valid append is blamed on the rule it breaks."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO
from helpers import SHIPPED_SQLITE_DDL, bundled_count, corpus, run_on, run_on_sqlite

from conformance.backends.postgres import PostgresBackend
from conformance.ddl_script import DdlScript
from conformance.results.reports import report_schema

HEX_DATA = REPO / "tests" / "broken" / "fuzz-only" / "sqlite-hex-data.ddl"
JSONB = REPO / "tests" / "broken" / "postgres" / "appends.empty_data--seed-jsonb.ddl"
PG_SHIPPED = REPO / "ddl" / "postgres-event-store.ddl"
DATA_RULES = {"appends.empty_data", "replay.order_and_data"}
REPORTS = ("--conformance-report=r.json", "--conformance-report=r.md", "--junitxml=j.xml")


def reports(pytester: pytest.Pytester) -> tuple[dict, str, ET.Element]:
    data = json.loads((pytester.path / "r.json").read_text())
    jsonschema.Draft202012Validator(report_schema()).validate(data)
    markdown = (pytester.path / "r.md").read_text()
    return data, markdown, ET.parse(pytester.path / "j.xml").getroot()


def junit_case(root: ET.Element, name: str) -> ET.Element:
    return next(case for case in root.iter("testcase") if case.get("name") == name)


# --- fuzz findings ------------------------------------------------------------------


def test_a_fuzz_finding_counts_in_the_matrix_the_verdict_the_reports_and_junit(
    pytester: pytest.Pytester,
) -> None:
    """The bundled corpus passes this DDL; only the fuzzer's data shows the break."""
    result = pytester.runpytest(f"--ddl={HEX_DATA}", "--conformance-fuzz",
                                "--conformance-fuzz-seed=1", "-p", "no:cacheprovider", *REPORTS)  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    data, markdown, junit = reports(pytester)
    assert data["verdict"] == "not conformant"
    assert data["gate_passed"] is False
    assert data["verdict_reason"] == "MUST rules broken: replay.order_and_data"
    rule = next(r for r in data["rules"] if r["id"] == "replay.order_and_data")
    assert (rule["failed"], rule["status"]) == (1, "broken")
    (found,) = [s for s in data["scenarios"] if s["fuzz"] is not None]
    assert found["status"] == "failed" and found["violated_rules"] == ["replay.order_and_data"]
    assert found["fuzz"]["seed"] == 1 and found["fuzz"]["examples"] > 0
    assert found["fuzz"]["steps"] > 0 and "data: '0x10'" in found["fuzz"]["minimal_case"]
    assert found["failure"]["actual"] == "rejected"
    assert data["totals"]["failed"] == 1 and data["totals"]["scenarios"] == bundled_count() + 1
    assert "## Fuzz search" in markdown and "- Seed: `1`" in markdown
    assert "data: '0x10'" in markdown.split("## Fuzz search")[1]
    case = junit_case(junit, "conformance-fuzz")
    properties = [(p.get("name"), p.get("value")) for p in case.iter("property")]
    assert ("seed", "1") in properties and ("rule", "replay.order_and_data") in properties
    assert case.find("failure") is not None
    result.stdout.fnmatch_lines(
        ["verdict: NOT CONFORMANT (MUST rules broken: replay.order_and_data)*"]
    )


def test_a_fuzz_search_that_finds_nothing_is_a_passed_record(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(f"--ddl={SHIPPED_SQLITE_DDL}", "--conformance-fuzz",
                                "--conformance-fuzz-seed=3", "--conformance-fuzz-budget=5",
                                "-p", "no:cacheprovider", *REPORTS)  # fmt: skip
    assert result.ret == pytest.ExitCode.OK
    data, markdown, _ = reports(pytester)
    assert data["verdict"] == "conformant"
    (searched,) = [s for s in data["scenarios"] if s["fuzz"] is not None]
    assert searched["status"] == "passed" and searched["fuzz"]["minimal_case"] is None
    assert searched["fuzz"]["seed"] == 3 and searched["fuzz"]["examples"] == 5
    assert "- Outcome: passed" in markdown


# --- errors are never warnings ------------------------------------------------------

FAILING_TRIGGER = """
-- An audit trigger whose table was never made: appends to o-3 raise 42P01, an error.
CREATE OR REPLACE FUNCTION audit_o3() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.entityKey = 'o-3' THEN
        INSERT INTO audit_table_never_made VALUES (NEW.eventId);
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER events_audit BEFORE INSERT ON events
FOR EACH ROW EXECUTE FUNCTION audit_o3();
"""


@pytest.mark.postgres
def test_an_error_in_a_should_scenario_is_never_a_warning(
    pytester: pytest.Pytester, pg_dsn: str
) -> None:
    ddl = pytester.path / "audit.ddl"
    ddl.write_text(PG_SHIPPED.read_text() + FAILING_TRIGGER)
    result = pytester.runpytest(f"--ddl={ddl}", f"--dsn={pg_dsn}", "-m",
                                "races.independent_writers", "-p", "no:cacheprovider", *REPORTS)  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    data, markdown, _ = reports(pytester)
    assert data["verdict"] == "incomplete" and data["gate_passed"] is False
    errors = [s for s in data["scenarios"] if s["status"] == "error"]
    assert [s["name"] for s in errors] == [
        "writers creating two instances do not wait for each other"
    ]
    assert "audit_table_never_made" in errors[0]["failure"]["database_error"]
    assert data["totals"]["warnings"] == 0 and data["totals"]["errors"] == 1
    rule = next(r for r in data["rules"] if r["id"] == "races.independent_writers")
    assert (rule["passed"], rule["failed"], rule["status"]) == (2, 0, "error")
    assert "## Warnings (SHOULD)" not in markdown
    result.stdout.fnmatch_lines(["verdict: INCOMPLETE (1 scenarios could not be run to the end)*"])


# --- scope --------------------------------------------------------------------------


def test_part_of_the_corpus_is_partial_never_conformant(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(f"--ddl={SHIPPED_SQLITE_DDL}", "-m", "chain.linear",
                                "-p", "no:cacheprovider", *REPORTS)  # fmt: skip
    assert result.ret == pytest.ExitCode.OK  # the exit code stays pytest's
    data, markdown, _ = reports(pytester)
    assert data["verdict"] == "partial" and data["gate_passed"] is False
    scope = data["scope"]
    assert scope["complete"] is False
    assert "chain.linear" not in scope["untested_rules"]
    assert "appends.required" in scope["untested_must_rules"]
    assert len(scope["untested_rules"]) == scope["rules_in_catalogue"] - scope["rules_tested"]
    assert "| Scope | partial: " in markdown
    verdicts = [line for line in result.stdout.lines if line.startswith("verdict: ")]
    assert len(verdicts) == 1 and verdicts[0].startswith("verdict: PARTIAL (")


def test_the_whole_corpus_is_complete(pytester: pytest.Pytester) -> None:
    pytester.runpytest(f"--ddl={SHIPPED_SQLITE_DDL}", "-p", "no:cacheprovider", *REPORTS)
    data, markdown, _ = reports(pytester)
    assert data["verdict"] == "conformant" and data["gate_passed"] is True
    assert data["scope"]["complete"] is True
    assert data["scope"]["untested_rules"] == ["races.independent_writers"]  # SHOULD, n/a
    assert "| Scope | complete: " in markdown


# --- bounded messages -----------------------------------------------------------------

LONG = 100_000


def loud_refusal(tmp: Path) -> Path:
    """The shipped SQLite DDL plus a trigger refusing every definition with a 100 kB message:
    every scenario fails at its first setup step."""
    ddl = tmp / "loud.ddl"
    trigger = ("\nCREATE TRIGGER IF NOT EXISTS refuse_loudly BEFORE INSERT ON entity_events\n"
               f"BEGIN SELECT RAISE(ABORT, '{'no' * (LONG // 2)}'); END;\n")  # fmt: skip
    ddl.write_text(SHIPPED_SQLITE_DDL.read_text() + trigger)
    return ddl


def longest_line(*texts: str) -> int:
    return max(len(line) for text in texts for line in text.splitlines())


def test_every_scenario_failing_with_long_messages_keeps_every_output_small(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest(f"--ddl={loud_refusal(pytester.path)}", "-p", "no:cacheprovider",
                                *REPORTS)  # fmt: skip
    data, markdown, _ = reports(pytester)
    assert data["totals"]["failed"] == data["totals"]["scenarios"] - 3  # 3 not applicable
    junit = (pytester.path / "j.xml").read_text()
    assert len(markdown.encode()) < 300_000
    assert len(junit.encode()) < 600_000
    assert longest_line(result.stdout.str(), markdown) < 1_000
    error = data["scenarios"][0]["failure"]["database_error"]
    assert error.endswith(
        f"... ({len('SQLITE_CONSTRAINT_TRIGGER: ') + LONG - 300} more characters cut)"
    )
    assert "more characters cut)" in result.stdout.str() and "more characters cut)" in junit


QUOTING_REFUSAL = """
-- Refuses long data, quoting the value it refuses in its message.
CREATE OR REPLACE FUNCTION refuse_long_data() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF length(NEW.data) > 1000 THEN
        RAISE EXCEPTION 'data too long: %', NEW.data USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE OR REPLACE TRIGGER events_refuse_long_data BEFORE INSERT ON events
FOR EACH ROW EXECUTE FUNCTION refuse_long_data();
"""


@pytest.mark.postgres
def test_a_rejected_1_mib_value_is_shown_bounded(pytester: pytest.Pytester, pg_dsn: str) -> None:
    ddl = pytester.path / "short-data.ddl"
    ddl.write_text(PG_SHIPPED.read_text() + QUOTING_REFUSAL)
    result = pytester.runpytest(f"--ddl={ddl}", f"--dsn={pg_dsn}", "-k", "MiB",
                                "-p", "no:cacheprovider", *REPORTS)  # fmt: skip
    result.assert_outcomes(failed=1)
    data, markdown, _ = reports(pytester)
    junit = (pytester.path / "j.xml").read_text()
    (failed,) = [s for s in data["scenarios"] if s["status"] == "failed"]
    assert failed["failure"]["database_error"].startswith("SQLSTATE 23514: data too long: xxx")
    assert failed["failure"]["database_error"].endswith("more characters cut)")
    assert len(json.dumps(data)) < 20_000 and len(markdown) < 20_000 and len(junit) < 20_000
    assert longest_line(result.stdout.str()) < 1_000


# --- blame ------------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_jsonb_ddl_is_blamed_on_the_data_rules_only(pg_dsn: str) -> None:
    results = run_on(PostgresBackend(pg_dsn, DdlScript.read(JSONB)), corpus())
    failed = [r for r in results if not r.passed]
    assert failed
    for result in failed:
        assert set(result.violated_rules) <= DATA_RULES, (
            result.scenario.name,
            result.violated_rules,
        )
        assert (
            result.failure is not None
            and "blame: the same append with data '{}'" in result.failure.detail
        )
    names = {r.scenario.name for r in failed}
    assert "events with large and empty data get a ts and a sequence" in names


def test_a_refused_upper_case_uuid_is_blamed_on_the_uuid_rule() -> None:
    ddl = REPO / "tests" / "broken" / "sqlite" / "appends.uuid_ids--lowercase-only.ddl"
    failed = [r for r in run_on_sqlite(ddl, corpus()) if not r.passed]
    assert failed and all(r.violated_rules == ("appends.uuid_ids",) for r in failed)
    assert any("blame: the same append with eventId" in (r.failure.detail if r.failure else "")
               for r in failed)  # fmt: skip


# --- no internal names --------------------------------------------------------------

KIT_ERROR_IN_A_SCENARIO = """
from conformance.errors import ScenarioError


def pytest_runtest_call(item):
    raise ScenarioError("scenarios.yaml:13: the schedule cannot finish")
"""


def test_a_scenario_stopped_by_the_kit_shows_its_message_not_its_class(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(
        ".yaml", scenarios=(REPO / "tests/broken/reporting/scenarios.yaml").read_text()
    )
    pytester.makeconftest(KIT_ERROR_IN_A_SCENARIO)
    pytester.runpytest(f"--ddl={SHIPPED_SQLITE_DDL}", "--no-bundled", "--scenarios=scenarios.yaml",
                       "-p", "no:cacheprovider", *REPORTS)  # fmt: skip
    data, markdown, _ = reports(pytester)
    assert data["verdict"] == "incomplete"
    assert {s["reason"] for s in data["scenarios"]} == {
        "scenarios.yaml:13: the schedule cannot finish"
    }
    assert "ScenarioError" not in markdown and "conformance.errors" not in json.dumps(data)
