"""The reference model: the rule catalogue as a small in-memory event store.

It is the spec's second statement, written in Python: for any step it says whether a
conformant store accepts it and, for a rejection, which rules the step breaks (each
rule judged on its own, as a store that enforced only that rule would judge it). The
kit checks every scenario file against it at load and uses it as the fuzzer's oracle.

Conventions, the same as SQL's for constraints:

- a rule about a value does not apply while that value is NULL: a NULL is the
  business of `appends.required` / `definitions.required` alone (previousId excepted,
  where NULL means "first event");
- ids compare as UUIDs (8-4-4-4-12 hex digits, any case); names, keys and data compare
  exactly (case and trailing spaces matter);
- an UPDATE or DELETE is judged by the immutability rules alone: it breaks them when it
  would change a row, and breaks nothing when it would change nothing.

The state a step is judged against is a `StoreState`; judging is a pure function of
(state, step), applying is `StoreState.add`. A transaction can be built on this: its
pending appends are judged against a copy of the committed state with them added, and
judged again against the committed state at commit.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

UUID_TEXT = re.compile(
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)

EVENT_COLUMNS_SENT = ("entity", "entityKey", "event", "data", "eventId", "commandId")
UNKNOWN_VALUE_COLUMNS = ("ts", "sequence")  # the database fills them; the model cannot know them
COLUMN_FIELDS = {
    "entity": "entity",
    "entityKey": "entity_key",
    "event": "event",
    "data": "data",
    "eventId": "event_id",
    "commandId": "command_id",
    "previousId": "previous_id",
}


def uuid_key(value: str | None) -> str | None:
    """The UUID a text spells (lower case), or None when it is not a UUID."""
    if isinstance(value, str) and UUID_TEXT.fullmatch(value):
        return value.lower()
    return None


@dataclass(frozen=True)
class AppendRequest:
    """One append as sent: previous_id None is the first-event statement (or a NULL)."""

    entity: str | None
    entity_key: str | None
    event: str | None
    data: str | None
    event_id: str | None
    command_id: str | None
    previous_id: str | None = None

    def sent(self) -> dict[str, str | None]:
        values = (
            self.entity,
            self.entity_key,
            self.event,
            self.data,
            self.event_id,
            self.command_id,
        )
        return dict(zip(EVENT_COLUMNS_SENT, values, strict=True))


@dataclass(frozen=True)
class Event:
    """A stored event: what was sent, and its place in insertion order."""

    entity: str
    entity_key: str
    event: str
    data: str
    event_id: str
    command_id: str
    previous_id: str | None
    sequence: int

    @property
    def stream(self) -> tuple[str, str]:
        return (self.entity, self.entity_key)

    def column(self, name: str) -> Any:
        return getattr(self, COLUMN_FIELDS[name])


@dataclass(frozen=True)
class Verdict:
    """What a conformant store does with a step: accepted, or rejected for these rules."""

    broken: tuple[tuple[str, str], ...] = ()  # (rule id, why), in catalogue order

    @property
    def accepted(self) -> bool:
        return not self.broken

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(rule for rule, _ in self.broken)

    def __str__(self) -> str:
        if self.accepted:
            return "accepted"
        return "rejected: " + "; ".join(f"{rule} ({why})" for rule, why in self.broken)


@dataclass
class StoreState:
    """Both tables, with the indexes the rules look things up in."""

    definitions: set[tuple[str, str]] = field(default_factory=set)
    events: list[Event] = field(default_factory=list)  # insertion order
    by_event_id: dict[str, Event] = field(default_factory=dict)  # UUID -> event
    command_ids: set[str] = field(default_factory=set)  # UUIDs
    followed: set[str] = field(default_factory=set)  # UUIDs named as some event's previousId
    streams: dict[tuple[str, str], list[Event]] = field(default_factory=dict)

    def add(self, request: AppendRequest) -> Event:
        """Store an append the rules accepted (so its ids are UUIDs and its values not NULL)."""
        event = Event(
            **{COLUMN_FIELDS[k]: v for k, v in request.sent().items()},
            previous_id=request.previous_id,
            sequence=len(self.events) + 1,
        )
        self.events.append(event)
        self.by_event_id[_uuid(event.event_id)] = event
        self.command_ids.add(_uuid(event.command_id))
        if event.previous_id is not None:
            self.followed.add(_uuid(event.previous_id))
        self.streams.setdefault(event.stream, []).append(event)
        return event

    def copy(self) -> StoreState:
        return copy.deepcopy(self)


def _uuid(value: str | None) -> str:
    key = uuid_key(value)
    assert key is not None, "an accepted append has UUID ids"
    return key


# --- the append rules: each says why the append breaks it, or None ------------------

AppendRule = Callable[[StoreState, AppendRequest], "str | None"]


def required(_: StoreState, a: AppendRequest) -> str | None:
    missing = [column for column, value in a.sent().items() if value is None]
    return f"{', '.join(missing)} NULL" if missing else None


def defined_names(state: StoreState, a: AppendRequest) -> str | None:
    if not isinstance(a.entity, str) or not isinstance(a.event, str):
        return None  # NULL, or not text: the business of other rules
    if (a.entity, a.event) in state.definitions:
        return None
    return f"{a.entity!r}/{a.event!r} is not a defined entity/event pair"


def unique_event_id(state: StoreState, a: AppendRequest) -> str | None:
    key = uuid_key(a.event_id)
    return f"eventId {a.event_id} is already stored" if key in state.by_event_id else None


def unique_command_id(state: StoreState, a: AppendRequest) -> str | None:
    key = uuid_key(a.command_id)
    return f"commandId {a.command_id} is already used" if key in state.command_ids else None


def uuid_ids(_: StoreState, a: AppendRequest) -> str | None:
    bad = [
        f"{column} {value!r}"
        for column, value in (("eventId", a.event_id), ("commandId", a.command_id))
        if value is not None and uuid_key(value) is None
    ]
    return f"{' and '.join(bad)} not a UUID" if bad else None


def exact_values(_: StoreState, a: AppendRequest) -> str | None:
    typed = [column for column, value in a.sent().items() if isinstance(value, bytes)]
    return f"{', '.join(typed)} sent as bytes, not text" if typed else None


def first_event(state: StoreState, a: AppendRequest) -> str | None:
    if a.previous_id is not None or a.entity is None or a.entity_key is None:
        return None
    if (a.entity, a.entity_key) in state.streams:
        return f"{a.entity!r}/{a.entity_key!r} already has events, so previousId cannot be NULL"
    return None


def previous_exists(state: StoreState, a: AppendRequest) -> str | None:
    if a.previous_id is None or a.entity is None or a.entity_key is None:
        return None
    previous = state.by_event_id.get(uuid_key(a.previous_id) or "")
    if previous is not None and previous.stream == (a.entity, a.entity_key):
        return None
    return f"previousId {a.previous_id} is not an event of {a.entity!r}/{a.entity_key!r}"


def linear(state: StoreState, a: AppendRequest) -> str | None:
    key = uuid_key(a.previous_id)
    return f"event {a.previous_id} already has a next event" if key in state.followed else None


APPEND_RULES: tuple[tuple[str, AppendRule], ...] = (
    ("appends.required", required),
    ("appends.defined_names", defined_names),
    ("appends.unique_event_id", unique_event_id),
    ("appends.unique_command_id", unique_command_id),
    ("appends.uuid_ids", uuid_ids),
    ("appends.exact_values", exact_values),
    ("chain.first_event", first_event),
    ("chain.previous_exists", previous_exists),
    ("chain.linear", linear),
)


def judge_append(state: StoreState, request: AppendRequest) -> Verdict:
    """Every rule the append breaks, each judged on its own."""
    broken = ((rule_id, rule(state, request)) for rule_id, rule in APPEND_RULES)
    return Verdict(tuple((rule_id, why) for rule_id, why in broken if why is not None))


# Rules a conflict clause (REPLACE, upsert, MERGE) turns into a change of a stored event.
CONFLICT_RULES = frozenset(
    {"appends.unique_event_id", "appends.unique_command_id", "chain.first_event", "chain.linear"}
)
CHANGING_FORMS = frozenset({"replace", "upsert", "merge"})


def judge_rows(state: StoreState, requests: list[AppendRequest]) -> list[Verdict]:
    """Each row of one statement against the store and the rows before it, as if each
    were appended in turn: a row can follow an earlier row of its statement, never
    itself nor a later one."""
    scratch = state.copy()
    verdicts = []
    for request in requests:
        broken = ((rule_id, rule(scratch, request)) for rule_id, rule in APPEND_RULES)
        verdict = Verdict(tuple((rule_id, why) for rule_id, why in broken if why is not None))
        verdicts.append(verdict)
        if verdict.accepted:
            scratch.add(request)
    return verdicts


def judge_write(state: StoreState, form: str, requests: list[AppendRequest]) -> Verdict:
    """A write of several rows in one statement: every rule a row breaks; a conflict that
    REPLACE, an upsert or a MERGE would resolve by changing a stored event breaks
    immutability instead (an ignored conflict breaks the plain rule, and changes nothing)."""
    broken: dict[str, str] = {}
    for verdict in judge_rows(state, requests):
        if form in CHANGING_FORMS and verdict.rules and set(verdict.rules) <= CONFLICT_RULES:
            broken.setdefault("immutability.events", f"{form} would change a stored event")
            continue
        for rule_id, why in verdict.broken:
            broken.setdefault(rule_id, why)
    order = [rule_id for rule_id, _ in APPEND_RULES] + ["immutability.events"]
    return Verdict(tuple((rule_id, broken[rule_id]) for rule_id in order if rule_id in broken))


def judge_define(entity: str | None, event: str | None) -> Verdict:
    missing = [name for name, value in (("entity", entity), ("event", event)) if value is None]
    if missing:
        return Verdict((("definitions.required", f"{', '.join(missing)} NULL"),))
    return Verdict()


# --- the store ------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRows:
    """UPDATE/DELETE target in events: one event by id, or every row (event_id None)."""

    event_id: str | None = None


@dataclass(frozen=True)
class DefinitionRows:
    """UPDATE/DELETE target in entity_events: one pair, or every row (pair None)."""

    pair: tuple[str, str] | None = None


Rows = EventRows | DefinitionRows


class ReferenceModel:
    """The event store as the spec states it; each method judges a step and applies it."""

    def __init__(self) -> None:
        self.state = StoreState()

    def define(self, entity: str | None, event: str | None) -> Verdict:
        verdict = judge_define(entity, event)
        if verdict.accepted:
            assert entity is not None and event is not None
            self.state.definitions.add((entity, event))  # a second definition is the same pair
        return verdict

    def append(self, request: AppendRequest) -> Verdict:
        verdict = judge_append(self.state, request)
        if verdict.accepted:
            self.state.add(request)
        return verdict

    def write(self, form: str, requests: list[AppendRequest], apply: bool = True) -> Verdict:
        """Several rows in one statement, all or none; `apply` False judges only."""
        verdict = judge_write(self.state, form, requests)
        if verdict.accepted and apply:
            for request in requests:
                self.state.add(request)
        return verdict

    def replay(self, entity: str, entity_key: str) -> list[Event]:
        return list(self.state.streams.get((entity, entity_key), []))

    def update(self, rows: Rows, column: str, value: Any) -> Verdict:
        """Breaks immutability when a targeted row would hold another value afterwards."""
        targeted = self.targeted(rows)
        if isinstance(rows, EventRows):
            changes = [
                e for e in targeted if column in UNKNOWN_VALUE_COLUMNS or e.column(column) != value
            ]
            return _immutable(
                "immutability.events", f"{len(changes)} event(s) would change", changes
            )
        index = 0 if column == "entity" else 1
        changes = [pair for pair in targeted if pair[index] != value]
        return _immutable(
            "definitions.immutable", f"{len(changes)} definition(s) would change", changes
        )

    def delete(self, rows: Rows) -> Verdict:
        targeted = self.targeted(rows)
        if isinstance(rows, EventRows):
            return _immutable("immutability.events", f"{len(targeted)} event(s) would go", targeted)
        return _immutable(
            "definitions.immutable", f"{len(targeted)} definition(s) would go", targeted
        )

    def targeted(self, rows: Rows) -> list[Any]:
        if isinstance(rows, EventRows):
            if rows.event_id is None:
                return list(self.state.events)
            event = self.state.by_event_id.get(uuid_key(rows.event_id) or rows.event_id)
            return [event] if event else []
        if rows.pair is None:
            return sorted(self.state.definitions)
        return [rows.pair] if rows.pair in self.state.definitions else []


def _immutable(rule_id: str, why: str, changes: list[Any]) -> Verdict:
    return Verdict(((rule_id, why),)) if changes else Verdict()
