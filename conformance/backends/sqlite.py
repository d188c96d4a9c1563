"""SQLite through Python's sqlite3: one fresh database file per scenario.

The DDL is applied once to a template file; each store is a copy of it, which is
the same as applying the DDL to an empty database and far cheaper. Every session is
a new connection with the driver's defaults, so a rule that needs a per-connection
pragma (foreign_keys) does not count as enforced by the database.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.backends.base import Backend, Outcome, Row, Session, Store
from conformance.ddl import DdlScript, first_line
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


class SqliteSession(Session):
    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.connection.execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        self.connection.close()


class SqliteStore(Store):
    def __init__(self, path: Path, ddl: DdlScript) -> None:
        self.path = path
        self.ddl = ddl

    def session(self) -> SqliteSession:
        return SqliteSession(self.path)

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


def _memory_folder() -> str | None:
    """A RAM-backed folder where one exists: scenario databases are throwaway, and a
    commit there costs no disk flush. The databases are still real files."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


class SqliteBackend(Backend):
    name = "sqlite"
    capabilities = frozenset({"single-writer"})

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
            return Path(tempfile.mkdtemp(prefix="conformance-sqlite-", dir=_memory_folder())), True
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
