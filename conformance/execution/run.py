"""The one entry point of execution: run a scenario, single-session or with sessions;
and whether a scenario can run on this backend through its profile at all."""

from __future__ import annotations

from collections.abc import Iterator

from conformance.backends.base import Backend, Store
from conformance.execution.multi import ConcurrentRun
from conformance.execution.settings import SettingStore, blame_setting, setting_of
from conformance.execution.single import ScenarioRun, run_setup
from conformance.results.outcome import ScenarioResult
from conformance.scenario.objects import (
    Append,
    AppendStep,
    DefineStep,
    DeleteStep,
    Literal,
    RaceStep,
    Scenario,
    Step,
    Symbol,
    TruncateStep,
    UpdateStep,
    WriteStep,
)
from conformance.spec.profile import CLIENT_EVENT_IDS, DEFINITIONS, TABLE_WRITES

# Rules that cannot be checked without a definitions table.
DEFINITION_RULES = ("definitions.", "appends.defined_names")


def run_scenario(scenario: Scenario, store: Store, backend: Backend) -> ScenarioResult:
    """Run the setup and every step; stop at the first step that fails. A variant made for a
    session setting runs with the setting on every session of the store."""
    setting = setting_of(scenario, backend)
    if setting is not None:
        store = SettingStore(store, setting)
    kind = ConcurrentRun if scenario.concurrent else ScenarioRun
    run = kind(scenario, store, backend)
    result = ScenarioResult(scenario)
    try:
        if run_setup(run, result):
            run.run_steps(result)
    finally:
        run.close()
        result.placement = run.placement()
    if setting is not None:
        blame_setting(result)
    return result


def not_applicable(scenario: Scenario, backend: Backend) -> str | None:
    """Why the scenario cannot run here: the engine lacks a capability, or the DDL (as its
    profile says) lacks something the scenario needs. None if it can run."""
    return (
        backend.not_applicable(scenario.requirements)
        or backend.store_not_applicable(scenario.requirements)
        or backend.profile.not_applicable(
            profile_needs(scenario), backend.client_statements.client_event_ids
        )
        or _write_forms_not_applicable(scenario, backend)
    )


def _write_forms_not_applicable(scenario: Scenario, backend: Backend) -> str | None:
    forms = [step.form for step in scenario.steps if isinstance(step, WriteStep)]
    if not forms:
        return None
    for form in dict.fromkeys(forms):
        missing = backend.write_form_missing(form)
        if missing is not None:
            return f"{form}: {missing}"
    return write_form_not_applicable(backend)


def write_form_not_applicable(backend: Backend, sends_event_id: bool = True) -> str | None:
    """Why a write form that goes around the profile's client statements (a multi-row
    INSERT, INSERT ... SELECT, an upsert aimed at the events table) cannot be checked
    through this profile; None when it can. The hook for such forms: a function-only
    API says so with `lacks: {table-writes: why}`."""
    needs = (TABLE_WRITES, CLIENT_EVENT_IDS) if sends_event_id else (TABLE_WRITES,)
    return backend.profile.not_applicable(needs, backend.client_statements.client_event_ids)


def profile_needs(scenario: Scenario) -> tuple[str, ...]:
    """What the scenario needs from the DDL beyond the client statements."""
    needs: list[str] = []
    steps = (*scenario.file.history, *scenario.steps)
    if any(rule.startswith(DEFINITION_RULES) for rule in scenario.all_rules) or any(
        _touches_definitions(step) for step in steps
    ):
        needs.append(DEFINITIONS)
    if _sends_own_event_ids(steps):
        needs.append(CLIENT_EVENT_IDS)
    return tuple(needs)


def _touches_definitions(step: Step) -> bool:
    if isinstance(step, DefineStep):
        return True
    if isinstance(step, TruncateStep):
        return step.table == "entity_events"
    if isinstance(step, (UpdateStep, DeleteStep)):
        target = step.target
        return target.definition is not None or target.table == "entity_events"
    return False


def _sends_own_event_ids(steps: tuple[Step, ...]) -> bool:
    """A literal eventId, an id appended again after it was accepted, or a literal event
    targeted: the client must choose the eventId for the step to mean what it says."""
    named: set[str] = set()
    for step in steps:
        if isinstance(step, (UpdateStep, DeleteStep)) and isinstance(step.target.event, Literal):
            return True
        for append in _appends(step):
            if isinstance(append.event_id, Literal):
                return True
            if isinstance(append.event_id, Symbol):
                if append.event_id.name in named:
                    return True
                if getattr(step, "expect", None) != "rejected":  # a rejected one binds nothing
                    named.add(append.event_id.name)
    return False


def _appends(step: Step) -> Iterator[Append]:
    if isinstance(step, AppendStep):
        yield step.append
    elif isinstance(step, (RaceStep, WriteStep)):
        yield from step.appends
