"""A MariaDB/MySQL server as the kit uses it: the DSN, connections, and the kit's databases.

Everything the user can get wrong about the server (the DSN, a server that does not
answer, credentials, privileges) ends here as one `KitError` line that names the
setting and never shows the password.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pymysql
from pymysql.constants import CLIENT

from conformance.backends.builder import StoreBuilder
from conformance.errors import KitError

CONNECT_TIMEOUT = 5.0
DEFAULT_PORT = 3306
ACCESS_DENIED = (1045, 1698)  # wrong password; no password where one is needed
DATABASE_ACCESS_DENIED = 1044
UNKNOWN_DATABASE = 1049
UNKNOWN_THREAD = 1094
ACCESS_DENIED_FOR_STATUS = 1227  # SHOW ENGINE INNODB STATUS needs the PROCESS privilege
DROP_LEFT_FILES = 1010  # the database directory was not empty (see rewrite_trigger_files)
DROP_ATTEMPTS = 3
CLIENT_ERRORS = range(2000, 3000)  # raised by the driver: no server, lost connection
# The database default the kit gives every store: the server's usual default, which
# ignores case and trailing spaces, so that a DDL that leaves a column's collation to
# the database is judged by the collation it would most likely get.
STORE_DEFAULTS = "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
# On a cluster: how long a new database may take to reach every node.
REPLICATION_LIMIT = 30.0
DEADLOCK = 1213  # also a cluster's word for "a replicated change aborted you"
ABORTED_READ_ATTEMPTS = 20
# On a cluster node, each statement (7: reads, updates, deletes and inserts) first waits
# until the node has applied every transaction the cluster committed before it began:
# the kit's steps then follow each other across nodes as they do on one server. (Without
# it a reader may see a stale store, and an insert on a node that lags draws an
# AUTO_INCREMENT value below those of events already committed elsewhere.)
SYNC_WAIT = "SET SESSION wsrep_sync_wait = 7"
# Databases created on threads of their own, this many at once and this many ahead.
WORKERS = 4
AHEAD = 4


def error_code(exc: BaseException) -> int | None:
    """The server's error number of a PyMySQL error, None for anything else."""
    if isinstance(exc, pymysql.err.MySQLError) and exc.args and isinstance(exc.args[0], int):
        return exc.args[0]
    return None


# --- the DSN --------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSettings:
    """Where and as whom to connect, from mariadb://user:password@host:port/database."""

    dsn: str
    host: str
    port: int
    user: str | None
    password: str
    database: str | None
    unix_socket: str | None = None
    connect_timeout: float = CONNECT_TIMEOUT
    # TLS as the driver's default "preferred" mode, settled once by `with_tls_of`: the
    # driver would build a new SSL context for every connection, ~20 ms each time.
    tls: ssl.SSLContext | bool | None = None  # None: not known yet; False: server has none

    @classmethod
    def from_dsn(cls, dsn: str) -> ServerSettings:
        parts = urlsplit(dsn)
        shown = redact(dsn)
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise KitError(f"--dsn {shown}: the port is not a number from 1 to 65535") from None
        settings = cls(
            dsn=shown,
            host=unquote(parts.hostname or "localhost"),
            port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")) or None,
        )
        return settings._with_query(parts.query)

    def _with_query(self, query: str) -> ServerSettings:
        settings = self
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key == "unix_socket":
                settings = replace(settings, unix_socket=value)
            elif key == "connect_timeout":
                settings = replace(settings, connect_timeout=self._timeout(value))
            else:
                known = "connect_timeout, unix_socket"
                raise KitError(f"--dsn {self.dsn}: unknown parameter {key!r} (known: {known})")
        return settings

    def _timeout(self, value: str) -> float:
        try:
            seconds = float(value)
        except ValueError:
            seconds = 0
        if not 0 < seconds <= 3600:
            raise KitError(
                f"--dsn {self.dsn}: connect_timeout={value!r} is not a number of seconds"
            )
        return seconds

    @property
    def where(self) -> str:
        return self.unix_socket or f"{self.host}:{self.port}"

    def with_tls_of(self, connection: pymysql.Connection) -> ServerSettings:
        """These settings with TLS settled as the driver settled it for `connection`."""
        if not connection.server_capabilities & CLIENT.SSL:
            return replace(self, tls=False)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return replace(self, tls=context)

    def connect(
        self, database: str | None, read_timeout: float | None = None
    ) -> pymysql.Connection:
        tls: dict[str, Any] = {}
        if self.tls is False:
            tls["ssl_disabled"] = True
        elif isinstance(self.tls, ssl.SSLContext):
            tls["ssl"] = self.tls
        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=database,
            unix_socket=self.unix_socket,
            charset="utf8mb4",
            autocommit=True,
            connect_timeout=self.connect_timeout,
            read_timeout=read_timeout,
            **tls,
        )


