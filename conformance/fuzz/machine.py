"""Property-based search for DDL breakage: random steps on the database and on the model.

A Hypothesis state machine draws steps a client (or an attacker) could send: definitions,
first and subsequent appends, stale appends, duplicate and malformed ids, misapplied and
misspelled names, NULLs, replays, UPDATE, DELETE and TRUNCATE attempts, a re-applied DDL,
tricky and large data. The reference model says what each step must do; the scenario
runner performs it on the database and judges it exactly as it judges a scenario file
(outcome, and the whole store after every write), and the stream an append touched is
replayed after it. The first step the two
disagree on ends the example; Hypothesis shrinks it, and the minimal case is written out
as a scenario file that reproduces the failure when the plugin runs it.

Only the Backend interface is used, so the fuzzer runs on any engine the kit supports.
Every example gets a store of its own, closed after it: examples never share state.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from conformance.backends.base import Backend, Outcome
from conformance.execution.run import run_scenario, write_form_not_applicable
from conformance.execution.single import ScenarioRun
from conformance.fuzz.budget import DEFAULT_EXAMPLES, STEPS_PER_EXAMPLE
from conformance.results.outcome import ScenarioResult, StepReport
from conformance.scenario.loader import load_file
from conformance.scenario.objects import (
    EVENT_COLUMNS,
    Append,
    AppendStep,
    CheckStep,
    DefineStep,
    DeleteStep,
    Fresh,
    IdValue,
    Literal,
    Location,
    ReapplyStep,
    ReplayStep,
    Scenario,
    ScenarioFile,
    Step,
    Symbol,
    Target,
    TruncateStep,
    UpdateStep,
    WriteStep,
)
from conformance.scenario.selfcheck import self_check
from conformance.scenario.writer import DEFAULT_DATA, LONG_DATA, scenario_yaml
from conformance.spec.model import (
    AppendRequest,
    DefinitionRows,
    EventRows,
    ReferenceModel,
    Rows,
    Verdict,
    judge_append,
    judge_define,
    judge_write,
    uuid_key,
)

# The vocabulary: a small world, so that steps collide with each other often.
DEFINITIONS = (
    ("order", "created"),
    ("order", "paid"),
    ("order", "shipped"),
    ("customer", "registered"),
    ("customer", "renamed"),
)
KEYS = ("k-1", "K-1")  # two instances under each entity: keys compare exactly
DEFINE_ENTITIES = ("order", "customer", "Order", "order ")
DEFINE_EVENTS = ("created", "registered", "Created", "created ", "refunded")
# Data that a careless column type or collation would not give back as sent (the last
# one is a single large event: 1 Mi characters).
TRICKY_DATA = (
    "007",
    "1.50",
    "1e3",
    " 1",
    "0x10",
    "null",
    "NULL",
    "true",
    "a\r\nb",
    "trailing ",
    "'; DROP TABLE events; --",
    "\u00e9t\u00e9",
    "\U0001f600",
    '{"a": 1}',
    "x" * 2**20,
)
DATA = st.one_of(
    st.just(DEFAULT_DATA),
    st.just(""),
    st.sampled_from(TRICKY_DATA),
    st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12),
)
# What an UPDATE attempt sets a column to (eventId and commandId get fresh UUIDs).
TAMPERED = {
    "entity": "customer",
    "entityKey": "tampered",
    "event": "paid",
    "data": "tampered",
    "previousId": None,
    "ts": "2000-01-01T00:00:00.000Z",
    "sequence": 1000000,
}
# How often each action is drawn, in parts of 20; the first is what shrinking aims at.
ACTIONS = (
    *["append_valid"] * 6,
    *["append_breaking_chain"] * 3,
    *["append_breaking_names"] * 2,
    *["append_breaking_ids"] * 2,
    "append_with_null",
    "define",
    *["change"] * 2,
    "replay",
    "reapply",
    "check_autopopulated",
    "write",
)
# Write forms the fuzzer sends rows in, where the engine has them (see WriteStep).
WRITE_FORMS = ("insert", "insert", "replace", "ignore", "upsert", "merge", "copy")
SUPPLIED = (("sequence", 1), ("sequence", 2**63 - 1), ("ts", "2001-01-01 00:00:00"))
CHAIN_MISTAKES = ("again first", "null previous", "stale", "other stream", "unknown", "malformed")
NAME_MISTAKES = (
    "misapplied event",
    "event case",
    "event space",
    "unknown event",
    "entity case",
    "entity space",
)
ID_MISTAKES = ("duplicate", "duplicate in upper case", "malformed")
HERE = Location("fuzz", 0)
FUZZ_RULES = ("atomicity.no_trace",)
T = TypeVar("T")


def event_uuid(number: int) -> str:
    """The eventId of generated event `number`; an accepted one is named e<number>."""
    return f"eeeeeeee-0000-4000-8000-{number:012d}"


def command_uuid(number: int) -> str:
    return f"cccccccc-0000-4000-8000-{number:012d}"


def malformed(uuid: str) -> tuple[str, ...]:
    """Strings that are no UUID in any engine's notation; the last three have a UUID's shape."""
    return (
        "not-a-uuid",
        "",
        uuid[:-1],
        uuid + "0",
        "g" + uuid[1:],
        uuid[:9] + "zzzz" + uuid[13:],
        uuid[:-1] + "G",
    )


class Dice:
    """Several small choices read from one drawn string of bytes, one byte each.

    A step is then at most five Hypothesis choices long (stop?, action, dice, data), and
    the shrinker deletes up to five consecutive choices at once, so it can delete whole
    steps. Each pick reads its own byte, so a pick from a list whose length depends on
    the state does not change the picks after it. Zero bytes pick every first option.
    """

    SIDES = 8  # picks per step: more than any action makes

    def __init__(self, faces: bytes) -> None:
        self.faces = iter(faces)

    def pick(self, options: Sequence[T]) -> T | None:
        face = next(self.faces, 0)
        return options[face % len(options)] if options else None

    def flag(self) -> bool:
        return bool(self.pick((False, True)))


DICE = st.binary(min_size=Dice.SIDES, max_size=Dice.SIDES)


@dataclass
class FuzzStats:
    examples: int = 0
    steps: int = 0
    seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)
    found_after_steps: int | None = None  # steps run when the first divergence showed
    found_after_seconds: float | None = None

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds else 0.0

    def found(self) -> None:
        if self.found_after_steps is None:
            self.found_after_steps = self.steps
            self.found_after_seconds = time.perf_counter() - self.started


class Divergence(Exception):
    """The database and the model disagree on the last of these steps."""

    def __init__(self, steps: Sequence[Step], report: StepReport) -> None:
        super().__init__(f"{report.summary}: expected {report.expected}, got {report.actual}")
        self.steps = tuple(steps)
        self.report = report

    @property
    def rules(self) -> tuple[str, ...]:
        """The rules the database broke on the last step."""
        last = self.steps[-1] if self.steps else None
        outcomes = {outcome.value for outcome in Outcome}
        sent = isinstance(last, AppendStep) and self.report.expected == "accepted"
        if sent and self.report.actual not in outcomes:
            return ("replay.order_and_data",)  # accepted, but the row stored is not the row sent
        return self.report.violated or (last.rules if last else ()) or FUZZ_RULES


class StoreMachine(RuleBasedStateMachine):
    """One example: a fresh store, the model beside it, and the steps run so far."""

    backend: ClassVar[Backend]
    stats: ClassVar[FuzzStats]

    def __init__(self) -> None:
        super().__init__()
        self.stats.examples += 1
        self.model = ReferenceModel()
        self.steps: list[Step] = []
        self.names: dict[str, str] = {}  # UUID of an accepted event -> its `id:` name
        self.event_numbers = itertools.count(1)
        self.command_numbers = itertools.count(1)
        self.store = self.backend.create_store()
        file = ScenarioFile("fuzz", "", DEFINITIONS, ())
        self.run = ScenarioRun(
            Scenario("fuzz", FUZZ_RULES, (), HERE, file), self.store, self.backend
        )
        # Through the profile: an eventId the database makes is learnt from the append,
        # and a DDL without definitions is sent no definitions (nor names to break).
        self.client_ids = self.run.sql.client_event_ids
        self.has_definitions = self.run.sql.define is not None
        for entity, event in DEFINITIONS:
            self.model.define(entity, event)
            if self.has_definitions:
                self.define_quickly(entity, event)

    def define_quickly(self, entity: str, event: str) -> None:
        """A definition of the setup, sent without the store checks unless it fails.

        Every example starts with these, so they are most of an example's cost while
        Hypothesis shrinks; the `define` action checks definitions in full.
        """
        define = self.run.sql.define
        assert define is not None
        sent = self.run.attempt(define.sql, define.bind({"entity": entity, "event": event}))
        if sent.outcome is not Outcome.ACCEPTED:
            self.perform(DefineStep(HERE, FUZZ_RULES, entity, event, "accepted"), record=False)

    def teardown(self) -> None:
        self.run.session.close()
        self.store.close()

    @rule(action=st.sampled_from(ACTIONS), faces=DICE, data=DATA)
    def step(self, action: str, faces: bytes, data: str) -> None:
        """One action; its details come from the dice, an append's data from `data`."""
        getattr(self, action)(Dice(faces), data)

    # --- running a step on both sides ---------------------------------------------

    def perform(self, step: Step, record: bool = True) -> None:
        report = self.run.run_step(step)
        self.stats.steps += 1
        if record:
            self.steps.append(step)
        if not report.passed:
            self.stats.found()
            raise Divergence(self.steps, report)

    def append(self, request: AppendRequest, explicit_null: bool = False) -> None:
        """Send an append unless a rejection would have more than one rule to blame."""
        if not self.client_ids:  # none is sent: the model judges a stand-in until it is known
            request = _replace(request, event_id=self.fresh_event_id())
        verdict = judge_append(self.model.state, request)
        if len(verdict.broken) > 1:
            return
        rules = verdict.rules or (exercised_rule(self.model, request),)
        name = f"e{int(request.event_id[-12:])}" if verdict.accepted and request.event_id else None
        given = request.previous_id is not None or explicit_null
        append = Append(
            request.entity,
            request.entity_key,
            request.event,
            request.data,
            self.event_id_value(request.event_id, name),
            Literal(request.command_id),
            self.previous_value(request.previous_id) if given else None,
            name,
        )
        step = AppendStep(HERE, rules, append, "accepted" if verdict.accepted else "rejected")
        if self.client_ids:
            self.model.append(request)
            self.perform(step)
        else:
            self.perform(step)  # the database makes the eventId: learn it, then tell the model
            if name:
                request = _replace(request, event_id=self.run.event_ids[name])
            self.model.append(request)
        if name:
            self.names[uuid_key(request.event_id) or ""] = name
        if request.entity is not None and request.entity_key is not None:
            self.replay_stream(request.entity, request.entity_key, record=False)

    def replay_stream(self, entity: str, key: str, record: bool = True) -> None:
        """Replay one stream; an unrecorded replay enters the scenario only when it fails."""
        expected = tuple(
            self.names[uuid_key(e.event_id) or ""] for e in self.model.replay(entity, key)
        )
        step = ReplayStep(HERE, ("replay.order_and_data",), entity, key, expected)
        if record:
            self.perform(step)
            return
        try:
            self.perform(step, record=False)
        except Divergence as divergence:
            raise Divergence([*self.steps, step], divergence.report) from None

    # --- values -------------------------------------------------------------------

    def event_id_value(self, event_id: str | None, name: str | None) -> IdValue:
        """The eventId as sent, or when the database makes it, the name it is bound to."""
        if self.client_ids:
            return Literal(event_id)
        return Symbol(name) if name else Fresh()

    def previous_value(self, previous_id: str | None) -> IdValue:
        """A previousId naming an accepted event by its name when the database made its id,
        so that a reproducing scenario file refers to the id the database makes then."""
        name = self.names.get(uuid_key(previous_id) or "")
        if self.client_ids or name is None:
            return Literal(previous_id)
        return Symbol(name)

    def fresh_event_id(self) -> str:
        return event_uuid(next(self.event_numbers))

    def fresh_command_id(self) -> str:
        return command_uuid(next(self.command_numbers))

    def streams(self, with_events: bool | None = None) -> list[tuple[str, str]]:
        entities = sorted({entity for entity, _ in self.model.state.definitions})
        every = [(entity, key) for entity in entities for key in KEYS]
        if with_events is None:
            return every
        return [s for s in every if (s in self.model.state.streams) == with_events]

    def stream(self, dice: Dice, min_events: int = 0) -> tuple[str, str] | None:
        """One of the streams (entity, key) that holds at least `min_events` events."""
        return dice.pick([s for s in self.streams() if len(self.model.replay(*s)) >= min_events])

    def valid_append(
        self, dice: Dice, data: str, stream: tuple[str, str] | None = None
    ) -> AppendRequest:
        """The append a careful client sends next to this stream (or one the dice pick)."""
        entity, key = stream or self.stream(dice) or ("order", KEYS[0])
        stored = self.model.replay(entity, key)
        return AppendRequest(
            entity=entity,
            entity_key=key,
            event=dice.pick(sorted(e for en, e in self.model.state.definitions if en == entity)),
            data=data,
            event_id=self.fresh_event_id(),
            command_id=self.fresh_command_id(),
            previous_id=stored[-1].event_id if stored else None,
        )

    # --- actions --------------------------------------------------------------------

    def append_valid(self, dice: Dice, data: str) -> None:
        """A first event of a new stream or the next of an existing one, ids in either case."""
        request = self.valid_append(dice, data)
        upper, explicit_null = dice.flag(), dice.flag()
        if request.previous_id is None:
            if upper:
                request = _replace(
                    request,
                    event_id=request.event_id.upper(),
                    command_id=request.command_id.upper(),
                )
            self.append(request, explicit_null)
        else:
            self.append(
                _replace(request, previous_id=request.previous_id.upper()) if upper else request
            )

    def append_breaking_chain(self, dice: Dice, data: str) -> None:
        """An append whose previousId does not name the last event of its own stream."""
        kind = dice.pick(CHAIN_MISTAKES)
        stream = self.stream(
            dice, min_events={"again first": 1, "null previous": 1, "stale": 2}.get(kind, 0)
        )
        if stream is None:
            return  # the store offers no such mistake yet
        request = self.valid_append(dice, data, stream)
        earlier = dice.pick(self.model.replay(*stream)[:-1])
        other = dice.pick(
            [self.model.replay(*s)[-1] for s in self.streams(with_events=True) if s != stream]
        )
        previous = {
            "again first": None,
            "null previous": None,
            "stale": earlier.event_id if earlier else None,
            "other stream": other.event_id if other else None,
            "unknown": self.fresh_event_id(),
            "malformed": dice.pick(malformed(event_uuid(0))),
        }[kind]
        if kind == "other stream" and other is None:
            return
        self.append(_replace(request, previous_id=previous), explicit_null=kind == "null previous")

    def append_breaking_names(self, dice: Dice, data: str) -> None:
        """An append naming an event of another entity, or a name that differs in case or spaces."""
        kind = dice.pick(NAME_MISTAKES)
        if not self.has_definitions:
            return  # names are not defined in this store, so no name can be wrong
        request = self.valid_append(dice, data)
        entity, event = request.entity or "", request.event or ""
        misapplied = dice.pick(sorted(e for en, e in DEFINITIONS if en != entity)) or "refunded"
        if kind in ("entity case", "entity space"):
            entity = entity.upper() if kind == "entity case" else entity + " "
            self.append(_replace(request, entity=entity, previous_id=None))
            return
        changed = {
            "misapplied event": misapplied,
            "event case": event.upper(),
            "event space": event + " ",
            "unknown event": "refunded",
        }[kind]
        self.append(_replace(request, event=changed))

    def append_breaking_ids(self, dice: Dice, data: str) -> None:
        """An append reusing an eventId or commandId (in either case), or sending no UUID."""
        column = dice.pick(("event_id", "command_id"))
        kind = dice.pick(ID_MISTAKES)
        request = self.valid_append(dice, data)
        reused = dice.pick(self.model.state.events)
        value = dice.pick(malformed(event_uuid(0)))
        if kind != "malformed":
            if reused is None:
                return
            value = getattr(reused, column)
            value = value.upper() if kind == "duplicate in upper case" else value.lower()
        self.append(_replace(request, **{column: value}))

    def append_with_null(self, dice: Dice, data: str) -> None:
        """An append with one required column NULL."""
        column = dice.pick(("entity", "entity_key", "event", "data", "event_id", "command_id"))
        self.append(_replace(self.valid_append(dice, data), **{column: None}))

    def define(self, dice: Dice, data: str) -> None:
        """A definition: repeated, a near-miss spelling, or with a NULL."""
        kind = dice.pick(("repeated", "near miss", "null"))
        if not self.has_definitions:
            return
        repeated = dice.pick(sorted(self.model.state.definitions))
        entity, event = dice.pick(DEFINE_ENTITIES), dice.pick(DEFINE_EVENTS)
        with_null = dice.pick(((None, event), (entity, None), (None, None)))
        entity, event = {"repeated": repeated, "near miss": (entity, event), "null": with_null}[
            kind
        ]
        verdict = judge_define(entity, event)
        rules = verdict.rules or (
            "definitions.idempotent"
            if (entity, event) in self.model.state.definitions
            else "definitions.required",
        )
        self.model.define(entity, event)
        self.perform(
            DefineStep(HERE, rules, entity, event, "accepted" if verdict.accepted else "rejected")
        )

    def replay(self, dice: Dice, data: str) -> None:
        self.replay_stream(*(self.stream(dice) or ("order", KEYS[0])))

    def change(self, dice: Dice, data: str) -> None:
        """An UPDATE of one column or a DELETE (of one event, one definition or a whole
        table), or a TRUNCATE of a table."""
        rows, target = self.target(dice)
        how = dice.pick(("update", "update", "delete", "truncate"))
        if how == "delete":
            self.attempt_change(self.model.delete(rows), DeleteStep(HERE, (), target))
            return
        if how == "truncate":
            table = "events" if isinstance(rows, EventRows) else "entity_events"
            every = EventRows() if isinstance(rows, EventRows) else DefinitionRows()
            self.attempt_change(self.model.delete(every), TruncateStep(HERE, (), table))
            return
        columns = EVENT_COLUMNS if isinstance(rows, EventRows) else ("entity", "event")
        column = dice.pick(columns) or "data"
        fresh = {"eventId": self.fresh_event_id, "commandId": self.fresh_command_id}
        if column in fresh:
            value: Any = fresh[column]()
        else:
            value = TAMPERED[column] if isinstance(rows, EventRows) else "tampered"
        self.attempt_change(
            self.model.update(rows, column, value), UpdateStep(HERE, (), target, column, value)
        )

    def target(self, dice: Dice) -> tuple[Rows, Target]:
        aim = dice.pick(("event", "event", "every event", "definition", "every definition"))
        event = dice.pick(self.model.state.events)
        pair = dice.pick(sorted(self.model.state.definitions))
        if aim == "event" and event is not None:
            named = self.previous_value(event.event_id)  # by name when the database made it
            return EventRows(event.event_id), Target(event=named)
        if not self.has_definitions:
            return EventRows(), Target(table="events")
        if aim == "definition" and pair is not None:
            return DefinitionRows(pair), Target(definition=pair)
        if aim in ("event", "every event"):  # with no event yet, the empty table
            return EventRows(), Target(table="events")
        return DefinitionRows(), Target(table="entity_events")

    def attempt_change(
        self, verdict: Verdict, step: UpdateStep | DeleteStep | TruncateStep
    ) -> None:
        if verdict.accepted:
            return  # it would change nothing, so it could show nothing
        self.perform(replace(step, rules=verdict.rules))

    def write(self, dice: Dice, data: str) -> None:
        """One or two rows in a form the engine has: a valid row, or one reusing a stored
        event's ids or previousId (a conflict that REPLACE, an upsert or a MERGE would
        resolve by changing the stored event), or a row supplying sequence or ts."""
        forms = [f for f in WRITE_FORMS if self.backend.write_form_missing(f) is None]
        form = dice.pick(forms)
        if form is None or not self.client_ids or write_form_not_applicable(self.backend):
            return
        first = self.valid_append(dice, data)
        reused = dice.pick(self.model.state.events)
        kinds = ["valid", "same eventId", "same commandId", "same previous", "supplied"]
        kinds += ["nul id"] if "nul-in-text" in self.backend.capabilities else []
        kinds += ["bytes key"] if "dynamic-typing" in self.backend.capabilities else []
        kind = dice.pick(kinds)
        if kind == "same eventId" and reused is not None:
            first = _replace(first, event_id=reused.event_id)
        elif kind == "same commandId" and reused is not None:
            first = _replace(first, command_id=reused.command_id)
        elif kind == "nul id" and reused is not None:  # a C-string reader sees the used id
            first = _replace(first, event_id=reused.event_id + "\0")
        elif kind == "bytes key":
            first = _replace(first, entity_key=str(first.entity_key).encode(), previous_id=None)
        elif kind == "same previous" and reused is not None and reused.previous_id is not None:
            first = _replace(first, entity=reused.entity, entity_key=reused.entity_key,
                             previous_id=reused.previous_id)  # fmt: skip
        requests = [first]
        other = [s for s in self.streams() if s != (first.entity, first.entity_key)]
        # merge sends one row; ignore skips rows one by one, so a second row could stay
        if form not in ("merge", "ignore") and kind != "supplied" and dice.flag() and other:
            requests.append(self.valid_append(dice, DEFAULT_DATA, dice.pick(other)))
        supplied = (dice.pick(SUPPLIED),) if kind == "supplied" else ()
        verdict = judge_write(self.model.state, form, requests)
        if len(verdict.broken) > 1 or (supplied and not verdict.accepted):
            return
        expect = (
            "assigned" if supplied
            else "accepted" if verdict.accepted
            else "rejected" if form in ("insert", "copy")
            else "unchanged"
        )  # fmt: skip
        rules = verdict.rules or (
            ("autopopulation.assigned",) if supplied else ("chain.previous_exists",)
        )
        appends = tuple(
            Append(r.entity, r.entity_key, r.event, r.data, Literal(r.event_id),
                   Literal(r.command_id), None if r.previous_id is None
                   else Literal(r.previous_id),
                   f"e{int(r.event_id[-12:])}" if verdict.accepted and r.event_id else None,
                   supplied=supplied)
            for r in requests
        )  # fmt: skip
        stored_before = len(self.run.insertion_order)
        self.perform(WriteStep(HERE, rules, form, appends, expect))
        if len(self.run.insertion_order) > stored_before:  # accepted: the model stores it too
            self.model.write(form, requests)
            for a in appends:
                if a.name:
                    self.names[uuid_key(a.event_id.value) or ""] = a.name  # type: ignore[union-attr]
        for request in requests:
            if isinstance(request.entity, str) and isinstance(request.entity_key, str):
                self.replay_stream(request.entity, request.entity_key, record=False)

    def reapply(self, dice: Dice, data: str) -> None:
        self.perform(ReapplyStep(HERE, ("schema.reapply",)))

    def check_autopopulated(self, dice: Dice, data: str) -> None:
        self.perform(CheckStep(HERE, ("autopopulation.ts_sequence",), "autopopulated"))


