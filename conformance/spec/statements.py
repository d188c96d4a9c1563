"""The SQL the kit sends: the seed's client statements, with bound parameters only.

Placeholders are written as `?` (the seed's style); a backend whose driver wants
another paramstyle converts them with `to_format_style`. Column names come from
fixed tables here, never from scenario text.
"""

from __future__ import annotations

from conformance.scenario.objects import DEFINITION_COLUMNS, EVENT_COLUMNS

DEFINE = "INSERT INTO entity_events (entity, event) VALUES (?, ?)"

REPLAY = (
    "SELECT event, data, eventId FROM events WHERE entityKey = ? AND entity = ? ORDER BY sequence"
)

APPEND_FIRST = "INSERT INTO events(entity, entityKey, event, data, eventId, commandId) VALUES (?, ?, ?, ?, ?, ?)"

APPEND_SUBSEQUENT = (
    "INSERT INTO events(entity, entityKey, event, data, eventId, commandId, previousId) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)

# Inspection: the whole store, to prove a step changed nothing (or exactly one row).
SNAPSHOT_EVENTS = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events"
SNAPSHOT_DEFINITIONS = f"SELECT {', '.join(DEFINITION_COLUMNS)} FROM entity_events"
AUTOPOPULATED = "SELECT eventId, ts, sequence FROM events"

# Attempts to change history: one statement per column, chosen from this table.
UPDATE_EVENT = {c: f"UPDATE events SET {c} = ? WHERE eventId = ?" for c in EVENT_COLUMNS}
UPDATE_ALL_EVENTS = {c: f"UPDATE events SET {c} = ?" for c in EVENT_COLUMNS}
UPDATE_DEFINITION = {
    c: f"UPDATE entity_events SET {c} = ? WHERE entity = ? AND event = ?"
    for c in DEFINITION_COLUMNS
}
UPDATE_ALL_DEFINITIONS = {c: f"UPDATE entity_events SET {c} = ?" for c in DEFINITION_COLUMNS}
DELETE_EVENT = "DELETE FROM events WHERE eventId = ?"
DELETE_DEFINITION = "DELETE FROM entity_events WHERE entity = ? AND event = ?"
DELETE_ALL = {"events": "DELETE FROM events", "entity_events": "DELETE FROM entity_events"}
TRUNCATE = {"events": "TRUNCATE TABLE events", "entity_events": "TRUNCATE TABLE entity_events"}


def to_format_style(sql: str) -> str:
    """`?` -> `%s` for drivers with the 'format' paramstyle (psycopg, PyMySQL)."""
    return sql.replace("%", "%%").replace("?", "%s")
