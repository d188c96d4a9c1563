"""The MariaDB backend: its DSN, its script splitter, its verdicts, and bad input.

The first tests need no server. The rest run the kit against the MariaDB server of
the `mariadb_dsn` fixture and prove that a wrong DSN, a silent or refusing server, a
user without privileges or a DDL that does not apply ends the run with one line, and
that the kit drops every database it made and no other, even when interrupted.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pymysql
import pytest
from helpers import one_error_line

from conformance.backends.base import Outcome
from conformance.backends.mariadb import MariadbBackend
from conformance.backends.mariadb_script import split_statements
from conformance.backends.mariadb_server import (
    CONNECT_TIMEOUT,
    Databases,
    Server,
    ServerSettings,
    product_version,
    redact,
)
from conformance.ddl_script import DdlScript
from conformance.errors import KitError

pytestmark = pytest.mark.mariadb

# --- the DSN ------------------------------------------------------------------------


def test_a_dsn_gives_host_port_user_password_and_database() -> None:
    settings = ServerSettings.from_dsn("mariadb://app%40eu:p%3Ass@db.example:3307/es%20test")
    assert (settings.host, settings.port, settings.user) == ("db.example", 3307, "app@eu")
    assert (settings.password, settings.database) == ("p:ss", "es test")
    assert settings.connect_timeout == CONNECT_TIMEOUT == 5


def test_a_dsn_without_port_or_database_uses_the_defaults() -> None:
    settings = ServerSettings.from_dsn("mysql://root@127.0.0.1")
    assert (settings.port, settings.database, settings.password) == (3306, None, "")
    assert settings.where == "127.0.0.1:3306"


def test_a_dsn_takes_a_socket_and_a_connect_timeout() -> None:
    settings = ServerSettings.from_dsn(
        "mariadb://root@localhost/test?unix_socket=/run/mysqld/mysqld.sock&connect_timeout=2.5"
    )
    assert settings.unix_socket == settings.where == "/run/mysqld/mysqld.sock"
    assert settings.connect_timeout == 2.5


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("mariadb://root@127.0.0.1:99999/test", "the port is not a number from 1 to 65535"),
        ("mariadb://root@127.0.0.1/test?sslmode=on", "unknown parameter 'sslmode'"),
        ("mariadb://root@127.0.0.1/test?connect_timeout=soon", "connect_timeout='soon' is not"),
    ],
)
def test_a_wrong_dsn_is_one_line_naming_it(dsn: str, message: str) -> None:
    with pytest.raises(KitError, match=r"^--dsn mariadb://root@127\.0\.0\.1") as raised:
        ServerSettings.from_dsn(dsn)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_password_never_appears_in_messages() -> None:
    assert redact("mariadb://app:s3cret@db:3306/x") == "mariadb://app:***@db:3306/x"
    with pytest.raises(KitError) as raised:
        ServerSettings.from_dsn("mariadb://app:s3cret@db:3306/x?bad=1")
    assert "s3cret" not in str(raised.value)


def test_the_server_version_is_shown_by_product() -> None:
    assert product_version("10.11.19-MariaDB-0+deb12u1") == "MariaDB 10.11.19"
    assert product_version("5.5.5-10.4.32-MariaDB-log") == "MariaDB 10.4.32"
    assert product_version("8.0.36") == "MySQL 8.0.36"


# --- the script splitter -------------------------------------------------------------


def test_statements_split_at_semicolons_outside_quotes_and_comments() -> None:
    script = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE a (x TEXT DEFAULT 'a;b', `odd;name` INT); # trailing; comment\n"
        "\n"
        "/* block; comment */ INSERT INTO a VALUES ('it''s; \\'quoted\\';', 1);\n"
        "SELECT 1--1;\n"
        "SELECT 2"
    )
    assert list(split_statements(script)) == [
        (2, "CREATE TABLE a (x TEXT DEFAULT 'a;b', `odd;name` INT)"),
        (4, "INSERT INTO a VALUES ('it''s; \\'quoted\\';', 1)"),
        (5, "SELECT 1--1"),
        (6, "SELECT 2"),
    ]


def test_delimiter_lines_allow_compound_trigger_bodies() -> None:
    script = (
        "CREATE TABLE t (x INT);\n"
        "DELIMITER //\n"
        "CREATE TRIGGER t_guard BEFORE UPDATE ON t FOR EACH ROW\n"
        "BEGIN\n"
        "    IF NEW.x < 0 THEN SIGNAL SQLSTATE '45000'; END IF;\n"
        "END//\n"
        "delimiter ;\n"
        "SELECT 1;\n"
    )
    statements = list(split_statements(script))
    assert [line for line, _ in statements] == [1, 3, 8]
    assert statements[1][1].startswith("CREATE TRIGGER t_guard")
    assert statements[1][1].endswith("END IF;\nEND")


def test_the_shipped_ddl_splits_without_delimiter_lines(mariadb_ddl: Path) -> None:
    text = mariadb_ddl.read_text(encoding="utf-8")
    statements = list(split_statements(text))
    assert not [line for line in text.splitlines() if line.upper().startswith("DELIMITER")]
    assert [s.split()[0:2] for _, s in statements].count(["CREATE", "TRIGGER"]) == 7
    for line, statement in statements:
        assert text.splitlines()[line - 1].strip() == statement.splitlines()[0].strip()


# --- verdicts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (pymysql.err.IntegrityError(1048, "Column 'data' cannot be null"), Outcome.REJECTED),
        (pymysql.err.IntegrityError(1062, "Duplicate entry"), Outcome.REJECTED),
        (pymysql.err.IntegrityError(1452, "a foreign key constraint fails"), Outcome.REJECTED),
        (pymysql.err.OperationalError(4025, "CONSTRAINT `x` failed"), Outcome.REJECTED),
        (pymysql.err.OperationalError(3819, "Check constraint 'x' is violated"), Outcome.REJECTED),
        (pymysql.err.OperationalError(1644, "events cannot be updated"), Outcome.REJECTED),
        (pymysql.err.OperationalError(1213, "Deadlock found"), Outcome.REJECTED),
        (pymysql.err.OperationalError(1205, "Lock wait timeout exceeded"), Outcome.REJECTED),
        (pymysql.err.ProgrammingError(1146, "Table 'events' doesn't exist"), Outcome.ERROR),
        (pymysql.err.DataError(1292, "Incorrect uuid value"), Outcome.ERROR),
        # Strict mode refuses a value too long for its column rather than cutting it: a
        # refusal (a valid append refused so is then blamed on the rule it breaks).
        (pymysql.err.DataError(1406, "Data too long for column 'data'"), Outcome.REJECTED),
        (pymysql.err.OperationalError(2013, "Lost connection"), Outcome.ERROR),
        (pymysql.err.InterfaceError(0, ""), Outcome.ERROR),
        (ValueError("not from the database"), None),
    ],
)
def test_errors_are_judged_by_the_server_error_number(
    error: BaseException, outcome: Outcome | None
) -> None:
    backend = MariadbBackend("mariadb://root@127.0.0.1/test", DdlScript(Path("x.ddl"), ";"))
    assert backend.classify(error) is outcome


def test_the_database_text_is_one_line_with_its_number() -> None:
    backend = MariadbBackend("mariadb://root@127.0.0.1/test", DdlScript(Path("x.ddl"), ";"))
    error = pymysql.err.OperationalError(1644, "events cannot\n be updated")
    assert backend.describe(error) == "1644: events cannot be updated"


# --- bad input against a real server --------------------------------------------------


def run_kit(pytester: pytest.Pytester, ddl: Path, dsn: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest(f"--ddl={ddl}", f"--dsn={dsn}", "-p", "no:cacheprovider", *args)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_no_server_on_the_port_is_one_line_naming_host_and_port(
    pytester: pytest.Pytester, mariadb_ddl: Path
) -> None:
    port = free_port()
    result = run_kit(pytester, mariadb_ddl, f"mariadb://root@127.0.0.1:{port}/test")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"no MariaDB/MySQL server answers at 127.0.0.1:{port}" in one_error_line(result)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word, as a hung server would."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        yield listener.getsockname()[1]


def test_a_server_that_never_answers_is_one_line_after_the_connect_timeout(
    pytester: pytest.Pytester, mariadb_ddl: Path, silent_server: int
) -> None:
    dsn = f"mariadb://root@127.0.0.1:{silent_server}/test?connect_timeout=1"
    result = run_kit(pytester, mariadb_ddl, dsn)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert f"no MariaDB/MySQL server answers at 127.0.0.1:{silent_server}" in line


def test_a_wrong_password_is_one_line_naming_the_user(
    pytester: pytest.Pytester, mariadb_ddl: Path, mariadb_dsn: str
) -> None:
    settings = ServerSettings.from_dsn(mariadb_dsn)
    dsn = f"mariadb://nobody-{secrets.token_hex(3)}:wrong@{settings.host}:{settings.port}/"
    result = run_kit(pytester, mariadb_ddl, dsn)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert f"{settings.host}:{settings.port} refused user 'nobody-" in line
    assert "wrong user or password" in line
    assert ":wrong@" not in line


def test_a_database_that_does_not_exist_is_one_line(
    pytester: pytest.Pytester, mariadb_ddl: Path, mariadb_dsn: str
) -> None:
    settings = ServerSettings.from_dsn(mariadb_dsn)
    dsn = f"mariadb://{settings.user}@{settings.host}:{settings.port}/no_such_db_{secrets.token_hex(3)}"
    result = run_kit(pytester, mariadb_ddl, dsn)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "does not exist" in one_error_line(result)


@pytest.fixture
def unprivileged_dsn(admin: pymysql.Connection, mariadb_dsn: str) -> Iterator[str]:
    """A user of the test's own that may connect but not create databases."""
    settings = ServerSettings.from_dsn(mariadb_dsn)
    user, password = f"conformance_test_{secrets.token_hex(4)}", secrets.token_hex(8)
    with admin.cursor() as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (user, password))
    try:
        yield f"mariadb://{user}:{password}@{settings.host}:{settings.port}/"
    finally:
        with admin.cursor() as cursor:
            cursor.execute("DROP USER %s@'%%'", (user,))


