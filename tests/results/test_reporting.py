"""The conformance report end to end, on real SQLite runs.

A fixed scenario file (tests/broken/reporting/scenarios.yaml) runs against the shipped
DDL, where every scenario passes, and against a deliberately broken DDL that breaks
exactly three rules; one scenario is skipped as a backend lacking a capability would
skip it. The rule matrix, the report files, JUnit XML and the exit code must then be
exactly as known.

The SHOULD tests turn some of its rules into SHOULD rules for one run (a conftest swaps
the Kit's catalogue at session start). Seven scenarios leave most MUST rules untested, so
such a run is `partial`; the tests of the other verdicts cut the catalogue down to the
fixture's own rules (`only=FIXTURE_RULES`), as if the catalogue were that small. The
session-setting variants of the scenarios are left out (no settings): their own tests are
in tests/execution/test_settings.py.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from helpers import BROKEN, SHIPPED_SQLITE_DDL

from conformance import __version__
from conformance.results.reports import report_schema
from conformance.spec.catalogue import load_catalogue

FIXTURES = BROKEN / "reporting"
BROKEN_DDL = FIXTURES / "sqlite-broken-event-store.ddl"
SHIPPED_DDL = SHIPPED_SQLITE_DDL

NOT_APPLICABLE = "the same key under two entities is two streams"
STALE = "an append based on a stale replay is rejected"
DELETED = "an event cannot be deleted"
EMPTY_DATA = "empty data is accepted"
BROKEN_RULES = ["appends.empty_data", "chain.linear", "immutability.events"]
FIXTURE_RULES = (*BROKEN_RULES, "chain.first_event", "chain.previous_exists",
                 "chain.independent_streams")  # fmt: skip

# Line of each scenario in scenarios.yaml, and of the step that fails on the broken DDL.
SCENARIO_LINES = {
    "a subsequent event naming the last event is accepted": 13,
    STALE: 19,
    "a second first event for the same instance is rejected": 25,
    "an event cannot be updated": 31,
    DELETED: 38,
    EMPTY_DATA: 44,
    NOT_APPLICABLE: 50,
}
FAILING_STEP_LINES = {STALE: 22, DELETED: 41, EMPTY_DATA: 47}

# rule id -> (passed, failed, not applicable, status) against the broken DDL.
BROKEN_MATRIX = {
    "appends.empty_data": (0, 1, 0, "broken"),
    "chain.first_event": (1, 0, 0, "holds"),
    "chain.previous_exists": (1, 0, 0, "holds"),
    "chain.linear": (0, 1, 0, "broken"),
    "chain.independent_streams": (0, 0, 1, "not applicable"),
    "immutability.events": (1, 1, 0, "broken"),
}
SHIPPED_MATRIX = {
    "appends.empty_data": (1, 0, 0, "holds"),
    "chain.first_event": (1, 0, 0, "holds"),
    "chain.previous_exists": (1, 0, 0, "holds"),
    "chain.linear": (1, 0, 0, "holds"),
    "chain.independent_streams": (0, 0, 1, "not applicable"),
    "immutability.events": (2, 0, 0, "holds"),
}

CONFTEST = """
import dataclasses

import pytest

from conformance.spec.catalogue import Catalogue, Level
from conformance.pytest_plugin.collection import KIT_KEY

SHOULD = {should!r}
SKIP = {skip!r}
FAIL_SETUP = {fail_setup!r}
ONLY = {only!r}


def pytest_sessionstart(session):
    kit = session.config.stash[KIT_KEY]
    # The fixed numbers are the scenarios as written: the session-setting variants are
    # tested in tests/execution/test_settings.py.
    kit.backend.session_settings = ()
    kit.catalogue = Catalogue(tuple(
        dataclasses.replace(rule, level=Level.SHOULD) if rule.id in SHOULD else rule
        for rule in kit.catalogue.rules
        if not ONLY or rule.id in ONLY
    ))