def exercised_rule(model: ReferenceModel, request: AppendRequest) -> str:
    """The rule an accepted append puts to the test, to blame if the database refuses it."""
    if request.data == "":
        return "appends.empty_data"
    if request.data is not None and len(request.data) > LONG_DATA:
        return "replay.order_and_data"  # a large event must be stored and replayed whole
    if any(value != value.lower() for value in (request.event_id, request.command_id) if value):
        return "appends.uuid_ids"
    if request.previous_id is None:
        key_elsewhere = any(key == request.entity_key for _, key in model.state.streams)
        return "chain.independent_streams" if key_elsewhere else "chain.first_event"
    return "chain.previous_exists"


def _replace(request: AppendRequest, **changes: Any) -> AppendRequest:
    return replace(request, **changes)


# --- running a search ---------------------------------------------------------------


@dataclass
class Reproducer:
    """The minimal case as a scenario file, and what the plugin's runner makes of it."""

    text: str
    result: ScenarioResult  # failed: the file reproduces the divergence
    path: Path | None  # where it was saved, if asked to


@dataclass
class FuzzReport:
    seed: int
    stats: FuzzStats
    divergence: Divergence | None = None
    reproducer: Reproducer | None = None
    flaky: str | None = None  # the database answered the same steps differently twice

    @property
    def found(self) -> bool:
        return self.divergence is not None or self.flaky is not None


