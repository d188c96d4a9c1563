"""Scenario self-check: a file whose expectations disagree with the model does not load."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from helpers import CORPUS

from conformance.errors import ScenarioError
from conformance.scenario.loader import load_file, scenario_paths
from conformance.scenario.selfcheck import self_check

HEAD = """\
definitions:
  order: [created, paid, shipped]
  customer: [registered]
history:
  - append: {entity: order, entityKey: o-1, event: created, id: o1_created}
  - append: {entity: order, entityKey: o-1, event: paid, id: o1_paid, previous: o1_created}
scenarios:
  - name: the case
"""


def matches(text: str, pattern: str) -> bool:
    """`*` matches anything; every other character stands for itself."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), text) is not None


def check(tmp_path: Path, body: str, head: str = HEAD) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(head + textwrap.indent(textwrap.dedent(body), "    "), encoding="utf-8")
    self_check(load_file(path, display="case.yaml"))


@pytest.mark.parametrize("path", scenario_paths([CORPUS]), ids=lambda p: p.name)
def test_every_bundled_expectation_agrees_with_the_model(path: Path) -> None:
    file = load_file(path)
    self_check(file)
    assert file.scenarios


def test_a_right_file_passes(tmp_path: Path) -> None:
    check(
        tmp_path,
        """\
        rules: [chain.linear]
        steps:
          - append: {entity: order, entityKey: o-1, event: shipped, id: shipped, previous: o1_paid}
            expect: accepted
          - append: {entity: order, entityKey: o-1, event: shipped, previous: o1_paid}
            expect: rejected
          - replay: {entity: order, entityKey: o-1}
            expect: {events: [o1_created, o1_paid, shipped]}
          - update: {event: shipped}
            set: {data: changed}
            expect: unchanged
            rules: [immutability.events]
        """,
    )


WRONG = [
    pytest.param(
        """\
        rules: [chain.linear]
        steps:
          - append: {entity: order, entityKey: o-1, event: shipped, previous: o1_created}
            expect: accepted
        """,
        "case.yaml:11: scenario 'the case', append 'order'/'o-1' 'shipped' previous=o1_created: "
        "the file says accepted, the model says rejected: chain.linear "
        "(event o1_created already has a next event)",
        id="a stale append expected accepted",
    ),
    pytest.param(
        """\
        rules: [chain.first_event]
        steps:
          - append: {entity: order, entityKey: o-2, event: created}
            expect: rejected
        """,
        "case.yaml:11: scenario 'the case', append 'order'/'o-2' 'created' (first event): "
        "the file says rejected, the model says accepted",
        id="a valid first event expected rejected",
    ),
    pytest.param(
        """\
        rules: [chain.first_event]
        steps:
          - append: {entity: order, entityKey: o-1, event: Created}
            expect: rejected
        """,
        "case.yaml:11: *the file says rejected, the model says rejected: appends.defined_names (*); "
        "chain.first_event (*); a step expected rejected must break exactly one rule, *",
        id="a rejection with two causes",
    ),
    pytest.param(
        """\
        rules: [appends.unique_event_id]
        steps:
          - append: {entity: order, entityKey: o-1, event: shipped, previousId: null}
            expect: rejected
        """,
        "case.yaml:11: *the file says rejected under [appends.unique_event_id], "
        "the model says rejected: chain.first_event (*)",
        id="a rejection blamed on the wrong rule",
    ),
    pytest.param(
        """\
        rules: [replay.order_and_data]
        steps:
          - append: {entity: order, entityKey: o-1, event: shipped, previous: o1_paid}
            expect: accepted
          - replay: {entity: order, entityKey: o-1}
            expect: {events: [o1_created, o1_paid]}
        """,
        "case.yaml:13: scenario 'the case', replay 'order'/'o-1': the file says [o1_created, o1_paid], "
        "the model says [o1_created, o1_paid, an event with no id: at case.yaml:11]",
        id="a replay missing an event",
    ),
    pytest.param(
        """\
        rules: [replay.order_and_data]
        steps:
          - append: {entity: order, entityKey: o-1, event: created, id: again}
            expect: rejected
            rules: [chain.first_event]
          - replay: {entity: order, entityKey: o-1}
            expect: {events: [o1_created, o1_paid, again]}
        """,
        "case.yaml:14: *the file says [o1_created, o1_paid, again] (the model never stored again), "
        "the model says [o1_created, o1_paid]",
        id="a replay naming a rejected event",
    ),
    pytest.param(
        """\
        rules: [immutability.events]
        steps:
          - update: {event: o1_created}
            set: {data: '{}'}
            expect: unchanged
        """,
        "case.yaml:11: scenario 'the case', update event o1_created set data = '{}': "
        "the file says unchanged, the model says it would change nothing, so it proves nothing",
        id="an update to the value already stored",
    ),
    pytest.param(
        """\
        rules: [definitions.immutable]
        steps:
          - delete: {definition: {entity: order, event: refunded}}
            expect: unchanged
        """,
        "case.yaml:11: *delete definition 'order'/'refunded': the file says unchanged, "
        "the model says it would change nothing, so it proves nothing",
        id="a delete of a row that is not there",
    ),
    pytest.param(
        """\
        rules: [races.independent_commits]
        steps:
          - race:
              - append: {entity: order, entityKey: o-1, event: shipped, previous: o1_paid}
              - append: {entity: order, entityKey: o-1, event: shipped, previous: o1_paid}
            expect: all
        """,
        "case.yaml:11: scenario 'the case', race of 2 appends: the file says all commits, "
        "the model says 1 of them are accepted when run one after another "
        "(racer 1: accepted; racer 2: rejected: chain.linear (*))",
        id="a race where both writers follow the same event, expected to commit both",
    ),
    pytest.param(
        """\
        rules: [definitions.required]
        steps:
          - define: {entity: order, event: null}
            expect: accepted
        """,
        "case.yaml:11: scenario 'the case', define 'order'/None: the file says accepted, "
        "the model says rejected: definitions.required (event NULL)",
        id="a definition with a NULL expected accepted",
    ),
]


