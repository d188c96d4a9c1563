"""`python -m conformance bench|cluster ...`: the kit's commands besides the pytest plugin."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from conformance import cluster_command
from conformance.bench import command as bench
from conformance.bench.settings import add_arguments


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    bench_parser = commands.add_parser(
        "bench", help="measure a DDL under load and check the invariants of every store"
    )
    add_arguments(bench_parser)
    cluster_parser = commands.add_parser(
        "cluster", help="start (up) or stop (down) a throwaway 3-node MariaDB Galera cluster"
    )
    cluster_command.add_arguments(cluster_parser)
    options = parser.parse_args(argv)
    if options.command == "cluster":
        return cluster_command.run_command(options, cluster_parser)
    return bench.run_command(options, bench_parser)


if __name__ == "__main__":
    sys.exit(main())