def pytest_collection_modifyitems(items):
    for item in items:
        if item.name in SKIP:
            item.add_marker(pytest.mark.skip(reason="backend lacks the capability two-entities"))


def pytest_runtest_setup(item):
    if item.name in FAIL_SETUP:
        raise RuntimeError("lost the connection")
"""

SKIP_WHILE_RUNNING = """

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    if item.name == {name!r}:
        pytest.skip("backend lacks the capability two-entities")
"""


def run(
    pytester: pytest.Pytester,
    ddl: Path,
    *args: str,
    should: tuple[str, ...] = (),
    skip: tuple[str, ...] = (NOT_APPLICABLE,),
    fail_setup: tuple[str, ...] = (),
    conftest_extra: str = "",
    only: tuple[str, ...] = (),
) -> pytest.RunResult:
    """Run the fixed scenario file in pytester's folder. `--ddl=PATH` is one token: as two,
    pytest would take the DDL's folder (this repository) for the rootdir and its config."""
    pytester.makefile(".yaml", scenarios=(FIXTURES / "scenarios.yaml").read_text())
    conftest = CONFTEST.format(should=should, skip=skip, fail_setup=fail_setup, only=only)
    pytester.makeconftest(conftest + conftest_extra)
    return pytester.runpytest(
        "-p",
        "no:cacheprovider",
        f"--ddl={ddl}",
        "--no-bundled",
        "--scenarios=scenarios.yaml",
        *args,
    )


