"""Run scenario files straight through the kit's API (loader, runner, SQLite backend).

Faster than going through pytester, and it gives the tests every ScenarioResult to
inspect, not just pass/fail counts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

import psycopg
import pytest

from conformance.backends.base import Backend
from conformance.backends.postgres import SCHEMA_PREFIX
from conformance.backends.sqlite import SqliteBackend
from conformance.ddl_script import DdlScript
from conformance.execution.run import not_applicable, run_scenario
from conformance.execution.settings import with_settings
from conformance.resources import bundled_scenarios
from conformance.results.outcome import ScenarioResult
from conformance.scenario.loader import load_files, scenario_paths
from conformance.scenario.objects import Scenario, ScenarioFile

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "scenarios"
BROKEN = REPO / "tests" / "broken"
BROKEN_MARIADB = BROKEN / "mariadb"
MARIADB_DDL = REPO / "ddl" / "mariadb-event-store.ddl"
SHIPPED_SQLITE_DDL = REPO / "ddl" / "sqlite-event-store.ddl"


@cache
def corpus_files() -> tuple[ScenarioFile, ...]:
    """The scenario files of this checkout, loaded and validated once per test session."""
    return tuple(load_files(scenario_paths([CORPUS])))


def corpus() -> list[Scenario]:
    return [scenario for file in corpus_files() for scenario in file.scenarios]


def run_on_sqlite(
    ddl_path: Path, scenarios: Iterable[Scenario], settings: bool = False
) -> list[ScenarioResult]:
    """Each scenario in a fresh SQLite store made from `ddl_path`, as the plugin runs it
    (a scenario needing what SQLite lacks is skipped there, so it is left out here);
    `settings`: each also under the session settings it runs under in the plugin."""
    return run_on(SqliteBackend(None, DdlScript.read(ddl_path)), scenarios, settings=settings)


def run_on(
    backend: Backend,
    scenarios: Iterable[Scenario],
    first: Callable[[Backend], None] | None = None,
    settings: bool = False,
) -> list[ScenarioResult]:
    """Each scenario the backend can run (through its profile), in a fresh store of its own,
    as the plugin runs it; `settings`: and its variants under the backend's session
    settings, as the plugin makes them."""
    backend.prepare()
    try:
        if first is not None:
            first(backend)  # what the plugin does before any scenario (the preflight)
        scenarios = with_settings(list(scenarios), backend) if settings else list(scenarios)
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


def broken_rule(path: Path) -> str:
    """The rule a broken DDL breaks, from its name: `chain.linear.ddl` and
    `chain.linear--variant.ddl` both break chain.linear."""
    return path.stem.split("--")[0]


def bundled_count(
    rule: str | None = None, settings: bool = True, backend: type[Backend] = SqliteBackend
) -> int:
    """Items of the bundled suite on `backend` (naming `rule`): the scenarios and, with
    `settings`, their session-setting variants, as the plugin collects them."""
    scenarios = [s for f in load_files(scenario_paths([bundled_scenarios()])) for s in f.scenarios]
    if settings:
        scenarios = with_settings(scenarios, backend)  # type: ignore[arg-type]
    return sum(1 for s in scenarios if rule is None or rule in s.all_rules)


def own_schemas(dsn: str, pid: int | None = None) -> list[str]:
    """Schemas on the server that this process's backends created."""
    pattern = f"{SCHEMA_PREFIX}{pid or os.getpid()}\\_%"
    with psycopg.connect(dsn, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s ORDER BY 1", (pattern,)
        ).fetchall()
    return [row[0] for row in rows]


# The fixture that gives each server engine's DSN (tests/conftest.py); SQLite needs none.
DSN_FIXTURES = {"postgresql": "pg_dsn", "postgres": "pg_dsn", "mariadb": "mariadb_dsn"}


def engine_dsn(request: pytest.FixtureRequest, engine: str) -> str | None:
    """The DSN of an engine's test server, or None for SQLite (temporary files)."""
    fixture = DSN_FIXTURES.get(engine)
    return request.getfixturevalue(fixture) if fixture else None


def engine_lacks(backend: type[Backend]) -> tuple[str, ...]:
    """Every reason the backend gives for a scenario it cannot run (a capability or a
    write form its engine lacks)."""
    return (*backend.limitations.values(), *backend.missing_write_forms.values())


def assert_corpus_passes(result: pytest.RunResult, backend: type[Backend]) -> None:
    """Every bundled scenario passed, but those not applicable for something the engine
    lacks, each named in the summary with one of the backend's own reasons."""
    outcomes = result.parseoutcomes()
    passed, skipped = outcomes.get("passed", 0), outcomes.get("skipped", 0)
    assert (outcomes.get("failed", 0), outcomes.get("errors", 0)) == (0, 0), outcomes
    assert passed + skipped == bundled_count(backend=backend), outcomes
    reasons = [line for line in result.outlines if ": not applicable: " in line]
    assert len(reasons) == skipped, reasons
    lacks = engine_lacks(backend)
    assert all(any(reason in line for reason in lacks) for line in reasons), reasons


def sqlite_not_applicable() -> int:
    """Bundled scenarios needing what SQLite lacks (concurrent writers, a MERGE, a bulk
    load): skipped, never passed."""
    backend = SqliteBackend(None, DdlScript.read(SHIPPED_SQLITE_DDL))
    try:
        files = load_files(scenario_paths([bundled_scenarios()]))
        items = with_settings([s for f in files for s in f.scenarios], backend)
        return sum(1 for s in items if not_applicable(s, backend))
    finally:
        backend.close()
