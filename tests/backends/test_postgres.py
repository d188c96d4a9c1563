"""The PostgreSQL backend and the shipped Postgres DDL, against a real server.

Every test here runs against the server of the `pg_dsn` fixture ($CONFORMANCE_PG_DSN,
else an embedded PostgreSQL 18), and after each one no schema made by this process is
left on it: the kit drops what it created on success, failure and interruption alike.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatch
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from helpers import (
    assert_corpus_passes,
    broken_rule,
    bundled_count,
    corpus,
    one_error_line,
    own_schemas,
    run_on,
)
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from conformance.backends.base import Outcome
from conformance.backends.postgres import PostgresBackend
from conformance.ddl_script import DdlScript
from conformance.results.failure import failure_text
from conformance.spec.catalogue import load_catalogue

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
POSTGRES_DDL = REPO / "ddl" / "postgres-event-store.ddl"
BROKEN = sorted((REPO / "tests" / "broken" / "postgres").glob("*.ddl"))


@pytest.fixture(autouse=True)
def nothing_left_behind(pg_dsn: str) -> Iterator[None]:
    yield
    assert own_schemas(pg_dsn) == []


def run_kit(pytester: pytest.Pytester, ddl: Path, dsn: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest(f"--ddl={ddl}", f"--dsn={dsn}", "-p", "no:cacheprovider", *args)


def test_the_bundled_corpus_passes_on_the_shipped_postgres_ddl(
    pytester: pytest.Pytester, pg_dsn: str
) -> None:
    result = run_kit(pytester, POSTGRES_DDL, pg_dsn)
    assert_corpus_passes(result, PostgresBackend)
    result.stdout.no_fnmatch_line("*rule broken*")


def test_every_broken_ddl_names_a_catalogued_rule() -> None:
    assert BROKEN and {broken_rule(path) for path in BROKEN} <= set(load_catalogue().ids)


@pytest.mark.parametrize("path", BROKEN, ids=lambda path: path.stem)
def test_a_broken_ddl_is_caught_by_the_scenarios_of_its_rule(pg_dsn: str, path: Path) -> None:
    """Every scenario naming the rule runs; some fail and blame it, and where the file says it
    breaks exactly one rule, no failure blames another. (The seed's JSONB data breaks more.)

    (atomicity.no_trace has no broken Postgres DDL: PostgreSQL rolls back all a failed
    statement did, triggers included, so no DDL can make a rejection leave a trace.)
    """
    rule = broken_rule(path)
    scenarios = [scenario for scenario in corpus() if rule in scenario.all_rules]
    results = run_on(PostgresBackend(pg_dsn, DdlScript.read(path)), scenarios)

    failures = [result for result in results if not result.passed]
    assert any(rule in r.violated_rules for r in failures), f"{path.name}: {rule} not seen broken"
    if f"Breaks exactly one rule: {rule}\n" in path.read_text(encoding="utf-8"):
        blamed_elsewhere = [r for r in failures if set(r.violated_rules) != {rule}]
        assert not blamed_elsewhere, "\n\n".join(failure_text(r) for r in blamed_elsewhere)


def test_schemas_are_dropped_when_the_run_is_interrupted(
    pytester: pytest.Pytester, pg_dsn: str
) -> None:
    """A real Ctrl-C (SIGINT) arrives while a scenario's store exists (and the next one is
    built ahead); the run still drops both."""
    seen = pytester.path / "seen"
    pytester.makeconftest(
        f"""
        import os, signal
        import psycopg
        import conformance.execution.single

        def interrupted(self, step):
            with psycopg.connect({pg_dsn!r}) as connection:
                schemas = [row[0] for row in connection.execute(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                    (f"conformance_{{os.getpid()}}\\_%",),
                )]
            with open({str(seen)!r}, "w") as out:
                out.write(" ".join([str(os.getpid()), *schemas]))
            os.kill(os.getpid(), signal.SIGINT)
            return replay(self, step)

        replay = conformance.execution.single.ScenarioRun.replay
        conformance.execution.single.ScenarioRun.replay = interrupted
        """
    )
    result = pytester.runpytest_subprocess(
        f"--ddl={POSTGRES_DDL}", f"--dsn={pg_dsn}", "-p", "no:cacheprovider", timeout=120
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    pid, *schemas_then = seen.read_text().split()
    assert schemas_then, "no schema existed when the run was interrupted"
    assert own_schemas(pg_dsn, int(pid)) == []


def test_scenarios_on_two_xdist_workers_never_share_a_schema(
    pytester: pytest.Pytester, pg_dsn: str
) -> None:
    log = pytester.path / "schemas.log"
    pytester.makeconftest(
        f"""
        import os
        from conformance.backends.postgres import PostgresBackend

        create_store = PostgresBackend.create_store

        def logged(self):
            store = create_store(self)
            with open({str(log)!r}, "a") as out:
                out.write(f"{{os.getpid()}} {{store.schema}}\\n")
            return store

        PostgresBackend.create_store = logged
        """
    )
    result = pytester.runpytest_subprocess(
        f"--ddl={POSTGRES_DDL}",
        f"--dsn={pg_dsn}",
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        "-q",
        timeout=300,
    )
    assert_corpus_passes(result, PostgresBackend)
    ran = result.parseoutcomes()["passed"]
    entries = [line.split() for line in log.read_text().splitlines()]
    schemas = [schema for _, schema in entries]
    workers = {int(pid) for pid, _ in entries}
    # every scenario's store, and the preflight's store in the process that started them
    assert len(entries) == ran + 1 and len(set(schemas)) == len(schemas)
    assert len(workers) == 3
    for pid in workers:
        assert own_schemas(pg_dsn, pid) == []


LIBPQ_VARIABLES = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "dbname": "PGDATABASE"}


def test_an_empty_host_falls_back_to_the_libpq_environment(
    pytester: pytest.Pytester, pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--dsn=postgresql://` names no server: libpq's PGHOST, PGUSER, ... say which."""
    for key, value in conninfo_to_dict(pg_dsn).items():
        if key in LIBPQ_VARIABLES and value:
            monkeypatch.setenv(LIBPQ_VARIABLES[key], str(value))
    result = run_kit(pytester, POSTGRES_DDL, "postgresql://", "-q", "-m", "chain.linear")
    result.assert_outcomes(passed=bundled_count("chain.linear", backend=PostgresBackend))


