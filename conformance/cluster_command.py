"""`python -m conformance cluster up|down`: a throwaway Galera cluster for trying a DDL.

`up` starts three MariaDB nodes on loopback ports (see backends/mariadb_cluster.py) and
prints the DSN naming them; they run until `down` stops them by the PIDs `up` recorded
in the folder, and deletes the folder.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from conformance.backends.mariadb_cluster import NODES, STATE_FILE, LocalCluster, alive
from conformance.errors import KitError

EXIT_USAGE = 4
DEFAULT_FOLDER = Path(tempfile.gettempdir()) / "conformance-cluster"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("up", "down"), help="start or stop the cluster")
    parser.add_argument(
        "--folder",
        type=Path,
        default=DEFAULT_FOLDER,
        help=f"where the nodes keep their data and PIDs (default {DEFAULT_FOLDER})",
    )
    parser.add_argument(
        "--nodes",
        type=int,
        default=NODES,
        help=f"how many nodes `up` starts (default {NODES}; 1: one node with the same "
        "settings, for comparison)",
    )


def run_command(options: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        if options.action == "up":
            up(options.folder, options.nodes)
        else:
            down(options.folder)
    except KitError as exc:
        parser.exit(EXIT_USAGE, f"{parser.prog}: error: {exc}\n")
    return 0


def up(folder: Path, nodes: int) -> None:
    if not 1 <= nodes <= 9:
        raise KitError(f"--nodes {nodes}: a cluster here has 1 to 9 nodes")
    if (folder / STATE_FILE).exists():
        running = LocalCluster.load(folder)
        if any(alive(node.pid) and running.started_here(node) for node in running.nodes):
            raise KitError(
                f"--folder {folder}: a cluster runs there already ({running.dsn}); "
                "stop it with `python -m conformance cluster down`"
            )
    cluster = LocalCluster(folder)
    dsn = cluster.start(nodes)
    print(dsn)
    print(
        f"# {nodes} nodes in {folder}; stop them with: python -m conformance cluster down"
        + ("" if folder == DEFAULT_FOLDER else f" --folder {folder}")
    )


def down(folder: Path) -> None:
    cluster = LocalCluster.load(folder)
    cluster.stop()
    print(f"stopped {len(cluster.nodes)} nodes and deleted {folder}")
