"""What the kit reads back from a store and how it compares it: the whole-store snapshot,
ids normalized across drivers, appends described in failure text."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.backends.base import Outcome, Row
from conformance.scenario.objects import (
    Append,
    AppendStep,
    CheckStep,
    DefineStep,
    DeleteStep,
    Literal,
    ReapplyStep,
    ReplayStep,
    Step,
    Suffixed,
    Symbol,
    TransactionStep,
    TruncateStep,
    UpdateStep,
    WriteStep,
)


def normalize_id(value: Any) -> Any:
    """UUIDs compare as UUIDs (any case, any driver type); anything else as text."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 12]}...({len(str(value))} chars)"


@dataclass(frozen=True)
class Snapshot:
    """Every row of both tables, as a multiset: the store's whole observable state."""

    events: Counter[Row]
    definitions: Counter[Row]

    def diff(self, later: Snapshot) -> str:
        lines = []
        for table, before, after in (
            ("events", self.events, later.events),
            ("entity_events", self.definitions, later.definitions),
        ):
            lines += [f"{table} - {row_text(r)}" for r in (before - after).elements()][:3]
            lines += [f"{table} + {row_text(r)}" for r in (after - before).elements()][:3]
        return "\n".join(lines)


def row_text(row: Row) -> str:
    return "(" + ", ".join(short(v, 40) for v in row) + ")"


@dataclass(frozen=True)
class Recorded:
    """An append the store accepted, as replay must return it."""

    event: str | None
    data: str | None
    event_id: Any


class StoreUnreadable(Exception):
    """The kit's own inspection query failed: the store is not the spec's shape."""


@dataclass
class Attempt:
    outcome: Outcome
    rows: list[Row]
    error: str | None
    sql: str
    params: tuple[Any, ...]


def describe_append(a: Append) -> str:
    parts = [f"append {a.entity!r}/{a.entity_key!r} {a.event!r}"]
    for label, value in (
        ("id", a.event_id),
        ("command", a.command_id),
        ("previous", a.previous_id),
    ):
        if isinstance(value, Symbol):
            parts.append(f"{label}={value.name}")
        elif isinstance(value, Literal):
            parts.append(f"{label}={short(value.value, 44)}")
        elif isinstance(value, Suffixed):
            parts.append(f"{label}={value.name}+{value.suffix!r}")
    if a.previous_id is None:
        parts.append("(first event)")
    if a.data != "{}":
        parts.append(f"data={short(a.data, 40)}")
    parts += [f"{column}={short(value, 40)}" for column, value in a.supplied]
    return " ".join(parts)


def describe_write(step: WriteStep) -> str:
    rows = "; ".join(describe_append(a).removeprefix("append ") for a in step.appends)
    on = f" on {step.on}" if step.form in ("upsert", "merge") else ""
    return f"write ({step.form}{on}) {rows}"


APPEND_ORDER = ("entity", "entityKey", "event", "data", "eventId", "commandId", "previousId")


def sent_row(values: Mapping[str, Any], event_id: Any) -> tuple[Any, ...]:
    """The row an append must store: what it sent, with the eventId the store knows it by
    (the one sent, or the one the database made and returned)."""
    return normalized_append([event_id if n == "eventId" else values.get(n) for n in APPEND_ORDER])


def describe_step(step: Step) -> str:
    """A step in the scenario file's words (never a class name)."""
    if isinstance(step, AppendStep):
        return describe_append(step.append)
    if isinstance(step, DefineStep):
        return f"define {step.entity!r}/{step.event!r}"
    if isinstance(step, ReplayStep):
        return f"replay {step.entity!r}/{step.entity_key!r}"
    if isinstance(step, UpdateStep):
        return f"update {step.column}"
    if isinstance(step, DeleteStep):
        return "delete"
    if isinstance(step, TruncateStep):
        return f"truncate {step.table}"
    if isinstance(step, ReapplyStep):
        return "apply the DDL again"
    if isinstance(step, CheckStep):
        return f"check {step.check}"
    if isinstance(step, TransactionStep):
        return step.action
    if isinstance(step, WriteStep):
        return describe_write(step)
    return "race"


def normalized_append(values: list[Any]) -> tuple[Any, ...]:
    """(entity, entityKey, event, data, eventId, commandId, previousId) comparable across drivers."""
    padded = [*values, None][:7]
    return (*padded[:4], *(normalize_id(v) for v in padded[4:7]))
