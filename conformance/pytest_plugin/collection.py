"""The pytest plugin: `pytest --ddl=FILE [--dsn=URL]` runs every scenario as a test item.

Scenario files are loaded and validated when pytest configures, so that a malformed
file, a missing DDL, an unreachable server or a store lacking a table or column the
spec's statements use stops the run with one line before anything runs. Each scenario becomes one item named `file::scenario`, marked with
its rule ids; each item gets a fresh store from the backend and drops it after.

PYTEST_DONT_REWRITE: no test code here, so pytest need not rewrite its asserts.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conformance.backends import Backend, backend_class
from conformance.ddl_script import DdlScript
from conformance.errors import KitError
from conformance.execution.preflight import preflight
from conformance.execution.run import not_applicable, run_scenario
from conformance.execution.settings import setting_variants
from conformance.pytest_plugin.options import Settings, add_options, settings
from conformance.resources import bundled_scenarios
from conformance.results.failure import failure_text
from conformance.results.outcome import ScenarioResult
from conformance.scenario.loader import load_file, scenario_paths
from conformance.scenario.objects import Scenario, ScenarioFile
from conformance.scenario.selfcheck import self_check
from conformance.spec.catalogue import Catalogue, load_catalogue
from conformance.spec.profile import Profile, load_profile


@dataclass
class Kit:
    """What one run of the plugin works with: the DDL, the backend, the scenarios."""

    ddl: DdlScript
    profile: Profile
    backend: Backend
    catalogue: Catalogue
    roots: list[Path]
    files: dict[Path, ScenarioFile] = field(default_factory=dict)
    results: list[ScenarioResult] = field(default_factory=list)


KIT_KEY = pytest.StashKey[Kit]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    given = settings(config)
    if given.ddl is None:
        return
    try:
        kit = _make_kit(given, preflight_store=not hasattr(config, "workerinput"))
    except KitError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[KIT_KEY] = kit
    config.add_cleanup(kit.backend.close)
    _interrupt_on_sigterm(config)
    for rule in kit.catalogue.rules:
        config.addinivalue_line("markers", f"{rule.id}: {rule.level.value} {rule.statement}")
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = [str(root) for root in kit.roots]


def _interrupt_on_sigterm(config: pytest.Config) -> None:
    """SIGTERM (a cancelled CI job, `timeout`, `kill`) ends the run as Ctrl-C does, so the
    backend still drops every store it made; by default Python would stop on the spot."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    config.add_cleanup(lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL))


def _make_kit(given: Settings, preflight_store: bool = True) -> Kit:
    """The run's kit; `preflight_store`: check the store's tables and columns (once per run:
    pytest-xdist workers leave it to the process that started them)."""
    assert given.ddl is not None
    ddl = DdlScript.read(given.ddl)
    profile = load_profile(given.profile, "--profile")
    catalogue = load_catalogue()
    roots = ([bundled_scenarios()] if given.bundled else []) + list(given.scenarios)
    if not roots:
        raise KitError("--no-bundled: no scenario files left to run (give --scenarios PATH)")
    files = {}
    for path in scenario_paths(roots):
        files[path.resolve()] = load_file(path, catalogue, display=_display(path, roots))
        self_check(files[path.resolve()])
    backend = backend_class(given.dsn)(given.dsn, ddl)
    backend.profile = profile
    backend.client_account = True  # client steps run as a DML-only account, where it can
    try:
        backend.prepare()
        if preflight_store:
            preflight(backend)
    except BaseException:
        backend.close()  # what the backend made before failing (a temporary folder, a template)
        raise
    return Kit(ddl, profile, backend, catalogue, roots, files)


def _display(path: Path, roots: list[Path]) -> str:
    """Bundled files are shown as scenarios/NAME; a user's as the path they gave."""
    bundled = bundled_scenarios()
    if path.is_relative_to(bundled):
        return f"scenarios/{path.relative_to(bundled)}"
    return str(path)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    kit = config.stash.get(KIT_KEY, None)
    if kit is None:
        return None
    count = sum(len(f.scenarios) for f in kit.files.values())
    return [
        f"conformance: ddl {kit.ddl.path} (sha256 {kit.ddl.sha256[:12]})",
        f"conformance: backend {kit.backend.name}, {kit.backend.server_version()}",
        f"conformance: profile {kit.profile.label} (sha256 {kit.profile.sha256[:12]})",
        f"conformance: {count} scenarios in {len(kit.files)} files",
    ]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    kit = parent.config.stash.get(KIT_KEY, None)
    if kit is None or file_path.suffix not in (".yaml", ".yml"):
        return None
    resolved = file_path.resolve()
    if resolved not in kit.files:
        if not parent.session.isinitpath(file_path):
            return None
        try:
            kit.files[resolved] = load_file(file_path, kit.catalogue)
            self_check(kit.files[resolved])
        except KitError as exc:
            raise pytest.UsageError(str(exc)) from None
    return ScenarioFileCollector.from_parent(parent, path=file_path)


class ScenarioFileCollector(pytest.File):
    def collect(self):
        kit = self.config.stash[KIT_KEY]
        for scenario in kit.files[self.path.resolve()].scenarios:
            yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)
            for variant in setting_variants(scenario, kit.backend):
                yield ScenarioItem.from_parent(self, name=variant.name, scenario=variant)


class ScenarioFailed(Exception):
    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.scenario.name)
        self.result = result


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.result: ScenarioResult | None = None
        for rule_id in scenario.all_rules:
            self.add_marker(rule_id)
        reason = not_applicable(scenario, self.config.stash[KIT_KEY].backend)
        if reason:  # reported as a skip with the reason, never as a pass
            self.add_marker(pytest.mark.skip(reason=f"not applicable: {reason}"))

    def runtest(self) -> None:
        kit = self.config.stash[KIT_KEY]
        store = kit.backend.create_store()
        try:
            result = run_scenario(self.scenario, store, kit.backend)
        finally:
            store.close()
        self.result = result
        kit.results.append(result)
        if not result.passed:
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ScenarioFailed):
            return failure_text(excinfo.value.result)
        if isinstance(excinfo.value, KitError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, self.scenario.location.line - 1, f"{self.scenario.location}: {self.name}"
