"""Cutting a PostgreSQL script into statements with their lines, as psql does.

A semicolon ends a statement only outside quotes, identifiers, dollar-quoted bodies,
comments and BEGIN ATOMIC bodies; each statement keeps the line it starts on so that
a statement the server rejects is named by `file:line`.
"""

from __future__ import annotations

from conformance.backends.pgscript import split_script


def cut(script: str) -> list[tuple[int, str]]:
    return [(statement.line, statement.text) for statement in split_script(script)]


def test_statements_start_on_their_first_code_line() -> None:
    script = "-- header\n\nCREATE TABLE a (x INT);\n/* note */ CREATE TABLE b (y INT);\n\nSELECT 1"
    assert cut(script) == [
        (3, "CREATE TABLE a (x INT);"),
        (4, "CREATE TABLE b (y INT);"),
        (6, "SELECT 1"),
    ]


def test_semicolons_inside_quotes_comments_and_dollar_bodies_do_not_cut() -> None:
    script = (
        "SELECT 'a;b', E'it\\'s;', \"odd;name\" FROM t; -- c;d\n"
        "/* outer /* nested; */ still; */ CREATE FUNCTION f() RETURNS INT LANGUAGE sql AS $body$\n"
        "SELECT 1; SELECT $$;$$;\n"
        "$body$;\n"
        "SELECT $1;"
    )
    assert [line for line, _ in cut(script)] == [1, 2, 5]
    assert cut(script)[1][1].endswith("$body$;")


def test_a_begin_atomic_body_is_one_statement() -> None:
    script = (
        "CREATE FUNCTION f() RETURNS INT LANGUAGE sql\n"
        "BEGIN ATOMIC\n"
        "  SELECT CASE WHEN TRUE THEN 1 END;\n"
        "  SELECT 2;\n"
        "END;\n"
        "SELECT 3;"
    )
    assert [line for line, _ in cut(script)] == [1, 6]


def test_an_error_position_maps_to_the_script_line() -> None:
    script = "SELECT 1;\n\nCREATE TABLE t (\n    a INT,\n    b NOSUCHTYPE\n);\n"
    statement = split_script(script)[1]
    position = statement.text.index("NOSUCHTYPE") + 1  # PostgreSQL counts from 1
    assert statement.line == 3
    assert statement.line_of(position) == 5
    assert statement.line_of(None) == 3


def test_an_empty_or_comment_only_script_has_no_statements() -> None:
    assert cut("") == []
    assert cut("-- nothing\n/* here */\n;\n") == []
