"""MariaDB and MySQL through PyMySQL: one freshly created database per scenario.

Each store is a database the kit creates under a name no one else uses (see
mariadb_server.Databases) and drops afterwards. Sessions are plain autocommit
connections with the server's own sql_mode: a rule that holds only under a
per-connection setting does not count as enforced by the database.

Rejections are told from errors by the server's error number (see REJECTIONS).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import pymysql

from conformance.backends.base import Backend, Outcome, Row, Session, SessionSetting, Store
from conformance.backends.mariadb_nodes import Nodes
from conformance.backends.mariadb_script import split_statements
from conformance.backends.mariadb_server import (
    SYNC_WAIT,
    Databases,
    describe_error,
    error_code,
)
from conformance.ddl_script import DdlScript, first_line
from conformance.errors import KitError
from conformance.spec.statements import to_format_style

# Server error numbers that mean "a rule of the DDL said no".
REJECTIONS = {
    1048: "NOT NULL",
    1062: "duplicate key",
    1452: "foreign key",
    4025: "CHECK constraint (MariaDB)",
    3819: "CHECK constraint (MySQL)",
    1644: "SIGNAL from a trigger",
    # A value the column cannot hold, refused rather than cut (strict mode).
    1406: "value too long for its column",
    1264: "value out of range for its column",
    # On a Galera cluster also the certification failure of the writer that commits
    # second, raised by its COMMIT (or by its next statement once the winner's
    # write set has aborted it): the cluster's way of saying a concurrent writer won.
    1213: "deadlock or certification failure (a concurrent writer won)",
    1205: "lock wait timeout (a concurrent writer holds the row)",
}


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


class MariadbSession(Session):
    """One autocommit connection to a store's database, on one node of the DSN."""

    def __init__(self, connection: pymysql.Connection, store: MariadbStore, node: int = 0) -> None:
        self.connection = connection
        self.store = store
        self.node = node
        self.where = store.backend.nodes.label(node) if store.backend.nodes.cluster else ""
        self.connection_id = connection.thread_id()
        self.busy = threading.Event()  # a statement is running on another thread

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self.busy.set()
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(to_format_style(sql), tuple(params))
                return list(cursor.fetchall())
        finally:
            self.busy.clear()

    def prepare(self, sql: str, params: Sequence[Any]) -> None:
        """The server's PREPARE resolves tables and columns without running the statement."""
        self.execute("PREPARE conformance_preflight FROM ?", (sql,))
        self.execute("DEALLOCATE PREPARE conformance_preflight")

    def cancel(self) -> None:
        """Stop the statement this session is running, from another thread."""
        self.store.backend.databases.kill(self.connection_id, query_only=True, node=self.node)

    def close(self) -> None:
        if self.connection.open:
            self.connection.close()


class MariadbStore(Store):
    """One database the kit created; `close` ends its sessions, then drops it.

    On a cluster, sessions take the nodes in turn, starting with node 1: the kit's own
    session (opened first) reads where the store was made, and sessions opened one
    after another, as a race's writers are, are on different nodes. Every session's
    statements wait for its node to catch up with the cluster (SYNC_WAIT), so no
    verdict rests on a stale read.
    """

    def __init__(self, backend: MariadbBackend, name: str) -> None:
        self.backend = backend
        self.name = name
        self.sessions: list[MariadbSession] = []
        self.closed = False
        self.commits_together = backend.nodes.cluster

    def session(self) -> MariadbSession:
        """A client's session: as the run's DML-only account where there is one."""
        nodes = self.backend.nodes
        node = len(self.sessions) % len(nodes.servers)
        connection = self.backend.client_connect(node, self.name)
        session = MariadbSession(connection, self, node)
        self.sessions.append(session)
        if nodes.cluster:
            session.execute(SYNC_WAIT)
        return session

    def reapply_ddl(self) -> None:
        self.backend.apply_ddl_to(self.name)

    def waiting(self, session: Session) -> bool | None:
        """Whether the session's statement waits for a row or table lock; None when the
        kit's user may not see other connections' locks (no PROCESS privilege)."""
        assert isinstance(session, MariadbSession)
        return self.backend.databases.waits_for_lock(session.connection_id, session.node)

    def close(self) -> None:
        """Close idle sessions here; a session still running a statement on another thread
        is ended by the server (KILL) before the database is dropped."""
        if self.closed:
            return
        self.closed = True
        running = []
        for session in self.sessions:
            if session.busy.is_set():
                running.append((session.node, session.connection_id))
            else:
                session.close()
        self.backend.databases.drop_later(self.name, running)


