"""Run scenario files straight through the kit's API (loader, runner, SQLite backend).

Faster than going through pytester, and it gives the tests every ScenarioResult to
inspect, not just pass/fail counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

import pytest

from conformance.backends.base import Backend
from conformance.backends.sqlite import SqliteBackend
from conformance.ddl_script import DdlScript
from conformance.execution.run import not_applicable, run_scenario
from conformance.results.outcome import ScenarioResult
from conformance.scenario.loader import load_files, scenario_paths
from conformance.scenario.objects import Scenario, ScenarioFile

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "scenarios"
SHIPPED_SQLITE_DDL = REPO / "ddl" / "sqlite-event-store.ddl"


@cache
def corpus_files() -> tuple[ScenarioFile, ...]:
    """The scenario files of this checkout, loaded and validated once per test session."""
    return tuple(load_files(scenario_paths([CORPUS])))


def corpus() -> list[Scenario]:
    return [scenario for file in corpus_files() for scenario in file.scenarios]


def run_on_sqlite(ddl_path: Path, scenarios: Iterable[Scenario]) -> list[ScenarioResult]:
    """Each scenario in a fresh SQLite store made from `ddl_path`, as the plugin runs it
    (a scenario needing what SQLite lacks is skipped there, so it is left out here)."""
    return run_on(SqliteBackend(None, DdlScript.read(ddl_path)), scenarios)


def run_on(
    backend: Backend,
    scenarios: Iterable[Scenario],
    first: Callable[[Backend], None] | None = None,
) -> list[ScenarioResult]:
    """Each scenario the backend can run (through its profile), in a fresh store of its own,
    as the plugin runs it."""
    backend.prepare()
    try:
        if first is not None:
            first(backend)  # what the plugin does before any scenario (the preflight)
        applicable = [s for s in scenarios if not not_applicable(s, backend)]
        return [_run_one(backend, scenario) for scenario in applicable]
    finally:
        backend.close()


def _run_one(backend: Backend, scenario: Scenario) -> ScenarioResult:
    store = backend.create_store()
    try:
        return run_scenario(scenario, store, backend)
    finally:
        store.close()


def one_error_line(result: pytest.RunResult) -> str:
    """Bad input ends the run with exactly one ERROR line and no traceback."""
    text = result.stderr.str() + result.stdout.str()
    assert "Traceback" not in text
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1, text
    return errors[0]
