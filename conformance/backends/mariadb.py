"""MariaDB and MySQL through PyMySQL: one freshly created database per scenario.

Each store is a database the kit creates under a name no one else uses and drops
afterwards. It is created with utf8mb4_general_ci, the server default that ignores
case and trailing spaces, so a DDL that leaves a column's collation to the database
is judged by the collation it would most likely get. Sessions are plain autocommit
connections with the server's own sql_mode: a rule that holds only under a
per-connection setting does not count as enforced by the database.

Rejections are told from errors by the server's error number (see REJECTIONS).
"""

from __future__ import annotations

import itertools
import os
import secrets
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pymysql
from pymysql.constants import CLIENT

from conformance.backends.base import Backend, Outcome, Row, Session, Store
from conformance.backends.mariadb_script import split_statements
from conformance.ddl import DdlScript, first_line
from conformance.errors import KitError
from conformance.statements import to_format_style

CONNECT_TIMEOUT = 5.0
DEFAULT_PORT = 3306
# The database default the kit gives every store (see the module docstring).
STORE_DEFAULTS = "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"

# Server error numbers that mean "a rule of the DDL said no".
REJECTIONS = {
    1048: "NOT NULL",
    1062: "duplicate key",
    1452: "foreign key",
    4025: "CHECK constraint (MariaDB)",
    3819: "CHECK constraint (MySQL)",
    1644: "SIGNAL from a trigger",
    1213: "deadlock (a concurrent writer won)",
    1205: "lock wait timeout (a concurrent writer holds the row)",
}
ACCESS_DENIED = (1045, 1698)  # wrong password; no password where one is needed
DATABASE_ACCESS_DENIED = 1044
UNKNOWN_DATABASE = 1049
CLIENT_ERRORS = range(2000, 3000)  # raised by the driver: no server, lost connection


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


# --- the DDL script -------------------------------------------------------------


def apply_ddl(
    connection: pymysql.Connection, ddl: DdlScript, statements: list[tuple[int, str]]
) -> None:
    """Run the script statement by statement; a failure carries the statement's file:line."""
    with connection.cursor() as cursor:
        for line, statement in statements:
            try:
                cursor.execute(statement)
            except pymysql.err.MySQLError as exc:
                exc.add_note(f"{ddl.path}:{line}: {first_line(statement)}")
                raise


# --- sessions, stores, the backend ------------------------------------------------


class MariadbSession(Session):
    def __init__(self, connection: pymysql.Connection) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.connection.cursor() as cursor:
            cursor.execute(to_format_style(sql), tuple(params))
            return list(cursor.fetchall())

    def close(self) -> None:
        if self.connection.open:
            self.connection.close()


class MariadbStore(Store):
    """One database the kit created; `close` closes its sessions, then drops it."""

    def __init__(self, backend: MariadbBackend, name: str) -> None:
        self.backend = backend
        self.name = name
        self.sessions: list[MariadbSession] = []
        self.dropped = False

    def session(self) -> MariadbSession:
        session = MariadbSession(self.backend.settings.connect(self.name))
        self.sessions.append(session)
        return session

    def reapply_ddl(self) -> None:
        self.backend.apply_ddl_to(self.name)

    def close(self) -> None:
        if self.dropped:
            return
        for session in self.sessions:
            session.close()
        self.backend.drop_database(self.name)
        self.dropped = True


