"""The profile test DDLs and profiles, and how to run the bundled corpus through them."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import corpus, run_on

from conformance.backends.base import Backend
from conformance.ddl_script import DdlScript
from conformance.execution.preflight import preflight
from conformance.fuzz.machine import FuzzReport, fuzz
from conformance.results.outcome import ScenarioResult
from conformance.spec.profile import load_profile

HERE = Path(__file__).resolve().parent
DDL = HERE / "ddl"
BROKEN = DDL / "broken"
FUNCTION_PROFILE = HERE / "postgres-append-function.yaml"
VIEW_PROFILE = HERE / "sqlite-append-view.yaml"


def run_corpus(
    backend_type: type[Backend], dsn: str | None, ddl: Path, profile: str | Path
) -> list[ScenarioResult]:
    """The bundled corpus through `profile`, after the preflight the plugin runs first."""
    backend = backend_type(dsn, DdlScript.read(ddl))
    backend.profile = load_profile(str(profile))
    return run_on(backend, corpus(), first=preflight)


def failed(results: list[ScenarioResult]) -> list[str]:
    return [r.scenario.name for r in results if not r.passed]


def run_kit(pytester: pytest.Pytester, ddl: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest(f"--ddl={ddl}", "-p", "no:cacheprovider", "-q", *args)


def fuzz_through(
    backend_type: type[Backend], dsn: str | None, ddl: Path, profile: str | Path, examples: int
) -> FuzzReport:
    """The fuzzer on `ddl` through `profile`, with a fixed seed."""
    backend = backend_type(dsn, DdlScript.read(ddl))
    backend.profile = load_profile(str(profile))
    backend.prepare()
    try:
        return fuzz(backend, seed=1, examples=examples)
    finally:
        backend.close()
