"""The PostgreSQL backend and the shipped Postgres DDL, against a real server.

Every test here runs against the server of the `pg_dsn` fixture ($CONFORMANCE_PG_DSN,
else an embedded PostgreSQL 18), and after each one no schema made by this process is
left on it: the kit drops what it created on success, failure and interruption alike.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from test_plugin import bundled_count, one_error_line

from conformance.backends.base import Outcome
from conformance.backends.postgres import SCHEMA_PREFIX, PostgresBackend
from conformance.ddl import DdlScript

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parent.parent
POSTGRES_DDL = REPO / "ddl" / "postgres-event-store.ddl"
BROKEN = sorted((REPO / "tests" / "broken" / "postgres").glob("*.ddl"))


def own_schemas(dsn: str, pid: int | None = None) -> list[str]:
    """Schemas on the server that this process's backends created."""
    pattern = f"{SCHEMA_PREFIX}{pid or os.getpid()}\\_%"
    with psycopg.connect(dsn, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY 1", (pattern,)
        ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture(autouse=True)
def nothing_left_behind(pg_dsn: str) -> Iterator[None]:
    yield
    assert own_schemas(pg_dsn) == []


def run_kit(pytester: pytest.Pytester, ddl: Path, dsn: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest(f"--ddl={ddl}", f"--dsn={dsn}", "-p", "no:cacheprovider", *args)


def broken_rule(ddl: Path) -> str:
    """The rule a broken DDL leaves out, from its first line: `-- breaks: RULE`."""
    first = ddl.read_text().splitlines()[0]
    assert first.startswith("-- breaks: "), ddl
    return first.removeprefix("-- breaks: ").strip()


def test_the_bundled_corpus_passes_on_the_shipped_postgres_ddl(
    pytester: pytest.Pytester, pg_dsn: str
) -> None:
    result = run_kit(pytester, POSTGRES_DDL, pg_dsn, "-q")
    result.assert_outcomes(passed=bundled_count())
    result.stdout.no_fnmatch_line("*rule broken*")


@pytest.mark.parametrize("ddl", BROKEN, ids=[path.stem for path in BROKEN])
def test_a_broken_ddl_is_caught_by_the_scenarios_of_its_rule(
    pytester: pytest.Pytester, pg_dsn: str, ddl: Path
) -> None:
    rule = broken_rule(ddl)
    assert bundled_count(rule) > 0, f"no bundled scenario checks {rule}"
    result = run_kit(pytester, ddl, pg_dsn, "-q", "-m", rule)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines([f"*rule broken: {rule}"])
    assert "Traceback" not in result.stdout.str()


def test_the_shipped_ddl_passes_those_same_selections(
    pytester: pytest.Pytester, pg_dsn: str
) -> None:
    """Each broken DDL fails only by the rule it leaves out: the good DDL passes every such -m."""
    rules = sorted({broken_rule(ddl) for ddl in BROKEN})
    result = run_kit(pytester, POSTGRES_DDL, pg_dsn, "-q", "-m", " or ".join(rules))
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


def test_schemas_are_dropped_when_the_run_is_interrupted(
    pytester: pytest.Pytester, pg_dsn: str
) -> None:
    """A real Ctrl-C (SIGINT) arrives while a scenario's store exists; the run still cleans up."""
    pid_file = pytester.path / "pid"
    pytester.makeconftest(
        f"""
        import os, signal
        import conformance.runner

        def interrupted(self, step):
            with open({str(pid_file)!r}, "w") as out:
                out.write(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGINT)
            return replay(self, step)

        replay = conformance.runner.ScenarioRun.replay
        conformance.runner.ScenarioRun.replay = interrupted
        """
    )
    result = pytester.runpytest_subprocess(
        f"--ddl={POSTGRES_DDL}", f"--dsn={pg_dsn}", "-p", "no:cacheprovider", timeout=120
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert own_schemas(pg_dsn, int(pid_file.read_text())) == []


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
    result.assert_outcomes(passed=bundled_count())
    entries = [line.split() for line in log.read_text().splitlines()]
    schemas = [schema for _, schema in entries]
    workers = {int(pid) for pid, _ in entries}
    assert len(entries) == bundled_count() and len(set(schemas)) == len(schemas)
    assert len(workers) == 2
    for pid in workers:
        assert own_schemas(pg_dsn, pid) == []


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


def test_an_unknown_user_says_so(pytester: pytest.Pytester, pg_dsn: str) -> None:
    user = f"nobody_{secrets.token_hex(4)}"
    result = run_kit(pytester, POSTGRES_DDL, make_conninfo(pg_dsn, user=user))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert f"has no user '{user}'" in line, line


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
