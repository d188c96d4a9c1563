"""SQLite through Python's sqlite3: one fresh database file per scenario.

The DDL is applied once to a template file; each store is a copy of it, which is
the same as applying the DDL to an empty database and far cheaper. Every session is
a new connection with the driver's defaults, so a rule that needs a per-connection
pragma (foreign_keys) does not count as enforced by the database.

Concurrency: SQLite has one writer at a time. A session's transaction starts with
BEGIN IMMEDIATE, which takes the write lock at once (a deferred transaction that read
first and then tries to write can deadlock with another writer). A lock conflict
(SQLITE_BUSY) is a wait, never an outcome: the statement runs again as soon as another
connection of the store finishes a statement, the only moment a lock can be released.
That is SQLite's busy handler without its sleeps, so the kit sees exactly when a
session waits, and a waiting append is judged by the DDL's rules once the lock is free.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.backends.base import Backend, Outcome, Row, Session, SessionSetting, Store
from conformance.ddl_script import DdlScript, first_line
from conformance.errors import KitError


def split_statements(text: str) -> Iterator[tuple[int, str]]:
    """(first line, statement) for each complete SQL statement of a script."""
    buffer: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if not buffer and (not line.strip() or line.strip().startswith("--")):
            continue
        if not buffer:
            start = number
        buffer.append(line)
        statement = "".join(buffer)
        if sqlite3.complete_statement(statement):
            yield start, statement
            buffer = []
    rest = "".join(buffer)
    if _has_code(rest):
        yield start, rest


def _has_code(statement: str) -> bool:
    return any(
        line.strip() and not line.strip().startswith("--") for line in statement.splitlines()
    )


SQLITE_BUSY = 5
# A statement that still finds the database locked after this long fails (an error),
# as the driver's default busy timeout would: a lock held by another process is not ours.
LOCK_WAIT_LIMIT = 60.0


class LockBoard:
    """Where the connections of one store wait for each other's locks.

    A statement refused with SQLITE_BUSY waits until some statement of the store has
    finished since it was sent (only then can a lock have been released), and then for
    its turn: refused statements run again one at a time, in the order they were
    refused. So two retries never collide, and a retry never meets a lock that is held
    only for the moment of another retry.
    """

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.generation = 0  # statements finished so far, on any connection of the store
        self.refused: dict[SqliteSession, int] = {}  # waiting session -> generation it saw
        self.retrying: SqliteSession | None = None

    def finished(self, session: SqliteSession) -> None:
        with self.condition:
            self.generation += 1
            if self.retrying is session:
                self.retrying = None
            self.condition.notify_all()

    def wait_turn(self, session: SqliteSession, seen: int, deadline: float) -> bool:
        """After a refusal: wait to run again; False if cancelled or past the deadline."""
        with self.condition:
            if self.retrying is session:
                self.retrying = None
                self.condition.notify_all()
            self.refused[session] = seen
            try:
                while not self._turn(session):
                    left = deadline - time.monotonic()
                    if session.cancelled or left <= 0:
                        return False
                    self.condition.wait(left)
            finally:
                del self.refused[session]
            self.retrying = session
            return True

    def _turn(self, session: SqliteSession) -> bool:
        if self.retrying is not None:
            return False
        due = [s for s, seen in self.refused.items() if seen != self.generation]
        return bool(due) and due[0] is session

    def is_waiting(self, session: SqliteSession) -> bool:
        """Waiting now: refused, and no statement has finished since to free the lock."""
        with self.condition:
            return self.refused.get(session) == self.generation

    def cancel(self, session: SqliteSession) -> None:
        with self.condition:
            session.cancelled = True
            self.condition.notify_all()


class SqliteSession(Session):
    def __init__(self, path: Path, board: LockBoard) -> None:
        self.connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=0
        )
        self.board = board
        self.cancelled = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        deadline = time.monotonic() + LOCK_WAIT_LIMIT
        while True:
            seen = self.board.generation
            try:
                rows = self.connection.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as exc:
                if _is_busy(exc) and self.board.wait_turn(self, seen, deadline):
                    continue
                self.board.finished(self)
                raise
            self.board.finished(self)
            return rows

    def begin(self) -> None:
        self.execute("BEGIN IMMEDIATE")

    def prepare(self, sql: str, params: Sequence[Any]) -> None:
        """EXPLAIN compiles the statement (and any trigger it fires) without running it."""
        self.execute(f"EXPLAIN {sql}", params)

    def cancel(self) -> None:
        self.board.cancel(self)
        self.connection.interrupt()

    def close(self) -> None:
        self.connection.close()
        self.board.finished(self)


def _is_busy(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF == SQLITE_BUSY


class SqliteStore(Store):
    def __init__(self, path: Path, ddl: DdlScript) -> None:
        self.path = path
        self.ddl = ddl
        self.board = LockBoard()

    def session(self) -> SqliteSession:
        return SqliteSession(self.path, self.board)

    def waiting(self, session: Session) -> bool:
        return isinstance(session, SqliteSession) and self.board.is_waiting(session)

    def reapply_ddl(self) -> None:
        apply_ddl(self.path, self.ddl)

    def close(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def apply_ddl(path: Path, ddl: DdlScript) -> None:
    """Run the script statement by statement; a failure carries the statement's line."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for line, statement in split_statements(ddl.text):
            try:
                connection.execute(statement)
            except sqlite3.Error as exc:
                exc.add_note(f"{ddl.path}:{line}: {first_line(statement)}")
                raise
    finally:
        connection.close()


