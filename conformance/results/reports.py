"""The conformance report as a file: Markdown for people (a CI job summary), JSON for tools.

The JSON follows conformance/schema/report.schema.json; `REPORT_VERSION` is its
version and changes only when a consumer would have to change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.errors import KitError
from conformance.results.failure import placement_text
from conformance.results.lint import LintReport
from conformance.results.matrix import Matrix, ScenarioRecord, Status
from conformance.results.outcome import bounded

REPORT_VERSION = 2
KIT_NAME = "event-store-conformance"
STRICT_WORDS = {True: "yes: warnings fail the run", False: "no: warnings do not fail the run"}


@dataclass(frozen=True)
class ProfileInfo:
    """The profile the DDL was checked through, and the scope it leaves out."""

    name: str
    source: str
    sha256: str
    client_event_ids: bool
    lacks: dict[str, str]

    def scope_lines(self) -> list[str]:
        """What the verdict does not cover because of the profile, one line each."""
        lines = [f"profile {self.name} lacks {need}: {why}" for need, why in self.lacks.items()]
        if not self.client_event_ids:
            lines.append(
                f"profile {self.name}: the database makes the eventId; scenarios that send "
                "their own eventIds are not applicable"
            )
        return lines


@dataclass(frozen=True)
class RunInfo:
    """What was checked, where, with which kit, and when."""

    ddl_path: str
    ddl_sha256: str
    backend: str
    server_version: str
    kit_version: str
    started: datetime
    duration_seconds: float
    strict: bool
    profile: ProfileInfo | None = None
    # What the backend says once about the run (e.g. client steps ran as the DSN's user).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    matrix: Matrix
    info: RunInfo
    lint: LintReport | None = None


@cache
def report_schema() -> dict[str, Any]:
    text = resources.files("conformance.schema").joinpath("report.schema.json").read_text()
    return json.loads(text)


# --- JSON -------------------------------------------------------------------------


def report_data(report: Report) -> dict[str, Any]:
    matrix, info = report.matrix, report.info
    return {
        "report_version": REPORT_VERSION,
        "verdict": matrix.verdict.value,
        "verdict_reason": matrix.verdict_reason(),
        "gate_passed": matrix.gate_passed(info.strict),
        "strict": info.strict,
        "kit": {"name": KIT_NAME, "version": info.kit_version},
        "ddl": {"path": info.ddl_path, "sha256": info.ddl_sha256},
        **_profile_data(info.profile),
        "backend": {"name": info.backend, "server_version": info.server_version},
        "notes": list(info.notes),
        "run": {
            "started": _timestamp(info.started),
            "duration_seconds": round(info.duration_seconds, 3),
            "stopped_early": matrix.stopped_early,
        },
        "scope": matrix.scope(),
        "totals": matrix.totals(),
        "rules": [
            {
                "id": row.rule.id,
                "level": row.rule.level.value,
                "statement": row.rule.statement,
                "section": row.rule.section,
                "passed": row.passed,
                "failed": row.failed,
                "not_applicable": row.not_applicable,
                "status": row.status.value,
            }
            for row in matrix.rows
        ],
        "scenarios": [_scenario_data(record) for record in matrix.records],
        "lint": _lint_data(report.lint),
    }


def _profile_data(profile: ProfileInfo | None) -> dict[str, Any]:
    if profile is None:
        return {}
    return {
        "profile": {
            "name": profile.name,
            "source": profile.source,
            "sha256": profile.sha256,
            "event_ids": "client" if profile.client_event_ids else "database",
            "lacks": dict(profile.lacks),
        }
    }


def _timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the second."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _scenario_data(record: ScenarioRecord) -> dict[str, Any]:
    failure = record.failure
    return {
        "nodeid": record.nodeid,
        "name": record.name,
        "location": record.location,
        "rules": list(record.rules),
        "level": record.level.value,
        "status": record.status.value,
        "violated_rules": list(record.violated),
        "failure": None
        if failure is None
        else {
            "step": failure.location,
            "summary": failure.summary,
            "expected": failure.expected,
            "actual": failure.actual,
            "database_error": failure.database_error,
            "detail": failure.detail,
        },
        "reason": record.reason or None,
        "fuzz": None if record.fuzz is None else asdict(record.fuzz),
        "setting": record.setting or None,
        "placement": record.placement or None,
    }


def _lint_data(lint: LintReport | None) -> dict[str, Any] | None:
    if lint is None:
        return None
    return {
        "path": lint.path,
        "dialect": lint.dialect,
        "note": lint.note or None,
        "findings": [
            {"line": f.line, "column": f.column, "code": f.code, "description": f.description}
            for f in lint.findings
        ],
    }


def render_json(report: Report) -> str:
    return json.dumps(report_data(report), indent=2, ensure_ascii=False) + "\n"


# --- Markdown ---------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    text = " ".join(text.split())
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _profile_rows(profile: ProfileInfo | None) -> list[str]:
    if profile is None:
        return []
    rows = [
        f"| Profile | {_cell(profile.name)} ({_code(profile.source)}) |",
        f"| Profile sha256 | `{profile.sha256}` |",
    ]
    return rows + [f"| Scope | {_cell(line)} |" for line in profile.scope_lines()]


def render_markdown(report: Report) -> str:
    matrix, info = report.matrix, report.info
    lines = [
        "# Event store conformance report",
        "",
        f"**Verdict: {matrix.verdict.value}** ({_cell(matrix.verdict_reason())})",
        "",
        "| | |",
        "| --- | --- |",
        f"| DDL | {_code(info.ddl_path)} |",
        f"| DDL sha256 | `{info.ddl_sha256}` |",
        *_profile_rows(info.profile),
        f"| Backend | {_cell(info.backend)} ({_cell(info.server_version)}) |",
        f"| Kit | {KIT_NAME} {info.kit_version} |",
        f"| Run | {_timestamp(info.started)}, {info.duration_seconds:.2f} s |",
        f"| Scenarios | {matrix.totals_text()} |",
        f"| Scope | {_scope_text(matrix)} |",
        f"| Strict | {STRICT_WORDS[info.strict]} |",
        *[f"| Note | {_cell(note)} |" for note in info.notes],
        "",
        "## Rules",
        "",
        "| Rule | Level | Statement | Passed | Failed | N/A | Status |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for row in matrix.rows:
        lines.append(
            f"| `{row.rule.id}` | {row.rule.level.value} | {_cell(row.rule.statement)} "
            f"| {row.passed} | {row.failed} | {row.not_applicable} | {row.status.value} |"
        )
    lines += _failure_section("Failing scenarios (MUST)", matrix.with_status(Status.FAILED))
    lines += _failure_section("Warnings (SHOULD)", matrix.with_status(Status.WARNING))
    lines += _reason_section("Scenarios that could not run", matrix.with_status(Status.ERROR))
    lines += _fuzz_section([r for r in matrix.records if r.fuzz is not None])
    lines += _reason_section("Not applicable", matrix.with_status(Status.NOT_APPLICABLE))
    lines += _lint_section(report.lint)
    return "\n".join(lines) + "\n"


def _failure_section(title: str, records: list[ScenarioRecord]) -> list[str]:
    if not records:
        return []
    lines = ["", f"## {title}"]
    for record in records:
        failure = record.failure
        assert failure is not None
        rules = ", ".join(f"`{rule_id}`" for rule_id in record.violated)
        lines += [
            "",
            f"### {_code(record.location)} {_cell(record.name)}",
            "",
            f"- Rules broken: {rules}",
            f"- Step: {_code(failure.location)} {_cell(failure.summary)}",
            f"- Expected: {_cell(failure.expected)}",
            f"- Actual: {_cell(failure.actual)}",
            f"- Database error: {_code(error) if (error := failure.database_error) else 'none'}",
        ]
        if record.placement:
            lines.append(f"- Sessions: {_cell(placement_text(record.placement))}")
        if failure.detail:
            lines += ["", "```text", failure.detail.replace("```", "'''"), "```"]
    return lines


def _scope_text(matrix: Matrix) -> str:
    scope = matrix.scope()
    tested = f"{scope['rules_tested']} of {scope['rules_in_catalogue']} rules tested"
    if scope["complete"]:
        return f"complete: {tested}, every MUST rule among them"
    untested = ", ".join(f"`{rule_id}`" for rule_id in scope["untested_must_rules"])
    return f"partial: {tested}; MUST rules untested: {untested}"


def _fuzz_section(records: list[ScenarioRecord]) -> list[str]:
    """The fuzzer's search: how to repeat it and, if it found one, the minimal case."""
    lines: list[str] = []
    for record in records:
        fuzz = record.fuzz
        assert fuzz is not None
        broken = ", ".join(f"`{rule_id}`" for rule_id in record.violated)
        outcome = record.status.value + (f", rules broken: {broken}" if broken else "")
        outcome += f" ({_cell(record.reason)})" if record.reason else ""
        lines += [
            "",
            "## Fuzz search",
            "",
            f"- Outcome: {outcome}",
            f"- Seed: `{fuzz.seed}` (`--conformance-fuzz-seed={fuzz.seed}` repeats the search)",
            f"- Examples: {fuzz.examples}, steps: {fuzz.steps}, {fuzz.seconds:.1f} s",
        ]
        if fuzz.saved_to:
            lines.append(f"- Saved to: {_code(fuzz.saved_to)}")
        if fuzz.minimal_case:
            case = "\n".join(bounded(line) for line in fuzz.minimal_case.splitlines())
            fence = "~~~~"  # the case may hold backticks, never a line of tildes
            lines += ["", "Minimal case (run it with `--no-bundled --scenarios=FILE`):", "",
                      f"{fence}yaml", case, fence]  # fmt: skip
    return lines


