"""Scenario objects -> scenario file text: the inverse of the loader, for generated scenarios.

Ids are written as literals (`eventId`, `commandId`, `previousId`) so that the file
sends exactly the values that were generated; `id:` names an accepted event for replays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from conformance.scenario.objects import (
    Append,
    AppendStep,
    CheckStep,
    DefineStep,
    DeleteStep,
    Fresh,
    IdValue,
    Literal,
    ReapplyStep,
    ReplayStep,
    Step,
    Suffixed,
    Symbol,
    Target,
    TruncateStep,
    UpdateStep,
    WriteStep,
)

DEFAULT_DATA = "{}"
LONG_DATA = 1000


def scenario_yaml(
    *,
    description: str,
    definitions: Sequence[tuple[str, str]],
    name: str,
    rules: Sequence[str],
    steps: Sequence[Step],
) -> str:
    """One file with one scenario; a step names its rules when they differ from the scenario's."""
    grouped: dict[str, list[str]] = {}
    for entity, event in definitions:
        grouped.setdefault(entity, []).append(event)
    document: dict[str, Any] = {"description": description}
    if grouped:
        document["definitions"] = grouped
    scenario = {"name": name, "rules": list(rules), "steps": [_step(s, rules) for s in steps]}
    document["scenarios"] = [scenario]
    return _dump(document)


def _dump(document: dict[str, Any]) -> str:
    """YAML text that loads back to exactly `document`: non-ASCII written as is where that
    is safe, escaped otherwise (PyYAML writes a few code points raw that a reader takes for
    line breaks)."""
    for allow_unicode in (True, False):
        text = yaml.safe_dump(
            document,
            sort_keys=False,
            default_flow_style=None,
            allow_unicode=allow_unicode,
            width=4096,
        )
        if yaml.safe_load(text) == document:
            return text
    raise ValueError("the scenario cannot be written as YAML that loads back the same")


def _step(step: Step, scenario_rules: Sequence[str]) -> dict[str, Any]:
    out = _body(step)
    if step.rules and tuple(step.rules) != tuple(scenario_rules):
        out["rules"] = list(step.rules)
    return out


def _body(step: Step) -> dict[str, Any]:
    if isinstance(step, DefineStep):
        return {"define": {"entity": step.entity, "event": step.event}, "expect": step.expect}
    if isinstance(step, AppendStep):
        return {"append": _append(step.append), "expect": step.expect}
    if isinstance(step, ReplayStep):
        replay = {"entity": step.entity, "entityKey": step.entity_key}
        return {"replay": replay, "expect": {"events": list(step.expected_events)}}
    if isinstance(step, UpdateStep):
        return {
            "update": _target(step.target),
            "set": {step.column: step.value},
            "expect": "unchanged",
        }
    if isinstance(step, DeleteStep):
        return {"delete": _target(step.target), "expect": "unchanged"}
    if isinstance(step, TruncateStep):
        return {"truncate": step.table, "expect": "unchanged"}
    if isinstance(step, ReapplyStep):
        return {"reapply": "ddl", "expect": "accepted"}
    if isinstance(step, CheckStep):
        return {"check": step.check}
    if isinstance(step, WriteStep):
        rows = [{**_append(a), **dict(a.supplied)} for a in step.appends]
        out: dict[str, Any] = {"write": step.form, "rows": rows, "expect": step.expect}
        if step.on != "eventId":
            out["conflict"] = step.on
        return out
    raise TypeError(f"no scenario syntax for {type(step).__name__}")


def _append(a: Append) -> dict[str, Any]:
    out: dict[str, Any] = {
        "entity": _value(a.entity),
        "entityKey": _value(a.entity_key),
        "event": _value(a.event),
    }
    if a.data != DEFAULT_DATA:
        out["data"] = _data(a.data)
    if a.name:
        out["id"] = a.name
    out.update(_id("eventId", a.event_id, "id"))
    out.update(_id("commandId", a.command_id, "command"))
    if a.previous_id is not None:
        out.update(_id("previousId", a.previous_id, "previous"))
    return out


def _value(value: str | bytes | None) -> Any:
    return {"bytes": value.decode()} if isinstance(value, bytes) else value


def _data(data: str | bytes | None) -> Any:
    """Long data made of one character is written the short way: {repeat, times}."""
    if isinstance(data, bytes):
        return _value(data)
    if data and len(data) > LONG_DATA and data == data[0] * len(data):
        return {"repeat": data[0], "times": len(data)}
    return data


def _id(literal_key: str, value: IdValue, symbolic_key: str) -> dict[str, Any]:
    if isinstance(value, Literal):
        return {literal_key: value.value}
    if isinstance(value, Symbol):
        return {} if symbolic_key == "id" else {symbolic_key: value.name}
    if isinstance(value, Suffixed):
        return {literal_key: {"of": value.name, "plus": value.suffix}}
    assert isinstance(value, Fresh)
    return {}


def _target(target: Target) -> dict[str, Any]:
    if isinstance(target.event, Literal):
        return {"eventId": target.event.value}
    if isinstance(target.event, Symbol):
        return {"event": target.event.name}
    if target.definition is not None:
        return {"definition": {"entity": target.definition[0], "event": target.definition[1]}}
    return {"all": target.table}