# --- bad input: one line, exit 4, nothing touched ---------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_port_is_one_line_naming_host_and_port(pytester: pytest.Pytester) -> None:
    port = free_port()
    result = run_kit(pytester, POSTGRES_DDL, f"postgresql://postgres@127.0.0.1:{port}/test")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert fnmatch(
        line, f"ERROR: --dsn: cannot connect to PostgreSQL at 127.0.0.1:{port}: *refused*"
    ), line


def test_a_server_that_never_answers_times_out_with_one_line(pytester: pytest.Pytester) -> None:
    """A listening socket that never speaks: without connect_timeout libpq would wait forever."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        result = pytester.runpytest_subprocess(
            f"--ddl={POSTGRES_DDL}",
            f"--dsn=postgresql://postgres@127.0.0.1:{port}/test",
            timeout=60,
        )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert fnmatch(
        line, f"ERROR: --dsn: cannot connect to PostgreSQL at 127.0.0.1:{port}: *timeout*"
    ), line


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("user", "has no user '{name}'"), ("dbname", 'database "{name}" does not exist')],
)
def test_an_unknown_user_or_database_says_so(
    pytester: pytest.Pytester, pg_dsn: str, setting: str, expected: str
) -> None:
    name = f"nowhere_{secrets.token_hex(4)}"
    result = run_kit(pytester, POSTGRES_DDL, make_conninfo(pg_dsn, **{setting: name}))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert expected.format(name=name) in line, line


@pytest.fixture
def unprivileged_dsn(pg_dsn: str) -> Iterator[str]:
    """A login role without the CREATE privilege on the database (dropped afterwards)."""
    role = f"conformance_noprivs_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        yield make_conninfo(pg_dsn, user=role)
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(f'DROP ROLE "{role}"')


def test_a_missing_create_privilege_is_named(
    pytester: pytest.Pytester, unprivileged_dsn: str
) -> None:
    result = run_kit(pytester, POSTGRES_DDL, unprivileged_dsn)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert "may not create schemas" in line and "needs the CREATE privilege" in line, line


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "CREATE TABLE entity_events (entity TEXT);\n\nCREATE TABEL events (x int);\n",
            3,
            "syntax error",
        ),
        (
            "-- a comment\nCREATE TABLE entity_events (entity TEXT);\nCREATE TABLE events (\n"
            "    entity TEXT,\n    data NOSUCHTYPE\n);\n",
            5,
            'type "nosuchtype" does not exist',
        ),
        (
            "CREATE TABLE events (entity TEXT,\n  event TEXT REFERENCES entity_events (event));\n",
            1,
            'relation "entity_events" does not exist',
        ),
    ],
    ids=["syntax", "position-inside-statement", "no-position"],
)
def test_a_ddl_statement_postgres_rejects_is_named_by_file_line(
    pytester: pytest.Pytester, pg_dsn: str, text: str, line: int, words: str
) -> None:
    ddl = pytester.makefile(".ddl", bad=text)
    result = run_kit(pytester, ddl, pg_dsn)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    error = one_error_line(result)
    assert f"--ddl {ddl}:{line}: " in error and "does not apply on PostgreSQL" in error, error
    assert words in error, error


# --- classification of real server errors -----------------------------------------------


@pytest.fixture
def backend(pg_dsn: str) -> Iterator[PostgresBackend]:
    backend = PostgresBackend(pg_dsn, DdlScript.read(POSTGRES_DDL))
    backend.prepare()
    yield backend
    backend.close()


@pytest.mark.parametrize(
    ("statement", "outcome"),
    [
        ("SELECT 'not-a-uuid'::uuid", Outcome.REJECTED),  # 22P02
        ("SELECT 1 / 0", Outcome.REJECTED),  # 22012
        ("DO $$ BEGIN RAISE EXCEPTION 'no'; END $$", Outcome.REJECTED),  # P0001
        ("DO $$ BEGIN RAISE EXCEPTION 'no' USING ERRCODE = 'ES001'; END $$", Outcome.REJECTED),
        ("DO $$ BEGIN RAISE EXCEPTION 'no' USING ERRCODE = '23505'; END $$", Outcome.REJECTED),
        ("DO $$ BEGIN RAISE EXCEPTION 'no' USING ERRCODE = '40001'; END $$", Outcome.REJECTED),
        ("DO $$ BEGIN RAISE EXCEPTION 'no' USING ERRCODE = '40P01'; END $$", Outcome.REJECTED),
        ("SELECT * FROM no_such_table", Outcome.ERROR),  # 42P01
        ("SELEC 1", Outcome.ERROR),  # 42601
        ("SELECT no_such_function()", Outcome.ERROR),  # 42883
    ],
)
def test_server_errors_are_classified_by_sqlstate(
    backend: PostgresBackend, statement: str, outcome: Outcome
) -> None:
    store = backend.create_store()
    session = store.session()
    try:
        with pytest.raises(psycopg.Error) as caught:
            session.execute(statement)
        assert backend.classify(caught.value) is outcome
        assert caught.value.sqlstate in backend.describe(caught.value)
    finally:
        store.close()


def test_a_lost_connection_is_an_error_and_other_exceptions_are_not_judged(
    backend: PostgresBackend,
) -> None:
    store = backend.create_store()
    session = store.session()
    session.connection.close()
    try:
        with pytest.raises(psycopg.Error) as caught:
            session.execute("SELECT 1")
        assert backend.classify(caught.value) is Outcome.ERROR
        assert backend.classify(ValueError("not from the database")) is None
    finally:
        store.close()


def test_sessions_see_only_their_own_scenario_schema(backend: PostgresBackend) -> None:
    first, second = backend.create_store(), backend.create_store()
    try:
        a, b = first.session(), second.session()
        a.execute("INSERT INTO entity_events (entity, event) VALUES (?, ?)", ("order", "created"))
        assert a.execute("SELECT entity, event FROM entity_events") == [("order", "created")]
        assert b.execute("SELECT entity, event FROM entity_events") == []
        assert a.execute("SELECT current_schema()") == [(first.schema,)]
    finally:
        first.close()
        second.close()


FIRST_EVENT_INDEX = """CREATE UNIQUE INDEX IF NOT EXISTS events_first_event_idx
ON events (entity, entityKey) WHERE previousId IS NULL;"""
FIRST_EVENT_BY_TRIGGER = POSTGRES_DDL.read_text().replace(
    FIRST_EVENT_INDEX,
    """CREATE FUNCTION first_event_check() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.previousId IS NULL AND EXISTS (
        SELECT 1 FROM events WHERE entity = NEW.entity AND entityKey = NEW.entityKey
    ) THEN
        RAISE EXCEPTION 'not the first event of this instance';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER first_event_check BEFORE INSERT ON events
