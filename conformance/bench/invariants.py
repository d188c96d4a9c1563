"""The invariants of an event store after a run, checked in SQL so that any size streams.

Each check is one query that returns the offending rows only (at most `SHOWN` + 1 of
them), so the database does the work and nothing the size of the store comes back.
Together they prove, for every entity instance, one linear chain from a single first
event: exactly one first event (`first_event`), no event followed twice (`fork`), every
previousId an event of the same instance (`broken_link`), and the previous event always
earlier in sequence (`order`), which also rules out cycles. Against the ledger of the run
they prove that every acknowledged append is present exactly once, that no rejected or
rolled-back attempt left a row, and that no row appeared that no attempt wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conformance.backends.base import Row, Session
from conformance.bench import ledger
from conformance.spec.profile import Profile, default_profile

SHOWN = 10
L = ledger.TABLE


@dataclass(frozen=True)
class Check:
    kind: str
    meaning: str
    columns: tuple[str, ...]
    query: str


# In joins the probed table's column stands left of `=`: SQLite compares with the left
# column's collation, and only a matching collation lets it use that table's index.
CHECKS = (
    Check(
        "first_event",
        "an entity instance does not have exactly one first event (previousId NULL)",
        ("entity", "entityKey", "events", "first events"),
        "SELECT entity, entityKey, COUNT(*), SUM(CASE WHEN previousId IS NULL THEN 1 ELSE 0 END) "
        "FROM events GROUP BY entity, entityKey "
        "HAVING SUM(CASE WHEN previousId IS NULL THEN 1 ELSE 0 END) <> 1",
    ),
    Check(
        "fork",
        "two events follow the same event: the stream forked",
        ("previousId", "followers"),
        "SELECT previousId, COUNT(*) FROM events WHERE previousId IS NOT NULL "
        "GROUP BY previousId HAVING COUNT(*) > 1",
    ),
    Check(
        "broken_link",
        "previousId is not an event of the same entity instance",
        ("sequence", "entity", "entityKey", "eventId", "previousId"),
        "SELECT e.sequence, e.entity, e.entityKey, e.eventId, e.previousId FROM events e "
        "LEFT JOIN events p ON p.eventId = e.previousId "
        "AND p.entity = e.entity AND p.entityKey = e.entityKey "
        "WHERE e.previousId IS NOT NULL AND p.eventId IS NULL",
    ),
    Check(
        "order",
        "an event's sequence is not after the sequence of its previous event",
        ("sequence", "eventId", "previous sequence", "previousId"),
        "SELECT e.sequence, e.eventId, p.sequence, p.eventId FROM events e "
        "JOIN events p ON p.eventId = e.previousId WHERE p.sequence >= e.sequence",
    ),
    Check(
        "duplicate_event_id",
        "an eventId is stored more than once",
        ("eventId", "rows"),
        "SELECT eventId, COUNT(*) FROM events GROUP BY eventId HAVING COUNT(*) > 1",
    ),
    Check(
        "duplicate_command_id",
        "a commandId is stored more than once",
        ("commandId", "rows"),
        "SELECT commandId, COUNT(*) FROM events GROUP BY commandId HAVING COUNT(*) > 1",
    ),
    Check(
        "acknowledged_not_once",
        "an acknowledged append is not in the store exactly once",
        ("eventId", "commandId", "rows"),
        f"SELECT l.eventId, l.commandId, COUNT(e.eventId) FROM {L} l "
        "LEFT JOIN events e ON e.eventId = l.eventId AND e.commandId = l.commandId "
        f"WHERE l.outcome = '{ledger.ACKNOWLEDGED}' "
        "GROUP BY l.eventId, l.commandId HAVING COUNT(e.eventId) <> 1",
    ),
    Check(
        "refused_left_row",
        "a rejected or rolled-back append left a row",
        ("outcome", "eventId", "commandId", "sequence"),
        f"SELECT l.outcome, l.eventId, l.commandId, e.sequence FROM {L} l "
        "JOIN events e ON e.eventId = l.eventId "
        f"WHERE l.outcome IN ('{ledger.REJECTED}', '{ledger.ROLLED_BACK}')",
    ),
    Check(
        "unrecorded_row",
        "a row no append attempt of the run wrote",
        ("sequence", "eventId", "commandId"),
        f"SELECT e.sequence, e.eventId, e.commandId FROM events e LEFT JOIN {L} l "
        "ON l.eventId = e.eventId WHERE l.eventId IS NULL",
    ),
)


@dataclass(frozen=True)
class Violation:
    check: Check
    rows: list[Row]

    @property
    def more(self) -> bool:
        return len(self.rows) > SHOWN

    def text(self) -> str:
        lines = [f"{self.check.kind}: {self.check.meaning}", f"  ({', '.join(self.check.columns)})"]
        lines += [f"  {tuple(str(v) for v in row)}" for row in self.rows[:SHOWN]]
        if self.more:
            lines.append("  ... and more")
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.check.kind,
            "meaning": self.check.meaning,
            "columns": list(self.check.columns),
            "rows": [[str(v) for v in row] for row in self.rows[:SHOWN]],
            "more": self.more,
        }


# For a table with no index of its own (the bare table): the checks look events up by
# eventId, which would otherwise cost a scan per event on engines without hash joins.
EVENT_ID_INDEX = "CREATE INDEX IF NOT EXISTS conformance_check_event ON events (eventId)"


# The spec's names in the queries above, as a profile may spell them otherwise: the
# events table, and its columns where not qualified by the ledger's alias `l.`.
_SPEC_NAMES = re.compile(
    r"(?<!l\.)\b(events|entity|entityKey|event|data|eventId|commandId|previousId|sequence)\b"
)


def spelled(query: str, profile: Profile) -> str:
    """A query over the spec's names, in the profile's."""

    def name(match: re.Match[str]) -> str:
        word = match.group(1)
        return profile.tables["events"] if word == "events" else profile.columns[word]

    return _SPEC_NAMES.sub(name, query)


def check_store(
    session: Session, index_events: bool = False, profile: Profile | None = None
) -> list[Violation]:
    """Every invariant of the store against its ledger; an empty list when all hold.

    Joins rather than correlated subqueries, so that engines that build a hash or a
    temporary index for a join do so. `index_events` adds an index on events.eventId
    first, for tables that have none (the kit's own store only)."""
    profile = profile or default_profile()
    session.execute(ledger.INDEX)
    if index_events:
        session.execute(spelled(EVENT_ID_INDEX, profile))
    violations = []
    for check in CHECKS:
        rows = session.execute(f"{spelled(check.query, profile)} LIMIT {SHOWN + 1}")
        if rows:
            violations.append(Violation(check, rows))
    return violations