def redact(dsn: str) -> str:
    """The DSN as it may be printed: the password replaced by ***."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def product_version(server_info: str) -> str:
    """'MariaDB 10.11.19' or 'MySQL 8.0.36' from the version string the server sends."""
    info = server_info.removeprefix("5.5.5-")  # old MariaDB servers pose as MySQL 5.5.5
    number = info.split("-", 1)[0]
    return f"MariaDB {number}" if "mariadb" in info.lower() else f"MySQL {number}"


def describe_error(exc: BaseException) -> str:
    """`1062: Duplicate entry ...`: the server's number and its text, on one line."""
    code = error_code(exc)
    message = exc.args[1] if code is not None and len(exc.args) > 1 else exc
    text = " ".join(str(message).split())
    return f"{code}: {text}" if code is not None else text


_TRANSACTION = re.compile(r"^---TRANSACTION ", re.MULTILINE)
_THREAD_ID = re.compile(r"(?:MariaDB|MySQL) thread id (\d+)")


def _text(value: bytes | None) -> str:
    return bytes(value or b"").decode("utf-8", errors="replace")


def lock_waiting_connections(innodb_status: str) -> set[int]:
    """Connection ids whose transaction is in LOCK WAIT, from SHOW ENGINE INNODB STATUS."""
    waiting = set()
    for block in _TRANSACTION.split(innodb_status)[1:]:
        thread = _THREAD_ID.search(block)
        if thread and "\nLOCK WAIT " in block:
            waiting.add(int(thread.group(1)))
    return waiting


class Server:
    """One server, reached with one DSN: connections that explain their failures."""

    def __init__(self, dsn: str) -> None:
        self.settings = ServerSettings.from_dsn(dsn)
        self.version = ""

    def problem(self, text: str) -> KitError:
        return KitError(f"--dsn {self.settings.dsn}: {text}")

    def reach(self) -> None:
        """Connect once, within the connect timeout even if the server never answers."""
        connection = self.connect(
            self.settings.database, read_timeout=self.settings.connect_timeout
        )
        try:
            self.version = product_version(connection.get_server_info())
            self.settings = self.settings.with_tls_of(connection)
        finally:
            connection.close()

    def connect(
        self, database: str | None, read_timeout: float | None = None
    ) -> pymysql.Connection:
        settings = self.settings
        try:
            return settings.connect(database, read_timeout=read_timeout)
        except pymysql.err.MySQLError as exc:
            raise self.problem(self._connect_failure(exc, database)) from None
        except OSError as exc:  # a socket timeout during the handshake
            reason = str(exc) or "timed out"
            raise self.problem(
                f"no MariaDB/MySQL server answers at {settings.where}: {reason}"
            ) from None

    def connect_as(self, user: str, password: str, database: str | None) -> pymysql.Connection:
        """A connection as another account (the run's DML-only one), with this DSN's host,
        port, socket, timeouts and TLS."""
        settings = replace(self.settings, user=user, password=password)
        try:
            return settings.connect(database)
        except pymysql.err.MySQLError as exc:
            where, text = settings.where, describe_error(exc)
            raise self.problem(f"cannot connect as {user!r} to {where}: {text}") from None

    def _connect_failure(self, exc: pymysql.err.MySQLError, database: str | None) -> str:
        settings, code, text = self.settings, error_code(exc), describe_error(exc)
        if code in ACCESS_DENIED:
            return (
                f"{settings.where} refused user {settings.user!r}: wrong user or password ({text})"
            )
        if code == UNKNOWN_DATABASE:
            return (
                f"database {database!r} does not exist on {settings.where} "
                "(the kit creates its own databases: name one that exists, or none)"
            )
        if code is not None and code in CLIENT_ERRORS:
            return f"no MariaDB/MySQL server answers at {settings.where}: {text}"
        return f"cannot connect to {settings.where}: {text}"

    def create_failure(self, exc: pymysql.err.MySQLError) -> KitError:
        user, where, text = self.settings.user, self.settings.where, describe_error(exc)
        if error_code(exc) in (DATABASE_ACCESS_DENIED, *ACCESS_DENIED):
            return self.problem(
                f"user {user!r} may not create databases on {where} "
                f"(the kit needs the CREATE and DROP privileges): {text}"
            )
        return self.problem(f"cannot create a database on {where}: {text}")


