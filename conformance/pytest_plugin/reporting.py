"""pytest hooks for the conformance report: levels, rule matrix, report files, JUnit, lint.

Its own pytest11 entry point; it reads what conformance.pytest_plugin.collection sets up (the Kit in
`config.stash`, `item.scenario` and `item.result`) and stays idle without --ddl.

Levels: a scenario whose failing step breaks only SHOULD rules becomes an expected
failure, pytest's xfail (report outcome "skipped" with `wasxfail` naming the rules).
pytest counts it as xfailed and exits 0, JUnit XML records it as skipped with type
pytest.xfail, pytest-xdist carries it like any xfail. --conformance-strict leaves it a
failure. A scenario skipped with a reason (a backend lacking a capability) is not
applicable.

Every outcome is condensed into a plain-data record attached to pytest's report, so
that with pytest-xdist the process that prints the summary sees every worker's records.

PYTEST_DONT_REWRITE: no test code here, so pytest need not rewrite its asserts.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conformance import __version__
from conformance.errors import KitError
from conformance.pytest_plugin.collection import KIT_KEY, Kit, ScenarioItem
from conformance.pytest_plugin.fuzz import FUZZ_KEY, ITEM_NAME, FuzzItem, fuzz_record
from conformance.pytest_plugin.options import settings
from conformance.results.lint import LintReport, dialect_for_dsn, lint_ddl
from conformance.results.matrix import (
    Matrix,
    ScenarioRecord,
    Status,
    Verdict,
    level_of,
    record_error,
    record_not_applicable,
    record_of_result,
)
from conformance.results.outcome import bounded
from conformance.results.reports import (
    ProfileInfo,
    Report,
    RunInfo,
    check_report_path,
    write_report,
)
from conformance.spec.catalogue import Catalogue, Level

RECORD_ATTRIBUTE = "conformance_record"


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """After conformance.pytest_plugin.collection made the Kit: register the reporter that holds this run's state."""
    kit = config.stash.get(KIT_KEY, None)
    if kit is None:
        flags = settings(config).reporting_flags
        if flags:
            raise pytest.UsageError(f"{', '.join(flags)}: needs --ddl FILE (the DDL to check)")
        return
    given = settings(config)
    try:
        for path in given.report_paths:
            check_report_path(path)
    except KitError as exc:
        raise pytest.UsageError(str(exc)) from None
    reporter = ConformanceReporter(kit, list(given.report_paths), given.strict, given.lint)
    config.pluginmanager.register(reporter, "conformance-reporter")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