def json_report(pytester: pytest.Pytester, name: str = "report.json") -> dict:
    data = json.loads((pytester.path / name).read_text())
    validator = jsonschema.Draft202012Validator(
        report_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(data)
    return data


def matrix_of(data: dict) -> dict[str, tuple[int, int, int, str]]:
    return {
        r["id"]: (r["passed"], r["failed"], r["not_applicable"], r["status"]) for r in data["rules"]
    }


def expected_matrix(
    known: dict[str, tuple[int, int, int, str]],
) -> dict[str, tuple[int, int, int, str]]:
    """Every catalogue rule: the known rows, every other rule untested."""
    return {rule.id: known.get(rule.id, (0, 0, 0, "untested")) for rule in load_catalogue().rules}


def by_name(data: dict) -> dict[str, dict]:
    return {s["name"]: s for s in data["scenarios"]}


# --- JSON -------------------------------------------------------------------------


def test_json_report_of_the_broken_ddl_holds_exactly_the_known_matrix(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, BROKEN_DDL, "--conformance-report=report.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    data = json_report(pytester)
    assert matrix_of(data) == expected_matrix(BROKEN_MATRIX)
    assert [r["id"] for r in data["rules"]] == list(load_catalogue().ids)
    assert data["verdict"] == "not conformant"
    assert data["verdict_reason"] == f"MUST rules broken: {', '.join(BROKEN_RULES)}"
    assert data["gate_passed"] is False
    assert data["totals"] == {
        "scenarios": 7,
        "passed": 3,
        "failed": 3,
        "warnings": 0,
        "not_applicable": 1,
        "errors": 0,
    }
    scenarios = by_name(data)
    assert {name: s["location"] for name, s in scenarios.items()} == {
        name: f"scenarios.yaml:{line}" for name, line in SCENARIO_LINES.items()
    }
    failed = {name: s for name, s in scenarios.items() if s["status"] == "failed"}
    assert {name: s["failure"]["step"] for name, s in failed.items()} == {
        name: f"scenarios.yaml:{line}" for name, line in FAILING_STEP_LINES.items()
    }
    assert {name: s["violated_rules"] for name, s in failed.items()} == {
        STALE: ["chain.linear"],
        DELETED: ["immutability.events"],
        EMPTY_DATA: ["appends.empty_data"],
    }
    assert failed[STALE]["failure"]["expected"] == "rejected"
    assert failed[STALE]["failure"]["actual"] == "accepted"
    assert failed[STALE]["failure"]["database_error"] is None
    assert (
        failed[EMPTY_DATA]["failure"]["database_error"]
        == "SQLITE_CONSTRAINT_CHECK: CHECK constraint failed: data != ''"
    )
    assert scenarios[NOT_APPLICABLE]["status"] == "not applicable"
    assert scenarios[NOT_APPLICABLE]["reason"] == "backend lacks the capability two-entities"


def test_json_report_names_the_ddl_backend_kit_and_run(pytester: pytest.Pytester) -> None:
    before = datetime.now().astimezone()
    run(pytester, BROKEN_DDL, "--conformance-report=report.json")
    data = json_report(pytester)
    assert data["report_version"] == 2
    assert data["ddl"] == {
        "path": str(BROKEN_DDL),
        "sha256": hashlib.sha256(BROKEN_DDL.read_bytes()).hexdigest(),
    }
    assert data["backend"]["name"] == "sqlite"
    assert data["backend"]["server_version"].startswith("SQLite 3.")
    assert data["kit"] == {"name": "event-store-conformance", "version": __version__}
    started = datetime.fromisoformat(data["run"]["started"].replace("Z", "+00:00"))
    assert before.replace(microsecond=0) <= started <= datetime.now().astimezone()
    assert 0 <= data["run"]["duration_seconds"] < 600
    assert data["lint"] is None


def test_part_of_the_corpus_is_partial_with_its_scope_and_exits_0(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, SHIPPED_DDL, "--conformance-report=report.json")
    assert result.ret == pytest.ExitCode.OK  # pytest's: a chosen subset can still gate
    result.assert_outcomes(passed=6, skipped=1)
    data = json_report(pytester)
    assert data["verdict"] == "partial"
    assert data["gate_passed"] is False
    assert matrix_of(data) == expected_matrix(SHIPPED_MATRIX)
    assert all(s["failure"] is None for s in data["scenarios"])
    untested = [rule_id for rule_id, row in expected_matrix(SHIPPED_MATRIX).items()
                if row[3] in ("untested", "not applicable")]  # fmt: skip
    untested_must = [r for r in untested if load_catalogue()[r].level.value == "MUST"]
    assert data["scope"] == {
        "complete": False,
        "rules_tested": 5,
        "rules_in_catalogue": len(load_catalogue().rules),
        "untested_rules": untested,
        "untested_must_rules": untested_must,
    }
    assert "chain.independent_streams" in untested_must  # not applicable is not tested
    assert data["verdict_reason"].startswith(f"{len(untested_must)} MUST rules untested: ")
    result.stdout.fnmatch_lines([f"verdict: PARTIAL ({len(untested_must)} MUST rules untested: *"])
    assert "CONFORMANT" not in result.stdout.str()


def test_shipped_ddl_is_conformant_when_every_rule_is_tested(pytester: pytest.Pytester) -> None:
    result = run(pytester, SHIPPED_DDL, "--conformance-report=report.json",
                 only=FIXTURE_RULES, skip=())  # fmt: skip
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=7)
    data = json_report(pytester)
    assert data["verdict"] == "conformant"
    assert data["gate_passed"] is True
    assert data["scope"]["complete"] is True and data["scope"]["untested_rules"] == []


# --- Markdown ---------------------------------------------------------------------


def test_markdown_report_of_the_broken_ddl(pytester: pytest.Pytester) -> None:
    result = run(
        pytester, BROKEN_DDL, "--conformance-report=report.md", "--conformance-report=r.json"
    )
    result.stdout.fnmatch_lines(["conformance report: report.md", "conformance report: r.json"])
    assert json_report(pytester, "r.json")["verdict"] == "not conformant"
    text = (pytester.path / "report.md").read_text()
    sha = hashlib.sha256(BROKEN_DDL.read_bytes()).hexdigest()
    assert f"**Verdict: not conformant** (MUST rules broken: {', '.join(BROKEN_RULES)})" in text
    assert f"| DDL | `{BROKEN_DDL}` |" in text
    assert f"| DDL sha256 | `{sha}` |" in text
    assert "| Backend | sqlite (SQLite 3." in text
    assert f"| Kit | event-store-conformance {__version__} |" in text
    assert (
        "| Scenarios | 7 scenarios: 3 passed, 3 failed, 0 warnings, 1 not applicable, 0 errors |"
        in text
    )
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(load_catalogue().rules)
    for rule_id, (passed, failed, not_applicable, status) in expected_matrix(BROKEN_MATRIX).items():
        rule = load_catalogue()[rule_id]
        statement = rule.statement.replace("|", "\\|")
        counts = f"{passed} | {failed} | {not_applicable}"
        assert f"| `{rule_id}` | {rule.level.value} | {statement} | {counts} | {status} |" in rows
    failing = text.split("## Failing scenarios (MUST)")[1].split("\n## ")[0]
    for name, line in FAILING_STEP_LINES.items():
        assert f"### `scenarios.yaml:{SCENARIO_LINES[name]}` {name}" in failing
        assert f"- Step: `scenarios.yaml:{line}` " in failing
    assert (
        "- Database error: `SQLITE_CONSTRAINT_CHECK: CHECK constraint failed: data != ''`"
        in failing
    )
    assert "## Warnings (SHOULD)" not in text
    assert (
        f"## Not applicable\n\n- `scenarios.yaml:50` {NOT_APPLICABLE}: "
        "backend lacks the capability two-entities" in text
    )


# --- terminal summary and levels --------------------------------------------------


def test_terminal_summary_shows_the_matrix_and_the_verdict(pytester: pytest.Pytester) -> None:
    result = run(pytester, BROKEN_DDL)
    result.stdout.fnmatch_lines(
        [
            "*= conformance: *sqlite-broken-event-store.ddl on sqlite (SQLite 3.*) =*",
            "rule * level * pass fail  n/a  status * statement",
            "appends.empty_data * MUST * 0 * 1 * 0  broken * data may be an empty string",
            "chain.first_event * MUST * 1 * 0 * 0  holds *",
            "chain.independent_streams * MUST * 0 * 0 * 1  not applicable *",
            "immutability.events * MUST * 1 * 1 * 0  broken *",
            "not applicable:",
            f"  scenarios.yaml:50: {NOT_APPLICABLE}: backend lacks the capability two-entities",
            f"verdict: NOT CONFORMANT (MUST rules broken: {', '.join(BROKEN_RULES)}); "
            "7 scenarios: 3 passed, 3 failed, 0 warnings, 1 not applicable, 0 errors",
        ]
    )


def test_broken_should_rules_are_warnings_and_exit_0(pytester: pytest.Pytester) -> None:
    result = run(pytester, BROKEN_DDL, "--conformance-report=report.json",
                 should=tuple(BROKEN_RULES), only=FIXTURE_RULES, skip=())  # fmt: skip
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=4, xfailed=3)
    data = json_report(pytester)
    assert data["verdict"] == "conformant with warnings"
    assert data["gate_passed"] is True
    assert data["totals"]["warnings"] == 3
    assert {s["name"] for s in data["scenarios"] if s["status"] == "warning"} == set(
        FAILING_STEP_LINES
    )
    statuses = {
        rule_id: row[3] for rule_id, row in matrix_of(data).items() if rule_id in BROKEN_RULES
    }
    assert statuses == dict.fromkeys(BROKEN_RULES, "warning")
    result.stdout.fnmatch_lines(
        [
            "chain.linear * SHOULD * 0 * 1 * 0  warning *",
            "warnings (SHOULD rules broken; they fail the run only with --conformance-strict):",
            f"  scenarios.yaml:19: {STALE} [chain.linear]",
            "verdict: CONFORMANT WITH WARNINGS (SHOULD rules broken: "
            f"{', '.join(BROKEN_RULES)}); 7 scenarios: 4 passed, 0 failed, 3 warnings, *",
        ]
    )


