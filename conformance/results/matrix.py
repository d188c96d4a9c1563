"""The rule matrix: rule by rule, what the scenarios of one run showed, and the verdict.

A scenario counts for a rule as passed when it passed and names the rule, as failed
when its failing step shows that rule broken, and as not applicable when it was skipped
(the backend lacks something the scenario needs). The fuzzer's search counts the same
way: a divergence it found is a failed record naming the rules it broke. Levels decide
the verdict: a broken MUST rule makes the DDL not conformant, a broken SHOULD rule is
only a warning. An error (the database raised something that is not a rule's
rejection) is never a warning: in a SHOULD scenario it makes the run incomplete. A run
that leaves a MUST rule untested (part of the corpus selected) is only partial.

Records are plain data (`to_dict`/`from_dict`) so that they travel inside pytest's
reports from pytest-xdist workers to the process that writes the summary.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from conformance.results.outcome import ScenarioResult, StepReport, bounded
from conformance.scenario.objects import Scenario
from conformance.spec.catalogue import SETTINGS_RULE, Catalogue, Level, Rule


class Status(enum.Enum):
    """What one scenario showed."""

    PASSED = "passed"
    FAILED = "failed"  # a MUST rule broken
    WARNING = "warning"  # only SHOULD rules broken
    NOT_APPLICABLE = "not applicable"
    ERROR = "error"  # the kit could not run it to the end


class RuleStatus(enum.Enum):
    HOLDS = "holds"
    BROKEN = "broken"  # a MUST rule with a failing scenario
    WARNING = "warning"  # a SHOULD rule with a failing scenario
    ERROR = "error"  # no failure, but a scenario naming it could not run to the end
    NOT_APPLICABLE = "not applicable"
    UNTESTED = "untested"


class Verdict(enum.Enum):
    CONFORMANT = "conformant"
    WARNINGS = "conformant with warnings"
    NOT_CONFORMANT = "not conformant"
    INCOMPLETE = "incomplete"
    PARTIAL = "partial"  # nothing broken, but some MUST rule was not tested


@dataclass(frozen=True)
class StepFailure:
    """The step that failed, in the words of the scenario file and of the database."""

    location: str
    summary: str
    expected: str
    actual: str
    database_error: str | None
    detail: str


@dataclass(frozen=True)
class FuzzSummary:
    """The fuzzer's search: how to repeat it, how far it went, the minimal case it found."""

    seed: int
    examples: int
    steps: int
    seconds: float
    minimal_case: str | None = None  # a scenario file reproducing the divergence
    saved_to: str | None = None


@dataclass(frozen=True)
class ScenarioRecord:
    nodeid: str
    name: str
    location: str
    rules: tuple[str, ...]
    level: Level
    status: Status
    violated: tuple[str, ...] = ()
    failure: StepFailure | None = None
    reason: str = ""  # why it was not applicable, or what stopped it
    fuzz: FuzzSummary | None = None  # set on the fuzzer's record only
    placement: dict[str, str] = field(default_factory=dict)  # session -> node, on a cluster
    # The session setting a variant ran under (`foreign_key_checks=0`); empty for a
    # scenario as written. A variant counts for session.settings alone, unless it fails:
    # then it blames the rules its step broke as well.
    setting: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(level=self.level.value, status=self.status.value)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScenarioRecord:
        failure, fuzz = data.get("failure"), data.get("fuzz")
        return cls(
            nodeid=data["nodeid"],
            name=data["name"],
            location=data["location"],
            rules=tuple(data["rules"]),
            level=Level(data["level"]),
            status=Status(data["status"]),
            violated=tuple(data["violated"]),
            failure=StepFailure(**failure) if failure else None,
            reason=data["reason"],
            fuzz=FuzzSummary(**fuzz) if fuzz else None,
            placement=dict(data.get("placement") or {}),
            setting=data.get("setting") or "",
        )


def level_of(rule_ids: Iterable[str], catalogue: Catalogue) -> Level:
    """The strongest level among the rules: MUST if any of them is a MUST."""
    levels = {catalogue[rule_id].level for rule_id in rule_ids}
    return Level.SHOULD if levels == {Level.SHOULD} else Level.MUST


