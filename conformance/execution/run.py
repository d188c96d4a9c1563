"""The one entry point of execution: run a scenario, single-session or with sessions."""

from __future__ import annotations

from conformance.backends.base import Backend, Store
from conformance.execution.multi import ConcurrentRun
from conformance.execution.single import ScenarioRun, run_setup
from conformance.results.outcome import ScenarioResult
from conformance.scenario.objects import Scenario


def run_scenario(scenario: Scenario, store: Store, backend: Backend) -> ScenarioResult:
    """Run the setup and every step; stop at the first step that fails."""
    kind = ConcurrentRun if scenario.concurrent else ScenarioRun
    run = kind(scenario, store, backend)
    result = ScenarioResult(scenario)
    try:
        if run_setup(run, result):
            run.run_steps(result)
    finally:
        run.close()
        result.placement = run.placement()
    return result