@pytest.mark.parametrize(("body", "message"), WRONG)
def test_a_wrong_expectation_is_named_with_file_line_step_and_both_sides(
    tmp_path: Path, body: str, message: str
) -> None:
    with pytest.raises(ScenarioError) as excinfo:
        check(tmp_path, body)
    assert matches(str(excinfo.value), message), str(excinfo.value)


def test_a_truncate_of_an_empty_table_proves_nothing(tmp_path: Path) -> None:
    head = HEAD.split("history:")[0] + "scenarios:\n  - name: the case\n"
    body = "rules: [immutability.events]\nsteps:\n  - truncate: events\n    expect: unchanged\n"
    with pytest.raises(ScenarioError) as excinfo:
        check(tmp_path, body, head=head)
    assert str(excinfo.value) == (
        "case.yaml:8: scenario 'the case', truncate events: the file says unchanged, "
        "the model says it would change nothing, so it proves nothing"
    )
    definitions = body.replace("immutability.events", "definitions.immutable")
    check(tmp_path, definitions.replace("truncate: events", "truncate: entity_events"), head=head)


def test_a_history_the_model_rejects_is_named_at_its_line(tmp_path: Path) -> None:
    head = HEAD.replace(
        "previous: o1_created}",
        "previous: o1_created}\n"
        "  - append: {entity: order, entityKey: o-1, event: paid, previous: o1_created}",
    )
    with pytest.raises(
        ScenarioError,
        match=r"^case\.yaml:7: .* the file says accepted, the model "
        r"says rejected: chain\.linear",
    ):
        check(tmp_path, "rules: [chain.linear]\nsteps:\n  - check: autopopulated\n", head=head)


def test_the_plugin_refuses_a_wrong_user_file_with_one_line(
    pytester: pytest.Pytester, sqlite_ddl: Path
) -> None:
    body = textwrap.indent(textwrap.dedent(WRONG[0].values[0]), "    ")
    pytester.makefile(".yaml", mine=HEAD + body)
    result = pytester.runpytest(f"--ddl={sqlite_ddl}", "--no-bundled", "--scenarios=mine.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert errors == [
        "ERROR: mine.yaml:11: scenario 'the case', append 'order'/'o-1' 'shipped' previous=o1_created: "
        "the file says accepted, the model says rejected: chain.linear "
        "(event o1_created already has a next event)"
    ]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


SESSIONS_BODY = """\
rules: [races.no_trace]
sessions: [alice, bob]
steps:
  - {session: alice, begin: true}
  - session: alice
    append: {entity: order, entityKey: o-1, event: shipped, id: shipped, previous: o1_paid}
    expect: accepted
  - session: bob
    replay: {entity: order, entityKey: o-1}
    expect: {events: BOB_SEES}
  - {session: alice, rollback: true}
  - replay: {entity: order, entityKey: o-1}
    expect: {events: AFTER}
"""


def test_transactions_are_played_with_visibility_and_rollback(tmp_path: Path) -> None:
    body = SESSIONS_BODY.replace("BOB_SEES", "[o1_created, o1_paid]")
    check(tmp_path, body.replace("AFTER", "[o1_created, o1_paid]"))


@pytest.mark.parametrize(
    ("bob_sees", "after"),
    [
        ("[o1_created, o1_paid, shipped]", "[o1_created, o1_paid]"),  # another's uncommitted append
        ("[o1_created, o1_paid]", "[o1_created, o1_paid, shipped]"),  # a rolled-back append
    ],
)
def test_a_wrong_expectation_about_transactions_is_caught(
    tmp_path: Path, bob_sees: str, after: str
) -> None:
    body = SESSIONS_BODY.replace("BOB_SEES", bob_sees).replace("AFTER", after)
    with pytest.raises(ScenarioError, match="the model says"):
        check(tmp_path, body)


def test_a_race_expecting_all_to_commit_on_one_stream_is_caught(tmp_path: Path) -> None:
    body = """\
    rules: [races.same_previous]
    steps:
      - race:
          - append: {entity: order, entityKey: o-1, event: shipped, previous: o1_paid}
          - append: {entity: order, entityKey: o-1, event: shipped, previous: o1_paid}
        expect: all
    """
    with pytest.raises(ScenarioError, match="all commits, the model says 1 of them"):
        check(tmp_path, body)
    check(tmp_path, body.replace("expect: all", "expect: one"))