class ConformanceReporter:
    """The hooks of one run, with what they gather: records, timing, the report."""

    def __init__(self, kit: Kit, report_paths: list[Path], strict: bool, lint: bool) -> None:
        self.kit = kit
        self.report_paths = report_paths
        self.strict = strict
        self.lint = lint
        self.started = datetime.now(timezone.utc)
        self.clock = time.perf_counter()
        self.server_version = ""
        self.records: dict[str, ScenarioRecord] = {}
        self.collected: list[ScenarioItem] = []
        self.report: Report | None = None
        self.written: list[Path] = []
        self.write_errors: list[str] = []

    @property
    def catalogue(self) -> Catalogue:
        return self.kit.catalogue

    def pytest_sessionstart(self) -> None:
        self.started = datetime.now(timezone.utc)
        self.clock = time.perf_counter()
        self.server_version = self.kit.backend.server_version()

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        """Rule ids and level as JUnit XML properties, one `rule` property per rule."""
        if not isinstance(item, ScenarioItem):
            return
        rules = item.scenario.all_rules
        item.user_properties += [("rule", rule_id) for rule_id in rules]
        item.user_properties.append(("level", level_of(rules, self.catalogue).value))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = [item for item in session.items if isinstance(item, ScenarioItem)]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        report: pytest.TestReport = yield
        if isinstance(item, ScenarioItem):
            record = _record(item, call, report, self.catalogue)
        elif isinstance(item, FuzzItem):
            record = _fuzz_record(item, call, report, self.catalogue)
            if record is not None:  # JUnit XML reads them from the item at teardown
                item.user_properties += [("rule", rule_id) for rule_id in record.violated]
                item.user_properties.append(("level", record.level.value))
        else:
            return report
        if record is None:
            return report
        if record.status is Status.WARNING and report.failed and not self.strict:
            report.outcome = "skipped"
            report.wasxfail = (
                f"SHOULD rule broken: {', '.join(record.violated)} (a warning, not a failure)"
            )
        setattr(report, RECORD_ATTRIBUTE, record.to_dict())
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, RECORD_ATTRIBUTE, None)
        if data is None:
            return
        record = ScenarioRecord.from_dict(data)
        earlier = self.records.get(record.nodeid)
        if earlier is None or earlier.status is Status.PASSED:
            self.records[record.nodeid] = record

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if _is_worker(session.config) or session.config.option.collectonly:
            return
        stopped = exitstatus == pytest.ExitCode.INTERRUPTED or bool(
            session.shouldfail or session.shouldstop
        )
        matrix = Matrix.build(self.catalogue, self.records.values(), stopped_early=stopped)
        lint = (
            lint_ddl(self.kit.ddl.path, self.kit.ddl.text, dialect_for_dsn(self.kit.backend.dsn))
            if self.lint
            else None
        )
        self.report = Report(matrix, self.run_info(), lint)
        for path in self.report_paths:
            try:
                write_report(path, self.report)
            except OSError as exc:
                self.write_errors.append(
                    f"--conformance-report {path}: cannot write: {exc.strerror or exc}"
                )
                session.exitstatus = pytest.ExitCode.USAGE_ERROR
            else:
                self.written.append(path)

    def run_info(self) -> RunInfo:
        return RunInfo(
            ddl_path=str(self.kit.ddl.path),
            ddl_sha256=self.kit.ddl.sha256,
            backend=self.kit.backend.name,
            server_version=self.server_version,
            kit_version=__version__,
            started=self.started,
            duration_seconds=time.perf_counter() - self.clock,
            strict=self.strict,
            profile=ProfileInfo(
                name=self.kit.profile.name,
                source=self.kit.profile.source,
                sha256=self.kit.profile.sha256,
                client_event_ids=self.kit.backend.client_statements.client_event_ids,
                lacks=dict(self.kit.profile.lacks),
            ),
            notes=tuple(self.kit.backend.notes()),
        )

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if terminalreporter.config.option.collectonly:
            _print_collected(terminalreporter, self.collected, self.catalogue)
        elif self.report is not None:
            _print_report(terminalreporter, self, self.report)


def _record(
    item: ScenarioItem, call: pytest.CallInfo[None], report: pytest.TestReport, catalogue: Catalogue
) -> ScenarioRecord | None:
    """The record this phase decides, if it decides one."""
    if report.when == "call" and item.result is not None:
        return record_of_result(item.nodeid, item.result, catalogue)
    if report.skipped and report.when != "teardown" and not hasattr(report, "wasxfail"):
        return record_not_applicable(item.nodeid, item.scenario, catalogue, _skip_reason(report))
    if report.failed:
        return record_error(item.nodeid, item.scenario, catalogue, _why(call, report))
    return None


def _fuzz_record(
    item: FuzzItem, call: pytest.CallInfo[None], report: pytest.TestReport, catalogue: Catalogue
) -> ScenarioRecord | None:
    """The search's record once it ran; an error record if it could not run."""
    searched = item.config.stash[FUZZ_KEY].report
    if report.when == "call" and searched is not None:
        return fuzz_record(item.nodeid, searched, catalogue)
    if report.failed:
        text = _why(call, report)
        return ScenarioRecord(item.nodeid, "fuzz search", ITEM_NAME, (), Level.MUST,
                              Status.ERROR, reason=bounded(text))  # fmt: skip
    return None


