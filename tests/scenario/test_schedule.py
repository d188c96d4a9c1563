"""Multi-session scenarios at load time: the format, and every schedule mistake as one
line naming file:line before anything runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from races import SCHEDULE_HEADER

from conformance.errors import ScenarioError
from conformance.scenario.loader import load_file
from conformance.scenario.objects import DEFAULT_SESSION, AppendStep, RaceStep, TransactionStep

HEADER = (
    SCHEDULE_HEADER
    + """\
  - name: schedule
    rules: [races.same_previous]
    sessions: [alice, bob]
    steps:
"""
)

SHIP = "append: {entity: order, entityKey: o-1, event: shipped, previous: created}"


def load(tmp_path: Path, steps: str, header: str = HEADER):
    path = tmp_path / "case.yaml"
    path.write_text(header + textwrap.indent(textwrap.dedent(steps), "      "))
    return load_file(path, display="case.yaml")


def test_sessions_transactions_and_races_become_steps(tmp_path: Path) -> None:
    scenario = load(
        tmp_path,
        f"""\
        - {{session: alice, begin: true}}
        - session: alice
          {SHIP}
          expect: accepted
          nowait: true
        - {{session: alice, commit: true}}
        - race:
            - {SHIP}
            - {SHIP}
          expect: one
        """,
    ).scenarios[0]
    begin, append, commit, race = scenario.steps
    assert isinstance(begin, TransactionStep) and begin.action == "begin"
    assert begin.session == "alice" and begin.location.line == 10
    assert isinstance(append, AppendStep) and append.nowait and append.session == "alice"
    assert isinstance(commit, TransactionStep) and commit.action == "commit"
    assert isinstance(race, RaceStep) and race.expect == "one" and len(race.appends) == 2
    assert race.session == DEFAULT_SESSION
    assert scenario.concurrent and scenario.requirements == ("sessions",)


def test_a_scenario_without_sessions_is_unchanged(tmp_path: Path) -> None:
    header = HEADER.replace("    sessions: [alice, bob]\n", "")
    scenario = load(tmp_path, f"- {SHIP}\n  expect: accepted\n", header).scenarios[0]
    assert not scenario.concurrent and scenario.requirements == ()
    assert scenario.steps[0].session == DEFAULT_SESSION


@pytest.mark.parametrize(
    ("steps", "where", "words"),
    [
        (
            f"- session: carol\n  {SHIP}\n  expect: accepted\n",
            "case.yaml:10: scenarios[0].steps[0].session",
            "unknown session 'carol' (declared: alice, bob, default)",
        ),
        (
            "- {session: alice, commit: true}\n",
            "case.yaml:10: scenarios[0].steps[0].commit",
            "commit: session 'alice' has no open transaction",
        ),
        (
            "- {session: bob, begin: true}\n- {session: bob, rollback: true}\n"
            "- {session: bob, rollback: true}\n",
            "case.yaml:12: scenarios[0].steps[2].rollback",
            "rollback: session 'bob' has no open transaction",
        ),
        (
            "- {session: alice, begin: true}\n- {session: alice, begin: true}\n",
            "case.yaml:11: scenarios[0].steps[1].begin",
            "already has an open transaction, begun at case.yaml:10",
        ),
        (
            f"- {{session: alice, begin: true}}\n- session: alice\n  {SHIP}\n  expect: rejected\n"
            "- {session: alice, commit: true}\n",
            "case.yaml:14: scenarios[0].steps[2].commit",
            "had a step rejected in this transaction, so it can only roll back",
        ),
        (
            "- {session: alice, begin: true}\n- check: autopopulated\n",
            "case.yaml:11: scenarios[0].steps[1].check",
            "runs on the kit's own connection, only when every transaction has ended; "
            "session 'alice' is still open (begun at case.yaml:10)",
        ),
        (
            f"- {{session: alice, begin: true}}\n- race:\n    - {SHIP}\n    - {SHIP}\n  expect: all\n",
            "case.yaml:11: scenarios[0].steps[1].race",
            "a race step runs on the kit's own connection",
        ),
        (
            "- {session: alice, begin: true, commit: true}\n",
            "case.yaml:10: scenarios[0].steps[0]",
            "a step does one of begin, commit, rollback, not several",
        ),
        (
            f"- race:\n    - {SHIP}\n  expect: one\n",
            "case.yaml:10: scenarios[0].steps[0].race",
            "is too short",
        ),
        (
            f"- race:\n    - {SHIP}\n    - {SHIP}\n  expect: some\n",
            "case.yaml:13: scenarios[0].steps[0].expect",
            "'some' is not one of ['one', 'all']",
        ),
        (
            "- race:\n    - append: {entity: order, entityKey: o-1, event: shipped, previous: ghost}\n"
            f"    - {SHIP}\n  expect: one\n",
            "case.yaml:11: scenarios[0].steps[0].race[0].append.previous",
            "symbolic id 'ghost' is not bound",
        ),
    ],
    ids=[
        "unknown session",
        "commit without begin",
        "rollback twice",
        "begin twice",
        "commit after a rejection",
        "own-connection step in a transaction",
        "race in a transaction",
        "two actions in one step",
        "a race of one",
        "race expectation",
        "race previous unbound",
    ],
)
def test_a_schedule_mistake_is_one_line_naming_file_line(
    tmp_path: Path, steps: str, where: str, words: str
) -> None:
    with pytest.raises(ScenarioError) as error:
        load(tmp_path, steps)
    message = str(error.value)
    assert message.startswith(f"{where}: "), message
    assert words in message, message
    assert "\n" not in message


def test_an_unknown_capability_is_a_load_error(tmp_path: Path) -> None:
    header = HEADER.replace("    sessions:", "    requires: [time-travel]\n    sessions:")
    with pytest.raises(ScenarioError) as error:
        load(tmp_path, "- {session: alice, begin: true}\n", header)
    assert str(error.value).startswith(
        "case.yaml:8: scenarios[0].requires[0]: 'time-travel' is not one of"
    )
