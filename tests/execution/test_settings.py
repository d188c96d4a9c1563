"""Session settings as a dimension: the write scenarios run again under each setting a
backend lists, as items of their own, and a break there blames session.settings too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import BROKEN, SHIPPED_SQLITE_DDL, corpus, run_on, run_on_sqlite

from conformance.backends.base import SessionSetting
from conformance.backends.sqlite import SqliteBackend
from conformance.ddl_script import DdlScript
from conformance.execution.settings import is_write_scenario, setting_variants
from conformance.scenario.objects import ReplayStep
from conformance.spec.catalogue import SETTINGS_RULE, load_catalogue

CHECK_ONLY = BROKEN / "sqlite" / "session.settings--check-only-uuid.ddl"
IGNORE_CHECKS = "ignore_check_constraints=ON"


def test_the_rule_is_a_must_rule_of_the_catalogue() -> None:
    assert load_catalogue()[SETTINGS_RULE].level.value == "MUST"


def test_only_write_scenarios_naming_a_weakened_rule_get_variants() -> None:
    scenarios = corpus()
    replays = [s for s in scenarios if all(isinstance(st, ReplayStep) for st in s.steps)]
    assert replays and not any(is_write_scenario(s) for s in replays)
    for scenario in scenarios:
        for variant in setting_variants(scenario, SqliteBackend):  # type: ignore[arg-type]
            assert is_write_scenario(scenario)
            (setting,) = [s for s in SqliteBackend.session_settings if s.label == variant.setting]
            assert set(setting.weakens) & set(scenario.all_rules)
            assert variant.name == f"{scenario.name}[{setting.label}]"
            assert variant.all_rules == (*scenario.all_rules, SETTINGS_RULE) or set(
                variant.all_rules
            ) == {*scenario.all_rules, SETTINGS_RULE}


def test_a_setting_runs_on_every_session_of_the_store() -> None:
    class Probe(SqliteBackend):
        session_settings = (SessionSetting("probe", ("PRAGMA case_sensitive_like=ON",)),)

    (scenario,) = [s for s in corpus() if s.name == "an append based on a stale replay is rejected"]
    (variant,) = setting_variants(scenario, Probe)  # type: ignore[arg-type]
    results = run_on(Probe(None, DdlScript.read(SHIPPED_SQLITE_DDL)), [variant])
    assert [r.passed for r in results] == [True]
    assert results[0].scenario.setting == "probe"


def test_a_break_under_a_setting_blames_the_rule_and_session_settings() -> None:
    results = run_on_sqlite(CHECK_ONLY, corpus(), settings=True)
    failed = [r for r in results if not r.passed]
    assert failed and {r.scenario.setting for r in failed} == {IGNORE_CHECKS}
    assert all(set(r.violated_rules) == {"appends.uuid_ids", SETTINGS_RULE} for r in failed)


def test_the_variants_are_items_and_the_report_names_their_setting(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest(
        f"--ddl={CHECK_ONLY}", "-p", "no:cacheprovider", "-k", "eventId and letters and beyond",
        "--conformance-report=report.json",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            f"FAILED *ids.yaml::a UUID-shaped eventId with letters beyond f is rejected[[]{IGNORE_CHECKS}[]]*"
        ]
    )
    data = json.loads(Path(pytester.path / "report.json").read_text())
    by_setting = {s["setting"]: s for s in data["scenarios"]}
    assert by_setting[None]["status"] == "passed"
    assert by_setting[IGNORE_CHECKS]["violated_rules"] == ["appends.uuid_ids", SETTINGS_RULE]
    rows = {r["id"]: (r["passed"], r["failed"], r["status"]) for r in data["rules"]}
    # The scenario as written counts for its rule; the variant counts where it broke.
    assert rows["appends.uuid_ids"] == (1, 1, "broken")
    assert rows[SETTINGS_RULE] == (0, 1, "broken")
