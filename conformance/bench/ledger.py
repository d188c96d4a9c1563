"""The ledger: what every append attempt of a run was told, so the store can be audited.

During a timed run each writer writes its attempts to a file of its own (memory stays
flat however long the run); after the run the files are loaded into a table of the
store, `conformance_ledger`, so that the invariant checker can compare the store with
the ledger in SQL. Bulk loads write their ledger rows in the same transaction as the
events, so a ledger row exists exactly when its events were acknowledged.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from conformance.backends.base import Session
from conformance.bench.storage import ROWS_PER_TRANSACTION, batches, insert_many, transaction
from conformance.spec.profile import Profile

TABLE = "conformance_ledger"

ACKNOWLEDGED = "acknowledged"  # the database said yes: the row must be there, once
REJECTED = "rejected"  # a rule said no: no row may be left
ROLLED_BACK = (
    "rolled-back"  # the transaction was rolled back or its connection killed before COMMIT
)
UNKNOWN = "unknown"  # an error with no verdict (a lost connection during COMMIT): either is fine

# The ledger copies the id columns of `events`, so ids compare with the same types and
# collations as the DDL chose; `outcome` borrows the type of the `event` column.
CREATE = (
    f"CREATE TABLE {TABLE} AS SELECT eventId, commandId, event AS outcome FROM events WHERE 1 = 0"
)
INDEX = f"CREATE INDEX IF NOT EXISTS {TABLE}_event ON {TABLE} (eventId)"
INSERT_HEAD = f"INSERT INTO {TABLE} (eventId, commandId, outcome)"


def create_table(session: Session, profile: Profile | None = None) -> None:
    """The ledger table, its id columns copied from the events table as the profile
    spells them (under the spec's names, which the ledger and its checks use)."""
    if profile is None:
        session.execute(CREATE)
        return
    c = profile.columns
    session.execute(
        f"CREATE TABLE {TABLE} AS SELECT {c['eventId']} AS eventId, "
        f"{c['commandId']} AS commandId, {c['event']} AS outcome "
        f"FROM {profile.tables['events']} WHERE 1 = 0"
    )


def record_rows(session: Session, rows: list[tuple[Any, Any, str]]) -> None:
    """(eventId, commandId, outcome) rows, inside the caller's transaction."""
    insert_many(session, INSERT_HEAD, rows)


class LedgerFile:
    """One writer's attempts, one line each."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: TextIO = path.open("w", encoding="ascii", buffering=1 << 16)

    def record(self, outcome: str, event_id: Any, command_id: Any) -> None:
        self.file.write(f"{outcome} {event_id} {command_id}\n")

    def close(self) -> None:
        self.file.close()


class RunLedger:
    """The ledger files of one run, and their loading into the store."""

    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="conformance-ledger-")
        self.files: list[LedgerFile] = []

    def new_file(self) -> LedgerFile:
        ledger_file = LedgerFile(Path(self.folder.name) / f"writer-{len(self.files)}.txt")
        self.files.append(ledger_file)
        return ledger_file

    def rows(self) -> Iterator[tuple[str, str, str]]:
        for ledger_file in self.files:
            ledger_file.close()
            with ledger_file.path.open(encoding="ascii") as lines:
                for line in lines:
                    outcome, event_id, command_id = line.split()
                    yield event_id, command_id, outcome

    def load(self, session: Session) -> None:
        for batch in batches(self.rows(), ROWS_PER_TRANSACTION):
            with transaction(session):
                insert_many(session, INSERT_HEAD, batch)

    def close(self) -> None:
        for ledger_file in self.files:
            ledger_file.close()
        self.folder.cleanup()