FOR EACH ROW EXECUTE FUNCTION first_event_check();""",
)


@pytest.mark.parametrize(
    ("ddl_text", "expected"),
    [
        (POSTGRES_DDL.read_text(), (True, "23505", 1)),
        (FIRST_EVENT_BY_TRIGGER, (False, None, 2)),
    ],
    ids=["partial-unique-index", "select-in-a-trigger"],
)
def test_the_first_event_rule_holds_for_two_writers_at_once(
    pg_dsn: str, tmp_path: Path, ddl_text: str, expected: tuple[bool, str | None, int]
) -> None:
    """The shipped DDL's partial unique index makes the second writer of a first event wait
    for the first one's commit, then refuses it; a SELECT in a trigger lets both in."""
    assert FIRST_EVENT_INDEX not in FIRST_EVENT_BY_TRIGGER
    ddl = tmp_path / "race.ddl"
    ddl.write_text(ddl_text)
    backend = PostgresBackend(pg_dsn, DdlScript.read(ddl))
    backend.prepare()
    try:
        assert race_two_first_events(backend) == expected
    finally:
        backend.close()


def race_two_first_events(backend: PostgresBackend) -> tuple[bool, str | None, int]:
    """(the second writer waited for the first, the SQLSTATE it got or None, events stored)"""
    store = backend.create_store()
    first, second = store.session(), store.session()
    append = "INSERT INTO events(entity, entityKey, event, data, eventId, commandId) VALUES (?, ?, ?, ?, ?, ?)"
    try:
        first.execute(
            "INSERT INTO entity_events (entity, event) VALUES (?, ?)", ("order", "created")
        )
        first.execute("BEGIN")
        first.execute(append, ("order", "o-1", "created", "{}", str(uuid4()), str(uuid4())))
        with ThreadPoolExecutor(max_workers=1) as pool:
            racing = pool.submit(
                second.execute,
                append,
                ("order", "o-1", "created", "{}", str(uuid4()), str(uuid4())),
            )
            waited, deadline = False, time.monotonic() + 30
            while not waited and not racing.done():
                assert time.monotonic() < deadline, "the second writer neither waited nor finished"
                waited = bool(store.waiting(second))
            first.execute("COMMIT")
            try:
                racing.result(timeout=30)
                sqlstate = None
            except psycopg.Error as exc:
                sqlstate = exc.sqlstate
                assert backend.classify(exc) is Outcome.REJECTED
        return waited, sqlstate, first.execute("SELECT count(*) FROM events")[0][0]
    finally:
        store.close()