def test_strict_makes_broken_should_rules_fail_the_run(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        BROKEN_DDL,
        "--conformance-strict",
        "--conformance-report=report.json",
        should=tuple(BROKEN_RULES),
        only=FIXTURE_RULES,
        skip=(),
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=4, failed=3)
    data = json_report(pytester)
    assert data["verdict"] == "conformant with warnings"
    assert data["strict"] is True
    assert data["gate_passed"] is False


def test_one_broken_must_rule_fails_the_run_beside_should_warnings(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        BROKEN_DDL,
        "--conformance-report=report.json",
        should=("chain.linear", "immutability.events"),
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=3, skipped=1, failed=1, xfailed=2)
    data = json_report(pytester)
    assert data["verdict"] == "not conformant"
    assert data["verdict_reason"] == "MUST rules broken: appends.empty_data"


def test_a_scenario_that_cannot_run_makes_the_verdict_incomplete(pytester: pytest.Pytester) -> None:
    result = run(pytester, SHIPPED_DDL, "--conformance-report=report.json", fail_setup=(DELETED,))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    data = json_report(pytester)
    assert data["verdict"] == "incomplete"
    assert data["gate_passed"] is False
    assert by_name(data)[DELETED]["status"] == "error"
    assert by_name(data)[DELETED]["reason"] == "RuntimeError: lost the connection"
    assert matrix_of(data)["immutability.events"] == (1, 0, 0, "error")  # never "holds"