class Databases:
    """The databases the kit creates: made ahead of need, dropped after use, never others.

    Creating a database and applying the DDL is mostly waiting for the server to write
    its logs, and the server does several at once far faster than one after another
    (benchmarks/mariadb_suite.py), so a few threads create the next stores while a
    scenario runs and drop finished ones. Each name is recorded before its database is
    created; `close` waits for the threads and drops every name still recorded.
    """

    def __init__(self, servers: list[Server], fill: Callable[[str], None]) -> None:
        self.servers = servers  # on a cluster, one per node; stores are made on the first
        self.server = servers[0]
        self.fill = fill  # applies the DDL to a new database, raising KitError
        self.prefix = f"conformance_{os.getpid()}_{secrets.token_hex(4)}"
        self.names = itertools.count(1)
        self.lock = threading.Lock()
        self.recorded: set[str] = set()
        self.local = threading.local()
        self.connections: list[pymysql.Connection] = []
        self.builder = StoreBuilder(
            self.create, workers=WORKERS, ahead=AHEAD, name="conformance-mariadb"
        )
        self.cannot_see_locks = False

    def create_now(self) -> None:
        """Create one database in this thread, so that a failure is raised here."""
        self.builder.make_now()

    def take(self) -> str:
        """A new database with the DDL applied; the next ones are started meanwhile."""
        return self.builder.take()

    def create(self) -> str:
        name = f"{self.prefix}_{next(self.names)}"
        with self.lock:
            self.recorded.add(name)
        try:
            self.admin_execute(f"CREATE DATABASE `{name}` {STORE_DEFAULTS}")
        except pymysql.err.MySQLError as exc:
            with self.lock:
                self.recorded.discard(name)  # not created here: never to be dropped
            raise self.server.create_failure(exc) from None
        try:
            self.fill(name)
            self.await_on_every_node(name)
        except BaseException:
            self.drop(name, ())
            raise
        return name

    def await_on_every_node(self, name: str) -> None:
        """On a cluster, until every node has the database as node 1 made it: a session
        on another node must never meet a store still being built."""
        if len(self.servers) == 1:
            return
        wanted = self.objects(name, 0)
        for node in range(1, len(self.servers)):
            deadline = time.monotonic() + REPLICATION_LIMIT
            while (seen := self.objects(name, node)) != wanted:
                if time.monotonic() > deadline:
                    where = self.servers[node].settings.where
                    raise self.server.problem(
                        f"database {name} did not reach node {where} within "
                        f"{REPLICATION_LIMIT:.0f}s ({seen} of {wanted} tables and triggers)"
                    )
                time.sleep(0.01)

    def objects(self, name: str, node: int) -> tuple[int, int]:
        """How many tables (views too) and triggers the database has on one node."""
        query = (
            "SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s),"
            " (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s)"
        )
        row = self.synced_read(query, (name, name), node)[0]
        return int(row[0]), int(row[1])

    def drop_later(self, name: str, connections: Iterable[tuple[int, int]]) -> None:
        """Drop a database on a worker thread; `connections` are (node, connection id)."""
        self.builder.drop_later(self.drop, name, tuple(connections))

    def drop(self, name: str, connections: tuple[tuple[int, int], ...]) -> None:
        """Drop a recorded database on every node, after ending the given connections
        still open in it."""
        with self.lock:
            if name not in self.recorded:
                return
        for node, connection_id in connections:
            self.kill(connection_id, node=node)
        for node in range(len(self.servers)):
            if node == 0 or self.exists(name, node):  # a cluster drops it everywhere at once
                self.drop_on(name, node)
        with self.lock:
            self.recorded.discard(name)

    def exists(self, name: str, node: int) -> bool:
        query = "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s"
        return bool(self.synced_read(query, (name,), node)[0][0])

    def synced_read(self, query: str, params: tuple[Any, ...], node: int) -> list[Any]:
        """A read of the catalogue on a cluster node, once the node caught up.

        A schema change replicated from another node aborts the reads in its way with a
        deadlock (1213), which says nothing of the database read: the read is tried again.
        """
        for attempt in range(1, ABORTED_READ_ATTEMPTS + 1):
            try:
                return self.admin_execute(query, params, node, synced=True)
            except pymysql.err.MySQLError as exc:
                if error_code(exc) != DEADLOCK or attempt == ABORTED_READ_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def drop_on(self, name: str, node: int) -> None:
        server = self.servers[node]
        for attempt in range(1, DROP_ATTEMPTS + 1):
            try:
                self.admin_execute(f"DROP DATABASE IF EXISTS `{name}`", node=node)
                return
            except pymysql.err.MySQLError as exc:
                if error_code(exc) != DROP_LEFT_FILES or attempt == DROP_ATTEMPTS:
                    where, text = server.settings.where, describe_error(exc)
                    raise server.problem(
                        f"cannot drop the kit's database {name} on {where}: {text}"
                    ) from None
                self.rewrite_trigger_files(name)

    def rewrite_trigger_files(self, name: str) -> None:
        """Apply the DDL again to a database DROP DATABASE emptied but could not remove.

        MariaDB (10.6 and later) now and then leaves a table's trigger file backup
        (`TABLE.TRG-`) behind when triggers are created while other DDL runs, and
        DROP DATABASE then stops at that file (error 1010, errno 39). Creating the
        triggers again rewrites the backup and removes it, so the next drop succeeds.
        """
        with contextlib.suppress(KitError):
            self.fill(name)

    def kill(self, connection_id: int, query_only: bool = False, node: int = 0) -> None:
        """End one of the kit's own connections (or only its running statement) on the
        node it is connected to."""
        what = "QUERY" if query_only else "CONNECTION"
        try:
            self.admin_execute(f"KILL {what} {int(connection_id)}", node=node)
        except pymysql.err.MySQLError as exc:
            if error_code(exc) != UNKNOWN_THREAD:
                raise

    def waits_for_lock(self, connection_id: int, node: int = 0) -> bool | None:
        """Whether one of the kit's connections waits for an InnoDB row lock or a table's
        metadata lock; None when the user may not look (no PROCESS privilege).

        Row lock waits are read from SHOW ENGINE INNODB STATUS: the INNODB_TRX table is a
        cache that InnoDB refreshes only after 0.1 s without readers, so a kit polling it
        every few milliseconds would never see a wait begin.
        """
        if self.cannot_see_locks:
            return None
        try:
            raw_status = self.admin_execute("SHOW ENGINE INNODB STATUS", node=node, raw=True)
            status = _text(raw_status[0][2])
            # SHOW PROCESSLIST, not information_schema.PROCESSLIST: the latter is copied
            # into an Aria temporary table (its INFO column is LONGTEXT), and MariaDB
            # 10.11 has crashed here (signal 11 in ha_maria::drop_table) freeing one while
            # a node stopped. Columns: Id, User, Host, db, Command, Time, State, ...
            # Both quote statements cut at a byte count: read them as bytes.
            listed = self.admin_execute("SHOW PROCESSLIST", node=node, raw=True)
            states = [_text(row[6]) for row in listed if int(row[0]) == connection_id]
        except pymysql.err.MySQLError as exc:
            if error_code(exc) != ACCESS_DENIED_FOR_STATUS:
                raise
            self.cannot_see_locks = True
            return None
        if any(_is_lock_wait(state) for state in states):
            return True
        return connection_id in lock_waiting_connections(status)

    def admin_execute(
        self,
        sql: str,
        params: tuple[Any, ...] | None = None,
        node: int = 0,
        synced: bool = False,
        raw: bool = False,
    ) -> list[tuple[Any, ...]]:
        """Run one statement on this thread's own connection to `node`, opened on first
        use; `synced` reads on a cluster wait until the node has caught up with it.

        `raw` returns text columns as bytes: InnoDB's status cuts the statements it
        quotes at a byte count, so it can end inside a multi-byte character that no
        decoder accepts.
        """
        connections = self.local.__dict__.setdefault("connections", {})
        key = (node, synced and len(self.servers) > 1)
        connection = connections.get(key)
        if connection is None or not connection.open:
            connection = self.servers[node].connect(None)
            if key[1]:
                with connection.cursor() as cursor:
                    cursor.execute(SYNC_WAIT)
            connections[key] = connection
            with self.lock:
                self.connections.append(connection)
        connection.use_unicode = not raw
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
        finally:
            connection.use_unicode = True

    def close(self) -> None:
        """Wait for the threads, then drop every database still recorded; one line if any
        cannot be dropped."""
        self.builder.stop()
        failures: list[KitError] = []
        for name in sorted(self.recorded):
            try:
                self.drop(name, ())
            except KitError as exc:
                failures.append(exc)
        with self.lock:
            connections, self.connections = self.connections, []
        for connection in connections:
            if connection.open:
                connection.close()
        if failures:
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            raise KitError(f"{failures[0]}{more}")


def _is_lock_wait(state: str) -> bool:
    """`Waiting for table metadata lock` and the like; not a cluster node's commit
    stages (`Waiting for certification`), which end without another session's help."""
    return state.startswith("Waiting for") and state.endswith(" lock")
