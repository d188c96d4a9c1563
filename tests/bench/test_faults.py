"""Fault runs: a writer's connection is killed in the middle of an append.

Each case is forced, not raced: the writer begins a transaction and inserts its event,
commits or not, and only then is killed: SIGKILL of a child process that signalled
through a pipe on SQLite, pg_terminate_backend (which waits for the end) on PostgreSQL,
KILL on MariaDB.
Whatever the case, the store holds no partial event, and the client's retry of the same
command (replay, then append with the same commandId and a new eventId) is rejected as a
duplicate when the first attempt had committed and accepted when it had not. The
invariant checker then audits the store against the ledger of both attempts.
On MariaDB, KILL is asynchronous, which the cases tolerate by construction: the killed
transaction holds the locks of its row until it is rolled back, so the retry waits for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bench_cases import (
    AFTER_COMMIT,
    BEFORE_COMMIT,
    assert_kill_mid_append,
    kill_server_writer,
    kill_sqlite_writer,
    prepared,
    shipped_ddl,
)
from helpers import engine_dsn, own_schemas

from conformance.backends import Backend
from conformance.bench.command import BenchStore

WHEN = [BEFORE_COMMIT, AFTER_COMMIT]


@pytest.fixture(scope="module")
def sqlite_event_store() -> Iterator[Backend]:
    with prepared(shipped_ddl("sqlite"), None) as backend:
        yield backend


SERVERS = [
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


@pytest.fixture(scope="module", params=SERVERS)
def server_event_store(request: pytest.FixtureRequest) -> Iterator[Backend]:
    dsn = engine_dsn(request, request.param)
    with prepared(shipped_ddl(request.param), dsn) as backend:
        yield backend
    if request.param == "postgresql":
        assert own_schemas(dsn) == []


def no_hot_journal_left(store: BenchStore) -> None:
    path = getattr(store.store, "path", None)
    assert path is not None and not Path(f"{path}-journal").exists(), "rolled back and removed"


@pytest.mark.parametrize("journal_mode", ["WAL", "DELETE"])
@pytest.mark.parametrize("when", WHEN)
def test_sqlite_writer_process_killed_mid_append(
    sqlite_event_store: Backend, when: str, journal_mode: str
) -> None:
    after = no_hot_journal_left if journal_mode == "DELETE" else None
    setup = (f"PRAGMA journal_mode={journal_mode}",)
    assert_kill_mid_append(sqlite_event_store, when, kill_sqlite_writer, setup, after)


@pytest.mark.parametrize("when", WHEN)
def test_server_writer_connection_ended_mid_append(server_event_store: Backend, when: str) -> None:
    assert_kill_mid_append(server_event_store, when, kill_server_writer)
