"""Wall time of the kit's own test suite: `pytest` in the checkout, as the README says.

Each round is one whole `pytest` process (pytest-xdist workers included: `-n auto` is
in pyproject.toml's addopts), run with the servers that CONTRIBUTING.md names
(CONFORMANCE_PG_DSN and CONFORMANCE_MARIADB_DSN; without the first, the PostgreSQL
tests start an embedded PostgreSQL 18). It prints median, min and max of the wall time
and of the CPU time of pytest and its workers (user + system; the servers' CPU is not
in it), the load average, and the test count, which must not drop.

    python benchmarks/own_tests.py [--rounds 1] [-- extra pytest arguments, e.g. -rfE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from suite_speed import REPO, children_cpu, load

TARGET_SECONDS = 120.0
SERVERS = {
    "CONFORMANCE_PG_DSN": "postgresql://postgres@127.0.0.1:5432/test",
    "CONFORMANCE_MARIADB_DSN": "mariadb://root@127.0.0.1:3306/test",
}


def one_round(extra: list[str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, pytest's last line) of one run of the kit's tests."""
    env = {**SERVERS, **os.environ}
    cpu_before = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    lines = done.stdout.strip().splitlines() or done.stderr.strip().splitlines() or [""]
    for line in lines:
        if line.startswith(("FAILED ", "ERROR ")):  # with -rfE: which ones, to look into
            print(line)
    return elapsed, children_cpu() - cpu_before, lines[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("extra", nargs="*", help="more pytest arguments (after --)")
    options = parser.parse_args()
    walls, cpus = [], []
    for n in range(options.rounds):
        wall, cpu, summary = one_round(options.extra)
        walls.append(wall)
        cpus.append(cpu)
        print(f"round {n + 1}: {wall:6.1f} s wall, {cpu:6.1f} s CPU, load {load()}: {summary}")
    median = statistics.median(walls)
    print(
        f"kit's tests  wall median {median:6.1f} s  min {min(walls):6.1f} s  max {max(walls):6.1f} s"
        f"   CPU median {statistics.median(cpus):6.1f} s  min {min(cpus):6.1f} s  max {max(cpus):6.1f} s"
    )
    verdict = "met" if median <= TARGET_SECONDS else "MISSED"
    print(f"target: <= {TARGET_SECONDS:.0f} s wall: {verdict} ({median:.1f} s median)")


if __name__ == "__main__":
    main()
