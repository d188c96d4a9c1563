"""PostgreSQL through psycopg 3: one freshly created schema per scenario, dropped after.

A schema is the smallest thing the kit can own on a shared server: it needs only the
CREATE privilege on the database, and `DROP SCHEMA ... CASCADE` removes everything the
DDL made in it. Every session connects with `search_path` set to its scenario's schema,
so the DDL and the spec's unqualified statements see only the kit's own tables.
Schema names carry the process id, a counter and a random part, so that parallel
runs (pytest-xdist workers, two CI jobs on one server) never meet.

Applying the DDL to each new schema costs a few milliseconds (measured by
benchmarks/postgres_suite.py), less than cloning a template database, which copies
the whole database and needs the CREATEDB privilege. A builder thread with its own
connection makes the next scenario's schema, and drops the last one's, while a
scenario runs, so that the server does that work on another core.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import sys
import threading
from collections.abc import Sequence
from typing import Any

import psycopg
import psycopg.errors
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.types.string import TextLoader

from conformance.backends.base import Backend, Outcome, Row, Session, SessionSetting, Store
from conformance.backends.builder import StoreBuilder
from conformance.backends.pgscript import Statement, split_script
from conformance.backends.write_forms import WriteRows, WriteSql, assignments
from conformance.ddl_script import DdlScript, first_line
from conformance.errors import KitError
from conformance.spec.statements import to_format_style

# SQLSTATE classes that mean "a rule of the DDL said no": invalid input (22),
# integrity constraints (23), serialization failures and deadlocks (40).
REJECTED_CLASSES = frozenset({"22", "23", "40"})
RAISE_EXCEPTION = "P0001"
# libpq's minimum; psycopg applies it to each address of a host, so a name with two
# addresses (localhost: ::1 and 127.0.0.1) still gives up within 5 seconds.
CONNECT_TIMEOUT_SECONDS = 2
SCHEMA_PREFIX = "conformance_"
# The DML-only account the client steps run as, one per run: conformance_client_<pid>_<random>.
CLIENT_PREFIX = "conformance_client_"
# What it may do in a scenario's schema: the client's statements, TRUNCATE (so that the
# DDL's own refusal of TRUNCATE is what the truncate scenarios test, not the privilege),
# sequences behind a serial column, functions an append goes through.
CLIENT_GRANTS = (
    "GRANT USAGE ON SCHEMA {schema} TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA {schema} TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    "GRANT EXECUTE ON ALL ROUTINES IN SCHEMA {schema} TO {role}",
)
# Schemas in the making while a scenario runs. Building one (CREATE SCHEMA and the DDL)
# and dropping the last one take longer than most scenarios, so one builder thread kept
# every scenario waiting for its store (30 ms each, measured); two keep up.
BUILDERS = 2


# Statements PREPARE accepts (and analyses: tables, columns, functions, types).
PREPARABLE = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|VALUES|MERGE)\b", re.I)


class PostgresSession(Session):
    def __init__(self, connection: psycopg.Connection[Any], store: PostgresStore) -> None:
        self.connection = connection
        self.store = store

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = self.connection.execute(to_format_style(sql), tuple(params))
        return cursor.fetchall() if cursor.description else []

    def copy(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    def prepare(self, sql: str, params: Sequence[Any]) -> None:
        """PREPARE analyses a query without running it; other statements (CALL) run in a
        transaction that is rolled back."""
        if not PREPARABLE.match(sql):
            super().prepare(sql, params)
            return
        numbered = iter(range(1, len(params) + 1))
        self.connection.execute(
            "PREPARE conformance_preflight AS " + re.sub(r"\?", lambda _: f"${next(numbered)}", sql)
        )
        self.connection.execute("DEALLOCATE conformance_preflight")

    def cancel(self) -> None:
        """Interrupt, from another thread, the statement this session is running."""
        if self.connection.info.transaction_status == TransactionStatus.ACTIVE:
            self.connection.cancel_safe()

    def close(self) -> None:
        self.cancel()
        self.connection.close()
        self.store.forget(self)


class PostgresStore(Store):
    def __init__(
        self, backend: PostgresBackend, schema: str, spare: psycopg.Connection[Any] | None = None
    ) -> None:
        self.backend = backend
        self.schema = schema
        self.spare = spare  # a connection to the schema opened ahead by the builder
        self.sessions: set[PostgresSession] = set()
        self.lock = threading.Lock()
        self.monitor: psycopg.Connection[Any] | None = None

    def session(self) -> PostgresSession:
        """A client's session: as the run's DML-only account where there is one."""
        connection, self.spare = self.spare, None
        if connection is None or connection.closed:
            connection = self.backend.connect(search_path=self.schema, client=True)
        session = PostgresSession(connection, self)
        with self.lock:
            self.sessions.add(session)
        return session

    def forget(self, session: PostgresSession) -> None:
        with self.lock:
            self.sessions.discard(session)

    def waiting(self, session: Session) -> bool | None:
        """Whether the session's statement waits for a lock another backend holds."""
        assert isinstance(session, PostgresSession)
        if self.monitor is None:
            self.monitor = self.backend.connect()
        pid = session.connection.info.backend_pid
        row = self.monitor.execute(
            "SELECT cardinality(pg_blocking_pids(%s)) > 0", (pid,)
        ).fetchone()
        return bool(row and row[0])

    def reapply_ddl(self) -> None:
        with self.backend.connect(search_path=self.schema) as connection:
            apply_ddl(connection, self.backend.ddl, self.backend.statements)

    def close(self) -> None:
        """Close the sessions first: an open transaction would make DROP SCHEMA wait."""
        with self.lock:
            sessions = list(self.sessions)
        for session in sessions:
            session.close()
        for connection in (self.monitor, self.spare):
            if connection is not None:
                connection.close()
        self.backend.release(self.schema)


