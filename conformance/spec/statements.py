"""The SQL the kit sends: the seed's client statements rendered through a profile,
with bound parameters only.

The client statements are written with named parameters (`:entityKey`) and sent with
`?` placeholders (the seed's style); a backend whose driver wants another paramstyle
converts them with `to_format_style`. Table and column names come from the profile,
whose schema admits plain or quoted identifiers only, never from scenario text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from conformance.scenario.objects import DEFINITION_COLUMNS
from conformance.spec.profile import (
    DEFINITIONS,
    SPEC_COLUMNS,
    Profile,
    default_profile,
    positional,
)


@dataclass(frozen=True)
class Statement:
    """One client statement: as written (named parameters) and as sent (`?`)."""

    key: str  # define, append-first, append-next, replay, read-events, read-definitions
    text: str
    sql: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, key: str, text: str) -> Statement:
        sql, names = positional(text)
        return cls(key, text, sql, names)

    def bind(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The parameters in placeholder order, from the spec's names."""
        return tuple(values.get(name) for name in self.names)

    def takes(self, name: str) -> bool:
        return name in self.names


@dataclass(frozen=True)
class Statements:
    """Every statement the kit sends to a store, spelled for one profile."""

    profile: Profile
    define: Statement | None  # None: the DDL has no definitions table
    append_first: Statement
    append_next: Statement
    replay: Statement
    read_events: Statement
    read_definitions: Statement | None
    # Attempts to change history, one statement per spec column, with `?` placeholders.
    update_event: dict[str, str] = field(default_factory=dict)
    update_all_events: dict[str, str] = field(default_factory=dict)
    update_definition: dict[str, str] = field(default_factory=dict)
    update_all_definitions: dict[str, str] = field(default_factory=dict)
    delete_event: str = ""
    delete_definition: str = ""
    delete_all: dict[str, str] = field(default_factory=dict)  # by spec table name
    truncate: dict[str, str] = field(default_factory=dict)

    @property
    def client_event_ids(self) -> bool:
        """False when the database makes the eventId and the append statement returns it."""
        return self.append_first.takes("eventId")

    def client(self) -> list[Statement]:
        """The client statements, to check that each one prepares."""
        listed = (self.define, self.append_first, self.append_next, self.replay,
                  self.read_events, self.read_definitions)  # fmt: skip
        return [statement for statement in listed if statement is not None]

    @classmethod
    def of(cls, profile: Profile) -> Statements:
        texts = {**spec_texts(profile), **profile.statements}
        lacks_definitions = DEFINITIONS in profile.lacks
        c, t = profile.columns, profile.tables
        events, definitions = t["events"], t["entity_events"]
        by_id = f"{c['eventId']} = ?"
        by_pair = f"{c['entity']} = ? AND {c['event']} = ?"
        return cls(
            profile=profile,
            define=None if lacks_definitions else Statement.of("define", texts["define"]),
            append_first=Statement.of("append-first", texts["append-first"]),
            append_next=Statement.of("append-next", texts["append-next"]),
            replay=Statement.of("replay", texts["replay"]),
            read_events=Statement.of("read-events", texts["read-events"]),
            read_definitions=None
            if lacks_definitions
            else Statement.of("read-definitions", texts["read-definitions"]),
            update_event={s: f"UPDATE {events} SET {c[s]} = ? WHERE {by_id}" for s in SPEC_COLUMNS},
            update_all_events={s: f"UPDATE {events} SET {c[s]} = ?" for s in SPEC_COLUMNS},
            update_definition={
                s: f"UPDATE {definitions} SET {c[s]} = ? WHERE {by_pair}"
                for s in DEFINITION_COLUMNS
            },
            update_all_definitions={
                s: f"UPDATE {definitions} SET {c[s]} = ?" for s in DEFINITION_COLUMNS
            },
            delete_event=f"DELETE FROM {events} WHERE {by_id}",
            delete_definition=f"DELETE FROM {definitions} WHERE {by_pair}",
            delete_all={
                "events": f"DELETE FROM {events}",
                "entity_events": f"DELETE FROM {definitions}",
            },
            truncate={
                "events": f"TRUNCATE TABLE {events}",
                "entity_events": f"TRUNCATE TABLE {definitions}",
            },
        )


def spec_texts(profile: Profile) -> dict[str, str]:
    """The spec's client statements, with the profile's table and column names."""
    c, t = profile.columns, profile.tables
    first = ("entity", "entityKey", "event", "data", "eventId", "commandId")
    nxt = (*first, "previousId")

    def insert(names: tuple[str, ...]) -> str:
        columns = ", ".join(c[n] for n in names)
        values = ", ".join(f":{n}" for n in names)
        return f"INSERT INTO {t['events']}({columns}) VALUES ({values})"

    return {
        "define": f"INSERT INTO {t['entity_events']} ({c['entity']}, {c['event']}) "
        "VALUES (:entity, :event)",
        "append-first": insert(first),
        "append-next": insert(nxt),
        "replay": f"SELECT {c['event']}, {c['data']}, {c['eventId']} FROM {t['events']} "
        f"WHERE {c['entityKey']} = :entityKey AND {c['entity']} = :entity "
        f"ORDER BY {c['sequence']}",
        "read-events": f"SELECT {', '.join(c[n] for n in SPEC_COLUMNS)} FROM {t['events']}",
        "read-definitions": f"SELECT {c['entity']}, {c['event']} FROM {t['entity_events']}",
    }


@cache
def statements_for(profile: Profile) -> Statements:
    return Statements.of(profile)


def spec_statements() -> Statements:
    return statements_for(default_profile())


# The spec's own statements as sent, for code that speaks the spec directly.
DEFINE = "INSERT INTO entity_events (entity, event) VALUES (?, ?)"
REPLAY = (
    "SELECT event, data, eventId FROM events WHERE entityKey = ? AND entity = ? ORDER BY sequence"
)
APPEND_FIRST = "INSERT INTO events(entity, entityKey, event, data, eventId, commandId) VALUES (?, ?, ?, ?, ?, ?)"
APPEND_SUBSEQUENT = (
    "INSERT INTO events(entity, entityKey, event, data, eventId, commandId, previousId) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def to_format_style(sql: str) -> str:
    """`?` -> `%s` for drivers with the 'format' paramstyle (psycopg, PyMySQL)."""
    return sql.replace("%", "%%").replace("?", "%s")
