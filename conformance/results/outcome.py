"""What running a scenario produced: per step, expected vs actual, with the evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from conformance.scenario.objects import Location, Scenario

# A database message or a value is cut to this many characters wherever it is shown:
# a rejected 1 MiB value must not make a 1 MiB line, report or JUnit file.
MESSAGE_LIMIT = 300


CUT_MARK = re.compile(r"\.\.\. \(\d+ more characters cut\)$")


def bounded(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text` cut to `limit` characters, saying how much was cut (text already cut stays)."""
    if len(text) <= limit or len(CUT_MARK.sub("", text)) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters cut)"


@dataclass(frozen=True)
class StepReport:
    location: Location
    summary: str  # what the step did, in the file's words
    expected: str
    actual: str
    passed: bool
    violated: tuple[str, ...] = ()  # rule ids this step shows broken
    detail: str = ""  # what differed: rows, replayed events
    error: str | None = None  # the database's own error text
    sql: str | None = None
    params: tuple[Any, ...] | None = None
    setup: bool = False
    errored: bool = False  # the database raised an error, not a rule's rejection


@dataclass
class ScenarioResult:
    scenario: Scenario
    steps: list[StepReport] = field(default_factory=list)
    not_run: int = 0
    # session -> where it ran, when the DSN names several servers (a cluster's nodes)
    placement: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(step.passed for step in self.steps)

    @property
    def failure(self) -> StepReport | None:
        return next((step for step in self.steps if not step.passed), None)

    @property
    def violated_rules(self) -> tuple[str, ...]:
        failure = self.failure
        return failure.violated if failure else ()