def test_a_user_without_create_privilege_is_one_line(
    pytester: pytest.Pytester, mariadb_ddl: Path, unprivileged_dsn: str
) -> None:
    result = run_kit(pytester, mariadb_ddl, unprivileged_dsn)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert "may not create databases" in line
    assert "CREATE and DROP privileges" in line


def test_a_ddl_statement_that_does_not_apply_is_named_by_file_and_line(
    pytester: pytest.Pytester,
    mariadb_ddl: Path,
    mariadb_dsn: str,
    kit_databases: Callable[[], set[str]],
) -> None:
    lines = mariadb_ddl.read_text(encoding="utf-8").splitlines()
    lines += [
        "",
        "CREATE TABLE IF NOT EXISTS extra (",
        "    id INT NOT NULL,",
        "    oops oops",
        ");",
    ]
    ddl = pytester.path / "wrong.ddl"
    ddl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_kit(pytester, ddl, mariadb_dsn)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert f"--ddl {ddl}:{len(lines) - 3}: CREATE TABLE IF NOT EXISTS extra (" in line
    assert "statement does not apply on MariaDB: 4161: Unknown data type: 'oops'" in line
    assert kit_databases() == set()


def test_an_empty_ddl_is_one_line(pytester: pytest.Pytester, mariadb_dsn: str) -> None:
    ddl = pytester.path / "empty.ddl"
    ddl.write_text("-- nothing here yet\n", encoding="utf-8")
    result = run_kit(pytester, ddl, mariadb_dsn)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"--ddl {ddl}: no SQL statement in the file" in one_error_line(result)