def apply_ddl(
    connection: psycopg.Connection[Any], ddl: DdlScript, statements: list[Statement]
) -> None:
    """Run the script statement by statement; a failure carries `file:line: statement`."""
    for statement in statements:
        try:
            connection.execute(statement.text)
        except psycopg.Error as exc:
            line = statement.line_of(_position(exc))
            text = ddl.text.splitlines()[line - 1] if line > statement.line else statement.text
            exc.add_note(f"{ddl.path}:{line}: {first_line(text)}")
            raise


def _position(exc: psycopg.Error) -> int | None:
    position = exc.diag.statement_position
    return int(position) if position else None


# The race rules a check seeing another snapshot could let through. Not the rules of
# independent writers: at SERIALIZABLE a client's own transaction may fail with 40001
# where writers are independent, which is that level's contract, not a broken rule.
RACE_RULES = (
    "races.same_previous", "races.first_event", "races.stale_replay", "races.no_trace",
)  # fmt: skip


def _set(label: str, statement: str, *weakens: str) -> SessionSetting:
    return SessionSetting(label, (statement,), weakens)


# Settings any user may SET for their own session, each with the rules it could weaken:
# the isolation of every transaction (a check that reads other rows sees another
# snapshot), the time zone (ts), `x = NULL` taken as `x IS NULL` in trigger code. Not
# here: session_replication_role (it turns triggers and foreign keys off) needs the
# superuser or a role granted SET on it, and synchronous_commit is off for every
# connection of the kit already.
SESSION_SETTINGS = (
    _set("default_transaction_isolation=serializable",
         "SET default_transaction_isolation = 'serializable'", *RACE_RULES, "chain.linear"),
    _set("default_transaction_isolation=repeatable_read",
         "SET default_transaction_isolation = 'repeatable read'", *RACE_RULES, "chain.linear"),
    _set("timezone=Pacific/Kiritimati", "SET timezone = 'Pacific/Kiritimati'",
         "autopopulation.ts_sequence"),
    _set("transform_null_equals=on", "SET transform_null_equals = on",
         "chain.first_event", "chain.previous_exists"),
)  # fmt: skip


