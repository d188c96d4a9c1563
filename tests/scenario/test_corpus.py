"""The bundled scenario corpus: it passes against the shipped SQLite DDL and covers every rule.

How broken DDLs are caught is tests/backends/test_broken_ddls.py; this file checks the corpus
itself: that the reference DDL passes it, and that no rule is left without cases.
"""

from __future__ import annotations

from collections import defaultdict

from helpers import SHIPPED_SQLITE_DDL, corpus, corpus_files, run_on_sqlite

from conformance.backends.sqlite import SqliteBackend
from conformance.ddl_script import DdlScript
from conformance.execution.run import not_applicable
from conformance.execution.settings import SETTINGS_RULE
from conformance.results.failure import failure_text
from conformance.scenario.objects import (
    AppendStep,
    DefineStep,
    DeleteStep,
    RaceStep,
    Scenario,
    Step,
    TruncateStep,
    UpdateStep,
    WriteStep,
)
from conformance.spec.catalogue import load_catalogue

MINIMUM_SCENARIOS = 60

# Rules whose statement only has one side. Every other rule needs a case where the store
# must accept and a case where it must refuse (or leave the rows unchanged).
ONE_SIDED = {
    "definitions.idempotent": "accepted",  # a repeated definition must be accepted; no refusal
    "definitions.immutable": "rejected",  # no change to a definition is ever allowed
    "appends.empty_data": "accepted",  # refusing NULL data is appends.required
    "immutability.events": "rejected",  # no change to an event is ever allowed
    "replay.order_and_data": "accepted",  # a replay is a read: it returns, it never refuses
    "races.independent_commits": "accepted",  # writers to different instances all commit
    "races.independent_writers": "accepted",  # ... and do not wait for each other
    "races.no_trace": "accepted",  # rolled-back appends; every step checks rejections leave none
}


def test_the_whole_corpus_passes_against_the_shipped_sqlite_ddl() -> None:
    """... under every session setting too."""
    scenarios = corpus()
    results = run_on_sqlite(SHIPPED_SQLITE_DDL, scenarios, settings=True)

    backend = SqliteBackend(None, DdlScript.read(SHIPPED_SQLITE_DDL))
    try:
        applicable = [s for s in scenarios if not not_applicable(s, backend)]
    finally:
        backend.close()
    assert len([r for r in results if not r.scenario.setting]) == len(applicable)
    assert {r.scenario.setting for r in results} >= {
        setting.label for setting in SqliteBackend.session_settings
    }
    failures = [result for result in results if not result.passed]
    assert not failures, "\n\n".join(failure_text(result) for result in failures)


def test_the_corpus_has_enough_scenarios() -> None:
    assert len(corpus()) >= MINIMUM_SCENARIOS


def test_every_rule_has_a_scenario() -> None:
    """Every rule but session.settings, which the kit's setting variants name."""
    named = {rule for scenario in corpus() for rule in scenario.all_rules}
    assert set(load_catalogue().ids) - named == {SETTINGS_RULE}


def test_every_file_says_what_it_is_about() -> None:
    undescribed = [file.path for file in corpus_files() if not file.description.strip()]
    assert not undescribed


def test_every_rule_has_an_accepted_and_a_rejected_case() -> None:
    sides = sides_by_rule(corpus())
    missing = {
        rule: sorted({"accepted", "rejected"} - sides[rule])
        for rule in load_catalogue().ids
        if rule not in ONE_SIDED
        and rule != SETTINGS_RULE
        and sides[rule] != {"accepted", "rejected"}
    }
    assert not missing


def test_one_sided_rules_have_their_side_and_only_it() -> None:
    """A one-sided rule that gains its other side is no longer an exception: drop it above."""
    sides = sides_by_rule(corpus())
    wrong = {rule: sorted(sides[rule]) for rule, side in ONE_SIDED.items() if sides[rule] != {side}}
    assert not wrong


def sides_by_rule(scenarios: list[Scenario]) -> dict[str, set[str]]:
    """rule -> which outcomes the corpus demands for it, from every step of every scenario
    naming it and every step that names it itself."""
    sides: dict[str, set[str]] = defaultdict(set)
    for scenario in scenarios:
        for step in scenario.steps:
            for rule in {*scenario.rules, *step.rules}:
                sides[rule].add(side(step))
    return sides


def side(step: Step) -> str:
    """`rejected` when the store must refuse (or ignore) the step, else `accepted`."""
    if isinstance(step, (AppendStep, DefineStep)):
        return "rejected" if step.expect == "rejected" else "accepted"
    if isinstance(step, (UpdateStep, DeleteStep, TruncateStep)):
        return "rejected"
    if isinstance(step, RaceStep):  # `one`: all but one racer must be refused
        return "rejected" if step.expect == "one" else "accepted"
    if isinstance(step, WriteStep):  # assigned: the client's values are refused or replaced
        return "accepted" if step.expect in ("accepted", "exact") else "rejected"
    return "accepted"