_BACKENDS = itertools.count(1)


def memory_folder() -> str | None:
    """A RAM-backed folder where one exists: scenario databases are throwaway, and a
    commit there costs no disk flush. The databases are still real files."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _pragma(label: str, *weakens: str) -> SessionSetting:
    return SessionSetting(label, (f"PRAGMA {label}",), weakens)


# Pragmas any connection may set for itself, each with the rules it could weaken (only
# the write scenarios naming one of them run again under it, to keep the run short): CHECK
# constraints (an id's shape, a value's presence), foreign keys and their actions (a
# cascade from a definition, a previousId checked by a key), triggers that fire triggers
# (an INSERT OR IGNORE stand-in), LIKE turning case-sensitive (a case-blind id check).
SESSION_SETTINGS = (
    _pragma("ignore_check_constraints=ON", "appends.uuid_ids", "appends.required"),
    _pragma("foreign_keys=ON", "definitions.immutable"),
    _pragma("foreign_keys=OFF", "chain.previous_exists"),
    _pragma("defer_foreign_keys=ON", "chain.previous_exists"),
    _pragma("recursive_triggers=ON", "definitions.idempotent"),
    _pragma("case_sensitive_like=ON", "appends.unique_event_id", "appends.unique_command_id"),
)


class SqliteBackend(Backend):
    name = "sqlite"
    capabilities = frozenset(
        {"single-writer", "sessions", "dynamic-typing", "nul-in-text", "shared-key-waits"}
    )
    session_settings = SESSION_SETTINGS
    limitations = {  # noqa: RUF012 - a class constant, never mutated
        "concurrent-writers": "SQLite allows one writer at a time: BEGIN IMMEDIATE takes the "
        "database's write lock, so a second writer waits until the first one ends",
    }

    missing_write_forms = {  # noqa: RUF012 - a class constant, never mutated
        "merge": "SQLite has no MERGE statement",
        "copy": "SQLite has no bulk-load statement (the shell's .import sends INSERTs)",
    }

    write_verbs = {"replace": "INSERT OR REPLACE INTO", "ignore": "INSERT OR IGNORE INTO"}  # noqa: RUF012
    # No conflict target: any unique key the row hits.
    upsert_clause, upsert_value = "ON CONFLICT DO UPDATE SET {sets}", "excluded.{}"

    def __init__(self, dsn: str | None, ddl: DdlScript) -> None:
        super().__init__(dsn, ddl)
        self.folder, self.own_folder = self._folder(dsn)
        # Unique per backend, so that two backends (two DDLs) can share one folder.
        self.prefix = f"conformance-{os.getpid()}-{next(_BACKENDS)}"
        self.template = self.folder / f"{self.prefix}-template.sqlite"
        self.counter = itertools.count(1)

    @staticmethod
    def _folder(dsn: str | None) -> tuple[Path, bool]:
        """sqlite:///DIR keeps the scenario databases in DIR; otherwise a temporary folder."""
        path = urlsplit(dsn).path if dsn else ""
        if not path or path == "/":
            return Path(
                tempfile.mkdtemp(prefix=f"conformance-sqlite-{os.getpid()}-", dir=memory_folder())
            ), True
        folder = Path(path)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KitError(
                f"--dsn {dsn}: cannot use {folder} as the folder for scenario databases: {exc}"
            ) from None
        return folder, False

    def prepare(self) -> None:
        self.template.unlink(missing_ok=True)
        try:
            apply_ddl(self.template, self.ddl)
        except sqlite3.Error as exc:
            where = exc.__notes__[-1] if getattr(exc, "__notes__", None) else str(self.ddl.path)
            raise KitError(f"--ddl {where}: statement does not apply on SQLite: {exc}") from None

    def create_store(self) -> SqliteStore:
        path = self.folder / f"{self.prefix}-{next(self.counter)}.sqlite"
        shutil.copyfile(self.template, path)
        return SqliteStore(path, self.ddl)

    def classify(self, exc: BaseException) -> Outcome | None:
        if isinstance(exc, sqlite3.IntegrityError):
            return Outcome.REJECTED
        if isinstance(exc, sqlite3.Error):
            return Outcome.ERROR
        return None

    def describe(self, exc: BaseException) -> str:
        name = getattr(exc, "sqlite_errorname", None)
        text = " ".join(str(exc).split())
        return f"{name}: {text}" if name else text

    def server_version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"

    def close(self) -> None:
        self.template.unlink(missing_ok=True)
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)
