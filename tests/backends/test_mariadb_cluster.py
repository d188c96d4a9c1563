"""A DDL certified on a multi-primary MariaDB Galera cluster (the galera_dsn fixture).

The kit connects to every node the DSN names, makes each store on node 1 and waits until
every node has it, spreads sessions over the nodes (a race's writers always on different
nodes) and drops its databases on every node, also when the run fails or is interrupted.
The verdicts are repeated: the shipped DDL wins every race on the cluster, and a DDL
whose first-event rule is a trigger's read, which holds on one server, loses
races.first_event on the cluster every run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pymysql
import pytest
from bench_cases import bench_in_a_process
from helpers import one_error_line
from races import REPEAT, backend_for, explain, race_scenarios, verdicts

from conformance.backends.base import Outcome
from conformance.backends.mariadb import MariadbBackend, MariadbStore
from conformance.backends.mariadb_nodes import node_dsns, redact_nodes
from conformance.backends.mariadb_server import ServerSettings
from conformance.ddl_script import DdlScript
from conformance.errors import KitError
from conformance.execution.run import run_scenario

pytestmark = [pytest.mark.mariadb, pytest.mark.galera]

REPO = Path(__file__).resolve().parent.parent.parent
MARIADB_DDL = REPO / "ddl" / "mariadb-event-store.ddl"
TRIGGER_CHECK = (
    REPO / "tests" / "broken" / "mariadb-cluster" / "races.first_event--trigger-check.ddl"
)
SCENARIOS = race_scenarios()
FIRST_EVENT_RACES = [s for s in SCENARIOS if "races.first_event" in s.rules]
# The races whose outcome a cluster decides at COMMIT: repeated 20 times each. (The
# others run once in the whole-corpus test; 20 runs of all 14 cost CI two more minutes.)
MUST_RACES = ("races.same_previous", "races.first_event", "races.stale_replay")
MUST_RACE_SCENARIOS = [s for s in SCENARIOS if set(s.rules) & set(MUST_RACES)]


# --- the DSN ----------------------------------------------------------------------------


def test_a_dsn_names_every_node_of_a_cluster() -> None:
    dsn = "mysql://kit:s3cret@db1:3306,db2:3307, db3/events?connect_timeout=3"
    assert node_dsns(dsn) == [
        "mysql://kit:s3cret@db1:3306/events?connect_timeout=3",
        "mysql://kit:s3cret@db2:3307/events?connect_timeout=3",
        "mysql://kit:s3cret@db3/events?connect_timeout=3",
    ]
    assert [ServerSettings.from_dsn(d).where for d in node_dsns(dsn)] == [
        "db1:3306",
        "db2:3307",
        "db3:3306",
    ]
    assert "s3cret" not in redact_nodes(dsn)
    assert node_dsns("mariadb://root@127.0.0.1:3306/test") == ["mariadb://root@127.0.0.1:3306/test"]


@pytest.mark.parametrize(
    ("dsn", "problem"),
    [
        ("mariadb://root@db1:3306,,db3:3306/x", "an empty host in the list of nodes"),
        ("mariadb://root@db1:3306,db1:3306/x", "a node is named twice"),
    ],
)
def test_a_malformed_list_of_nodes_is_one_line(dsn: str, problem: str) -> None:
    with pytest.raises(KitError, match=problem):
        node_dsns(dsn)


def test_a_server_that_is_no_cluster_node_is_refused(mariadb_dsn: str, galera_dsn: str) -> None:
    """Two servers that are not nodes of one cluster would certify nothing."""
    single = ServerSettings.from_dsn(mariadb_dsn).where
    first = node_dsns(galera_dsn)[0].split("@", 1)[1].split("/", 1)[0]
    mixed = f"mariadb://root@{first},{single}/"
    backend = MariadbBackend(mixed, ddl_of(MARIADB_DDL))
    with pytest.raises(KitError, match=f"{single} is not a node of a Galera cluster"):
        backend.prepare()


def ddl_of(path: Path) -> DdlScript:
    return DdlScript.read(path)


# --- stores: made on one node, on every node, dropped everywhere --------------------------


@pytest.fixture
def node_admins(galera_dsn: str) -> Iterator[list[pymysql.Connection]]:
    """A connection of the test's own to each node, reads waiting for the cluster."""
    connections = [ServerSettings.from_dsn(d).connect(None) for d in node_dsns(galera_dsn)]
    for connection in connections:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION wsrep_sync_wait = 7")
    yield connections
    for connection in connections:
        connection.close()


@pytest.fixture
def kit_databases_per_node(
    node_admins: list[pymysql.Connection],
) -> Callable[[], list[set[str]]]:
    def listing() -> list[set[str]]:
        found = []
        for connection in node_admins:
            with connection.cursor() as cursor:
                cursor.execute("SHOW DATABASES LIKE %s", (f"conformance\\_{os.getpid()}\\_%",))
                found.append({row[0] for row in cursor.fetchall()})
        return found

    return listing


