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
from conformance.execution.single import ScenarioRun, setup_steps
from conformance.execution.snapshot import describe_append, describe_write
from conformance.scenario.objects import (
    Append,
    AppendStep,
    DefineStep,
    DeleteStep,
    Location,
    RaceStep,
    ReplayStep,
    Scenario,
    ScenarioFile,
    Step,
    Symbol,
    Target,
    TransactionStep,
    TruncateStep,
    UpdateStep,
    WriteStep,
)
from conformance.spec.catalogue import load_catalogue
from conformance.spec.model import (
    AppendRequest,
    DefinitionRows,
    Event,
    EventRows,
    ReferenceModel,
    Rows,
    Verdict,
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
    # Transactions, played serially in the file's order: every accepted append with the
    # session that made it, and the appends of each session's open transaction.
    accepted: list[tuple[str, AppendRequest]] = field(default_factory=list)
    open_transactions: dict[str, list[AppendRequest]] = field(default_factory=dict)

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
            TruncateStep: self.truncate,
            TransactionStep: self.transaction,
            RaceStep: self.race,
            WriteStep: self.write,
        }
        handler = handlers.get(type(step))
        return handler(step) if handler else None  # reapply and check: the model has nothing to add

    # --- ids ----------------------------------------------------------------------

    resolve = ScenarioRun.resolve  # ids resolve exactly as the runner resolves them

    def readable(self, text: str) -> str:
        """Model reasons with symbolic names in place of the UUIDs they stand for."""
        for names in (self.event_ids, self.command_ids):
            for name, value in names.items():
                if value:
                    text = text.replace(value, name)
        return text

    # --- steps --------------------------------------------------------------------

    def define(self, step: DefineStep) -> Disagreement | None:
        verdict = self.model.define(step.entity, step.event)
        return self.judge(step, f"define {step.entity!r}/{step.event!r}", step.expect, verdict)

    def append(self, step: AppendStep) -> Disagreement | None:
        a = step.append
        request = self.request(a)
        verdict = self.play_append(a, request, step.session, step.location)
        return self.judge(step, describe_append(a), step.expect, verdict)

    def play_append(
        self, a: Append, request: AppendRequest, session: str, location: Location
    ) -> Verdict:
        verdict = self.model.append(request)
        if verdict.accepted:
            stored = self.model.state.events[-1]
            self.appended_at[stored.sequence] = location
            self.accepted.append((session, request))
            self.open_transactions.get(session, []).append(request)
            if a.name:
                self.recorded[a.name] = stored
        return verdict

    def request(self, a: Append) -> AppendRequest:
        """The append as the runner sends it (`id:` with a literal binds the name to it)."""
        event_id = ScenarioRun.bind(
            a.name, self.resolve(a.event_id, self.event_ids), self.event_ids
        )
        command_id = self.resolve(a.command_id, self.command_ids)
        ScenarioRun.bind(a.command_name, command_id, self.command_ids)
        previous = None if a.previous_id is None else self.resolve(a.previous_id, self.event_ids)
        return AppendRequest(
            a.entity, a.entity_key, a.event, a.data, event_id, command_id, previous
        )

    def write(self, step: WriteStep) -> Disagreement | None:
        """All rows or none; `assigned` and `exact` steps may go either way in a conformant
        store, so the model judges them without storing them."""
        requests = [self.request(a) for a in step.appends]
        settled = step.expect not in ("assigned", "exact")
        verdict = self.model.write(step.form, requests, apply=settled)
        summary = describe_write(step)
        if settled:
            if verdict.accepted:
                stored = self.model.state.events[-len(requests) :]
                for a, event in zip(step.appends, stored, strict=True):
                    self.appended_at[event.sequence] = step.location
                    self.accepted.append((step.session, requests[stored.index(event)]))
                    if a.name:
                        self.recorded[a.name] = event
            return self.judge(step, summary, step.expect, verdict)
        if not verdict.accepted:
            return Disagreement(summary, step.expect, self.readable(str(verdict)))
        if step.expect == "assigned" and not all(a.supplied for a in step.appends):
            return Disagreement(summary, "assigned", "a row supplies neither sequence nor ts")
        return None

    def transaction(self, step: TransactionStep) -> Disagreement | None:
        """begin opens a list of the session's appends; rollback takes them out of the model."""
        if step.action == "begin":
            self.open_transactions[step.session] = []
            return None
        undone = self.open_transactions.pop(step.session, [])
        if step.action == "rollback" and undone:
            self.replay_without(undone)
        return None

    def replay_without(self, undone: list[AppendRequest]) -> None:
        """Rebuild the model from every accepted append but the rolled-back ones."""
        definitions = set(self.model.state.definitions)
        self.model = ReferenceModel()
        self.model.state.definitions |= definitions
        kept = [(s, r) for s, r in self.accepted if not any(r is u for u in undone)]
        stored_by_request = {}
        for _, request in kept:
            self.model.append(request)
            stored_by_request[id(request)] = self.model.state.events[-1]
        self.accepted = kept
        by_id = {e.event_id: e for e in self.model.state.events}
        self.recorded = {
            n: by_id[e.event_id] for n, e in self.recorded.items() if e.event_id in by_id
        }
        self.appended_at = {}

    def race(self, step: RaceStep) -> Disagreement | None:
        """Racers append in list order, each seeing the winners before it: `one` or `all` commit."""
        verdicts = [
            self.play_append(a, self.request(a), f"racer {i}", step.location)
            for i, a in enumerate(step.appends)
        ]
        committed = sum(v.accepted for v in verdicts)
        wanted = 1 if step.expect == "one" else len(step.appends)
        if committed == wanted:
            return None
        said = "; ".join(f"racer {i}: {self.readable(str(v))}" for i, v in enumerate(verdicts, 1))
        return Disagreement(
            f"race of {len(step.appends)} appends",
            f"{step.expect} commits",
            f"{committed} of them are accepted when run one after another ({said})",
        )

    def replay(self, step: ReplayStep) -> Disagreement | None:
        unseen = {  # other sessions' uncommitted appends are invisible to this one
            r.event_id
            for session, requests in self.open_transactions.items()
            if session != step.session
            for r in requests
        }
        stored = [
            e for e in self.model.replay(step.entity, step.entity_key) if e.event_id not in unseen
        ]
        expected = [self.recorded.get(name) for name in step.expected_events]
        if expected == stored:
            return None
        names = {event.sequence: name for name, event in self.recorded.items()}
        model_says = [
            names.get(
                e.sequence,
                f"an event with no id: at {self.appended_at.get(e.sequence, 'an earlier step')}",
            )
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

    def truncate(self, step: TruncateStep) -> Disagreement | None:
        rows, _ = self.rows(Target(table=step.table))
        return self.judge(step, f"truncate {step.table}", "unchanged", self.model.delete(rows))

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
        if rule not in _with_foundations(named):
            return Disagreement(summary, f"{expect} under [{', '.join(named)}]", model_says)
        return None


def _with_foundations(rule_ids: tuple[str, ...]) -> set[str]:
    """The named rules and the single-writer rules a named race rule builds on: a race
    step rejected for chain.linear is attributed to races.same_previous."""
    catalogue = load_catalogue()
    found = set(rule_ids)
    for rule_id in rule_ids:
        found.update(catalogue[rule_id].builds_on)
    return found