class PostgresBackend(Backend):
    name = "postgresql"
    capabilities = frozenset({"sessions", "concurrent-writers", "shared-key-waits"})
    limitations = {  # noqa: RUF012 - a class constant, never mutated
        "dynamic-typing": "PostgreSQL columns have one type: bytes are bytea, which a text "
        "column refuses before any rule of the DDL is asked",
        "nul-in-text": "PostgreSQL text cannot hold a NUL byte: no client can send one",
    }

    missing_write_forms = {  # noqa: RUF012 - a class constant, never mutated
        "replace": "PostgreSQL has no REPLACE: its conflict clauses are DO NOTHING (ignore) "
        "and DO UPDATE (upsert)",
    }

    def write_statement(self, form: str, rows: WriteRows, on: str) -> WriteSql:
        # A supplied sequence needs OVERRIDING SYSTEM VALUE past GENERATED ALWAYS, which
        # any client with INSERT may write.
        overriding = "OVERRIDING SYSTEM VALUE" if "sequence" in rows.columns else ""
        if form == "ignore":
            return rows.insert(between=overriding, after="ON CONFLICT DO NOTHING")
        if form == "upsert":
            sets = assignments(rows.updated(on), "EXCLUDED.{}")
            after = f"ON CONFLICT ({rows.name(on)}) DO UPDATE SET {sets}"
            return rows.insert(between=overriding, after=after)
        if form == "merge":
            return _merge(rows, on, overriding)
        if form == "copy":
            sql = f"COPY {rows.table} ({rows.names}) FROM STDIN"
            return WriteSql(sql, copy_rows=rows.tuples)
        return rows.insert(between=overriding)

    def write_form_missing(self, form: str) -> str | None:
        if form == "merge" and self.version_number < 150000:
            return f"MERGE came with PostgreSQL 15; this server is {self.server_version()}"
        return super().write_form_missing(form)

    session_settings = SESSION_SETTINGS

    def __init__(self, dsn: str | None, ddl: DdlScript) -> None:
        super().__init__(dsn, ddl)
        self.conninfo = _conninfo(dsn or "")
        self.where = _where(self.conninfo)
        self.statements = split_script(ddl.text)
        self.admin: psycopg.Connection[Any] | None = None
        self.schemas: set[str] = set()  # created and not dropped yet, by any thread
        self.lock = threading.Lock()
        self.builder: StoreBuilder[tuple[str, psycopg.Connection[Any]]] | None = None
        self.builder_connections = threading.local()  # each builder thread's own
        self.opened: list[psycopg.Connection[Any]] = []  # the builder threads' connections
        self.counter = itertools.count(1)
        self.token = secrets.token_hex(4)
        self.version = ""
        self.version_number = 0  # e.g. 150004, known once prepared
        self.client: tuple[str, str] | None = None  # the DML-only account: role, password
        self.client_note = ""  # why there is none, said once in the summary and reports

    # --- connections ----------------------------------------------------------

    def connect(
        self, search_path: str | None = None, client: bool = False
    ) -> psycopg.Connection[Any]:
        """A new autocommit connection; with search_path, one that sees a scenario's schema;
        with `client`, logged in as the run's DML-only account (where there is one).

        Commits do not wait for the WAL flush (synchronous_commit off, a per-session
        setting): scratch schemas need no durability, and every rule is checked the same.
        """
        settings = "-c synchronous_commit=off"
        if search_path:
            settings += f" -c search_path={search_path}"
        options = conninfo_to_dict(self.conninfo).get("options") or ""
        account = {}
        if client and self.client is not None:
            account = {"user": self.client[0], "password": self.client[1]}
        conninfo = make_conninfo(self.conninfo, options=f"{options} {settings}".strip(), **account)
        connection = psycopg.connect(conninfo, autocommit=True)
        for json_type in ("json", "jsonb"):
            # As the text the server sends: a dict would be neither hashable nor what was stored.
            connection.adapters.register_loader(json_type, TextLoader)
        return connection

    def admin_connection(self) -> psycopg.Connection[Any]:
        """The backend's own connection for CREATE/DROP SCHEMA; reopened if it broke."""
        if self.admin is None or self.admin.closed or self.admin.broken:
            self.admin = self.connect()
        return self.admin

    # --- Backend --------------------------------------------------------------

    def prepare(self) -> None:
        try:
            admin = self.admin_connection()
        except psycopg.Error as exc:
            raise KitError(_connection_problem(exc, self.where, self.conninfo)) from None
        self.version = f"PostgreSQL {admin.info.parameter_status('server_version') or ''}".strip()
        self.version_number = admin.info.server_version
        if self.client_account:
            self.create_client(admin)
        try:
            probe = self.build_schema(admin)
        except psycopg.Error as exc:
            notes = getattr(exc, "__notes__", None)
            where = notes[-1] if notes else str(self.ddl.path)
            raise KitError(
                f"--ddl {where}: statement does not apply on {self.version}: {self.describe(exc)}"
            ) from None
        self.drop_schema(probe)

    # --- the DML-only account -----------------------------------------------------

    def create_client(self, admin: psycopg.Connection[Any]) -> None:
        """Create the run's DML-only login role; where the DSN's user cannot (no CREATEROLE)
        or the role cannot log in (pg_hba.conf), say so once and go on as the DSN's user."""
        user = admin.info.user
        role = f"{CLIENT_PREFIX}{os.getpid()}_{self.token}"
        password = secrets.token_urlsafe(24)
        instead = f"so client steps ran as the DSN's user {user!r}"
        try:
            admin.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
        except psycopg.Error as exc:
            self.client_note = (
                f"the DSN's user {user!r} cannot create a DML-only account for the client "
                f"steps ({self.describe(exc)}), {instead}"
            )
            return
        self.client = (role, password)
        try:
            self.connect(client=True).close()
        except psycopg.Error as exc:
            self.drop_client()
            self.client_note = (
                f"the DML-only account {role} cannot log in at {self.where} "
                f"({_libpq_reason(str(exc))}), {instead}"
            )

    def grant_client(self, connection: psycopg.Connection[Any], schema: str) -> None:
        if self.client is None:
            return
        for grant in CLIENT_GRANTS:
            connection.execute(
                sql.SQL(grant).format(
                    schema=sql.Identifier(schema), role=sql.Identifier(self.client[0])
                )
            )

    def drop_client(self) -> None:
        """Drop the account (every schema it had grants on is gone or goes with it)."""
        if self.client is None:
            return
        role = sql.Identifier(self.client[0])
        admin = self.admin_connection()
        try:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role))
        except psycopg.errors.DependentObjectsStillExist:
            admin.execute(sql.SQL("DROP OWNED BY {}").format(role))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role))
        self.client = None

    def notes(self) -> list[str]:
        return [self.client_note] if self.client_note else []

    def create_store(self) -> PostgresStore:
        """A store built ahead by the builder thread (the first one is ordered now)."""
        if self.builder is None:
            self.builder = StoreBuilder(
                self.build_ahead,
                workers=BUILDERS,
                ahead=BUILDERS,
                name="conformance-pg-builder",
                discard=lambda ready: ready[1].close(),  # the backend drops the schema
            )
        return PostgresStore(self, *self.builder.take())

    def build_ahead(self) -> tuple[str, psycopg.Connection[Any]]:
        """On a builder thread: a schema and the first session's connection to it."""
        schema = self.build_schema(self.builder_connection())
        return schema, self.connect(search_path=schema, client=True)

    def builder_connection(self) -> psycopg.Connection[Any]:
        """The calling builder thread's own connection, reopened if it broke."""
        connection = getattr(self.builder_connections, "connection", None)
        if connection is None or connection.closed or connection.broken:
            connection = self.connect()
            self.builder_connections.connection = connection
            with self.lock:
                self.opened.append(connection)
        return connection

    def build_schema(self, connection: psycopg.Connection[Any]) -> str:
        """A new schema no one else uses, with the DDL applied; dropped again if that fails."""
        schema = f"{SCHEMA_PREFIX}{os.getpid()}_{next(self.counter)}_{self.token}"
        with self.lock:
            self.schemas.add(schema)
        try:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        except psycopg.errors.InsufficientPrivilege:
            self.forget(schema)
            raise KitError(self._privilege_problem(connection)) from None
        except psycopg.errors.ReadOnlySqlTransaction:
            self.forget(schema)
            raise KitError(
                f"--dsn: {self.where} is read-only (a standby?); the kit needs a primary"
            ) from None
        try:
            connection.execute(f'SET search_path TO "{schema}"')
            apply_ddl(connection, self.ddl, self.statements)
            if connection.info.transaction_status != TransactionStatus.IDLE:
                raise KitError(
                    f"--ddl {self.ddl.path}: leaves a transaction open (BEGIN without COMMIT)"
                )
            self.grant_client(connection, schema)
            connection.execute("RESET ALL")  # whatever the DDL SET, the next build starts clean
        except BaseException:
            if not connection.broken:
                if connection.info.transaction_status != TransactionStatus.IDLE:
                    connection.execute("ROLLBACK")
                self.drop_schema(schema, connection)
            raise
        return schema

    def drop_schema(self, schema: str, connection: psycopg.Connection[Any] | None = None) -> None:
        with self.lock:
            if schema not in self.schemas:
                return
        connection = connection or self.admin_connection()
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.forget(schema)

    def release(self, schema: str) -> None:
        """A store is done with its schema: the builder drops it while the next scenario runs."""
        if self.builder is None:
            self.drop_schema(schema)
        else:
            self.builder.drop_later(self.drop_schema_on_builder, schema)

    def drop_schema_on_builder(self, schema: str) -> None:
        with contextlib.suppress(psycopg.Error):  # left to `close`, which drops what is left
            self.drop_schema(schema, self.builder_connection())

    def forget(self, schema: str) -> None:
        with self.lock:
            self.schemas.discard(schema)

    def _privilege_problem(self, connection: psycopg.Connection[Any]) -> str:
        info = connection.info
        return (
            f"--dsn: user {info.user!r} may not create schemas in database {info.dbname!r} at "
            f"{self.where}; the kit needs the CREATE privilege on that database "
            f"(GRANT CREATE ON DATABASE {info.dbname} TO {info.user}) to make a scratch schema per scenario"
        )

    def classify(self, exc: BaseException) -> Outcome | None:
        if not isinstance(exc, psycopg.Error):
            return None
        code = exc.sqlstate
        if code is None:
            return Outcome.ERROR
        if code[:2] in REJECTED_CLASSES or code == RAISE_EXCEPTION or _is_custom(code):
            return Outcome.REJECTED
        return Outcome.ERROR

    def describe(self, exc: BaseException) -> str:
        if not isinstance(exc, psycopg.Error) or exc.sqlstate is None:
            return " ".join(str(exc).split())
        diag = exc.diag
        text = diag.message_primary or str(exc)
        if diag.message_detail:
            text += f" ({diag.message_detail})"
        return " ".join(f"SQLSTATE {exc.sqlstate}: {text}".split())

    def server_version(self) -> str:
        return self.version

    def close(self) -> None:
        """Stop the builder, drop every schema this run still owns (a store built ahead,
        an interrupted run), then disconnect.

        If the server is gone by now, say which schemas are left rather than fail the run.
        """
        if self.builder is not None:
            self.builder.stop()
            self.builder = None
        with self.lock:
            opened, self.opened = self.opened, []
        for connection in opened:
            connection.close()
        try:
            with self.lock:
                left = sorted(self.schemas)
            for schema in left:
                self.drop_schema(schema)
            self.drop_client()
        except psycopg.Error as exc:
            left = ", ".join(sorted(self.schemas) + ([self.client[0]] if self.client else []))
            print(
                f"conformance: could not drop {left} at {self.where}: {_one_line(str(exc))}",
                file=sys.stderr,
            )
        finally:
            if self.admin is not None:
                self.admin.close()
                self.admin = None