def test_a_skip_while_the_scenario_runs_is_not_applicable_too(pytester: pytest.Pytester) -> None:
    extra = SKIP_WHILE_RUNNING.format(name=NOT_APPLICABLE)
    result = run(
        pytester, BROKEN_DDL, "--conformance-report=report.json", skip=(), conftest_extra=extra
    )
    result.assert_outcomes(passed=3, failed=3, skipped=1)
    data = json_report(pytester)
    assert matrix_of(data) == expected_matrix(BROKEN_MATRIX)
    assert by_name(data)[NOT_APPLICABLE]["reason"] == "backend lacks the capability two-entities"


# --- JUnit XML and --collect-only -------------------------------------------------


def junit_cases(pytester: pytest.Pytester) -> dict[str, ET.Element]:
    root = ET.parse(pytester.path / "junit.xml").getroot()
    return {case.get("name"): case for case in root.iter("testcase")}


def properties(case: ET.Element) -> list[tuple[str, str]]:
    return [(p.get("name"), p.get("value")) for p in case.iter("property")]


def test_junit_cases_carry_rule_ids_and_level(pytester: pytest.Pytester) -> None:
    run(pytester, BROKEN_DDL, "--junitxml=junit.xml", should=("chain.linear",))
    cases = junit_cases(pytester)
    assert set(cases) == set(SCENARIO_LINES)
    assert properties(cases[STALE]) == [("rule", "chain.linear"), ("level", "SHOULD")]
    assert properties(cases[DELETED]) == [("rule", "immutability.events"), ("level", "MUST")]
    assert cases[DELETED].find("failure") is not None
    skipped = cases[STALE].find("skipped")
    assert skipped is not None and skipped.get("type") == "pytest.xfail"
    assert skipped.get("message") == "SHOULD rule broken: chain.linear (a warning, not a failure)"
    assert cases[NOT_APPLICABLE].find("skipped") is not None


def test_collect_only_lists_scenarios_with_their_rule_ids(pytester: pytest.Pytester) -> None:
    result = run(pytester, BROKEN_DDL, "--collect-only", "-q", "--conformance-report=report.json")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "*= conformance: 7 scenarios and their rules =*",
            "scenarios.yaml:13: a subsequent event naming the last event is accepted  "
            "[chain.previous_exists] MUST",
            f"scenarios.yaml:19: {STALE}  [chain.linear] MUST",
            f"scenarios.yaml:50: {NOT_APPLICABLE}  [chain.independent_streams] MUST",
        ]
    )
    assert not (pytester.path / "report.json").exists()


