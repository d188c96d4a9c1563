"""A long search on a DDL that should be conformant: it must find nothing.

Runs the fuzzer in-process with a large budget, seed after seed, and prints the figures of
each run. A divergence prints the minimal case and exits 1: either the DDL or the model
is wrong, and the case says which step to look at.

    python benchmarks/fuzz_long_run.py [--examples 5000] [--seeds 4] [--ddl FILE --dsn URL]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.backends import backend_class
from conformance.ddl_script import DdlScript
from conformance.fuzz.machine import fuzz
from conformance.pytest_plugin.fuzz import failure_report

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000, help="examples per seed")
    parser.add_argument("--seeds", type=int, default=4, help="runs, seeds 1..N")
    parser.add_argument("--ddl", type=Path, default=REPO / "ddl" / "sqlite-event-store.ddl")
    parser.add_argument("--dsn", default=None)
    options = parser.parse_args()
    backend = backend_class(options.dsn)(options.dsn, DdlScript.read(options.ddl))
    backend.prepare()
    total_steps = 0
    try:
        for seed in range(1, options.seeds + 1):
            report = fuzz(backend, seed=seed, examples=options.examples, label=options.ddl.stem)
            stats = report.stats
            total_steps += stats.steps
            print(
                f"seed {seed}: {stats.examples} examples, {stats.steps} steps in {stats.seconds:.1f} s "
                f"({stats.steps_per_second:.0f} steps/s): {'DIVERGENCE' if report.found else 'nothing found'}",
                flush=True,
            )
            if report.found:
                print(failure_report(report))
                sys.exit(1)
    finally:
        backend.close()
    print(f"{options.ddl.name} on {backend.server_version()}: {total_steps} steps, no divergence")


if __name__ == "__main__":
    main()
