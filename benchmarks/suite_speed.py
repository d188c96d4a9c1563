"""Wall time of the bundled suite against SQLite, and of 1,000 generated scenarios.

Each figure is a whole `pytest` process (start-up included), run from an empty folder,
repeated; it prints median, min and max, and the cost per scenario so that a growing
corpus can be seen to cost the same per scenario.

    python benchmarks/suite_speed.py [--rounds 5] [--generated 1000]
"""

from __future__ import annotations

import argparse
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


def timed_run(args: list[str], cwd: Path) -> tuple[float, str]:
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
    return elapsed, done.stdout.strip().splitlines()[-1]


def measure(label: str, args: list[str], rounds: int, cwd: Path) -> float:
    times = []
    summary = ""
    for _ in range(rounds):
        elapsed, summary = timed_run(args, cwd)
        times.append(elapsed)
    median = statistics.median(times)
    count = int(summary.split()[0])
    print(
        f"{label:<28} {count:>5} scenarios  median {median:6.2f} s  min {min(times):6.2f} s  "
        f"max {max(times):6.2f} s  {1000 * median / count:6.2f} ms/scenario"
    )
    return median


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
        bundled = measure("bundled suite", [], options.rounds, cwd)
        big = measure(
            f"{options.generated} generated",
            ["--no-bundled", f"--scenarios={generated}"],
            options.rounds,
            cwd,
        )
        print(
            f"targets: bundled < 3 s ({bundled:.2f} s); {options.generated} generated < 15 s ({big:.2f} s)"
        )


if __name__ == "__main__":
    main()