def fuzz(
    backend: Backend,
    *,
    seed: int,
    examples: int = DEFAULT_EXAMPLES,
    steps_per_example: int = STEPS_PER_EXAMPLE,
    label: str = "ddl",
    save: Path | None = None,
) -> FuzzReport:
    """Search for a step the database and the model disagree on; shrink and write it out."""
    stats = FuzzStats()
    machine = type("StoreMachine", (StoreMachine,), {"backend": backend, "stats": stats})
    settings = hypothesis.settings(
        max_examples=examples,
        stateful_step_count=steps_per_example,
        deadline=None,
        database=None,  # nothing written to the user's folder; a seed alone reproduces a run
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    report = FuzzReport(seed, stats)
    start = time.perf_counter()
    try:
        run_state_machine_as_test(hypothesis.seed(seed)(machine), settings=settings)
    except Divergence as divergence:
        report.divergence = divergence
    except Flaky as exc:
        report.flaky = " ".join(str(exc).split())
    finally:
        stats.seconds = time.perf_counter() - start
    if report.divergence is not None:
        report.reproducer = reproduce(backend, report.divergence, seed, label, save)
    return report


def reproduce(
    backend: Backend, divergence: Divergence, seed: int, label: str, save: Path | None
) -> Reproducer:
    """Write the case as a scenario file, load it as the plugin would and run it on a fresh store."""
    failing = divergence.report
    name = f"fuzz-{label}-{seed}"
    text = scenario_yaml(
        description=f"Minimal case found by the conformance fuzzer (seed {seed}) against {label}: "
        f"the last step should be {failing.expected}, the database made it {failing.actual}.",
        definitions=DEFINITIONS,
        name=f"minimal case found with seed {seed}",
        rules=divergence.rules,
        steps=_scenario_steps(divergence),
    )
    with tempfile.TemporaryDirectory(prefix="conformance-fuzz-") as scratch:
        path = (save or Path(scratch)) / f"{name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        file = load_file(path, display=str(path) if save else path.name)
    self_check(file)
    store = backend.create_store()
    try:
        result = run_scenario(file.scenarios[0], store, backend)
    finally:
        store.close()
    return Reproducer(text, result, path if save else None)


def _scenario_steps(divergence: Divergence) -> list[Step]:
    """The steps as the file states them: an accepted step needs no rule of its own, but the
    last one takes the rules it broke; a rejected step keeps the rule the model blames."""
    if not divergence.steps:  # the definitions alone diverged; a scenario needs one step
        return [ReplayStep(HERE, (), "order", KEYS[0], ())]
    *passing, last = divergence.steps
    quiet = [replace(s, rules=()) if _accepted(s) else s for s in passing]
    return [*quiet, replace(last, rules=divergence.rules) if _accepted(last) else last]


def _accepted(step: Step) -> bool:
    """Expected to be accepted (or a read): the model blames no rule for it."""
    return not isinstance(step, (UpdateStep, DeleteStep)) and getattr(step, "expect", "") not in (
        "rejected",
        "unchanged",
        "assigned",
    )
