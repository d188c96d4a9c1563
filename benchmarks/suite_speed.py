"""Wall time of `--collect-only`, of the bundled suite against SQLite, and of 1,000
generated scenarios.

Each figure is a whole `pytest` process (start-up included), run from an empty folder,
repeated; it prints median, min and max of the wall time and of the process's CPU time
(user + system: on a machine shared with other work, wall time also counts waiting for
a core, CPU time does not), the load average, and the cost per scenario so that a
growing corpus can be seen to cost the same per scenario.

    python benchmarks/suite_speed.py [--rounds 5] [--generated 1000]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DDL = REPO / "ddl" / "sqlite-event-store.ddl"

GENERATED_HEADER = """\
description: generated scenarios for the speed benchmark
definitions:
  order: [created, paid, shipped]
history:
  - append: {entity: order, entityKey: o-1, event: created, id: created}
scenarios:
"""

GENERATED_SCENARIO = """\
  - name: generated {n}
    rules: [chain.linear]
    steps:
      - append: {{entity: order, entityKey: o-1, event: paid, id: paid, previous: created}}
        expect: accepted
      - append: {{entity: order, entityKey: o-1, event: shipped, previous: created}}
        expect: rejected
      - replay: {{entity: order, entityKey: o-1}}
        expect: {{events: [created, paid]}}
"""


def timed_run(args: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, pytest's last line) of one whole pytest process."""
    cpu_before = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", f"--ddl={DDL}", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"pytest failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed, children_cpu() - cpu_before, done.stdout.strip().splitlines()[-1]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(label: str, args: list[str], rounds: int, cwd: Path) -> float:
    """Runs pytest `rounds` times, prints wall and CPU figures; returns the median wall time."""
    walls, cpus = [], []
    summary = ""
    for _ in range(rounds):
        elapsed, cpu, summary = timed_run(args, cwd)
        walls.append(elapsed)
        cpus.append(cpu)
    median = statistics.median(walls)
    count = int(summary.split()[0])
    print(
        f"{label:<28} {count:>5} scenarios  wall median {median:6.2f} s  min {min(walls):6.2f} s  "
        f"max {max(walls):6.2f} s  {1000 * median / count:6.2f} ms/scenario"
    )
    print(
        f"{'':<28} {'':>15}   CPU median {statistics.median(cpus):6.2f} s  min {min(cpus):6.2f} s  "
        f"max {max(cpus):6.2f} s  (load average {load()})"
    )
    return median


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--generated", type=int, default=1000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        generated = cwd / "generated.yaml"
        generated.write_text(
            GENERATED_HEADER
            + "".join(GENERATED_SCENARIO.format(n=n) for n in range(options.generated))
        )
        print(f"SQLite {DDL.name}, {options.rounds} rounds each, pytest start-up included")
        collect = measure("--collect-only", ["--collect-only"], options.rounds, cwd)
        bundled = measure("bundled suite", [], options.rounds, cwd)
        big = measure(
            f"{options.generated} generated",
            ["--no-bundled", f"--scenarios={generated}"],
            options.rounds,
            cwd,
        )
        print(
            f"targets: --collect-only <= 0.5 s ({collect:.2f} s); bundled <= 1.2 s ({bundled:.2f} s); "
            f"{options.generated} generated < 15 s ({big:.2f} s)"
        )


if __name__ == "__main__":
    main()
