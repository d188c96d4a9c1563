"""Runner semantics checked directly against the shipped SQLite DDL."""

from __future__ import annotations

import textwrap
from pathlib import Path

from conformance.backends.sqlite import SqliteBackend
from conformance.ddl_script import DdlScript
from conformance.results.outcome import ScenarioResult
from conformance.scenario.loader import load_file


def run_text(tmp_path: Path, ddl: Path, text: str) -> list[ScenarioResult]:
    from conformance.execution.run import run_scenario

    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    backend = SqliteBackend(None, DdlScript.read(ddl))
    backend.prepare()
    results = []
    try:
        for scenario in load_file(path).scenarios:
            store = backend.create_store()
            try:
                results.append(run_scenario(scenario, store, backend))
            finally:
                store.close()
    finally:
        backend.close()
    return results


def test_a_name_given_with_a_literal_id_stands_for_that_literal(
    tmp_path: Path, sqlite_ddl: Path
) -> None:
    (result,) = run_text(
        tmp_path,
        sqlite_ddl,
        """\
        definitions:
          order: [created, paid]
        history:
          - append: {entity: order, entityKey: o-1, event: created, id: first,
                     eventId: 6F9619FF-8B86-D011-B42D-00C04FC964FF, command: c1,
                     commandId: 0f8fad5b-d9cb-469f-a165-70867728950e}
        scenarios:
          - name: previous and command names resolve to the literals
            rules: [chain.previous_exists]
            steps:
              - append: {entity: order, entityKey: o-1, event: paid, id: paid, previous: first}
                expect: accepted
              - append: {entity: order, entityKey: o-2, event: created, command: c1}
                expect: rejected
                rules: [appends.unique_command_id]
              - replay: {entity: order, entityKey: o-1}
                expect: {events: [first, paid]}
        """,
    )
    assert result.passed, result.failure
    assert len([s for s in result.steps if not s.setup]) == 3


def test_an_update_aimed_at_nothing_is_not_counted_as_proof(
    tmp_path: Path, sqlite_ddl: Path
) -> None:
    (result,) = run_text(
        tmp_path,
        sqlite_ddl,
        """\
        scenarios:
          - name: nothing to update
            rules: [immutability.events]
            steps:
              - update: {eventId: 0f8fad5b-d9cb-469f-a165-70867728950e}
                set: {data: x}
                expect: unchanged
        """,
    )
    assert not result.passed
    assert result.failure is not None and "would prove nothing" in result.failure.detail
