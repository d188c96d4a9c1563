"""Run scenario files straight through the kit's API (loader, runner, SQLite backend).

Faster than going through pytester, and it gives the tests every ScenarioResult to
inspect, not just pass/fail counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

from conformance.backends.sqlite import SqliteBackend
from conformance.ddl import DdlScript
from conformance.loader import load_files, scenario_paths
from conformance.outcome import ScenarioResult
from conformance.runner import run_scenario
from conformance.scenario import Scenario, ScenarioFile

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
    """Each scenario in a fresh SQLite store made from `ddl_path`, as the plugin runs it."""
    backend = SqliteBackend(None, DdlScript.read(ddl_path))
    backend.prepare()
    try:
        return [_run_one(backend, scenario) for scenario in scenarios]
    finally:
        backend.close()


def _run_one(backend: SqliteBackend, scenario: Scenario) -> ScenarioResult:
    store = backend.create_store()
    try:
        return run_scenario(scenario, store, backend)
    finally:
        store.close()
