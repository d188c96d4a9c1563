"""What the bench tests do on every engine: damage a store on purpose, kill a writer
mid-append, and audit what is left. Engine test modules bring the server fixtures."""

from __future__ import annotations

import json
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conformance.backends import Backend, Outcome, Session, backend_class
from conformance.backends.sqlite import SqliteStore
from conformance.bench import ledger
from conformance.bench.command import BenchStore, fresh_store
from conformance.bench.invariants import check_store
from conformance.bench.workloads import ENTITY, FIRST_EVENT, NEXT_EVENT, append, new_id
from conformance.ddl_script import DdlScript
from conformance.resources import bundled_ddl_folder
from conformance.spec import statements as sql

SHIPPED = {
    "sqlite": "sqlite-event-store.ddl",
    "postgresql": "postgres-event-store.ddl",
    "mariadb": "mariadb-event-store.ddl",
}


def shipped_ddl(engine: str) -> Path:
    return bundled_ddl_folder() / SHIPPED[engine]


def bare_ddl(engine: str) -> Path:
    return bundled_ddl_folder() / "bare" / f"{engine}-bare-table.ddl"


@contextmanager
def prepared(ddl: Path, dsn: str | None) -> Iterator[Backend]:
    backend = backend_class(dsn)(dsn, DdlScript.read(ddl))
    backend.prepare()
    try:
        yield backend
    finally:
        backend.close()


# --- damage: stores broken on purpose, through a DDL with no rules ---------------------


