"""Shared fixtures of the kit's own tests.

The MariaDB tests run against the server CONFORMANCE_MARIADB_DSN names. In CI
(CI=true) it defaults to the machine's own server, and a server that does not answer
fails them: CI must never pass by skipping them. On a developer's machine without the
variable they skip, saying how to turn them on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pymysql
import pytest

from conformance.backends.mariadb_server import ServerSettings
from conformance.errors import KitError

REPO = Path(__file__).resolve().parent.parent
SQLITE_DDL = REPO / "ddl" / "sqlite-event-store.ddl"


@pytest.fixture
def sqlite_ddl() -> Path:
    return SQLITE_DDL


DSN_ENV = "CONFORMANCE_MARIADB_DSN"
CI_DSN = "mariadb://root@127.0.0.1:3306/test"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def mariadb_dsn() -> str:
    dsn = os.environ.get(DSN_ENV) or (CI_DSN if in_ci() else None)
    if dsn is None:
        pytest.skip(f"no MariaDB server given: set {DSN_ENV}={CI_DSN} (or your own) to run these")
    try:
        ServerSettings.from_dsn(dsn).connect(None, read_timeout=5).close()
    except (KitError, pymysql.err.MySQLError, OSError) as exc:
        pytest.fail(f"{DSN_ENV}={dsn}: the MariaDB server does not answer: {exc}", pytrace=False)
    return dsn


@pytest.fixture
def admin(mariadb_dsn: str) -> Iterator[pymysql.Connection]:
    """A connection of the test's own, to look at the server from outside the kit."""
    connection = ServerSettings.from_dsn(mariadb_dsn).connect(None)
    yield connection
    connection.close()


@pytest.fixture
def mariadb_ddl() -> Path:
    return REPO / "ddl" / "mariadb-event-store.ddl"


@pytest.fixture
def kit_databases(admin: pymysql.Connection) -> Callable[[], set[str]]:
    """Lists the databases that runs of the kit in this process left on the server.

    The kit names its databases conformance_PID_...; pytester runs the kit in-process.
    """

    def listing() -> set[str]:
        with admin.cursor() as cursor:
            cursor.execute("SHOW DATABASES LIKE %s", (f"conformance\\_{os.getpid()}\\_%",))
            return {row[0] for row in cursor.fetchall()}

    return listing