class MariadbBackend(Backend):
    name = "mariadb"

    def __init__(self, dsn: str | None, ddl: DdlScript) -> None:
        super().__init__(dsn, ddl)
        if not dsn:
            raise KitError(
                "--dsn: the MariaDB backend needs mariadb://user:password@host:port/database"
            )
        self.settings = ServerSettings.from_dsn(dsn)
        self.statements = list(split_statements(ddl.text))
        self.prefix = f"conformance_{os.getpid()}_{secrets.token_hex(4)}"
        self.counter = itertools.count(1)
        self.admin: pymysql.Connection | None = None
        self.version = ""
        self.live: dict[str, MariadbStore] = {}
        self.spare: MariadbStore | None = None

    # -- reaching the server, in one line if it fails --

    def prepare(self) -> None:
        if not self.statements:
            raise KitError(f"--ddl {self.ddl.path}: no SQL statement in the file")
        self.admin = self._connect_or_explain(read_timeout=self.settings.connect_timeout)
        self.version = product_version(self.admin.get_server_info())
        self.settings = self.settings.with_tls_of(self.admin)
        self.admin.close()
        self.admin = self._connect_or_explain(read_timeout=None)
        self.spare = self._new_store()

    def _connect_or_explain(self, read_timeout: float | None) -> pymysql.Connection:
        settings = self.settings
        try:
            return settings.connect(settings.database, read_timeout=read_timeout)
        except pymysql.err.MySQLError as exc:
            raise self._dsn_problem(self._connect_failure(exc)) from None
        except OSError as exc:  # a socket timeout during the handshake
            reason = str(exc) or "timed out"
            raise self._dsn_problem(
                f"no MariaDB/MySQL server answers at {settings.where}: {reason}"
            ) from None

    def _dsn_problem(self, text: str) -> KitError:
        return KitError(f"--dsn {self.settings.dsn}: {text}")

    def _connect_failure(self, exc: pymysql.err.MySQLError) -> str:
        settings, code, text = self.settings, error_code(exc), self.describe(exc)
        if code in ACCESS_DENIED:
            return (
                f"{settings.where} refused user {settings.user!r}: wrong user or password ({text})"
            )
        if code == UNKNOWN_DATABASE:
            return (
                f"database {settings.database!r} does not exist on {settings.where} "
                "(the kit creates its own databases: name one that exists, or none)"
            )
        if code is not None and CLIENT_ERRORS.start <= code < CLIENT_ERRORS.stop:
            return f"no MariaDB/MySQL server answers at {settings.where}: {text}"
        return f"cannot connect to {settings.where}: {text}"

    # -- stores --

    def create_store(self) -> MariadbStore:
        if self.spare is not None:
            store, self.spare = self.spare, None
            return store
        return self._new_store()

    def _new_store(self) -> MariadbStore:
        name = f"{self.prefix}_{next(self.counter)}"
        store = self.live[name] = MariadbStore(self, name)
        try:
            with self._admin().cursor() as cursor:
                cursor.execute(f"CREATE DATABASE `{name}` {STORE_DEFAULTS}")
        except pymysql.err.MySQLError as exc:
            self.live.pop(name)
            raise self._dsn_problem(self._create_failure(exc)) from None
        try:
            self.apply_ddl_to(name)
        except pymysql.err.MySQLError as exc:
            store.close()
            notes = getattr(exc, "__notes__", None)
            where = notes[-1] if notes else str(self.ddl.path)
            text = self.describe(exc)
            raise KitError(f"--ddl {where}: statement does not apply on MariaDB: {text}") from None
        return store

    def apply_ddl_to(self, database: str) -> None:
        connection = self.settings.connect(database)
        try:
            apply_ddl(connection, self.ddl, self.statements)
        finally:
            connection.close()

    def _create_failure(self, exc: pymysql.err.MySQLError) -> str:
        user, where, text = self.settings.user, self.settings.where, self.describe(exc)
        if error_code(exc) in (DATABASE_ACCESS_DENIED, *ACCESS_DENIED):
            return (
                f"user {user!r} may not create databases on {where} "
                f"(the kit needs the CREATE and DROP privileges): {text}"
            )
        return f"cannot create a database on {where}: {text}"

    def _admin(self) -> pymysql.Connection:
        """The connection that creates and drops databases, reconnected if the server dropped it."""
        if self.admin is not None:
            try:
                self.admin.ping()
            except pymysql.err.MySQLError:
                self.admin = None
        if self.admin is None:
            self.admin = self._connect_or_explain(read_timeout=None)
        return self.admin

    def drop_database(self, name: str) -> None:
        """Drop a database this backend created; never any other."""
        if self.live.pop(name, None) is None:
            return
        try:
            with self._admin().cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        except pymysql.err.MySQLError as exc:
            where, text = self.settings.where, self.describe(exc)
            raise self._dsn_problem(
                f"cannot drop the kit's database {name} on {where}: {text}"
            ) from None

    # -- judging errors --

    def classify(self, exc: BaseException) -> Outcome | None:
        if not isinstance(exc, pymysql.err.MySQLError):
            return None
        return Outcome.REJECTED if error_code(exc) in REJECTIONS else Outcome.ERROR

    def describe(self, exc: BaseException) -> str:
        code = error_code(exc)
        if code is None:
            return super().describe(exc)
        message = exc.args[1] if len(exc.args) > 1 else ""
        return f"{code}: {' '.join(str(message).split())}"

    def server_version(self) -> str:
        return self.version

    def close(self) -> None:
        for store in list(self.live.values()):
            store.close()
        self.spare = None
        if self.admin is not None and self.admin.open:
            self.admin.close()
        self.admin = None