# The DML-only account the client steps run as, one per run: the kit's prefix, the
# process id and a random part, at most 32 characters (MySQL's limit).
CLIENT_PREFIX = "conformance_c"
# What it may do in a store's database: the client's statements; and DROP on the store's
# base tables alone, because MariaDB's TRUNCATE needs it, so that the truncate scenarios
# test the DDL's own refusal of TRUNCATE rather than a missing privilege.
CLIENT_GRANT = "GRANT SELECT, INSERT, UPDATE, DELETE ON `{database}`.* TO {account}"
CLIENT_TRUNCATE_GRANT = "GRANT DROP ON `{database}`.`{table}` TO {account}"
# How long a new account may take to reach every node of a cluster (CREATE USER replicates).
ACCOUNT_REPLICATION_LIMIT = 30.0


# A past moment for `SET timestamp`: 2001-09-09 01:46:40 UTC.
PAST = 1_000_000_000

# Session variables any user may set for their own session (no privilege needed), each
# with the rules it could weaken: CHECKs switched off, a non-strict sql_mode that cuts or
# converts values instead of refusing them, an AUTO_INCREMENT that takes a client's 0, a
# clock chosen by the client, unique checks relaxed. Not listed yet, though any client may
# set them: foreign_key_checks=0 (it lets undefined names, a missing previous event and
# TRUNCATE through the shipped DDL's foreign keys) and insert_id (a client picks the next
# sequence): the shipped DDL has no answer to them yet (docs/engines.md).
SESSION_SETTINGS = (
    SessionSetting("check_constraint_checks=0", ("SET SESSION check_constraint_checks = 0",),
                   ("appends.uuid_ids", "chain.previous_exists", "definitions.idempotent")),
    SessionSetting("sql_mode=''", ("SET SESSION sql_mode = ''",),
                   ("appends.required", "appends.uuid_ids", "replay.order_and_data")),
    SessionSetting("sql_mode=NO_AUTO_VALUE_ON_ZERO",
                   ("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')",),
                   ("autopopulation.ts_sequence",)),
    SessionSetting(f"timestamp={PAST}", (f"SET SESSION timestamp = {PAST}",),
                   ("autopopulation.ts_sequence",)),
    SessionSetting("unique_checks=0", ("SET SESSION unique_checks = 0",),
                   ("appends.unique_event_id", "appends.unique_command_id", "chain.linear")),
)  # fmt: skip