def _why(call: pytest.CallInfo[None], report: pytest.TestReport) -> str:
    """What stopped an item, in one line: the kit's own message as it is (never the name
    of its class), anything else with the exception's name."""
    if call.excinfo is None:
        return f"failed in {report.when}"
    if isinstance(call.excinfo.value, KitError):
        return str(call.excinfo.value).splitlines()[0]
    return call.excinfo.exconly().splitlines()[0]


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr or "skipped")


# --- terminal ---------------------------------------------------------------------


def _print_collected(
    tr: pytest.TerminalReporter, items: list[ScenarioItem], catalogue: Catalogue
) -> None:
    tr.write_sep("=", f"conformance: {len(items)} scenarios and their rules")
    for item in items:
        rules = item.scenario.all_rules
        tr.write_line(
            f"{item.scenario.location}: {item.scenario.name}  "
            f"[{', '.join(rules)}] {level_of(rules, catalogue).value}"
        )


def _print_report(tr: pytest.TerminalReporter, state: ConformanceReporter, report: Report) -> None:
    matrix, info = report.matrix, report.info
    tr.write_sep("=", f"conformance: {info.ddl_path} on {info.backend} ({info.server_version})")
    if info.profile is not None:
        profile = info.profile
        tr.write_line(f"profile: {profile.name} ({profile.source}, sha256 {profile.sha256[:12]})")
        for line in profile.scope_lines():
            tr.write_line(f"scope: {line}")
    for note in info.notes:
        tr.write_line(f"note: {note}", yellow=True)
    for line in matrix_lines(matrix, shutil.get_terminal_size().columns):
        tr.write_line(line)
    _print_records(
        tr,
        "warnings (SHOULD rules broken; they fail the run only with --conformance-strict)",
        matrix.with_status(Status.WARNING),
    )
    _print_records(tr, "not applicable", matrix.with_status(Status.NOT_APPLICABLE))
    _print_records(tr, "could not run", matrix.with_status(Status.ERROR))
    if report.lint is not None:
        for line in lint_lines(report.lint):
            tr.write_line(line)
    for path in state.written:
        tr.write_line(f"conformance report: {path}")
    for error in state.write_errors:
        tr.write_line(error, red=True, bold=True)
    colours = {Verdict.CONFORMANT: "green", Verdict.WARNINGS: "yellow", Verdict.PARTIAL: "yellow"}
    colour = colours.get(matrix.verdict, "red")
    verdict = f"verdict: {matrix.verdict.value.upper()} ({matrix.verdict_reason()})"
    tr.write_line(
        f"{verdict}; {matrix.totals_text()}",
        **{colour: True, "bold": True},
    )


def matrix_lines(matrix: Matrix, width: int) -> list[str]:
    """The rule matrix as aligned text, statements cut to fit `width`."""
    id_width = max(len(row.rule.id) for row in matrix.rows)
    head = f"{'rule':<{id_width}}  level   pass fail  n/a  {'status':<14}  "
    room = max(width - len(head) - 1, 40)
    lines = [head + "statement"]
    for row in matrix.rows:
        statement = row.rule.statement
        if len(statement) > room:
            statement = statement[: room - 3] + "..."
        lines.append(
            f"{row.rule.id:<{id_width}}  {row.rule.level.value:<6} {row.passed:>5} {row.failed:>4} "
            f"{row.not_applicable:>4}  {row.status.value:<14}  {statement}"
        )
    return lines


def _print_records(tr: pytest.TerminalReporter, title: str, records: list[ScenarioRecord]) -> None:
    if not records:
        return
    tr.write_line(f"{title}:", yellow=True)
    for record in records:
        why = f" [{', '.join(record.violated)}]" if record.violated else f": {record.reason}"
        tr.write_line(f"  {record.location}: {record.name}{why}")


def lint_lines(lint: LintReport) -> list[str]:
    if lint.dialect is None:
        return [f"lint (advice): {lint.path} not linted: {lint.note}"]
    head = f"lint (advice, sqlfluff dialect {lint.dialect}): {lint.path}"
    if not lint.findings:
        return [f"{head}: clean"]
    return [f"{head}: {len(lint.findings)} findings"] + [
        f"  {lint.path}:{finding}" for finding in lint.findings
    ]
