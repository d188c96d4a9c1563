"""Speed of the fuzzer: the default budget's wall time and steps per second, and how fast it
finds each deliberately broken DDL.

The default-budget figure is a whole `pytest --conformance-fuzz` process on the shipped DDL
(start-up included), once per seed; targets: under 20 s on SQLite, under 60 s on PostgreSQL.
The broken-DDL figures run the search in-process: steps and seconds until the first
divergence, then the total with shrinking, and the length of the minimal case.

    python benchmarks/fuzz_speed.py [--seeds 3] [--ddl FILE --dsn URL] [--broken DIR]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conformance.backends import backend_class
from conformance.ddl_script import DdlScript
from conformance.fuzz.machine import DEFAULT_EXAMPLES, STEPS_PER_EXAMPLE, fuzz

REPO = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(
    r"conformance fuzz: (\d+) examples, (\d+) steps in ([\d.]+) s \((\d+) steps/s\)"
)


def default_budget(ddl: Path, dsn: str | None, seed: int, cwd: Path) -> tuple[float, int, float]:
    """(wall seconds of the whole process, steps, steps per second of the search)."""
    args = [
        f"--ddl={ddl.resolve()}",
        "--conformance-fuzz",
        f"--conformance-fuzz-seed={seed}",
        "-k",
        "conformance-fuzz",
        "-p",
        "no:cacheprovider",
        "-q",
    ]
    args += [f"--dsn={dsn}"] if dsn else []
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    found = SUMMARY.search(done.stdout)
    if done.returncode != 0 or found is None:
        sys.exit(
            f"the search failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-2000:]}"
        )
    return wall, int(found[2]), float(found[4])


def broken_figures(folder: Path, dsn: str | None, seed: int) -> None:
    print(
        f"\nbroken DDLs in {folder}, seed {seed}: steps (s) to the first divergence; total with shrinking"
    )
    for ddl in sorted(folder.glob("*.ddl")):
        backend = backend_class(dsn)(dsn, DdlScript.read(ddl))
        backend.prepare()
        try:
            report = fuzz(backend, seed=seed, label=ddl.stem)
        finally:
            backend.close()
        stats = report.stats
        if not report.found:
            print(f"  {ddl.stem:<42} NOT FOUND in {stats.steps} steps ({stats.seconds:.1f} s)")
            continue
        case = report.reproducer
        length = len(case.result.scenario.steps) if case else "-"
        reproduced = "reproduces" if case and not case.result.passed else "DOES NOT reproduce"
        print(
            f"  {ddl.stem:<42} {stats.found_after_steps:>5} steps ({stats.found_after_seconds:4.2f} s); "
            f"total {stats.seconds:5.2f} s; minimal case {length} steps, {reproduced}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="default-budget runs, seeds 1..N")
    parser.add_argument("--ddl", type=Path, default=REPO / "ddl" / "sqlite-event-store.ddl")
    parser.add_argument("--dsn", default=None)
    parser.add_argument(
        "--broken",
        type=Path,
        default=REPO / "tests" / "broken" / "sqlite",
        help="folder of broken DDLs to time (give a missing path to skip)",
    )
    options = parser.parse_args()
    print(
        f"{options.ddl.name} ({options.dsn or 'SQLite, temporary'}): default budget "
        f"{DEFAULT_EXAMPLES} examples of up to {STEPS_PER_EXAMPLE} steps, pytest start-up included"
    )
    walls, rates = [], []
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(1, options.seeds + 1):
            wall, steps, rate = default_budget(options.ddl, options.dsn, seed, Path(folder))
            walls.append(wall)
            rates.append(rate)
            print(f"  seed {seed}: {wall:6.2f} s wall, {steps} steps, {rate:.0f} steps/s")
    print(
        f"median {statistics.median(walls):.2f} s wall, {statistics.median(rates):.0f} steps/s "
        "(targets: SQLite < 20 s, PostgreSQL < 60 s)"
    )
    if options.broken.is_dir():
        broken_figures(options.broken, options.dsn, seed=1)


if __name__ == "__main__":
    main()
