"""The nodes a MariaDB DSN names: one server, or every node of a multi-primary cluster.

`mariadb://user@host1:port1,host2:port2,host3:port3/db` names the nodes of a Galera
cluster. The kit connects to each of them, creates every store on the first and spreads
sessions over all of them, so that two writers of a race always meet on different
nodes: that is where a cluster keeps or loses a rule. A DSN with one host is one server,
exactly as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pymysql

from conformance.backends.mariadb_server import Server, describe_error, redact
from conformance.errors import KitError

_URL = re.compile(r"^(?P<scheme>[^:]+://)(?P<netloc>[^/?#]*)(?P<rest>.*)$", re.DOTALL)


def node_dsns(dsn: str) -> list[str]:
    """One single-host DSN per node, in the order the DSN names them."""
    match = _URL.match(dsn)
    if not match or "," not in match["netloc"]:
        return [dsn]
    userinfo, at, hosts = match["netloc"].rpartition("@")
    nodes = [host.strip() for host in hosts.split(",")]
    if not all(nodes):
        raise KitError(f"--dsn {redact_nodes(dsn)}: an empty host in the list of nodes")
    if len(set(nodes)) != len(nodes):
        raise KitError(f"--dsn {redact_nodes(dsn)}: a node is named twice")
    return [f"{match['scheme']}{userinfo}{at}{host}{match['rest']}" for host in nodes]


def redact_nodes(dsn: str) -> str:
    """The DSN with its password hidden, also when it names several hosts."""
    match = _URL.match(dsn)
    if not match or "," not in match["netloc"]:
        return redact(dsn)
    first = redact(f"{match['scheme']}{match['netloc'].split(',')[0]}")
    rest = match["netloc"].split(",", 1)[1]
    return f"{first},{rest}{match['rest']}"


@dataclass(frozen=True)
class NodeStatus:
    """What a node says of itself: which cluster it belongs to and whether it is ready."""

    wsrep_on: bool
    cluster: str  # the cluster's state UUID, the same on every node of one cluster
    state: str  # Synced when the node serves clients with the cluster's data


class Nodes:
    """The servers of one DSN; node 1 is where the kit creates and drops its stores."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.servers = [Server(node) for node in node_dsns(dsn)]

    @property
    def first(self) -> Server:
        return self.servers[0]

    @property
    def cluster(self) -> bool:
        return len(self.servers) > 1

    def label(self, index: int) -> str:
        """`node2 at 127.0.0.1:3307`: how reports name a node."""
        return f"node{index + 1} at {self.servers[index].settings.where}"

    def reach(self) -> None:
        """Connect to every node; on a cluster, each must be a Synced node of the same one."""
        for server in self.servers:
            server.reach()
        if self.cluster:
            self.check_one_cluster()

    def check_one_cluster(self) -> None:
        statuses = [self.status(server) for server in self.servers]
        for server, status in zip(self.servers, statuses, strict=True):
            where = server.settings.where
            if not status.wsrep_on:
                raise self.problem(f"{where} is not a node of a Galera cluster (wsrep_on is OFF)")
            if status.state != "Synced":
                raise self.problem(f"node {where} is {status.state}, not Synced")
            if status.cluster != statuses[0].cluster:
                first = self.first.settings.where
                raise self.problem(f"{where} and {first} are nodes of different clusters")

    def status(self, server: Server) -> NodeStatus:
        connection = server.connect(None)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW VARIABLES LIKE 'wsrep_on'")  # none on MySQL
                values = dict(cursor.fetchall())
                cursor.execute(
                    "SHOW STATUS WHERE Variable_name IN "
                    "('wsrep_cluster_state_uuid', 'wsrep_local_state_comment')"
                )
                values.update(cursor.fetchall())
        except pymysql.err.MySQLError as exc:
            raise self.problem(
                f"cannot ask {server.settings.where}: {describe_error(exc)}"
            ) from None
        finally:
            connection.close()
        return NodeStatus(
            str(values.get("wsrep_on", "OFF")).upper() == "ON",
            str(values.get("wsrep_cluster_state_uuid", "")),
            str(values.get("wsrep_local_state_comment", "")),
        )

    def problem(self, text: str) -> KitError:
        return KitError(f"--dsn {redact_nodes(self.dsn)}: {text}")

    def version(self) -> str:
        """The product, and on a cluster the nodes, as the summary and reports show them."""
        version = self.first.version
        if not self.cluster:
            return version
        names = ", ".join(self.label(i) for i in range(len(self.servers)))
        return f"{version} (Galera cluster of {len(self.servers)} nodes: {names})"
