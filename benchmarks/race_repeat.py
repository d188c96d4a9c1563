"""Wall time of every race scenario run 20 times in a row, per backend, with verdicts.

The kit's own tests run each race scenario 20 times; this prints what that costs and
that every run gave the same verdict. PostgreSQL is measured when a DSN is given.

    python benchmarks/race_repeat.py [--times 20] [--dsn postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from conformance.backends import backend_class
from conformance.ddl_script import DdlScript
from conformance.execution.run import run_scenario
from conformance.scenario.loader import load_file

REPO = Path(__file__).resolve().parent.parent
RACES = REPO / "scenarios" / "races.yaml"
DDL = {
    "sqlite": REPO / "ddl" / "sqlite-event-store.ddl",
    "postgresql": REPO / "ddl" / "postgres-event-store.ddl",
}


def measure(dsn: str | None, ddl: Path, times: int) -> None:
    backend = backend_class(dsn)(dsn, DdlScript.read(ddl))
    backend.prepare()
    scenarios = load_file(RACES).scenarios
    total, runs, skipped = 0.0, 0, 0
    try:
        for scenario in scenarios:
            if backend.not_applicable(scenario.requirements):
                skipped += 1
                continue
            start = time.perf_counter()
            verdicts = set()
            for _ in range(times):
                store = backend.create_store()
                try:
                    verdicts.add(run_scenario(scenario, store, backend).passed)
                finally:
                    store.close()
            spent = time.perf_counter() - start
            total, runs = total + spent, runs + times
            print(f"  {spent:6.2f} s  {verdicts}  {scenario.name}")
    finally:
        backend.close()
    print(f"{backend.name}: {len(scenarios) - skipped} race scenarios x {times} = {runs} runs "
          f"in {total:.1f} s ({1000 * total / max(runs, 1):.0f} ms a run); "
          f"{skipped} not applicable")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=20)
    parser.add_argument("--dsn", default=None, help="a PostgreSQL DSN to measure as well")
    options = parser.parse_args()
    measure(None, DDL["sqlite"], options.times)
    if options.dsn:
        measure(options.dsn, DDL["postgresql"], options.times)


if __name__ == "__main__":
    main()