def _reason_section(title: str, records: list[ScenarioRecord]) -> list[str]:
    if not records:
        return []
    lines = ["", f"## {title}", ""]
    lines += [f"- {_code(r.location)} {_cell(r.name)}: {_cell(r.reason)}" for r in records]
    return lines


def _lint_section(lint: LintReport | None) -> list[str]:
    if lint is None:
        return []
    lines = ["", "## Lint advice", ""]
    if lint.dialect is None:
        return [*lines, f"{_code(lint.path)} was not linted: {_cell(lint.note)}."]
    if not lint.findings:
        return [*lines, f"{_code(lint.path)} lints clean (sqlfluff, dialect {lint.dialect})."]
    lines.append(
        f"sqlfluff, dialect {lint.dialect}: {len(lint.findings)} findings in {_code(lint.path)}."
    )
    lines.append("")
    lines += [
        f"- line {f.line}, column {f.column}: {f.code} {_cell(f.description)}"
        for f in lint.findings
    ]
    return lines


# --- files ------------------------------------------------------------------------

RENDERERS: dict[str, Callable[[Report], str]] = {
    ".md": render_markdown,
    ".markdown": render_markdown,
    ".json": render_json,
}


def check_report_path(path: Path) -> None:
    """Refuse, before anything runs, a report file the run could not write."""
    if path.suffix.lower() not in RENDERERS:
        raise KitError(
            f"--conformance-report {path}: the extension must be .md (Markdown) or .json (JSON)"
        )
    folder = path.parent
    if not folder.is_dir():
        raise KitError(f"--conformance-report {path}: no such folder {folder}")
    if path.is_dir():
        raise KitError(f"--conformance-report {path}: is a folder")


def write_report(path: Path, report: Report) -> None:
    text = RENDERERS[path.suffix.lower()](report)
    path.write_text(text, encoding="utf-8")
