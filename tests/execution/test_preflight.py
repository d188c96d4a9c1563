"""The preflight: a DDL whose store lacks a table or column the spec's statements use
ends the run before any scenario with one line naming what is missing (exit 4), and no
output ever names one of the kit's own classes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO
from helpers import SHIPPED_SQLITE_DDL, one_error_line

from conformance.execution.snapshot import describe_step
from conformance.scenario import objects

NO_EVENTS_TABLE = REPO / "tests" / "broken" / "sqlite" / "no-events-table.ddl"
STEP_CLASSES = [
    name
    for name in dir(objects)
    if name.endswith("Step") and isinstance(getattr(objects, name), type)
]


def seed_spelling(tmp_path: Path) -> Path:
    """The shipped DDL with the seed's own 2020 spelling: `timestamp`, and `entity_key`."""
    text = SHIPPED_SQLITE_DDL.read_text()
    text = text.replace("ts TEXT NOT NULL", "timestamp TEXT NOT NULL").replace(
        "entityKey", "entity_key"
    )
    ddl = tmp_path / "seed-spelling.ddl"
    ddl.write_text(text)
    return ddl


def test_missing_columns_stop_the_run_with_one_line(pytester: pytest.Pytester) -> None:
    ddl = seed_spelling(pytester.path)
    result = pytester.runpytest(f"--ddl={ddl}", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    # The first mismatch, named where the spec (the default profile) spells it.
    assert line.startswith("ERROR: ") and "column events.entityKey is not in the DDL" in line
    text = result.stdout.str() + result.stderr.str()
    assert "passed" not in text and "failed" not in text
    assert not [name for name in STEP_CLASSES if name in text]


def test_a_missing_table_is_named(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(f"--ddl={NO_EVENTS_TABLE}", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "table events is not in the DDL" in one_error_line(result)


@pytest.mark.postgres
def test_missing_columns_stop_a_postgres_run_too(pytester: pytest.Pytester, pg_dsn: str) -> None:
    text = (REPO / "ddl" / "postgres-event-store.ddl").read_text()
    ddl = pytester.path / "pg-timestamp.ddl"
    ddl.write_text(text.replace("    ts TIMESTAMPTZ", "    timestamp TIMESTAMPTZ"))
    result = pytester.runpytest(f"--ddl={ddl}", f"--dsn={pg_dsn}", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "column events.ts is not in the DDL" in one_error_line(result)


@pytest.mark.parametrize("name", STEP_CLASSES)
def test_no_step_is_described_by_its_class_name(name: str) -> None:
    step_class = getattr(objects, name)
    fields = {"location": objects.Location("f.yaml", 1), "rules": ()}
    values = {
        "entity": "order", "event": "created", "expect": "accepted", "entity_key": "o-1",
        "expected_events": (), "target": objects.Target(table="events"), "column": "data",
        "value": "x", "table": "events", "check": "autopopulated", "action": "begin",
        "append": objects.Append("order", "o-1", "created", "{}", objects.Fresh(),
                                 objects.Fresh(), None),
        "appends": (),
    }  # fmt: skip
    wanted = [f for f in step_class.__dataclass_fields__ if f not in ("session", "nowait")]
    step = step_class(**{**{f: values.get(f) for f in wanted}, **fields})
    described = describe_step(step)
    assert described and name not in described and "Step" not in described