def _base(nodeid: str, scenario: Scenario, catalogue: Catalogue) -> dict[str, Any]:
    return {
        "nodeid": nodeid,
        "name": scenario.name,
        "location": str(scenario.location),
        "rules": scenario.all_rules,
        "level": level_of(scenario.all_rules, catalogue),
        "setting": scenario.setting,
    }


def record_of_result(nodeid: str, result: ScenarioResult, catalogue: Catalogue) -> ScenarioRecord:
    """A finished run: passed, or failed / warning by the level of the rules it broke;
    an error where only SHOULD rules are at stake is an error, never a warning."""
    base = _base(nodeid, result.scenario, catalogue)
    step = result.failure
    base["placement"] = result.placement
    if step is None:
        return ScenarioRecord(**base, status=Status.PASSED)
    violated = result.violated_rules or result.scenario.all_rules
    return failed_record(base, violated, step_failure(step), catalogue, errored=step.errored)


def step_failure(step: StepReport) -> StepFailure:
    error = None if step.error is None else bounded(step.error)
    detail = "\n".join(bounded(line) for line in step.detail.splitlines())
    return StepFailure(
        str(step.location), bounded(step.summary), step.expected, bounded(step.actual), error,
        detail,
    )  # fmt: skip


def failed_record(
    base: dict[str, Any],
    violated: tuple[str, ...],
    failure: StepFailure,
    catalogue: Catalogue,
    errored: bool = False,
    **extra: Any,
) -> ScenarioRecord:
    """FAILED when a MUST rule is at stake; else WARNING, or ERROR if the database erred."""
    if level_of(violated, catalogue) is Level.MUST:
        status = Status.FAILED
    else:
        status = Status.ERROR if errored else Status.WARNING
    reason = (
        "the database raised an error, not a rule's rejection" if status is Status.ERROR else ""
    )
    return ScenarioRecord(**base, status=status, violated=violated, failure=failure,
                          reason=reason, **extra)  # fmt: skip


def record_not_applicable(
    nodeid: str, scenario: Scenario, catalogue: Catalogue, reason: str
) -> ScenarioRecord:
    return ScenarioRecord(
        **_base(nodeid, scenario, catalogue), status=Status.NOT_APPLICABLE, reason=reason
    )


def record_error(
    nodeid: str, scenario: Scenario, catalogue: Catalogue, text: str
) -> ScenarioRecord:
    base = _base(nodeid, scenario, catalogue)
    return ScenarioRecord(**base, status=Status.ERROR, reason=bounded(text))


@dataclass(frozen=True)
class RuleRow:
    rule: Rule
    passed: int
    failed: int
    not_applicable: int
    errors: int = 0

    @property
    def status(self) -> RuleStatus:
        if self.failed:
            return RuleStatus.BROKEN if self.rule.level is Level.MUST else RuleStatus.WARNING
        if self.errors:
            return RuleStatus.ERROR
        if self.passed:
            return RuleStatus.HOLDS
        return RuleStatus.NOT_APPLICABLE if self.not_applicable else RuleStatus.UNTESTED


