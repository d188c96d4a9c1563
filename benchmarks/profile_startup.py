"""Where a conformance run's CPU time goes: one pytest run under cProfile.

It runs `pytest ARGS` (default: the shipped SQLite DDL, `--collect-only`) in this
process from an empty folder, profiled with CPU time rather than wall time (so that
other work on the machine does not show in it), and prints the parts the fixed cost
is made of, then the top entries by cumulative CPU time.

    python benchmarks/profile_startup.py [--top 25] [-- pytest arguments]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ARGS = [f"--ddl={REPO / 'ddl' / 'sqlite-event-store.ddl'}", "--collect-only"]
# (label, a substring of pstats' "file:line(function)") for the parts of the fixed cost.
PARTS = [
    ("pytest start-up: plugins from entry points", "(load_setuptools_entrypoints)"),
    ("  modules assertion-rewritten by pytest (outermost)", "rewrite.py:145(exec_module)"),
    ("plugin configure: the kit (DDL, scenarios, backend)", "(_make_kit)"),
    ("  rules catalogue (rules.yaml)", "(load_catalogue)"),
    ("  scenario files: parse, validate, build", "(load_file)"),
    ("    JSON Schema validation", "loader.py:"),  # _validate, below
    ("  self-check against the reference model", "(self_check)"),
    ("scenarios run", "(runtest)"),
    ("Hypothesis's plugin: terminal summary", "_hypothesis_pytestplugin.py"),
    ("pytest's gc.collect at exit", "(gc_collect_harder)"),
]


def cumulative(stats: pstats.Stats, key: str, function: str | None = None) -> float:
    """The largest cumulative time among the entries matching `key` (recursion counts once)."""
    times = [
        entry[3]
        for (path, line, name), entry in stats.stats.items()  # type: ignore[attr-defined]
        if key in f"{path}:{line}({name})" and (function is None or name == function)
    ]
    return max(times, default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("pytest_args", nargs="*", help="pytest arguments (after --)")
    options = parser.parse_args()
    args = [*(options.pytest_args or DEFAULT_ARGS), "-q", "-p", "no:cacheprovider"]
    profiler = cProfile.Profile(time.process_time)
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        profiler.runcall(pytest.main, args)
    stats = pstats.Stats(profiler)
    print(f"\npytest {' '.join(args)}: {stats.total_tt:.2f} s CPU under the profiler")  # type: ignore[attr-defined]
    for label, key in PARTS:
        function = "_validate" if key == "loader.py:" else None
        if key == "_hypothesis_pytestplugin.py":
            function = "pytest_terminal_summary"
        print(f"| {label} | {cumulative(stats, key, function):.2f} s |")
    print()
    stats.sort_stats("cumulative").print_stats(options.top)


if __name__ == "__main__":
    main()
