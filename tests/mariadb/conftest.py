"""The MariaDB server the MariaDB tests run against.

CONFORMANCE_MARIADB_DSN names it. In CI (CI=true) it defaults to the machine's own
server, and a server that does not answer fails the tests: CI must never pass by
skipping them. On a developer's machine without the variable they skip, saying how
to turn them on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pymysql
import pytest

from conformance.backends.mariadb_server import ServerSettings
from conformance.errors import KitError

DSN_ENV = "CONFORMANCE_MARIADB_DSN"
CI_DSN = "mariadb://root@127.0.0.1:3306/test"
REPO = Path(__file__).resolve().parent.parent.parent
MARIADB_DDL = REPO / "ddl" / "mariadb-event-store.ddl"
BROKEN = REPO / "tests" / "broken" / "mariadb"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def skip_or_fail(reason: str) -> None:
    """Fail in CI, where everything must run; skip on a developer's machine."""
    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


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
    return MARIADB_DDL


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
