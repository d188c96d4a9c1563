"""Fault runs: a writer's connection is killed in the middle of an append.

Each case is forced, not raced: the writer begins a transaction and inserts its event,
commits or not, signals, and only then is killed (SIGKILL of a child process on SQLite).
Whatever the case, the store holds no partial event, and the client's retry of the same
command (replay, then append with the same commandId and a new eventId) is rejected as a duplicate when the first attempt
had committed and accepted when it had not. The invariant checker then audits the store
against the ledger of both attempts.
"""

from __future__ import annotations

import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import statements as sql
from conformance.backends import Backend, Outcome, Session, backend_class
from conformance.backends.sqlite import SqliteStore
from conformance.bench import ledger
from conformance.bench.command import fresh_store
from conformance.bench.invariants import check_store
from conformance.bench.workloads import ENTITY, FIRST_EVENT, NEXT_EVENT, append, new_id
from conformance.ddl import DdlScript
from conformance.resources import bundled_ddl_folder

BEFORE_COMMIT, AFTER_COMMIT = "before-commit", "after-commit"
SIGNAL_TIMEOUT = 30.0
KEY = "faulty"
DATA = '{"attempt": 1}'
EVENT_ROW = "SELECT entity, entityKey, event, data, eventId, commandId, previousId FROM events"

# A writer in a process of its own: begin, insert, maybe commit, say so, wait to be killed.
SQLITE_WRITER = """
import sqlite3, sys
from conformance import statements
path, when, *params = sys.argv[1:]
connection = sqlite3.connect(path, isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
connection.execute(statements.APPEND_FIRST, params)
if when == "after-commit":
    connection.execute("COMMIT")
print(when, flush=True)
sys.stdin.read()
"""


@pytest.fixture(scope="module")
def sqlite_store_backend() -> Iterator[Backend]:
    backend = backend_class(None)(
        None, DdlScript.read(bundled_ddl_folder() / "sqlite-event-store.ddl")
    )
    backend.prepare()
    yield backend
    backend.close()


def kill_sqlite_writer_mid_append(store: SqliteStore, when: str, ids: tuple[str, str]) -> None:
    params = [ENTITY, KEY, FIRST_EVENT, DATA, *ids]
    child = subprocess.Popen(
        [sys.executable, "-c", SQLITE_WRITER, str(store.path), when, *params],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], SIGNAL_TIMEOUT)
        assert ready, f"the writer did not reach {when} within {SIGNAL_TIMEOUT} s"
        assert child.stdout is not None and child.stdout.readline().strip() == when
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -9


def retry_and_audit(session: Session, backend: Backend, when: str, ids: tuple[str, str]) -> Outcome:
    """The store after the kill, the client's retry, and the audit of both attempts."""
    rows = session.execute(EVENT_ROW)
    sent = (ENTITY, KEY, FIRST_EVENT, DATA, *ids, None)
    assert [tuple(str(v) if v is not None else None for v in row) for row in rows] == (
        [sent] if when == AFTER_COMMIT else []
    ), "the store holds exactly the committed event, whole, or nothing"
    # The client runs the command again: replay, then append after the last event. Only
    # the commandId can make the database refuse it (new eventId, current previousId).
    replayed = session.execute(sql.REPLAY, (KEY, ENTITY))
    previous = replayed[-1][2] if replayed else None
    retry_ids = (new_id(), ids[1])
    event = FIRST_EVENT if previous is None else NEXT_EVENT
    outcome = append(session, backend, KEY, event, DATA, retry_ids, previous)
    first = ledger.ACKNOWLEDGED if when == AFTER_COMMIT else ledger.ROLLED_BACK
    ledger.record_rows(
        session,
        [
            (*ids, first),
            (*retry_ids, ledger.ACKNOWLEDGED if outcome is Outcome.ACCEPTED else ledger.REJECTED),
        ],
    )
    assert check_store(session) == []
    return outcome


EXPECTED_RETRY = {BEFORE_COMMIT: Outcome.ACCEPTED, AFTER_COMMIT: Outcome.REJECTED}


@pytest.mark.parametrize("journal_mode", ["WAL", "DELETE"])
@pytest.mark.parametrize("when", [BEFORE_COMMIT, AFTER_COMMIT])
def test_sqlite_writer_process_killed_mid_append(
    sqlite_store_backend: Backend, when: str, journal_mode: str
) -> None:
    setup = [f"PRAGMA journal_mode={journal_mode}"]
    with fresh_store(sqlite_store_backend, setup) as (bench_store, session):
        store = bench_store.store
        assert isinstance(store, SqliteStore)
        ids = (new_id(), new_id())
        kill_sqlite_writer_mid_append(store, when, ids)
        assert retry_and_audit(session, sqlite_store_backend, when, ids) is EXPECTED_RETRY[when]
        if journal_mode == "DELETE" and when == BEFORE_COMMIT:
            assert not Path(f"{store.path}-journal").exists(), "the hot journal was rolled back"
