"""Helpers for the race tests: run scenarios straight through the runner, many times."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conformance.backends.base import Backend
from conformance.ddl_script import DdlScript
from conformance.execution.run import run_scenario
from conformance.resources import bundled_scenarios
from conformance.results.failure import failure_text
from conformance.results.outcome import ScenarioResult
from conformance.scenario.loader import load_file
from conformance.scenario.objects import Scenario

RACES = bundled_scenarios() / "races.yaml"
# Definitions and history for the schedules the tests write themselves.
SCHEDULE_HEADER = """\
definitions:
  order: [created, shipped]
history:
  - append: {entity: order, entityKey: o-1, event: created, id: created}
scenarios:
"""
REPEAT = 20


def race_scenarios() -> list[Scenario]:
    return load_file(RACES, display="scenarios/races.yaml").scenarios


def session_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("conformance-session-")]


@contextmanager
def backend_for(kind: type[Backend], dsn: str | None, ddl: Path) -> Iterator[Backend]:
    backend = kind(dsn, DdlScript.read(ddl))
    backend.prepare()
    try:
        yield backend
    finally:
        backend.close()


def run_once(backend: Backend, scenario: Scenario) -> ScenarioResult:
    """One run in a fresh store; no session thread may outlive it."""
    store = backend.create_store()
    try:
        result = run_scenario(scenario, store, backend)
    finally:
        store.close()
    assert session_threads() == [], f"{scenario.name}: threads left {session_threads()}"
    return result


def verdicts(backend: Backend, scenario: Scenario, times: int = REPEAT) -> list[ScenarioResult]:
    return [run_once(backend, scenario) for _ in range(times)]


def explain(results: list[ScenarioResult]) -> str:
    failed = [r for r in results if not r.passed]
    return failure_text(failed[0]) if failed else "every run passed"
