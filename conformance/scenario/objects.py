"""Scenario objects: what a scenario file says, independent of YAML and of any engine.

Every step keeps the file:line it came from, so that a failure or a load error can
point the reader at the exact place in the file.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal as TypingLiteral

Expectation = TypingLiteral["accepted", "rejected", "unchanged"]
RaceExpectation = TypingLiteral["one", "all"]

# Steps that name no session run on this one; it needs no declaration.
DEFAULT_SESSION = "default"
# What a scenario needs from a backend beyond single statements (see backends/base.py).
SESSIONS = "sessions"

# The columns of the seed's two tables, in the seed's spelling.
EVENT_COLUMNS = (
    "entity",
    "entityKey",
    "event",
    "data",
    "eventId",
    "commandId",
    "previousId",
    "ts",
    "sequence",
)
DEFINITION_COLUMNS = ("entity", "event")


@dataclass(frozen=True)
class Location:
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Symbol:
    """A symbolic id (`id: e1`): stands for one UUID generated per scenario run."""

    name: str


@dataclass(frozen=True)
class Literal:
    """A value written out in the file (`eventId: not-a-uuid`), sent as is."""

    value: str | None


@dataclass(frozen=True)
class Fresh:
    """No id given: a new UUID nobody else uses."""


@dataclass(frozen=True)
class Suffixed:
    """The UUID a symbolic id stands for, with text after it (`{of: e1, plus: "\\n"}`):
    an id that a C-string reader or a lax pattern takes for the used one."""

    name: str
    suffix: str


IdValue = Symbol | Literal | Fresh | Suffixed
# A name, key or data value: text, or bytes where the engine's typing is dynamic.
Value = str | bytes | None


def new_uuid() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Append:
    entity: Value
    entity_key: Value
    event: Value
    data: Value
    event_id: IdValue
    command_id: IdValue
    previous_id: IdValue | None  # None: the first-event statement, previousId omitted
    name: str | None = None  # the symbolic name the event can be referred to by
    command_name: str | None = None  # the symbolic name of its commandId, if any
    # Columns the database fills that a write step supplies anyway, by spec name.
    supplied: tuple[tuple[str, int | str], ...] = ()

    @property
    def is_first(self) -> bool:
        return self.previous_id is None


@dataclass(frozen=True)
class Target:
    """The rows an update or delete aims at."""

    event: IdValue | None = None
    definition: tuple[str, str] | None = None
    table: str | None = None  # "events" or "entity_events": every row


@dataclass(frozen=True)
class Step:
    location: Location
    rules: tuple[str, ...]
    # The connection the step runs on; `nowait`: it must finish without waiting for a lock.
    session: str = field(default=DEFAULT_SESSION, kw_only=True)
    nowait: bool = field(default=False, kw_only=True)


@dataclass(frozen=True)
class DefineStep(Step):
    entity: str | None
    event: str | None
    expect: Expectation


@dataclass(frozen=True)
class AppendStep(Step):
    append: Append
    expect: Expectation


@dataclass(frozen=True)
class ReplayStep(Step):
    entity: str
    entity_key: str
    expected_events: tuple[str, ...]


@dataclass(frozen=True)
class UpdateStep(Step):
    target: Target
    column: str
    value: str | int | None


@dataclass(frozen=True)
class DeleteStep(Step):
    target: Target


@dataclass(frozen=True)
class TruncateStep(Step):
    """TRUNCATE a whole table: it fires no row triggers and no DELETE rules."""

    table: str


@dataclass(frozen=True)
class ReapplyStep(Step):
    """Apply the DDL again to the populated store: no error, nothing lost."""


@dataclass(frozen=True)
class CheckStep(Step):
    """A named check of the store as a whole (e.g. `autopopulated`)."""

    check: str


@dataclass(frozen=True)
class TransactionStep(Step):
    """begin, commit or rollback on one session."""

    action: TypingLiteral["begin", "commit", "rollback"]
    expect: Expectation = "accepted"


@dataclass(frozen=True)
class RaceStep(Step):
    """Appends on sessions of their own that all replay before any begins, then append in
    list order and commit in list order: `one` of them commits, or `all` do."""

    appends: tuple[Append, ...]
    expect: RaceExpectation


# How a write step sends its rows: each backend renders a form in its dialect, or says
# why its engine has no such statement.
WRITE_FORMS = {
    "insert": "one INSERT naming every column given, one row or several",
    "replace": "INSERT OR REPLACE / REPLACE INTO: a conflicting row is deleted first",
    "ignore": "INSERT OR IGNORE / INSERT IGNORE / ON CONFLICT DO NOTHING",
    "upsert": "INSERT ... ON CONFLICT / ON DUPLICATE KEY UPDATE of every column sent",
    "merge": "MERGE INTO ... WHEN MATCHED UPDATE WHEN NOT MATCHED INSERT",
    "copy": "a bulk load (PostgreSQL COPY FROM STDIN)",
}
WriteForm = TypingLiteral["insert", "replace", "ignore", "upsert", "merge", "copy"]
# accepted: stored exactly as sent; rejected: refused, no trace; unchanged: the store is
# as before, whatever the database answered; assigned: refused, or stored with the
# database's own sequence and ts in place of the supplied ones; exact: refused, or stored
# exactly as sent (never truncated or converted).
WriteExpectation = TypingLiteral["accepted", "rejected", "unchanged", "assigned", "exact"]


@dataclass(frozen=True)
class WriteStep(Step):
    """Appends sent in a form other than the spec's statements, as any client may."""

    form: WriteForm
    appends: tuple[Append, ...]
    expect: WriteExpectation
    on: str = "eventId"  # the conflict target of upsert and merge, a spec column


# Steps that the threaded session driver runs; every other step runs on the kit's own
# connection once every transaction has ended.
SESSION_STEPS = (AppendStep, ReplayStep, TransactionStep, DefineStep)


@dataclass(frozen=True)
class Scenario:
    name: str
    rules: tuple[str, ...]
    steps: tuple[Step, ...]
    location: Location
    file: ScenarioFile = field(repr=False, compare=False)
    description: str = ""
    sessions: tuple[str, ...] = ()  # declared names, besides the implicit default session
    requires: tuple[str, ...] = ()  # backend capabilities named in the file
    # The label of the backend's session setting the scenario runs under (a variant the kit
    # makes, conformance/execution/settings.py); empty for the scenario as written.
    setting: str = ""

    @property
    def concurrent(self) -> bool:
        """Runs through sessions on threads: it declares sessions, a transaction or a race."""
        return bool(self.sessions) or any(
            isinstance(step, (TransactionStep, RaceStep)) for step in self.steps
        )

    @property
    def requirements(self) -> tuple[str, ...]:
        """The backend capabilities the scenario cannot run without."""
        needed = dict.fromkeys(((SESSIONS,) if self.concurrent else ()) + self.requires)
        return tuple(needed)

    @property
    def all_rules(self) -> tuple[str, ...]:
        """The scenario's rules and any rule a single step names, in order, once each."""
        seen = dict.fromkeys(self.rules)
        for step in self.steps:
            seen.update(dict.fromkeys(step.rules))
        return tuple(seen)


@dataclass
class ScenarioFile:
    path: str
    description: str
    definitions: tuple[tuple[str, str], ...]
    history: tuple[AppendStep, ...]
    scenarios: list[Scenario] = field(default_factory=list)
