"""Profile files: bundled ones by name, and every mistake in a file as one file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import one_error_line

from conformance.errors import KitError
from conformance.spec.profile import load_profile, positional
from conformance.spec.statements import (
    APPEND_FIRST,
    APPEND_SUBSEQUENT,
    DEFINE,
    REPLAY,
    spec_statements,
    statements_for,
)


def test_the_default_profile_renders_the_spec_statements_unchanged() -> None:
    spec = spec_statements()
    assert spec.profile.name == "spec"
    assert (spec.define and spec.define.sql) == DEFINE
    assert spec.append_first.sql == APPEND_FIRST
    assert spec.append_next.sql == APPEND_SUBSEQUENT
    assert spec.replay.sql == REPLAY
    assert spec.client_event_ids


def test_snake_case_is_bundled_and_renames_columns_in_every_statement() -> None:
    snake = statements_for(load_profile("snake_case"))
    assert "entity_key, event, data, event_id, command_id, previous_id" in snake.append_next.sql
    assert snake.replay.sql.endswith("WHERE entity_key = ? AND entity = ? ORDER BY sequence")
    assert snake.update_event["previousId"] == (
        "UPDATE events SET previous_id = ? WHERE event_id = ?"
    )


def test_named_parameters_become_placeholders_outside_quotes_comments_and_casts() -> None:
    sql, names = positional(
        "SELECT f(:entity::text, ':not', $$ :no $$, :entity) -- :comment\n, :entityKey"
    )
    assert sql == "SELECT f(?::text, ':not', $$ :no $$, ?) -- :comment\n, ?"
    assert names == ("entity", "entity", "entityKey")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "columns:\n  entityKey: entity_key\n  entity_ky: x\n",
            3,
            "columns.entity_ky: unknown key (known: entity, entityKey, event,",
        ),
        ("tables:\n  events: public.events\n", 2, "tables.events: 'public.events' does not match"),
        (
            "statements:\n  replay: SELECT event, data, eventId FROM events\n"
            "    WHERE entityKey = :key\n",
            2,
            "statements.replay: unknown parameter :key (this statement takes :entity, :entityKey)",
        ),
        (
            "statements:\n  define: INSERT INTO entity_events VALUES (?, ?)\n",
            2,
            "statements.define: write parameters as :name, not ?",
        ),
        (
            "statements:\n  append-next: SELECT append(:entity, :entityKey, :event, :data,"
            " :eventId, :commandId)\n",
            2,
            "statements.append-next: takes no :previousId, which this statement must send",
        ),
        (
            "statements:\n"
            "  append-first: SELECT a(:entity, :entityKey, :event, :data, :commandId)\n",
            2,
            "statements.append-first: append-first and append-next must agree",
        ),
        (
            "tables:\n  entity_events: kinds\nlacks:\n  definitions: none here\n",
            2,
            "tables.entity_events: the profile says the DDL lacks definitions",
        ),
        ("columns: [entity]\n", 1, "columns: ['entity'] is not of type 'object'"),
        ("name: x\nname: y\n", 2, "duplicate key 'name'"),
        ("columns: {entity: [\n", 2, "malformed YAML"),
    ],
)
def test_a_mistake_in_a_profile_is_one_line_with_its_place(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(KitError) as caught:
        load_profile(str(path))
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


def test_an_unknown_profile_name_lists_the_bundled_ones() -> None:
    with pytest.raises(KitError, match=r"--profile snake: no such file, nor a bundled profile "):
        load_profile("snake")


def test_a_bad_profile_stops_the_plugin_with_one_line(
    pytester: pytest.Pytester, sqlite_ddl: Path
) -> None:
    profile = pytester.path / "bad.yaml"
    profile.write_text("columns:\n  eventID: event_id\n")
    result = pytester.runpytest(f"--ddl={sqlite_ddl}", f"--profile={profile}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"{profile}:2: columns.eventID: unknown key" in one_error_line(result)
