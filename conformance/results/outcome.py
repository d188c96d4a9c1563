"""What running a scenario produced: per step, expected vs actual, with the evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.scenario.objects import Location, Scenario


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