def _is_custom(code: str) -> bool:
    """A SQLSTATE PostgreSQL does not define: raised on purpose by the DDL's own code."""
    try:
        psycopg.errors.lookup(code)
    except KeyError:
        return True
    return False


def _conninfo(dsn: str) -> str:
    """The user's DSN with a connect timeout (unless set) so an unreachable server fails fast."""
    if "://" in dsn:  # libpq knows the URI scheme in lower case only
        scheme, rest = dsn.split("://", 1)
        dsn = f"{scheme.lower()}://{rest}"
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error as exc:
        raise KitError(
            f"--dsn: not a PostgreSQL connection string: {_one_line(str(exc))}"
        ) from None
    extra: dict[str, Any] = {}
    if "connect_timeout" not in params and not os.environ.get("PGCONNECT_TIMEOUT"):
        extra["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    if "application_name" not in params:
        extra["application_name"] = "event-store-conformance"
    return make_conninfo(dsn, **extra)


def _where(conninfo: str) -> str:
    """host:port the DSN points at, with the libpq environment and defaults filled in."""
    params = conninfo_to_dict(conninfo)
    host = (
        params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "local socket"
    )
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    return f"{host}:{port}"


def _connection_problem(exc: psycopg.Error, where: str, conninfo: str) -> str:
    """One line saying why connecting failed: unreachable, credentials, database, other."""
    reason = _libpq_reason(str(exc))
    params = conninfo_to_dict(conninfo)
    user = params.get("user") or os.environ.get("PGUSER") or "(the login name)"
    lowered = reason.lower()
    if "authentication failed" in lowered or "no password supplied" in lowered:
        return f"--dsn: PostgreSQL at {where} rejected the credentials of user {user!r}: {reason}"
    if re.search(r'role ".*" does not exist', reason):
        return f"--dsn: PostgreSQL at {where} has no user {user!r}: {reason}"
    if "pg_hba.conf" in reason:
        return f"--dsn: PostgreSQL at {where} does not let user {user!r} in: {reason}"
    if re.search(r'database ".*" does not exist', reason):
        return f"--dsn: PostgreSQL at {where}: {reason}"
    return f"--dsn: cannot connect to PostgreSQL at {where}: {reason}"


def _libpq_reason(message: str) -> str:
    """The last 'failed: ...' part of a libpq connection error, as one line."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    reason = lines[0] if lines else message
    if "failed: " in reason:
        reason = reason.rsplit("failed: ", 1)[1]
    reason = re.sub(r"^(FATAL|ERROR):\s+", "", reason)
    return _one_line(reason)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _merge(rows: WriteRows, on: str, overriding: str) -> WriteSql:
    """MERGE of one row: updates every other column sent when `on` matches, else inserts."""
    (row,) = rows.rows
    target = rows.name(on)
    names = rows.updated(on)
    sets = ", ".join(f"{n} = ?" for n in names)
    insert_values = ", ".join("?" for _ in rows.columns)
    sql = (
        f"MERGE INTO {rows.table} USING (SELECT 1) AS source ON {target} = ? "
        f"WHEN MATCHED THEN UPDATE SET {sets} "
        f"WHEN NOT MATCHED THEN INSERT ({rows.names}) {overriding} VALUES ({insert_values})"
    )
    updated = [row.get(c) for c in rows.columns if c != on]
    return WriteSql(sql, (row.get(on), *updated, *(row.get(c) for c in rows.columns)))