# --- options ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--conformance-report=report.txt",),
            "*--conformance-report report.txt: the extension must be .md (Markdown) or .json *",
        ),
        (
            ("--conformance-report=missing/report.md",),
            "*--conformance-report missing/report.md: no such folder missing",
        ),
    ],
)
def test_a_report_path_that_cannot_be_written_is_a_usage_error(
    pytester: pytest.Pytester, args: tuple[str, ...], message: str
) -> None:
    result = run(pytester, SHIPPED_DDL, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str()


def test_report_options_without_ddl_are_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--conformance-report=report.md", "--lint"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--conformance-report, --lint: needs --ddl FILE (the DDL to check)"]
    )


def test_lint_findings_are_advice_and_do_not_fail_the_run(pytester: pytest.Pytester) -> None:
    text = SHIPPED_DDL.read_text()
    line = text.splitlines().index("CREATE TABLE IF NOT EXISTS entity_events (") + 1
    sloppy = pytester.path / "sqlite-sloppy.ddl"
    sloppy.write_text(
        text.replace(
            "CREATE TABLE IF NOT EXISTS entity_events", "create table if not exists entity_events"
        )
    )
    result = run(pytester, sloppy, "--lint", "--conformance-report=report.json",
                 only=FIXTURE_RULES, skip=())  # fmt: skip
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            f"lint (advice, sqlfluff dialect sqlite): {sloppy}: 5 findings",
            f"  {sloppy}:{line}:1: CP01 Keywords must be upper case.",
            "verdict: CONFORMANT *",
        ]
    )
    lint = json_report(pytester)["lint"]
    assert lint["dialect"] == "sqlite"
    assert [(f["line"], f["column"], f["code"]) for f in lint["findings"]] == [
        (line, 1, "CP01"),
        (line, 8, "CP01"),
        (line, 14, "CP01"),
        (line, 17, "CP01"),
        (line, 21, "CP01"),
    ]


def test_lint_of_the_shipped_ddl_is_clean_in_the_markdown_report(pytester: pytest.Pytester) -> None:
    run(pytester, SHIPPED_DDL, "--lint", "--conformance-report=report.md")
    text = (pytester.path / "report.md").read_text()
    assert f"## Lint advice\n\n`{SHIPPED_DDL}` lints clean (sqlfluff, dialect sqlite)." in text


# --- pytest-xdist -----------------------------------------------------------------


def test_the_matrix_is_the_same_with_xdist_workers(pytester: pytest.Pytester) -> None:
    result = run(pytester, BROKEN_DDL, "-n", "2", "--conformance-report=report.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    data = json_report(pytester)
    assert matrix_of(data) == expected_matrix(BROKEN_MATRIX)
    assert data["verdict"] == "not conformant"
    result.stdout.fnmatch_lines(["verdict: NOT CONFORMANT *"])


def test_ini_keys_set_the_report_path_relative_to_the_ini_file(pytester: pytest.Pytester) -> None:
    pytester.mkdir("reports")
    pytester.makeini(
        "[pytest]\nconformance_report = reports/report.md\nconformance_strict = true\n"
    )
    result = run(pytester, BROKEN_DDL, should=tuple(BROKEN_RULES), only=FIXTURE_RULES, skip=())
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = (pytester.path / "reports" / "report.md").read_text()
    assert "**Verdict: conformant with warnings**" in text
    assert "| Strict | yes: warnings fail the run |" in text


def test_a_report_that_cannot_be_written_at_the_end_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.mkdir("reports")
    vanishing_folder = """

import shutil


def pytest_sessionstart(session):
    shutil.rmtree("reports")
"""
    result = run(
        pytester,
        SHIPPED_DDL,
        "--conformance-report=reports/report.md",
        conftest_extra=vanishing_folder,
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(
        ["--conformance-report reports/report.md: cannot write: No such file or directory"]
    )
