"""YAML scenario files -> scenario objects, validated against the shipped JSON Schema.

The YAML is composed into nodes first so that every value keeps its line; a schema or
consistency error is reported as one line: `file:line: where: what is wrong`.

A file is validated first by a compiled validator (jsonschema-rs, microseconds a file);
only a file it does not pass goes through `jsonschema`, whose errors the line is made of
and whose verdict stands, so the two can never disagree on what is reported.

PYTEST_DONT_REWRITE: no test code here, so pytest need not rewrite its asserts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.errors import ScenarioError
from conformance.scenario.objects import (
    Append,
    AppendStep,
    CheckStep,
    DefineStep,
    DeleteStep,
    Fresh,
    IdValue,
    Literal,
    Location,
    RaceStep,
    ReapplyStep,
    ReplayStep,
    Scenario,
    ScenarioFile,
    Step,
    Suffixed,
    Symbol,
    Target,
    TransactionStep,
    TruncateStep,
    UpdateStep,
    Value,
    WriteStep,
)
from conformance.scenario.schedule import schedule_problems
from conformance.spec.catalogue import Catalogue, load_catalogue
from conformance.yaml_lines import JsonPath, SchemaCheck, dotted, line_of, parse_with_lines

if TYPE_CHECKING:
    import jsonschema

SCENARIO_SUFFIXES = (".yaml", ".yml")


@cache
def scenario_schema() -> dict[str, Any]:
    text = resources.files("conformance.schema").joinpath("scenario.schema.json").read_text()
    return json.loads(text)


@cache
def scenario_check() -> SchemaCheck:
    return SchemaCheck(scenario_schema())


def scenario_paths(roots: Iterable[Path]) -> list[Path]:
    """Every scenario file under the given files or folders, sorted, each once."""
    found: dict[Path, None] = {}
    for root in roots:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.suffix in SCENARIO_SUFFIXES and path.is_file():
                    found[path] = None
        elif root.is_file():
            found[root] = None
        else:
            raise ScenarioError(f"{root}: no such scenario file or folder")
    return list(found)


def load_files(paths: Iterable[Path], catalogue: Catalogue | None = None) -> list[ScenarioFile]:
    catalogue = catalogue or load_catalogue()
    return [load_file(path, catalogue) for path in paths]


def load_file(
    path: Path, catalogue: Catalogue | None = None, display: str | None = None
) -> ScenarioFile:
    """Parse, validate and convert one file; raises ScenarioError naming file:line."""
    catalogue = catalogue or load_catalogue()
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{shown}: cannot read scenario file: {exc}") from None
    data, lines = parse_with_lines(text, shown, ScenarioError, "scenario file")
    _validate(data, lines, shown)
    return _Builder(shown, lines, catalogue).build(data)


# --- schema ---------------------------------------------------------------------


def _validate(data: Any, lines: dict[JsonPath, int], shown: str) -> None:
    error = scenario_check().first_error(data, lines)
    if error is None:
        return
    path = tuple(error.absolute_path)
    raise ScenarioError(f"{shown}:{line_of(path, lines)}: {dotted(path)}: {_explain(error)}")


def _explain(error: jsonschema.ValidationError) -> str:
    if error.validator == "anyOf" and "step" in str(error.schema.get("description", "")):
        return (
            "a step needs one of define, append, write, replay, update, delete, truncate, "
            "reapply, check, begin, commit, rollback, race"
        )
    if error.validator == "oneOf" and "Transaction" in str(error.schema.get("description", "")):
        return "a step does one of begin, commit, rollback, not several"
    if (
        error.validator == "not"
        and isinstance(error.instance, dict)
        and "previous" in error.instance
    ):
        return "give either previous (a symbolic name) or previousId (a literal), not both"
    return error.message


# --- conversion -----------------------------------------------------------------


class _Builder:
    """Turns validated data into scenario objects, checking rule ids and symbolic names."""

    def __init__(self, shown: str, lines: dict[JsonPath, int], catalogue: Catalogue) -> None:
        self.shown = shown
        self.lines = lines
        self.catalogue = catalogue

    def fail(self, path: JsonPath, message: str) -> ScenarioError:
        return ScenarioError(f"{self.shown}:{line_of(path, self.lines)}: {dotted(path)}: {message}")

    def location(self, path: JsonPath) -> Location:
        return Location(self.shown, line_of(path, self.lines))

    def build(self, data: dict[str, Any]) -> ScenarioFile:
        definitions = tuple(
            (entity, event)
            for entity, events in data.get("definitions", {}).items()
            for event in events
        )
        history = tuple(
            AppendStep(self.location(("history", i)), (), self.append(item["append"]), "accepted")
            for i, item in enumerate(data.get("history", []))
        )
        history_names = {step.append.name for step in history if step.append.name}
        self.check_references(("history",), history, set())
        file = ScenarioFile(self.shown, data.get("description", ""), definitions, history)
        seen: dict[str, int] = {}
        for index, raw in enumerate(data["scenarios"]):
            path = ("scenarios", index)
            if raw["name"] in seen:
                raise self.fail((*path, "name"), f"scenario name {raw['name']!r} is used twice")
            seen[raw["name"]] = index
            rules = self.rules(raw["rules"], (*path, "rules"))
            steps = tuple(self.step(s, (*path, "steps", i)) for i, s in enumerate(raw["steps"]))
            self.check_references((*path, "steps"), steps, history_names)
            sessions = tuple(raw.get("sessions", ()))
            for problem in schedule_problems(steps, sessions):
                raise self.fail((*path, "steps", problem.index, problem.key), problem.message)
            file.scenarios.append(
                Scenario(
                    raw["name"],
                    rules,
                    steps,
                    self.location(path),
                    file,
                    raw.get("description", ""),
                    sessions,
                    tuple(raw.get("requires", ())),
                )
            )
        return file

    def rules(self, ids: list[str], path: JsonPath) -> tuple[str, ...]:
        for i, rule_id in enumerate(ids):
            if rule_id not in self.catalogue:
                raise self.fail(
                    (*path, i), f"unknown rule {rule_id!r} (known: {', '.join(self.catalogue.ids)})"
                )
        return tuple(ids)

    def step(self, raw: dict[str, Any], path: JsonPath) -> Step:
        step = self.plain_step(raw, path)
        if "session" in raw or "nowait" in raw:
            session = raw.get("session", step.session)
            step = replace(step, session=session, nowait=raw.get("nowait", False))
        return step

    def plain_step(self, raw: dict[str, Any], path: JsonPath) -> Step:
        loc = self.location(path)
        rules = self.rules(raw["rules"], (*path, "rules")) if "rules" in raw else ()
        for action in ("begin", "commit", "rollback"):
            if action in raw:
                return TransactionStep(loc, rules, action, raw.get("expect", "accepted"))
        if "race" in raw:
            appends = tuple(self.append(item["append"]) for item in raw["race"])
            return RaceStep(loc, rules, appends, raw["expect"])
        if "write" in raw:
            appends = tuple(self.append(row) for row in raw["rows"])
            self.check_write(raw, appends, path)
            return WriteStep(
                loc, rules, raw["write"], appends, raw["expect"], raw.get("conflict", "eventId")
            )
        if "define" in raw:
            return DefineStep(
                loc, rules, raw["define"]["entity"], raw["define"]["event"], raw["expect"]
            )
        if "append" in raw:
            return AppendStep(loc, rules, self.append(raw["append"]), raw["expect"])
        if "replay" in raw:
            spec = raw["replay"]
            return ReplayStep(
                loc, rules, spec["entity"], spec["entityKey"], tuple(raw["expect"]["events"])
            )
        if "update" in raw:
            ((column, value),) = raw["set"].items()
            return UpdateStep(loc, rules, self.target(raw["update"]), column, value)
        if "delete" in raw:
            return DeleteStep(loc, rules, self.target(raw["delete"]))
        if "truncate" in raw:
            return TruncateStep(loc, rules, raw["truncate"])
        if "reapply" in raw:
            return ReapplyStep(loc, rules)
        return CheckStep(loc, rules, raw["check"])

    @staticmethod
    def id_value(raw: dict[str, Any], symbolic: str, literal: str) -> IdValue:
        if literal in raw:
            return _literal_id(raw[literal])
        if symbolic in raw:
            return Symbol(raw[symbolic])
        return Fresh()

    def append(self, raw: dict[str, Any]) -> Append:
        previous: IdValue | None = None
        if "previous" in raw or "previousId" in raw:
            previous = self.id_value(raw, "previous", "previousId")
        name = raw.get("id")
        event_id = (
            _literal_id(raw["eventId"]) if "eventId" in raw else Symbol(name) if name else Fresh()
        )
        return Append(
            entity=_value(raw["entity"]),
            entity_key=_value(raw["entityKey"]),
            event=_value(raw["event"]),
            data=_value(raw.get("data", "{}")),
            event_id=event_id,
            command_id=self.id_value(raw, "command", "commandId"),
            previous_id=previous,
            name=name,
            command_name=raw.get("command"),
            supplied=tuple((column, raw[column]) for column in ("sequence", "ts") if column in raw),
        )

    def check_write(self, raw: dict[str, Any], appends: tuple[Append, ...], path: JsonPath) -> None:
        """Rows of one statement send the same columns; a MERGE sends one row."""
        supplied = {tuple(column for column, _ in a.supplied) for a in appends}
        if len(supplied) > 1:
            raise self.fail((*path, "rows"), "every row of one write supplies the same columns "
                            "(sequence, ts): one statement has one column list")  # fmt: skip
        if raw["write"] == "merge" and len(appends) > 1:
            raise self.fail((*path, "rows"), "a merge sends one row")

    @staticmethod
    def target(raw: dict[str, Any]) -> Target:
        if "event" in raw:
            return Target(event=Symbol(raw["event"]))
        if "eventId" in raw:
            return Target(event=Literal(raw["eventId"]))
        if "definition" in raw:
            return Target(definition=(raw["definition"]["entity"], raw["definition"]["event"]))
        return Target(table=raw["all"])

    def check_references(self, path: JsonPath, steps: Iterable[Step], known: set[str]) -> None:
        """Every symbolic name used must be bound by an `id:` in the history or an earlier step."""
        bound = set(known)
        for index, step in enumerate(steps):
            if isinstance(step, WriteStep):  # its rows may name each other, even themselves
                bound.update(a.name for a in step.appends if a.name)
            for name, where in _references(step):
                if name not in bound:
                    raise self.fail(
                        (*path, index, *where),
                        f"symbolic id {name!r} is not bound by an earlier `id: {name}`",
                    )
            bound.update(a.name for a in _appends_of(step) if a.name)


def _value(raw: Any) -> Value:
    """Text as written; `{repeat: s, times: n}` is s n times; `{bytes: s}` is s as bytes."""
    if isinstance(raw, dict):
        if "bytes" in raw:
            return str(raw["bytes"]).encode()
        return raw["repeat"] * raw["times"]
    return raw


def _literal_id(raw: Any) -> IdValue:
    if isinstance(raw, dict):
        return Suffixed(raw["of"], raw["plus"])
    return Literal(raw)


def _appends_of(step: Step) -> tuple[Append, ...]:
    if isinstance(step, (RaceStep, WriteStep)):
        return step.appends
    return (step.append,) if isinstance(step, AppendStep) else ()


def _references(step: Step) -> Iterator[tuple[str, JsonPath]]:
    for i, a in enumerate(_appends_of(step) if isinstance(step, WriteStep) else ()):
        for key, value in (("eventId", a.event_id), ("commandId", a.command_id),
                           ("previousId", a.previous_id)):  # fmt: skip
            if isinstance(value, Suffixed):
                yield value.name, ("rows", i, key, "of")
    if isinstance(step, AppendStep) and isinstance(step.append.previous_id, Symbol):
        yield step.append.previous_id.name, ("append", "previous")
    elif isinstance(step, RaceStep):
        for i, a in enumerate(step.appends):
            if isinstance(a.previous_id, Symbol):
                yield a.previous_id.name, ("race", i, "append", "previous")
    elif isinstance(step, WriteStep):
        for i, a in enumerate(step.appends):
            if isinstance(a.previous_id, Symbol):
                yield a.previous_id.name, ("rows", i, "previous")
    elif isinstance(step, ReplayStep):
        for i, name in enumerate(step.expected_events):
            yield name, ("expect", "events", i)
    elif isinstance(step, (UpdateStep, DeleteStep)) and isinstance(step.target.event, Symbol):
        yield (
            step.target.event.name,
            ("update" if isinstance(step, UpdateStep) else "delete", "event"),
        )