def tables_on(connection: pymysql.Connection, database: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
            (database,),
        )
        return {row[0] for row in cursor.fetchall()}


def test_a_store_is_on_every_node_and_dropped_on_every_node(
    galera_dsn: str,
    node_admins: list[pymysql.Connection],
    kit_databases_per_node: Callable[[], list[set[str]]],
) -> None:
    with backend_for(MariadbBackend, galera_dsn, MARIADB_DDL) as backend:
        store = backend.create_store()
        assert isinstance(store, MariadbStore)
        everywhere = [tables_on(connection, store.name) for connection in node_admins]
        assert everywhere[0] >= {"events", "entity_event_definitions", "entity_events"}
        assert everywhere == [everywhere[0]] * len(node_admins)
        store.close()
    assert kit_databases_per_node() == [set()] * len(node_admins)


def test_a_ddl_that_does_not_apply_leaves_nothing_on_any_node(
    tmp_path: Path,
    galera_dsn: str,
    node_admins: list[pymysql.Connection],
    kit_databases_per_node: Callable[[], list[set[str]]],
) -> None:
    broken = tmp_path / "broken.ddl"
    broken.write_text(MARIADB_DDL.read_text() + "\nCREATE TABLE events (oops);\n")
    backend = MariadbBackend(galera_dsn, ddl_of(broken))
    with pytest.raises(KitError, match=r"broken\.ddl:\d+: .*does not apply"):
        backend.prepare()
    assert kit_databases_per_node() == [set()] * len(node_admins)


INTERRUPTING_CONFTEST = """
import conformance.pytest_plugin.collection

def interrupted(*args, **kwargs):
    raise KeyboardInterrupt

conformance.pytest_plugin.collection.run_scenario = interrupted
"""


