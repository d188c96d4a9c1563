"""A throwaway MariaDB Galera cluster on this machine: three nodes on loopback ports.

The kit's tests and `python -m conformance cluster up|down` start one to certify a DDL
on a multi-primary cluster without a cluster to hand. Each node is a `mariadbd` with a
data folder of its own under one folder; the first node bootstraps the cluster, the
others join it one at a time (state transfer by rsync), and each is waited for until it
reports Synced. Nodes are stopped by the PIDs recorded when they started, the joiners
first, also when starting fails half way; nothing else on the machine is touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import pymysql

from conformance.errors import KitError

PROVIDER_PATHS = ("/usr/lib/galera/libgalera_smm.so", "/usr/lib/libgalera_smm.so")
NODES = 3
START_LIMIT = 90.0  # seconds a node may take to report Synced
# mariadb-install-db's bootstrap server now and then dies of a segmentation fault on a
# busy machine (seen in CI here); a fresh datadir then installs fine.
INSTALL_ATTEMPTS = 3
STOP_LIMIT = 30.0  # seconds a node may take to stop after SIGTERM, before SIGKILL
POLL = 0.2
STATE_FILE = "cluster.json"
USER = "root"
SERVER_USER = "mysql"  # the user the nodes run as when started by root
# Throwaway nodes trade durability for speed: the cluster, not the disk, keeps a commit.
# READ COMMITTED: a locking read takes no gap locks there, so whether a rule held by a
# trigger's read survives does not hang on how fast a node applies the other nodes'
# commits (see docs/porting.md); the shipped DDLs hold at either level.
NODE_OPTIONS = (
    "--transaction-isolation=READ-COMMITTED",
    "--binlog-format=ROW",
    "--default-storage-engine=InnoDB",
    "--innodb-autoinc-lock-mode=2",
    "--innodb-buffer-pool-size=64M",
    "--innodb-flush-log-at-trx-commit=0",
    "--skip-name-resolve",
    "--max-connections=300",
    "--wsrep-on=ON",
    "--wsrep-sst-method=rsync",
)


@dataclass(frozen=True)
class Node:
    """One node: its folder and the four ports it listens on."""

    number: int
    folder: str
    port: int  # clients
    group_port: int  # the cluster's own traffic (gcomm)
    ist_port: int  # incremental state transfer
    sst_port: int  # full state transfer (rsync)
    pid: int = 0

    @property
    def datadir(self) -> Path:
        return Path(self.folder) / f"node{self.number}"

    @property
    def socket(self) -> Path:
        return Path(self.folder) / f"node{self.number}.sock"

    @property
    def log(self) -> Path:
        return Path(self.folder) / f"node{self.number}.err"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def free_ports(count: int) -> list[int]:
    """Ports the system has no use for now, taken from the kernel's ephemeral range."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def provider() -> str:
    for path in PROVIDER_PATHS:
        if Path(path).exists():
            return path
    raise KitError(
        "no Galera provider (libgalera_smm.so) on this machine: install galera-4 and rsync"
    )