class MariadbBackend(Backend):
    name = "mariadb"
    # InnoDB locks rows, not tables: writers to different rows never wait for each other.
    capabilities = frozenset({"sessions", "concurrent-writers", "nul-in-text", "shared-key-waits"})

    def store_not_applicable(self, needed: Iterable[str]) -> str | None:
        if self.nodes.cluster and "shared-key-waits" in needed:
            return (
                "on a multi-primary cluster two sessions on different nodes writing the same "
                "new key both go ahead, and the one that commits second fails certification "
                "(1213): whatever the DDL, the client retries"
            )
        return None

    limitations = {  # noqa: RUF012 - a class constant, never mutated
        "dynamic-typing": "MariaDB columns have one type: bytes sent to a text column are "
        "converted to its character set",
    }

    missing_write_forms = {  # noqa: RUF012 - a class constant, never mutated
        "merge": "MariaDB has no MERGE statement",
        "copy": "the kit does not send LOAD DATA LOCAL INFILE, MariaDB's bulk load, yet",
    }

    write_verbs = {"replace": "REPLACE INTO", "ignore": "INSERT IGNORE INTO"}  # noqa: RUF012
    # The conflict target is whichever unique key the row hits.
    upsert_clause, upsert_value = "ON DUPLICATE KEY UPDATE {sets}", "VALUES({})"
    session_settings = SESSION_SETTINGS

    def __init__(self, dsn: str | None, ddl: DdlScript) -> None:
        super().__init__(dsn, ddl)
        if not dsn:
            raise KitError(
                "--dsn: the MariaDB backend needs mariadb://user:password@host:port/database"
            )
        self.nodes = Nodes(dsn)
        self.server = self.nodes.first
        self.statements = list(split_statements(ddl.text))
        self.databases = Databases(self.nodes.servers, self.apply_ddl_to_new)
        self.client: tuple[str, str] | None = None  # the DML-only account: user, password
        self.client_note = ""  # why there is none, said once in the summary and reports

    def prepare(self) -> None:
        """Reach the server, then create the first store here: a DDL that does not apply,
        or a user who may not create databases, stops the run before any scenario."""
        if not self.statements:
            raise KitError(f"--ddl {self.ddl.path}: no SQL statement in the file")
        try:
            self.nodes.reach()
            if self.client_account:
                self.create_client()
            self.databases.create_now()
        except KitError:
            self.close()  # the run stops here: nothing of this backend may stay open
            raise

    # --- the DML-only account -----------------------------------------------------

    def create_client(self) -> None:
        """Create the run's DML-only account on node 1 (on a cluster CREATE USER reaches
        every node; the kit waits until it can log in on each). Where the DSN's user may
        not create users, or the account cannot log in, say so once and go on as the
        DSN's user."""
        user = self.server.settings.user
        account = f"{CLIENT_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(24)
        instead = f"so client steps ran as the DSN's user {user!r}"
        try:
            self.databases.admin_execute(
                "CREATE USER %s@'%%' IDENTIFIED BY %s", (account, password)
            )
        except pymysql.err.MySQLError as exc:
            self.client_note = (
                f"the DSN's user {user!r} cannot create a DML-only account for the client "
                f"steps ({describe_error(exc)}), {instead}"
            )
            return
        self.client = (account, password)
        try:
            for node in range(len(self.nodes.servers)):
                self._await_login(node)
        except KitError as exc:
            self.drop_client()
            self.client_note = f"the DML-only account cannot log in ({exc}), {instead}"

    def _await_login(self, node: int) -> None:
        assert self.client is not None
        deadline = time.monotonic() + ACCOUNT_REPLICATION_LIMIT
        while True:
            try:
                self.nodes.servers[node].connect_as(*self.client, None).close()
                return
            except KitError:
                if node == 0 or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def client_connect(self, node: int, database: str) -> pymysql.Connection:
        server = self.nodes.servers[node]
        if self.client is None:
            return server.connect(database)
        return server.connect_as(*self.client, database)

    def grant_client(self, connection: pymysql.Connection, database: str) -> None:
        if self.client is None:
            return
        account = f"'{self.client[0]}'@'%'"
        with connection.cursor() as cursor:
            cursor.execute(CLIENT_GRANT.format(database=database, account=account))
            cursor.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = %s AND table_type = 'BASE TABLE'",
                (database,),
            )
            for (table,) in cursor.fetchall():
                cursor.execute(
                    CLIENT_TRUNCATE_GRANT.format(database=database, table=table, account=account)
                )

    def drop_client(self) -> None:
        if self.client is None:
            return
        connection = self.server.connect(None)  # its own: the kit's may be closed by now
        try:
            with connection.cursor() as cursor:
                cursor.execute("DROP USER IF EXISTS %s@'%%'", (self.client[0],))
        finally:
            connection.close()
        self.client = None

    def notes(self) -> list[str]:
        return [self.client_note] if self.client_note else []

    def create_store(self) -> MariadbStore:
        return MariadbStore(self, self.databases.take())

    def apply_ddl_to(self, database: str) -> None:
        connection = self.server.connect(database)
        try:
            apply_ddl(connection, self.ddl, self.statements)
        finally:
            connection.close()

    def apply_ddl_to_new(self, database: str) -> None:
        """Apply the DDL to a database just created, and grant the DML-only account its
        privileges there; a failure is one line naming FILE:LINE."""
        try:
            connection = self.server.connect(database)
            try:
                apply_ddl(connection, self.ddl, self.statements)
                self.grant_client(connection, database)
            finally:
                connection.close()
        except pymysql.err.MySQLError as exc:
            notes = getattr(exc, "__notes__", None)
            where = notes[-1] if notes else str(self.ddl.path)
            text = describe_error(exc)
            raise KitError(f"--ddl {where}: statement does not apply on MariaDB: {text}") from None

    def classify(self, exc: BaseException) -> Outcome | None:
        if not isinstance(exc, pymysql.err.MySQLError):
            return None
        return Outcome.REJECTED if error_code(exc) in REJECTIONS else Outcome.ERROR

    def describe(self, exc: BaseException) -> str:
        return describe_error(exc)

    def server_version(self) -> str:
        return self.nodes.version()

    def close(self) -> None:
        """Drop every database, then the account (also when a drop failed)."""
        try:
            self.databases.close()
        finally:
            try:
                self.drop_client()
            except pymysql.err.MySQLError as exc:
                raise KitError(
                    f"--dsn {self.server.settings.dsn}: could not drop user {self.client[0]!r}: "
                    f"{describe_error(exc)}"
                ) from None