@dataclass(frozen=True)
class Matrix:
    """Every rule of the catalogue with its counts, and the records they come from."""

    rows: tuple[RuleRow, ...]
    records: tuple[ScenarioRecord, ...]
    stopped_early: bool = False  # interrupted or stopped by --maxfail

    @classmethod
    def build(
        cls, catalogue: Catalogue, records: Iterable[ScenarioRecord], stopped_early: bool = False
    ) -> Matrix:
        records = tuple(records)
        rows = tuple(_row(rule, records) for rule in catalogue.rules)
        return cls(rows, records, stopped_early)

    def with_status(self, status: Status) -> list[ScenarioRecord]:
        return [record for record in self.records if record.status is status]

    def count(self, status: Status) -> int:
        return len(self.with_status(status))

    def rules_with(self, status: RuleStatus) -> list[str]:
        return [row.rule.id for row in self.rows if row.status is status]

    @property
    def untested_must_rules(self) -> list[str]:
        """MUST rules no scenario of this run tested (not selected, or not applicable)."""
        untested = (RuleStatus.UNTESTED, RuleStatus.NOT_APPLICABLE)
        return [r.rule.id for r in self.rows if r.rule.level is Level.MUST and r.status in untested]

    @property
    def verdict(self) -> Verdict:
        if self.count(Status.FAILED):
            return Verdict.NOT_CONFORMANT
        if self.count(Status.ERROR) or self.stopped_early or not self.records:
            return Verdict.INCOMPLETE
        if self.untested_must_rules:
            return Verdict.PARTIAL
        if self.count(Status.WARNING):
            return Verdict.WARNINGS
        return Verdict.CONFORMANT

    def gate_passed(self, strict: bool) -> bool:
        """Whether a CI gate lets the DDL through: warnings pass unless strict; a partial
        run never does (the exit code still gates a deliberately chosen subset)."""
        return self.verdict is Verdict.CONFORMANT or (
            self.verdict is Verdict.WARNINGS and not strict
        )

    def scope(self) -> dict[str, Any]:
        """What the run covered: complete when every MUST rule was tested."""
        untested = (RuleStatus.UNTESTED, RuleStatus.NOT_APPLICABLE)
        return {
            "complete": not self.untested_must_rules,
            "rules_tested": sum(row.status not in untested for row in self.rows),
            "rules_in_catalogue": len(self.rows),
            "untested_rules": [row.rule.id for row in self.rows if row.status in untested],
            "untested_must_rules": self.untested_must_rules,
        }

    def totals(self) -> dict[str, int]:
        counts = {status: self.count(status) for status in Status}
        return {
            "scenarios": len(self.records),
            "passed": counts[Status.PASSED],
            "failed": counts[Status.FAILED],
            "warnings": counts[Status.WARNING],
            "not_applicable": counts[Status.NOT_APPLICABLE],
            "errors": counts[Status.ERROR],
        }

    def totals_text(self) -> str:
        t = self.totals()
        return (
            f"{t['scenarios']} scenarios: {t['passed']} passed, {t['failed']} failed, "
            f"{t['warnings']} warnings, {t['not_applicable']} not applicable, {t['errors']} errors"
        )

    def verdict_reason(self) -> str:
        """Why the verdict is what it is, in one clause."""
        verdict = self.verdict
        if verdict is Verdict.NOT_CONFORMANT:
            broken = self.rules_with(RuleStatus.BROKEN)
            return f"MUST rules broken: {', '.join(broken)}"
        if verdict is Verdict.INCOMPLETE:
            if not self.records:
                return "no scenario ran"
            if self.count(Status.ERROR):
                return f"{self.count(Status.ERROR)} scenarios could not be run to the end"
            return "the run stopped before every scenario ran"
        warnings = self.rules_with(RuleStatus.WARNING)
        if verdict is Verdict.PARTIAL:
            untested = self.untested_must_rules
            also = f"; SHOULD rules broken: {', '.join(warnings)}" if warnings else ""
            return (
                f"{len(untested)} MUST rules untested: {_listed(untested)}; "
                f"the rules tested hold{also}"
            )
        if verdict is Verdict.WARNINGS:
            return f"SHOULD rules broken: {', '.join(warnings)}"
        untested = len(self.rules_with(RuleStatus.UNTESTED))
        return "every rule tested holds" + (f"; {untested} rules untested" if untested else "")


def _listed(ids: list[str], room: int = 4) -> str:
    shown = ", ".join(ids[:room])
    return shown + (f" and {len(ids) - room} more" if len(ids) > room else "")


def _row(rule: Rule, records: tuple[ScenarioRecord, ...]) -> RuleRow:
    passed = failed = not_applicable = errors = 0
    for record in records:
        broke = record.status in (Status.FAILED, Status.WARNING)
        if record.setting and rule.id != SETTINGS_RULE and not broke:
            continue  # a variant counts for session.settings, unless it breaks a rule
        if record.status is Status.PASSED and rule.id in record.rules:
            passed += 1
        elif record.status in (Status.FAILED, Status.WARNING) and rule.id in record.violated:
            failed += 1
        elif record.status is Status.NOT_APPLICABLE and rule.id in record.rules:
            not_applicable += 1
        elif record.status is Status.ERROR and rule.id in record.rules:
            errors += 1
    return RuleRow(rule, passed, failed, not_applicable, errors)
