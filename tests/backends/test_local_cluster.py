"""The throwaway Galera cluster: `python -m conformance cluster up|down` and its clean-up.

These start real nodes (galera-4 and rsync installed; CI fails without them, a
developer's machine skips): `up` prints a DSN whose three nodes form one cluster and
keep running after the command ends; `down` stops them by the PIDs `up` recorded; a
start that fails half way stops the nodes it had started.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, require_galera

from conformance.backends.mariadb_cluster import NODE_OPTIONS, LocalCluster, Node, alive
from conformance.backends.mariadb_nodes import node_dsns
from conformance.backends.mariadb_server import ServerSettings
from conformance.errors import KitError

pytestmark = [pytest.mark.mariadb, pytest.mark.galera]


@pytest.fixture(autouse=True)
def galera_installed() -> None:
    """The same rule as the cluster tests: CI fails without galera-4, others skip."""
    require_galera()


def cluster_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "cluster", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def cluster_size(dsn: str) -> list[int]:
    sizes = []
    for node in node_dsns(dsn):
        connection = ServerSettings.from_dsn(node).connect(None)
        with connection.cursor() as cursor:
            cursor.execute("SHOW STATUS LIKE 'wsrep_cluster_size'")
            sizes.append(int(cursor.fetchone()[1]))
        connection.close()
    return sizes


def test_cluster_up_prints_a_dsn_and_down_stops_every_node(tmp_path: Path) -> None:
    folder = Path("/tmp") / f"conformance-cluster-test-{tmp_path.name}"
    started = cluster_command("up", "--folder", str(folder))
    try:
        assert started.returncode == 0, started.stderr
        dsn = started.stdout.splitlines()[0]
        assert dsn.startswith("mariadb://root@127.0.0.1:") and dsn.count(",") == 2
        assert cluster_size(dsn) == [3, 3, 3]
        again = cluster_command("up", "--folder", str(folder))
        assert again.returncode == 4
        assert again.stderr.strip().endswith("stop it with `python -m conformance cluster down`")
        nodes = LocalCluster.load(folder).nodes
    finally:
        stopped = cluster_command("down", "--folder", str(folder))
    assert stopped.returncode == 0, stopped.stderr
    assert not any(alive(node.pid) for node in nodes)
    assert not folder.exists()


def test_down_without_a_cluster_is_one_line(tmp_path: Path) -> None:
    stopped = cluster_command("down", "--folder", str(tmp_path / "none"))
    assert stopped.returncode == 4
    assert len(stopped.stderr.strip().splitlines()) == 1
    assert "no cluster recorded in" in stopped.stderr


class JoinerThatCannotStart(LocalCluster):
    """Node 2 gets an option mariadbd does not know, so it stops while joining."""

    def node_command(self, node: Node, galera: str) -> list[str]:
        command = super().node_command(node, galera)
        return [*command, "--no-such-option"] if node.number == 2 else command


def test_a_start_that_fails_half_way_stops_the_nodes_it_started(tmp_path: Path) -> None:
    folder = Path("/tmp") / f"conformance-cluster-test-{tmp_path.name}-failing"
    cluster = JoinerThatCannotStart(folder)
    with pytest.raises(KitError, match="node 2 stopped while starting"):
        cluster.start()
    first = cluster.nodes[0]
    assert first.pid and not alive(first.pid)
    assert not folder.exists()


def test_the_compose_cluster_matches_the_throwaway_one() -> None:
    """docker-compose.yml's galera services: three nodes joining one at a time, with the
    isolation level and replication options `cluster up` uses (read, not started: CI
    has no Docker engine; `docker compose config` checks the file's syntax)."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    nodes = {name: s for name, s in compose["services"].items() if name.startswith("galera")}
    assert sorted(nodes) == ["galera1", "galera2", "galera3"]
    assert [("--wsrep-new-cluster" in s["command"]) for s in nodes.values()] == [1, 0, 0]
    assert nodes["galera2"]["depends_on"] == {"galera1": {"condition": "service_healthy"}}
    assert nodes["galera3"]["depends_on"] == {"galera2": {"condition": "service_healthy"}}
    shared = {"--transaction-isolation=READ-COMMITTED", "--binlog-format=ROW", "--wsrep-on=ON"}
    for service in nodes.values():
        assert shared <= set(service["command"]) and shared <= set(NODE_OPTIONS)
        assert service["profiles"] == ["galera"]