class LocalCluster:
    """Three nodes under `folder`; `start` returns the DSN naming them all."""

    def __init__(self, folder: Path, nodes: list[Node] | None = None) -> None:
        self.folder = folder
        self.nodes: list[Node] = nodes or []
        # Galera carries the cluster's name in 32-byte fields: longer names cannot join.
        self.name = f"conformance-{zlib.crc32(str(folder).encode()):08x}"

    @property
    def dsn(self) -> str:
        hosts = ",".join(node.address for node in self.nodes)
        return f"mariadb://{USER}@{hosts}/"

    # --- start --------------------------------------------------------------------

    def start(self, count: int = NODES) -> str:
        """Bootstrap node 1, then join the others one by one; stop all if any fails."""
        galera = provider()
        for tool in ("mariadbd", "mariadb-install-db", "rsync"):
            if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
                raise KitError(f"{tool} is not installed: the cluster needs MariaDB and rsync")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.own_folder()
        ports = free_ports(4 * count)
        self.nodes = [
            Node(n, str(self.folder), *ports[4 * (n - 1) : 4 * n]) for n in range(1, count + 1)
        ]
        try:
            self.install(self.nodes[0])
            for node in self.nodes:
                self.launch(node, galera)
                self.wait_synced(node)
                if node.number == 1:
                    self.open_root_to_loopback(node)
                self.save()
        except BaseException:
            self.stop()
            raise
        return self.dsn

    def install(self, node: Node) -> None:
        """The system tables for node 1; the joiners receive a copy by state transfer."""
        command = [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={node.datadir}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            *self.user_option(),
        ]
        for _ in range(INSTALL_ATTEMPTS):
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode == 0:
                return
            shutil.rmtree(node.datadir, ignore_errors=True)  # the next attempt starts clean
        last = (done.stderr or done.stdout).strip().splitlines()[-1:]
        raise KitError(f"mariadb-install-db failed in {node.datadir}: {' '.join(last)}")

    @staticmethod
    def user_option() -> list[str]:
        """As root, the nodes run as mysql: rsync's state transfer drops root's rights."""
        return [f"--user={SERVER_USER}"] if os.geteuid() == 0 else []

    def own_folder(self) -> None:
        if os.geteuid() == 0:
            try:
                shutil.chown(self.folder, SERVER_USER, SERVER_USER)
            except (LookupError, OSError) as exc:
                raise KitError(f"cannot hand {self.folder} to user {SERVER_USER}: {exc}") from None

    def node_command(self, node: Node, galera: str) -> list[str]:
        first = self.nodes[0]
        joins = "" if node.number == 1 else f"127.0.0.1:{first.group_port}"
        provider_options = (
            f"gmcast.listen_addr=tcp://127.0.0.1:{node.group_port};"
            f"ist.recv_addr=127.0.0.1:{node.ist_port};gcache.size=32M"
        )
        return [
            shutil.which("mariadbd") or "/usr/sbin/mariadbd",
            "--no-defaults",
            f"--datadir={node.datadir}",
            f"--socket={node.socket}",
            f"--pid-file={node.datadir}.pid",
            f"--log-error={node.log}",
            f"--tmpdir={self.tmpdir(node)}",
            f"--port={node.port}",
            "--bind-address=127.0.0.1",
            *self.user_option(),
            *NODE_OPTIONS,
            f"--wsrep-provider={galera}",
            f"--wsrep-cluster-address=gcomm://{joins}",
            f"--wsrep-cluster-name={self.name}",
            f"--wsrep-node-name=node{node.number}",
            f"--wsrep-node-address=127.0.0.1:{node.group_port}",
            f"--wsrep-sst-receive-address=127.0.0.1:{node.sst_port}",
            f"--wsrep-provider-options={provider_options}",
            *(["--wsrep-new-cluster"] if node.number == 1 else []),
        ]

    @staticmethod
    def tmpdir(node: Node) -> Path:
        """The node's own folder for temporary tables: in the shared /tmp, a node's Aria
        temporary table file went missing while in use (error 6 on delete) in CI here."""
        return Path(f"{node.datadir}-tmp")

    def launch(self, node: Node, galera: str) -> None:
        for folder in (node.datadir, self.tmpdir(node)):
            folder.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(folder, SERVER_USER, SERVER_USER)
        process = subprocess.Popen(
            self.node_command(node, galera),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # survives the command that started it (cluster up)
        )
        self.nodes[node.number - 1] = Node(**{**asdict(node), "pid": process.pid})

    def wait_synced(self, node: Node) -> None:
        """Until the node says Synced; its log's last lines if it dies or takes too long."""
        node = self.nodes[node.number - 1]
        deadline = time.monotonic() + START_LIMIT
        while time.monotonic() < deadline:
            if not alive(node.pid):
                raise KitError(f"node {node.number} stopped while starting: {self.tail(node)}")
            if self.state(node) == "Synced":
                return
            time.sleep(POLL)
        raise KitError(f"node {node.number} not Synced after {START_LIMIT:.0f}s: {self.tail(node)}")

    def state(self, node: Node) -> str | None:
        try:
            connection = self.connect(node)
        except pymysql.err.MySQLError:
            return None
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW STATUS LIKE 'wsrep_local_state_comment'")
                row = cursor.fetchone()
                return str(row[1]) if row else None
        finally:
            connection.close()

    def connect(self, node: Node) -> pymysql.Connection:
        return pymysql.connect(
            unix_socket=str(node.socket), user=USER, password="", connect_timeout=2
        )

    def open_root_to_loopback(self, node: Node) -> None:
        """root may connect over TCP from 127.0.0.1 (install-db made it socket-only)."""
        connection = self.connect(node)
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE USER IF NOT EXISTS {USER}@'127.0.0.1'")
                cursor.execute(f"GRANT ALL ON *.* TO {USER}@'127.0.0.1' WITH GRANT OPTION")
        finally:
            connection.close()

    @staticmethod
    def tail(node: Node, lines: int = 3) -> str:
        try:
            text = node.log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return f"no log at {node.log}"
        errors = [line for line in text if "[ERROR]" in line] or text
        return " | ".join(line.strip() for line in errors[-lines:]) + f" (log: {node.log})"

    # --- state on disk, for `cluster down` --------------------------------------------

    def save(self) -> None:
        state = {"dsn": self.dsn, "nodes": [asdict(node) for node in self.nodes]}
        (self.folder / STATE_FILE).write_text(json.dumps(state, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LocalCluster:
        path = folder / STATE_FILE
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            nodes = [Node(**node) for node in state["nodes"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KitError(f"no cluster recorded in {folder} ({path}: {exc})") from None
        return cls(folder, nodes)

    # --- stop ---------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every node this cluster started (joiners first), then delete the folder."""
        for node in reversed(self.nodes):
            if node.pid and self.started_here(node):
                stop_process(node.pid)
        shutil.rmtree(self.folder, ignore_errors=True)

    @staticmethod
    def started_here(node: Node) -> bool:
        """The PID still belongs to this node's mariadbd (not to a process that reused it)."""
        try:
            command = Path(f"/proc/{node.pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return alive(node.pid)  # no /proc: trust the PID
        return f"--datadir={node.datadir}".encode() in command


def alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # our own child, now reaped
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_process(pid: int) -> None:
    """SIGTERM (a clean shutdown leaves the cluster), SIGKILL if it takes too long."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_LIMIT
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(POLL)
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        while alive(pid):
            time.sleep(POLL)
