"""Client steps run as a DML-only account the kit creates and drops (PostgreSQL: a login
role; MariaDB: a user), while the DDL is applied by the DSN's user.

The account exists for the run alone: gone after it, also when the run is ended by
SIGTERM. A DSN user who may not create accounts gets one note in the summary and the
reports, and the run goes on as that user.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from helpers import REPO, engine_dsn
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from conformance.backends import backend_class
from conformance.backends.base import Outcome
from conformance.backends.mariadb import CLIENT_PREFIX as MARIADB_PREFIX
from conformance.backends.mariadb_server import ServerSettings
from conformance.backends.postgres import CLIENT_PREFIX as POSTGRES_PREFIX
from conformance.ddl_script import DdlScript

DDLS = {
    "postgresql": REPO / "ddl" / "postgres-event-store.ddl",
    "mariadb": REPO / "ddl" / "mariadb-event-store.ddl",
}
ENGINES = [
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


def accounts(engine: str, dsn: str, pid: int) -> list[str]:
    """The kit's client accounts of process `pid` that exist on the server."""
    if engine == "postgresql":
        pattern = f"{POSTGRES_PREFIX}{pid}\\_%".replace("_client_", "\\_client\\_")
        with psycopg.connect(dsn, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (pattern,)
            ).fetchall()
        return [row[0] for row in rows]
    settings = ServerSettings.from_dsn(dsn)
    connection = settings.connect(None)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT user FROM mysql.user WHERE user LIKE %s",
                           (f"{MARIADB_PREFIX}{pid}\\_%",))  # fmt: skip
            return [row[0] for row in cursor.fetchall()]
    finally:
        connection.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_client_sessions_run_as_a_dml_only_account_that_is_dropped_at_the_end(
    request: pytest.FixtureRequest, engine: str
) -> None:
    dsn = engine_dsn(request, engine)
    backend = backend_class(dsn)(dsn, DdlScript.read(DDLS[engine]))
    backend.client_account = True  # as the plugin asks for it
    backend.prepare()
    try:
        assert backend.notes() == []
        store = backend.create_store()
        try:
            session = store.session()
            who = "SELECT current_user" if engine == "postgresql" else "SELECT CURRENT_USER()"
            (user,) = session.execute(who)[0]
            prefix = POSTGRES_PREFIX if engine == "postgresql" else MARIADB_PREFIX
            assert user.startswith(f"{prefix}{os.getpid()}_"), user
            try:
                session.execute("CREATE TABLE not_allowed (a INT)")
            except Exception as exc:  # the driver's permission error
                assert backend.classify(exc) is Outcome.ERROR
                assert "denied" in str(exc).lower(), exc
            else:
                raise AssertionError("the client's session could create a table")
            # The client's statements work: it may read and append.
            session.execute("SELECT count(*) FROM events")
            assert accounts(engine, dsn, os.getpid()) == [user.split("@")[0]]
        finally:
            store.close()
    finally:
        backend.close()
    assert accounts(engine, dsn, os.getpid()) == []


TERMINATING_CONFTEST = """
import os, signal
from pathlib import Path

import conformance.pytest_plugin.collection

def terminated(*args, **kwargs):
    Path("pid").write_text(str(os.getpid()))
    os.kill(os.getpid(), signal.SIGTERM)
    raise AssertionError("SIGTERM did not stop the run")

conformance.pytest_plugin.collection.run_scenario = terminated
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_a_terminated_run_drops_its_account(
    pytester: pytest.Pytester, request: pytest.FixtureRequest, engine: str
) -> None:
    dsn = engine_dsn(request, engine)
    pytester.makeconftest(TERMINATING_CONFTEST)
    result = pytester.runpytest_subprocess(
        f"--ddl={DDLS[engine]}", f"--dsn={dsn}", "-p", "no:cacheprovider", timeout=120
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "note:" not in result.stdout.str()
    pid = int((pytester.path / "pid").read_text())
    assert accounts(engine, dsn, pid) == []


@pytest.fixture
def no_account_privilege_dsn(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(engine, DSN) of a user of the test's own that may make the kit's stores but may
    not create roles or users."""
    engine = request.param
    dsn = engine_dsn(request, engine)
    name = f"conformance_noacct_{secrets.token_hex(4)}"
    if engine == "postgresql":
        database = conninfo_to_dict(dsn).get("dbname") or "postgres"
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'CREATE ROLE "{name}" LOGIN')
            admin.execute(f'GRANT CREATE ON DATABASE "{database}" TO "{name}"')
        try:
            yield engine, make_conninfo(dsn, user=name)
        finally:
            with psycopg.connect(dsn, autocommit=True) as admin:
                admin.execute(f'DROP OWNED BY "{name}"')
                admin.execute(f'DROP ROLE "{name}"')
        return
    settings = ServerSettings.from_dsn(dsn)
    password = secrets.token_hex(8)
    admin = settings.connect(None)
    try:
        with admin.cursor() as cursor:
            cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (name, password))
            cursor.execute("GRANT ALL ON `conformance\\_%%`.* TO %s@'%%'", (name,))
            cursor.execute("GRANT PROCESS ON *.* TO %s@'%%'", (name,))
        yield engine, f"mariadb://{name}:{password}@{settings.host}:{settings.port}/"
    finally:
        with admin.cursor() as cursor:
            cursor.execute("DROP USER %s@'%%'", (name,))
        admin.close()


@pytest.mark.parametrize("no_account_privilege_dsn", ENGINES, indirect=True)
def test_a_dsn_user_who_cannot_create_accounts_gets_one_note_and_the_run_goes_on(
    pytester: pytest.Pytester, no_account_privilege_dsn: tuple[str, str]
) -> None:
    engine, dsn = no_account_privilege_dsn
    result = pytester.runpytest(
        f"--ddl={DDLS[engine]}", f"--dsn={dsn}", "-p", "no:cacheprovider",
        "-m", "chain.linear", "--conformance-report=report.json",
        "--conformance-report=report.md",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.OK
    notes = [line for line in result.stdout.lines if line.startswith("note: ")]
    assert len(notes) == 1, result.stdout.str()
    assert "cannot create a DML-only account" in notes[0]
    assert "client steps ran as the DSN's user" in notes[0]
    data = json.loads(Path(pytester.path / "report.json").read_text())
    assert data["notes"] == [notes[0].removeprefix("note: ")]
    markdown = (pytester.path / "report.md").read_text()
    assert markdown.count("| Note |") == 1
