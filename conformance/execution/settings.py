"""Session settings as a dimension: the write scenarios run again under every setting a
client without privileges can change on its own session (`Backend.session_settings`).

Each variant is a scenario of its own, named `scenario[label]`, naming its rules plus
`session.settings`; a step that fails under the setting blames both, so the matrix and
the reports show which setting broke what. The setting applies to every session of the
variant's store right after it connects: the client's sessions, and in a single-session
run the kit's own, which shares the client's (the kit's reads are plain SELECTs, which no
setting of the lists makes lie).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from conformance.backends.base import Backend, Session, SessionSetting, Store
from conformance.results.outcome import ScenarioResult
from conformance.scenario.objects import (
    AppendStep,
    DefineStep,
    DeleteStep,
    RaceStep,
    Scenario,
    TruncateStep,
    UpdateStep,
)
from conformance.spec.catalogue import SETTINGS_RULE, Level, load_catalogue

WRITE_STEPS = (AppendStep, DefineStep, UpdateStep, DeleteStep, TruncateStep, RaceStep)


def is_write_scenario(scenario: Scenario) -> bool:
    """A scenario whose own steps write (or try to): not a pure replay of its history."""
    return any(isinstance(step, WRITE_STEPS) for step in scenario.steps)


def setting_variants(scenario: Scenario, backend: Backend) -> Iterator[Scenario]:
    """The scenario under each of the backend's session settings that could weaken one of
    its rules; nothing for a scenario that does not write."""
    if scenario.setting or not is_write_scenario(scenario):
        return
    rules = set(scenario.all_rules)
    for setting in backend.session_settings:
        if setting.weakens and not rules & set(setting.weakens):
            continue
        yield replace(
            scenario,
            name=f"{scenario.name}[{setting.label}]",
            rules=(*scenario.rules, SETTINGS_RULE),
            setting=setting.label,
        )


def with_settings(scenarios: list[Scenario], backend: Backend) -> list[Scenario]:
    """Each scenario followed by its setting variants."""
    return [v for s in scenarios for v in (s, *setting_variants(s, backend))]


def setting_of(scenario: Scenario, backend: Backend) -> SessionSetting | None:
    if not scenario.setting:
        return None
    for setting in backend.session_settings:
        if setting.label == scenario.setting:
            return setting
    raise LookupError(f"the {backend.name} backend has no session setting {scenario.setting!r}")


class SettingStore(Store):
    """A store whose every session runs the setting's statements right after connecting."""

    def __init__(self, store: Store, setting: SessionSetting) -> None:
        self.inner = store
        self.setting = setting
        self.commits_together = store.commits_together

    def session(self) -> Session:
        session = self.inner.session()
        try:
            for statement in self.setting.statements:
                session.execute(statement)
        except BaseException:
            session.close()
            raise
        return session

    def waiting(self, session: Session) -> bool | None:
        return self.inner.waiting(session)

    def reapply_ddl(self) -> None:
        self.inner.reapply_ddl()

    def close(self) -> None:
        self.inner.close()


def blame_setting(result: ScenarioResult) -> None:
    """A step that broke a MUST rule under a setting blames `session.settings` besides its
    rules (a step that names none blames the scenario's rules, which include it). A SHOULD
    rule broken under a setting stays a warning: its step blames that rule alone."""
    catalogue = load_catalogue()
    steps = []
    for step in result.steps:
        if not step.passed and step.violated and SETTINGS_RULE not in step.violated:
            should = all(r in catalogue and catalogue[r].level is Level.SHOULD
                         for r in step.violated)  # fmt: skip
            if not should:
                step = replace(step, violated=(*step.violated, SETTINGS_RULE))
        steps.append(step)
    result.steps = steps
