"""Wall time of the bundled corpus against a local MariaDB, and where the time goes.

Each round is a whole `pytest --ddl=ddl/mariadb-event-store.ddl --dsn=...` process
(start-up included), run from an empty folder; it prints median, min and max. Then
one pass through the kit's API splits a scenario's wall time into waiting for its
store (databases are created ahead on other threads), running it, and handing the
store back (the drop also runs on another thread). Target: the whole corpus in at most
5 s.

    python benchmarks/mariadb_suite.py [--rounds 5] [--dsn mariadb://root@127.0.0.1:3306/test]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from suite_speed import REPO, measure

sys.path.insert(0, str(REPO / "tests"))
from helpers import corpus

from conformance.backends.mariadb import MariadbBackend
from conformance.ddl_script import DdlScript
from conformance.execution.run import run_scenario

DDL = REPO / "ddl" / "mariadb-event-store.ddl"
DEFAULT_DSN = "mariadb://root@127.0.0.1:3306/test"
TARGET_SECONDS = 5.0


def phases(dsn: str) -> dict[str, list[float]]:
    """Seconds per scenario spent waiting for its store, running, and closing the store."""
    backend = MariadbBackend(dsn, DdlScript.read(DDL))
    backend.prepare()
    spent: dict[str, list[float]] = {"wait": [], "run": [], "close": []}
    try:
        for scenario in corpus():
            start = time.perf_counter()
            store = backend.create_store()
            created = time.perf_counter()
            result = run_scenario(scenario, store, backend)
            ran = time.perf_counter()
            store.close()
            spent["wait"].append(created - start)
            spent["run"].append(ran - created)
            spent["close"].append(time.perf_counter() - ran)
            if not result.passed:
                sys.exit(f"{scenario.location}: {scenario.name!r} failed on the shipped DDL")
    finally:
        backend.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dsn", default=os.environ.get("CONFORMANCE_MARIADB_DSN", DEFAULT_DSN))
    options = parser.parse_args()
    print(f"MariaDB {DDL.name} on {options.dsn}, {options.rounds} rounds, start-up included")
    with tempfile.TemporaryDirectory() as folder:
        wall = measure(
            "bundled corpus", [f"--ddl={DDL}", f"--dsn={options.dsn}"], options.rounds, Path(folder)
        )
    spent = phases(options.dsn)
    for phase, seconds in spent.items():
        print(
            f"  {phase:<7} median {1000 * statistics.median(seconds):6.2f} ms  "
            f"max {1000 * max(seconds):7.2f} ms  total {sum(seconds):6.2f} s"
        )
    verdict = "met" if wall <= TARGET_SECONDS else "MISSED"
    print(f"target: whole corpus <= {TARGET_SECONDS:.0f} s: {verdict} ({wall:.2f} s median)")


if __name__ == "__main__":
    main()