def test_an_interrupted_run_drops_its_databases_on_every_node(
    pytester: pytest.Pytester,
    galera_dsn: str,
    node_admins: list[pymysql.Connection],
    kit_databases_per_node: Callable[[], list[set[str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import conformance.pytest_plugin.collection as collection

    monkeypatch.setattr(collection, "run_scenario", collection.run_scenario)
    pytester.makeconftest(INTERRUPTING_CONFTEST)
    result = pytester.runpytest(
        f"--ddl={MARIADB_DDL}", f"--dsn={galera_dsn}", "-p", "no:cacheprovider",
        no_reraise_ctrlc=True,
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert kit_databases_per_node() == [set()] * len(node_admins)


# --- placement ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster_backend(galera_dsn: str) -> Iterator[MariadbBackend]:
    with backend_for(MariadbBackend, galera_dsn, MARIADB_DDL) as backend:
        yield backend


def nodes_of(placement: dict[str, str], prefix: str) -> list[str]:
    return [where for session, where in placement.items() if session.startswith(prefix)]


def test_a_races_writers_are_on_different_nodes(cluster_backend: MariadbBackend) -> None:
    for scenario in [s for s in SCENARIOS if s.name.startswith(("two writers", "three writers"))]:
        store = cluster_backend.create_store()
        try:
            result = run_scenario(scenario, store, cluster_backend)
        finally:
            store.close()
        assert result.placement["kit"].startswith("node1 at ")
        if "step by step" in scenario.name:
            writers = [result.placement["alice"], result.placement["bob"]]
        else:
            writers = nodes_of(result.placement, "race1-")
        assert len(writers) in (2, 3) and len(set(writers)) == len(writers), result.placement


def test_every_session_waits_for_its_node_to_catch_up(cluster_backend: MariadbBackend) -> None:
    store = cluster_backend.create_store()
    try:
        sessions = [store.session() for _ in range(3)]
        assert {s.node for s in sessions} == {0, 1, 2}  # type: ignore[attr-defined]
        assert [s.execute("SELECT @@wsrep_sync_wait") for s in sessions] == [[(7,)]] * 3
    finally:
        store.close()


# --- commit-time rejection --------------------------------------------------------------


def test_the_loser_of_a_cross_node_race_is_rejected_at_commit(
    cluster_backend: MariadbBackend,
) -> None:
    """Both INSERTs of the same first event succeed on their nodes; the cluster refuses the
    second COMMIT (certification failure, 1213), and the kit calls that a rejection."""
    store = cluster_backend.create_store()
    try:
        kit, first, second = (store.session() for _ in range(3))
        kit.execute("INSERT INTO entity_events (entity, event) VALUES ('order', 'created')")
        append = (
            "INSERT INTO events (entity, entityKey, event, data, eventId, commandId) "
            "VALUES ('order', 'o-1', 'created', '{}', ?, ?)"
        )
        ids = iter(f"00000000-0000-4000-8000-00000000000{n}" for n in range(4))
        for session in (first, second):
            session.begin()
            session.execute(append, (next(ids), next(ids)))
        first.commit()
        with pytest.raises(pymysql.err.MySQLError) as refused:
            second.commit()
        assert refused.value.args[0] == 1213
        assert cluster_backend.classify(refused.value) is Outcome.REJECTED
    finally:
        store.close()


# --- verdicts, repeated -------------------------------------------------------------------


@pytest.mark.parametrize("scenario", MUST_RACE_SCENARIOS, ids=lambda s: s.name)
def test_the_shipped_ddl_wins_every_race_on_the_cluster(
    cluster_backend: MariadbBackend, scenario
) -> None:
    results = verdicts(cluster_backend, scenario, REPEAT)
    assert all(r.passed for r in results), explain(results)


def test_a_trigger_check_holds_on_one_server(mariadb_dsn: str) -> None:
    with backend_for(MariadbBackend, mariadb_dsn, TRIGGER_CHECK) as backend:
        for scenario in FIRST_EVENT_RACES:
            results = verdicts(backend, scenario, REPEAT)
            assert all(r.passed for r in results), explain(results)


def test_a_trigger_check_loses_the_first_event_races_on_the_cluster_every_run(
    galera_dsn: str,
) -> None:
    with backend_for(MariadbBackend, galera_dsn, TRIGGER_CHECK) as backend:
        for scenario in FIRST_EVENT_RACES:
            results = verdicts(backend, scenario, REPEAT)
            assert not any(r.passed for r in results), f"{scenario.name}: a run passed"
            assert {r.violated_rules for r in results} == {("races.first_event",)}


def run_kit(
    pytester: pytest.Pytester, ddl: Path, dsn: str, *args: str, report: str = "report.json"
) -> pytest.RunResult:
    return pytester.runpytest(
        f"--ddl={ddl}",
        f"--dsn={dsn}",
        f"--conformance-report={pytester.path / report}",
        "-p",
        "no:cacheprovider",
        *args,
    )


def test_the_shipped_ddl_is_conformant_on_the_cluster(
    pytester: pytest.Pytester, galera_dsn: str
) -> None:
    result = run_kit(pytester, MARIADB_DDL, galera_dsn)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    summary = result.stdout.str()
    assert "Galera cluster of 3 nodes: node1 at 127.0.0.1:" in summary
    report = json.loads((pytester.path / "report.json").read_text())
    assert "Galera cluster of 3 nodes" in report["backend"]["server_version"]
    placements = [s["placement"] for s in report["scenarios"] if s["placement"]]
    assert len(placements) == result.parseoutcomes()["passed"]  # every scenario that ran
    assert {where.split(" at ")[0] for p in placements for where in p.values()} == {
        "node1",
        "node2",
        "node3",
    }


def test_a_broken_run_says_where_each_session_ran(
    pytester: pytest.Pytester, galera_dsn: str
) -> None:
    result = run_kit(pytester, TRIGGER_CHECK, galera_dsn, "-m", "races.first_event", report="r.md")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "MUST rules broken: races.first_event" in result.stdout.str()
    sessions = [line for line in result.stdout.lines if line.strip().startswith("sessions:")]
    assert sessions and "race1-1 on node" in " ".join(sessions)
    assert "- Sessions: kit on node1 at " in (pytester.path / "r.md").read_text()


def test_an_unreachable_node_is_one_line(pytester: pytest.Pytester, galera_dsn: str) -> None:
    first = node_dsns(galera_dsn)[0].split("@", 1)[1].split("/", 1)[0]
    dsn = f"mariadb://root@{first},127.0.0.1:1/"
    result = run_kit(pytester, MARIADB_DDL, dsn)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "no MariaDB/MySQL server answers at 127.0.0.1:1" in one_error_line(result)


# --- the bench ----------------------------------------------------------------------------


def test_the_bench_runs_on_the_cluster_and_audits_every_store(
    tmp_path: Path, galera_dsn: str, node_admins: list[pymysql.Connection]
) -> None:
    """Writers spread over the nodes (as sessions are); every store audited, then dropped
    on every node. In a process of its own, whose databases are named for its pid."""
    pid, results = bench_in_a_process(
        tmp_path, MARIADB_DDL, galera_dsn, "--duration=0.3", "--writers=1,3", "--events=200",
        "--replays=10", "--hot-instances=2",
    )  # fmt: skip
    assert "Galera cluster of 3 nodes" in results["server_version"]
    assert {(e["workload"], e["writers"]) for e in results["appends"]} == {
        (w, n) for w in ("distinct", "bare", "hot") for n in (1, 3)
    }
    assert all(e["errors"] == 0 for e in results["appends"])
    assert results["invariants"]["violations"] == []
    for connection in node_admins:
        with connection.cursor() as cursor:
            cursor.execute("SHOW DATABASES LIKE %s", (f"conformance\\_{pid}\\_%",))
            assert cursor.fetchall() == ()
