"""Loader: scenario files become objects, and every mistake is one line naming file:line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conformance.errors import ScenarioError
from conformance.scenario.loader import load_file
from conformance.scenario.objects import (
    AppendStep,
    Fresh,
    Literal,
    ReplayStep,
    Symbol,
    TruncateStep,
    UpdateStep,
)

GOOD = """\
description: a small file
definitions:
  order: [created, paid]
history:
  - append: {entity: order, entityKey: o-1, event: created, id: first}
scenarios:
  - name: paid follows created
    rules: [chain.previous_exists]
    steps:
      - append: {entity: order, entityKey: o-1, event: paid, id: second, previous: first}
        expect: accepted
      - replay: {entity: order, entityKey: o-1}
        expect: {events: [first, second]}
      - update: {event: first}
        set: {data: changed}
        expect: unchanged
        rules: [immutability.events]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ScenarioError) as excinfo:
        load_file(write(tmp_path, text))
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_a_valid_file_becomes_scenarios_with_lines(tmp_path: Path) -> None:
    file = load_file(write(tmp_path, GOOD))
    assert file.definitions == (("order", "created"), ("order", "paid"))
    assert file.history[0].append.event_id == Symbol("first")
    (scenario,) = file.scenarios
    assert scenario.location.line == 7
    append, replay, update = scenario.steps
    assert isinstance(append, AppendStep) and append.location.line == 10
    assert append.append.previous_id == Symbol("first")
    assert isinstance(append.append.command_id, Fresh)
    assert isinstance(replay, ReplayStep) and replay.expected_events == ("first", "second")
    assert isinstance(update, UpdateStep) and update.rules == ("immutability.events",)
    assert scenario.all_rules == ("chain.previous_exists", "immutability.events")


def test_literal_values_are_kept_as_written(tmp_path: Path) -> None:
    text = GOOD.replace("id: second, previous: first", "eventId: not-a-uuid, previousId: null")
    text = text.replace("events: [first, second]", "events: [first]")
    step = load_file(write(tmp_path, text)).scenarios[0].steps[0]
    assert step.append.event_id == Literal("not-a-uuid")
    assert step.append.previous_id == Literal(None)


def test_repeat_builds_large_data(tmp_path: Path) -> None:
    text = GOOD.replace("previous: first}", "previous: first, data: {repeat: ab, times: 4}}")
    assert load_file(write(tmp_path, text)).scenarios[0].steps[0].append.data == "abababab"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("        expect: accepted\n", ""),
            "case.yaml:10: scenarios[0].steps[0]: 'expect' is a required property",
        ),
        (
            ("[chain.previous_exists]", "[chain.no_such_rule]"),
            "case.yaml:8: scenarios[0].rules[0]: unknown rule",
        ),
        (
            ("previous: first}", "previous: ghost}"),
            "case.yaml:10: scenarios[0].steps[0].append.previous: symbolic id 'ghost'",
        ),
        (
            ("events: [first, second]", "events: [first, nobody]"),
            "case.yaml:13: scenarios[0].steps[1].expect.events[1]: symbolic id 'nobody'",
        ),
        (
            ("expect: unchanged", "expect: accepted"),
            "case.yaml:16: scenarios[0].steps[2].expect: 'unchanged' was expected",
        ),
        (
            ("- replay:", "- replay_all:"),
            "case.yaml:12: scenarios[0].steps[1]: a step needs one of define, append",
        ),
        (
            ("previous: first}", "previous: first, previousId: null}"),
            "case.yaml:10: scenarios[0].steps[0].append: give either previous",
        ),
        (
            ("set: {data: changed}", "set: {colour: red}"),
            "case.yaml:15: scenarios[0].steps[2].set: 'colour' is not one of",
        ),
    ],
)
def test_schema_and_consistency_errors_name_file_line_and_key(
    tmp_path: Path, change, expected
) -> None:
    old, new = change
    assert old in GOOD
    message = load_error(tmp_path, GOOD.replace(old, new, 1))
    assert expected in message


def test_a_truncate_step_names_one_of_the_two_tables(tmp_path: Path) -> None:
    truncate = GOOD.replace("- replay: {entity: order, entityKey: o-1}", "- truncate: events", 1)
    truncate = truncate.replace("expect: {events: [first, second]}", "expect: unchanged", 1)
    step = load_file(write(tmp_path, truncate)).scenarios[0].steps[1]
    assert step == TruncateStep(step.location, (), "events")
    message = load_error(tmp_path, truncate.replace("truncate: events", "truncate: orders"))
    assert "case.yaml:12: scenarios[0].steps[1].truncate: 'orders' is not one of" in message


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        GOOD.replace("    rules: [chain.previous_exists]", "    rules: [chain.previous_exists"),
    )
    assert message.startswith(f"{tmp_path / 'case.yaml'}:") and "malformed YAML" in message


def test_duplicate_keys_are_an_error_not_a_silent_overwrite(tmp_path: Path) -> None:
    message = load_error(
        tmp_path,
        GOOD.replace(
            "        expect: accepted\n", "        expect: accepted\n        expect: rejected\n"
        ),
    )
    assert "case.yaml:12:" in message and "duplicate key 'expect'" in message


def test_scenario_names_are_unique_in_a_file(tmp_path: Path) -> None:
    text = GOOD + textwrap.indent(
        "- name: paid follows created\n  rules: [chain.linear]\n  steps:\n    - check: autopopulated\n",
        "  ",
    )
    assert "name 'paid follows created' is used twice" in load_error(tmp_path, text)


def test_an_empty_file_is_an_error(tmp_path: Path) -> None:
    assert "case.yaml:1: empty scenario file" in load_error(tmp_path, "")


def test_a_history_reference_must_be_bound(tmp_path: Path) -> None:
    text = GOOD.replace("event: created, id: first}", "event: created, id: first, previous: zero}")
    assert "history[0].append.previous: symbolic id 'zero'" in load_error(tmp_path, text)