class Damage:
    """Writes events and ledger entries to a store with no rules."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def event(self, key: str, previous: str | None = None, **ids: str) -> str:
        event_id, command_id = ids.get("event_id", new_id()), ids.get("command_id", new_id())
        name = NEXT_EVENT if previous else FIRST_EVENT
        params = [ENTITY, key, name, "{}", event_id, command_id]
        statement = sql.APPEND_FIRST if previous is None else sql.APPEND_SUBSEQUENT
        self.session.execute(statement, [*params, *([previous] if previous else [])])
        return event_id

    def acknowledged(self, key: str, previous: str | None = None, **ids: str) -> str:
        ids.setdefault("event_id", new_id())
        ids.setdefault("command_id", new_id())
        self.ledger(ids["event_id"], ids["command_id"], ledger.ACKNOWLEDGED)
        return self.event(key, previous, **ids)

    def ledger(self, event_id: str, command_id: str, outcome: str) -> None:
        ledger.record_rows(self.session, [(event_id, command_id, outcome)])


def first_event_twice(d: Damage) -> None:
    d.acknowledged("k")
    d.acknowledged("k")


def no_first_event(d: Damage) -> None:
    d.acknowledged("k", previous=new_id())


def fork(d: Damage) -> None:
    root = d.acknowledged("k")
    d.acknowledged("k", root)
    d.acknowledged("k", root)


def link_to_another_instance(d: Damage) -> None:
    other = d.acknowledged("other")
    d.acknowledged("k")
    d.acknowledged("k", other)


def child_before_parent(d: Damage) -> None:
    parent = new_id()
    d.acknowledged("k", parent)
    d.acknowledged("k", event_id=parent)


def cycle(d: Damage) -> None:
    d.acknowledged("k")
    a, b = new_id(), new_id()
    d.acknowledged("k", b, event_id=a)
    d.acknowledged("k", a, event_id=b)


def event_id_twice(d: Damage) -> None:
    same = new_id()
    d.acknowledged("k", event_id=same)
    d.acknowledged("j", event_id=same)


def command_id_twice(d: Damage) -> None:
    same = new_id()
    d.acknowledged("k", command_id=same)
    d.acknowledged("j", command_id=same)


def acknowledged_but_missing(d: Damage) -> None:
    d.acknowledged("k")
    d.ledger(new_id(), new_id(), ledger.ACKNOWLEDGED)


def acknowledged_row_twice(d: Damage) -> None:
    event_id, command_id = new_id(), new_id()
    d.acknowledged("k", event_id=event_id, command_id=command_id)
    d.event("j", event_id=event_id, command_id=command_id)


def rejected_left_a_row(d: Damage) -> None:
    root = d.acknowledged("k")
    event_id, command_id = new_id(), new_id()
    d.ledger(event_id, command_id, ledger.REJECTED)
    d.event("k", root, event_id=event_id, command_id=command_id)


def rolled_back_left_a_row(d: Damage) -> None:
    event_id, command_id = new_id(), new_id()
    d.ledger(event_id, command_id, ledger.ROLLED_BACK)
    d.event("k", event_id=event_id, command_id=command_id)


def row_nobody_wrote(d: Damage) -> None:
    d.acknowledged("k")
    d.event("j")


def healthy(d: Damage) -> None:
    """Two chains, a rejected and an unknown attempt that left nothing: no violation."""
    for key in ("k", "j"):
        last = d.acknowledged(key)
        for _ in range(3):
            last = d.acknowledged(key, last)
    d.ledger(new_id(), new_id(), ledger.REJECTED)
    d.ledger(new_id(), new_id(), ledger.UNKNOWN)


DAMAGE = {
    first_event_twice: {"first_event"},
    no_first_event: {"first_event", "broken_link"},
    fork: {"fork"},
    link_to_another_instance: {"broken_link"},
    child_before_parent: {"order"},
    cycle: {"order"},
    event_id_twice: {"duplicate_event_id"},
    command_id_twice: {"duplicate_command_id"},
    acknowledged_but_missing: {"acknowledged_not_once"},
    acknowledged_row_twice: {"acknowledged_not_once", "duplicate_event_id", "duplicate_command_id"},
    rejected_left_a_row: {"refused_left_row"},
    rolled_back_left_a_row: {"refused_left_row"},
    row_nobody_wrote: {"unrecorded_row"},
    healthy: set(),
}


def assert_checker_finds_exactly(backend: Backend, damage) -> None:
    with fresh_store(backend) as (_, session):
        damage(Damage(session))
        violations = check_store(session, index_events=True)
    assert {v.check.kind for v in violations} == DAMAGE[damage]
    assert all(v.rows and v.text().startswith(v.check.kind) for v in violations)


# --- faults: a writer's connection killed mid-append -------------------------------------

BEFORE_COMMIT, AFTER_COMMIT = "before-commit", "after-commit"
EXPECTED_RETRY = {BEFORE_COMMIT: Outcome.ACCEPTED, AFTER_COMMIT: Outcome.REJECTED}
SIGNAL_TIMEOUT = 30.0
KEY = "faulty"
DATA = '{"attempt": 1}'
EVENT_ROWS = "SELECT entity, entityKey, event, data, eventId, commandId, previousId FROM events"

# A writer in a process of its own: begin, insert, maybe commit, say so, wait to be killed.
SQLITE_WRITER = """
import sqlite3, sys
from conformance.spec import statements
path, when, *params = sys.argv[1:]
connection = sqlite3.connect(path, isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
connection.execute(statements.APPEND_FIRST, params)
if when == "after-commit":
    connection.execute("COMMIT")
print(when, flush=True)
sys.stdin.read()
"""


def first_append(ids: tuple[str, str]) -> list[str]:
    return [ENTITY, KEY, FIRST_EVENT, DATA, *ids]


def kill_sqlite_writer(
    store: BenchStore, backend: Backend, when: str, ids: tuple[str, str]
) -> None:
    """SIGKILL of a child process that holds the write transaction (or has committed it)."""
    assert isinstance(store.store, SqliteStore)
    child = subprocess.Popen(
        [sys.executable, "-c", SQLITE_WRITER, str(store.store.path), when, *first_append(ids)],
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


# How a server names a connection, and how another connection ends it (and, for
# PostgreSQL, waits until it has ended).
SERVER_KILL = {
    "postgresql": ("SELECT pg_backend_pid()", "SELECT pg_terminate_backend(?, 10000)"),
    "mariadb": ("SELECT CONNECTION_ID()", "KILL CONNECTION ?"),
}


def kill_server_writer(
    store: BenchStore, backend: Backend, when: str, ids: tuple[str, str]
) -> None:
    """A session begins, inserts, commits or not; another session kills its connection."""
    whoami, kill = SERVER_KILL[backend.name]
    writer, killer = store.session(), store.session()
    try:
        (connection_id,) = writer.execute(whoami)[0]
        writer.begin()
        writer.execute(sql.APPEND_FIRST, first_append(ids))
        if when == AFTER_COMMIT:
            writer.commit()
        killer.execute(kill, (connection_id,))
        with pytest.raises(Exception) as lost:
            writer.execute("SELECT 1")
        assert backend.classify(lost.value) is Outcome.ERROR, "the connection is gone"
    finally:
        writer.close()
        killer.close()


def retry_and_audit(session: Session, backend: Backend, when: str, ids: tuple[str, str]) -> Outcome:
    """The store after the kill, the client's retry, and the audit of both attempts."""
    rows = session.execute(EVENT_ROWS)
    sent = (ENTITY, KEY, FIRST_EVENT, DATA, *ids, None)
    assert [tuple(None if v is None else str(v) for v in row) for row in rows] == (
        [sent] if when == AFTER_COMMIT else []
    ), "the store holds exactly the committed event, whole, or nothing"
    # The client runs the command again: replay, then append after the last event. Only
    # the commandId can make the database refuse it (new eventId, current previousId).
    replayed = session.execute(sql.REPLAY, (KEY, ENTITY))
    previous = replayed[-1][2] if replayed else None
    retry_ids = (new_id(), ids[1])
    event = FIRST_EVENT if previous is None else NEXT_EVENT
    outcome, _ = append(session, backend, KEY, event, DATA, retry_ids, previous)
    first = ledger.ACKNOWLEDGED if when == AFTER_COMMIT else ledger.ROLLED_BACK
    retried = ledger.ACKNOWLEDGED if outcome is Outcome.ACCEPTED else ledger.REJECTED
    ledger.record_rows(session, [(*ids, first), (*retry_ids, retried)])
    assert check_store(session) == []
    return outcome


def assert_kill_mid_append(
    backend: Backend, when: str, kill, setup: tuple[str, ...] = (), after=None
) -> None:
    """Kill a writer at `when`, retry its command, audit; `after(store)` checks more."""
    with fresh_store(backend, setup) as (store, session):
        ids = (new_id(), new_id())
        kill(store, backend, when, ids)
        assert retry_and_audit(session, backend, when, ids) is EXPECTED_RETRY[when]
        if after is not None:
            after(store)


def bench_in_a_process(tmp_path: Path, ddl: Path, dsn: str, *options: str) -> tuple[int, dict]:
    """`python -m conformance bench` in a process of its own, whose stores are named for
    its pid and so told apart from those of the test's fixtures: (pid, JSON results)."""
    output = tmp_path / "bench.json"
    args = [sys.executable, "-m", "conformance", "bench", f"--ddl={ddl}", f"--dsn={dsn}"]
    args += [f"--output={output}", "--rounds=1", *options]
    bench = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = bench.communicate(timeout=600)
    assert bench.returncode == 0, err
    return bench.pid, json.loads(output.read_text())
