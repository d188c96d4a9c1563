"""The kit can fail: each deliberately broken DDL is caught by its rule's scenarios only.

Every file in tests/broken/sqlite/ is a copy of the shipped SQLite DDL with exactly one
rule taken out. It is named for that rule (`chain.linear.ddl`; a second way of breaking
the same rule adds `--variant`). Running the whole corpus against it must fail at least
one scenario, and every failing scenario must blame that rule and no other: a scenario
that fails for a rule it does not name would send a DDL porter to the wrong place.

The corpus runs with its session-setting variants (conformance/execution/settings.py): a
variant blames the rule its step breaks plus session.settings. A DDL named for
session.settings holds on the driver's defaults and breaks only under a setting: every
failing scenario is a variant, and blames session.settings.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import broken_rule, corpus, run_on_sqlite

from conformance.execution.settings import SETTINGS_RULE
from conformance.results.failure import failure_text
from conformance.spec.catalogue import load_catalogue

BROKEN = Path(__file__).resolve().parents[1] / "broken" / "sqlite"
NO_EVENTS_TABLE = BROKEN / "no-events-table.ddl"
RULE_BREAKS = sorted(path for path in BROKEN.glob("*.ddl") if path != NO_EVENTS_TABLE)


def test_every_file_names_a_catalogued_rule() -> None:
    unknown = [path.name for path in RULE_BREAKS if broken_rule(path) not in load_catalogue()]
    assert not unknown


def concurrent_only() -> set[str]:
    """Rules only concurrent writers can break: SQLite runs one writer at a time, so a
    SQLite DDL breaks a race rule only with a rule it builds on (caught there), and the
    broken DDLs for race rules are PostgreSQL ones (tests/broken/postgres/)."""
    return {rule.id for rule in load_catalogue().rules if rule.id.startswith("races.")}


def test_every_rule_has_a_broken_ddl() -> None:
    broken = {broken_rule(path) for path in RULE_BREAKS}
    assert set(load_catalogue().ids) - broken - concurrent_only() == set()


def also_failing(rule: str) -> set[str]:
    """Race rules that build on `rule`: breaking it makes their races fail too."""
    return {r.id for r in load_catalogue().rules if rule in r.builds_on}


@pytest.mark.parametrize("path", RULE_BREAKS, ids=lambda path: path.stem)
def test_broken_ddl_is_caught_by_its_rule_only(path: Path) -> None:
    rule = broken_rule(path)
    assert f"Breaks exactly one rule: {rule}\n" in path.read_text(encoding="utf-8")
    results = run_on_sqlite(path, corpus(), settings=True)
    failures = [result for result in results if not result.passed]

    assert failures, f"{path.name}: no scenario fails, so the kit cannot see {rule} broken"
    if rule == SETTINGS_RULE:
        as_written = [r for r in failures if not r.scenario.setting]
        assert not as_written, "\n\n".join(failure_text(r) for r in as_written)
        unblamed = [r for r in failures if SETTINGS_RULE not in r.violated_rules]
        assert not unblamed, "\n\n".join(failure_text(r) for r in unblamed)
        return
    blamed_elsewhere = [
        r
        for r in failures
        if not set(r.violated_rules) - _setting_blame(r) <= {rule} | also_failing(rule)
    ]
    assert any(set(r.violated_rules) == {rule} for r in failures)
    assert not blamed_elsewhere, "\n\n".join(failure_text(r) for r in blamed_elsewhere)


def _setting_blame(result) -> set[str]:
    """What a session-setting variant blames besides the rule its step breaks."""
    return {SETTINGS_RULE} if result.scenario.setting else set()


def test_a_ddl_without_an_events_table_fails_every_scenario_as_an_error() -> None:
    results = run_on_sqlite(NO_EVENTS_TABLE, corpus())

    passed = [r.scenario.name for r in results if r.passed]
    assert not passed
    not_errors = [r for r in results if r.failure is None or r.failure.actual != "error"]
    assert not not_errors, "\n\n".join(failure_text(r) for r in not_errors)
