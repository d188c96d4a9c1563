"""Scenario self-check: every expectation in a scenario file must agree with the reference model.

A wrong expectation would silently certify a wrong DDL, so a file that disagrees with the
model does not load. A step expected to be rejected (or to leave the store unchanged)
must break exactly one rule in the model, and the step (or else its scenario) must name
that rule: then a rejection by the database can be attributed to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.errors import ScenarioError
from conformance.model import (
    AppendRequest,
    DefinitionRows,
    Event,
    EventRows,
    ReferenceModel,
    Rows,
    Verdict,
)
from conformance.runner import ScenarioRun, setup_steps
from conformance.runner import _describe_append as describe_append
from conformance.scenario import (
    AppendStep,
    DefineStep,
    DeleteStep,
    Location,
    ReplayStep,
    Scenario,
    ScenarioFile,
    Step,
    Symbol,
    Target,
    UpdateStep,
)


def self_check(file: ScenarioFile) -> None:
    """Raise ScenarioError at the first step of the file the model disagrees with."""
    for scenario in file.scenarios:
        ModelRun(scenario).check_all()


@dataclass(frozen=True)
class Disagreement:
    summary: str  # the step, in the file's words
    file_says: str
    model_says: str


@dataclass
class ModelRun:
    """One scenario played against the model, resolving ids the way the runner does."""

    scenario: Scenario
    model: ReferenceModel = field(default_factory=ReferenceModel)
    event_ids: dict[str, str] = field(default_factory=dict)
    command_ids: dict[str, str] = field(default_factory=dict)
    recorded: dict[str, Event] = field(default_factory=dict)  # symbolic name -> stored event
    appended_at: dict[int, Location] = field(default_factory=dict)  # sequence -> step location

    def check_all(self) -> None:
        for step in [*setup_steps(self.scenario), *self.scenario.steps]:
            disagreement = self.check(step)
            if disagreement is not None:
                raise ScenarioError(
                    f"{step.location}: scenario {self.scenario.name!r}, {disagreement.summary}: "
                    f"the file says {disagreement.file_says}, the model says {disagreement.model_says}"
                )

    def check(self, step: Step) -> Disagreement | None:
        handlers: dict[type, Callable[[Any], Disagreement | None]] = {
            DefineStep: self.define,
            AppendStep: self.append,
            ReplayStep: self.replay,
            UpdateStep: self.update,
            DeleteStep: self.delete,
        }
        handler = handlers.get(type(step))
        return handler(step) if handler else None  # reapply and check: the model has nothing to add

    # --- ids ----------------------------------------------------------------------

    resolve = ScenarioRun.resolve  # ids resolve exactly as the runner resolves them

    def readable(self, text: str) -> str:
        """Model reasons with symbolic names in place of the UUIDs they stand for."""
        for names in (self.event_ids, self.command_ids):
            for name, value in names.items():
                text = text.replace(value, name)
        return text

    # --- steps --------------------------------------------------------------------

    def define(self, step: DefineStep) -> Disagreement | None:
        verdict = self.model.define(step.entity, step.event)
        return self.judge(step, f"define {step.entity!r}/{step.event!r}", step.expect, verdict)

    def append(self, step: AppendStep) -> Disagreement | None:
        a = step.append
        previous = None if a.previous_id is None else self.resolve(a.previous_id, self.event_ids)
        request = AppendRequest(
            a.entity,
            a.entity_key,
            a.event,
            a.data,
            self.resolve(a.event_id, self.event_ids),
            self.resolve(a.command_id, self.command_ids),
            previous,
        )
        verdict = self.model.append(request)
        if verdict.accepted:
            stored = self.model.state.events[-1]
            self.appended_at[stored.sequence] = step.location
            if a.name:
                self.recorded[a.name] = stored
        return self.judge(step, describe_append(a), step.expect, verdict)

    def replay(self, step: ReplayStep) -> Disagreement | None:
        stored = self.model.replay(step.entity, step.entity_key)
        expected = [self.recorded.get(name) for name in step.expected_events]
        if expected == stored:
            return None
        names = {event.sequence: name for name, event in self.recorded.items()}
        model_says = [
            names.get(e.sequence, f"an event with no id: at {self.appended_at[e.sequence]}")
            for e in stored
        ]
        file_says = "[" + ", ".join(step.expected_events) + "]"
        missing = [
            name
            for name, event in zip(step.expected_events, expected, strict=True)
            if event is None
        ]
        if missing:
            file_says += f" (the model never stored {', '.join(missing)})"
        return Disagreement(
            f"replay {step.entity!r}/{step.entity_key!r}",
            file_says,
            "[" + ", ".join(model_says) + "]",
        )

    def update(self, step: UpdateStep) -> Disagreement | None:
        rows, words = self.rows(step.target)
        verdict = self.model.update(rows, step.column, step.value)
        return self.judge(
            step, f"update {words} set {step.column} = {step.value!r}", "unchanged", verdict
        )

    def delete(self, step: DeleteStep) -> Disagreement | None:
        rows, words = self.rows(step.target)
        return self.judge(step, f"delete {words}", "unchanged", self.model.delete(rows))

    def rows(self, target: Target) -> tuple[Rows, str]:
        if target.event is not None:
            name = target.event.name if isinstance(target.event, Symbol) else target.event.value
            return EventRows(self.resolve(target.event, self.event_ids)), f"event {name}"
        if target.definition is not None:
            return DefinitionRows(
                target.definition
            ), f"definition {target.definition[0]!r}/{target.definition[1]!r}"
        rows: Rows = EventRows() if target.table == "events" else DefinitionRows()
        return rows, f"every row of {target.table}"

    # --- verdicts -----------------------------------------------------------------

    def judge(self, step: Step, summary: str, expect: str, verdict: Verdict) -> Disagreement | None:
        model_says = self.readable(str(verdict))
        if expect == "accepted":
            return None if verdict.accepted else Disagreement(summary, "accepted", model_says)
        if verdict.accepted:
            if expect == "unchanged":
                return Disagreement(
                    summary, "unchanged", "it would change nothing, so it proves nothing"
                )
            return Disagreement(summary, expect, model_says)
        if len(verdict.broken) > 1:
            return Disagreement(
                summary,
                expect,
                f"{model_says}; a step expected {expect} must break "
                "exactly one rule, so that a rejection can be attributed to it",
            )
        named = step.rules or self.scenario.rules
        (rule,) = verdict.rules
        if rule not in named:
            return Disagreement(summary, f"{expect} under [{', '.join(named)}]", model_says)
        return None