# --- what the kit creates and drops ---------------------------------------------------

INTERRUPTING_CONFTEST = """
import conformance.pytest_plugin.collection

def interrupted(*args, **kwargs):
    raise KeyboardInterrupt

conformance.pytest_plugin.collection.run_scenario = interrupted
"""


def test_an_interrupted_run_drops_every_database_it_made(
    pytester: pytest.Pytester,
    mariadb_ddl: Path,
    mariadb_dsn: str,
    kit_databases: Callable[[], set[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import conformance.pytest_plugin.collection

    # The inner run shares this process: put back what its conftest replaces.
    monkeypatch.setattr(
        conformance.pytest_plugin.collection,
        "run_scenario",
        conformance.pytest_plugin.collection.run_scenario,
    )
    pytester.makeconftest(INTERRUPTING_CONFTEST)
    result = pytester.runpytest(
        f"--ddl={mariadb_ddl}",
        f"--dsn={mariadb_dsn}",
        "-p",
        "no:cacheprovider",
        no_reraise_ctrlc=True,
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert kit_databases() == set()


@pytest.fixture
def bystander(admin: pymysql.Connection) -> Iterator[str]:
    """Someone else's database, named the way the kit names its own."""
    name = f"conformance_1_{secrets.token_hex(4)}_1"
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}`")
        cursor.execute(f"CREATE TABLE `{name}`.events (x INT)")
    yield name
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE `{name}`")


def test_a_run_leaves_other_databases_alone(
    pytester: pytest.Pytester,
    mariadb_ddl: Path,
    mariadb_dsn: str,
    admin: pymysql.Connection,
    bystander: str,
) -> None:
    result = run_kit(pytester, mariadb_ddl, mariadb_dsn, "-q", "-m", "chain.linear")
    assert result.ret == pytest.ExitCode.OK
    with admin.cursor() as cursor:
        cursor.execute("SHOW DATABASES LIKE %s", (bystander,))
        assert cursor.fetchall() == ((bystander,),)
        cursor.execute(f"SELECT COUNT(*) FROM `{bystander}`.events")
        assert cursor.fetchall() == ((0,),)


SHIPPED_NO_UPDATE_TRIGGER = """CREATE TRIGGER IF NOT EXISTS events_no_update
BEFORE UPDATE ON events
FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'events cannot be updated';
"""

COMPOUND_NO_UPDATE_TRIGGER = """
DELIMITER //
CREATE TRIGGER IF NOT EXISTS events_no_update
BEFORE UPDATE ON events
FOR EACH ROW
BEGIN
    IF TRUE THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'events cannot be updated';
    END IF;
END//
DELIMITER ;
"""


def test_a_ddl_with_delimiter_blocks_applies_and_keeps_its_rules(
    pytester: pytest.Pytester, mariadb_ddl: Path, mariadb_dsn: str
) -> None:
    shipped = mariadb_ddl.read_text(encoding="utf-8")
    assert SHIPPED_NO_UPDATE_TRIGGER in shipped
    ddl = pytester.path / "delimited.ddl"
    ddl.write_text(
        shipped.replace(SHIPPED_NO_UPDATE_TRIGGER, "") + COMPOUND_NO_UPDATE_TRIGGER,
        encoding="utf-8",
    )
    result = run_kit(pytester, ddl, mariadb_dsn, "-q", "-m", "immutability.events")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


def test_a_name_taken_by_someone_else_is_never_dropped(
    mariadb_ddl: Path, mariadb_dsn: str, admin: pymysql.Connection, bystander: str
) -> None:
    backend = MariadbBackend(mariadb_dsn, DdlScript.read(mariadb_ddl))
    backend.databases.prefix = bystander.rsplit("_", 1)[0]  # its next name is the bystander's
    with pytest.raises(KitError, match=r"cannot create a database .* 1007"):
        backend.prepare()
    backend.close()
    with admin.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM `{bystander}`.events")
        assert cursor.fetchall() == ((0,),)


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


def test_a_terminated_run_drops_every_database_it_made(
    pytester: pytest.Pytester, mariadb_ddl: Path, mariadb_dsn: str, admin: pymysql.Connection
) -> None:
    pytester.makeconftest(TERMINATING_CONFTEST)
    result = pytester.runpytest_subprocess(
        f"--ddl={mariadb_ddl}", f"--dsn={mariadb_dsn}", "-p", "no:cacheprovider", timeout=120
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    pid = (pytester.path / "pid").read_text()
    with admin.cursor() as cursor:
        cursor.execute("SHOW DATABASES LIKE %s", (f"conformance\\_{pid}\\_%",))
        assert cursor.fetchall() == ()


def test_a_lock_wait_shows_when_innodb_cuts_a_quoted_statement_inside_a_character(
    admin: pymysql.Connection, mariadb_dsn: str
) -> None:
    """InnoDB's status quotes a waiting statement cut at a byte count: a statement of
    four-byte characters is cut inside one, and the kit still reads the wait."""
    name = f"conformance_test_{secrets.token_hex(4)}"
    settings = ServerSettings.from_dsn(mariadb_dsn)
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    holder, waiter = settings.connect(name), settings.connect(name)
    try:
        with holder.cursor() as cursor:
            cursor.execute("CREATE TABLE t (id INT PRIMARY KEY) ENGINE=InnoDB")
            cursor.execute("INSERT INTO t VALUES (1)")
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM t WHERE id = 1 FOR UPDATE")
        waiting_sql = f"SELECT id /* {'🦆' * 2000} */ FROM t WHERE id = 1 FOR UPDATE"
        outcome: list[object] = []

        def wait_for_the_lock() -> None:
            with waiter.cursor() as cursor:
                cursor.execute("SET SESSION innodb_lock_wait_timeout = 30")
                cursor.execute("BEGIN")
                cursor.execute(waiting_sql)
                outcome.append(cursor.fetchall())

        thread = threading.Thread(target=wait_for_the_lock)
        thread.start()
        databases = Databases([Server(mariadb_dsn)], lambda _: None)
        try:
            deadline = time.monotonic() + 20
            seen = False
            while not seen and time.monotonic() < deadline:
                seen = bool(databases.waits_for_lock(waiter.thread_id()))
            assert seen, "the waiting statement was never seen waiting"
        finally:
            with holder.cursor() as cursor:
                cursor.execute("ROLLBACK")
            thread.join(30)
            databases.close()
        assert outcome == [((1,),)]
    finally:
        holder.close()
        waiter.close()
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE {name}")
