"""Profiles: how one DDL spells the spec's tables, columns and client statements.

Real DDLs rename (`entity_key`, `timestamp`), append through a function or a view, let
the database make the eventId, or have no definitions table. A profile (YAML, checked
against conformance/schema/profile.schema.json) says so, and every statement the kit
sends is rendered through it (statements.py). Two profiles ship: `spec`, the spec's own
spelling and the default, and `snake_case`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from conformance.errors import KitError
from conformance.scenario.objects import EVENT_COLUMNS
from conformance.yaml_lines import Lines, SchemaCheck, dotted, line_of, parse_with_lines

SPEC_TABLES = ("events", "entity_events")
SPEC_COLUMNS = EVENT_COLUMNS  # the events table's columns, in the spec's order
APPEND_PARAMETERS = ("entity", "entityKey", "event", "data", "eventId", "commandId")
# Each client statement: the parameters it may take, and those it must take.
STATEMENT_PARAMETERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "define": (("entity", "event"), ("entity", "event")),
    "append-first": (APPEND_PARAMETERS, ("entity", "entityKey", "event", "data", "commandId")),
    "append-next": (
        (*APPEND_PARAMETERS, "previousId"),
        ("entity", "entityKey", "event", "data", "commandId", "previousId"),
    ),
    "replay": (("entity", "entityKey"), ("entity", "entityKey")),
    "read-events": ((), ()),
    "read-definitions": ((), ()),
}
DEFAULT_PROFILE = "spec"

# What a scenario (or a write form) may need from the DDL beyond the client statements.
DEFINITIONS = "definitions"  # a definitions table the kit can define names in and read
TABLE_WRITES = "table-writes"  # clients may write the events table directly (write forms)
CLIENT_EVENT_IDS = "client-event-ids"  # the client chooses the eventId (sends :eventId)
FEATURES = {
    DEFINITIONS: "a definitions table",
    TABLE_WRITES: "direct writes to the events table",
    CLIENT_EVENT_IDS: "eventIds chosen by the client",
}


class ProfileError(KitError):
    """A profile that is malformed or inconsistent; the message starts with file:line."""


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: one per run
class Profile:
    """One profile, complete: every spec name mapped (to itself unless renamed)."""

    name: str
    source: str  # the file as given, or `bundled:NAME`
    sha256: str
    tables: Mapping[str, str]
    columns: Mapping[str, str]
    statements: Mapping[str, str] = field(default_factory=dict)  # the replaced ones only
    lacks: Mapping[str, str] = field(default_factory=dict)  # feature -> why
    where: Mapping[str, str] = field(default_factory=dict)  # `statements.KEY` -> file:line

    @property
    def label(self) -> str:
        return (
            f"{self.name} ({self.source})" if self.source != f"bundled:{self.name}" else self.name
        )

    def not_applicable(self, needs: Iterable[str], client_event_ids: bool = True) -> str | None:
        """Why something needing these features cannot be checked through this profile."""
        for need in needs:
            if need in self.lacks:
                return (
                    f"profile {self.name}: the DDL lacks {need} ({FEATURES[need]}): "
                    f"{self.lacks[need]}"
                )
            if need == CLIENT_EVENT_IDS and not client_event_ids:
                return (
                    f"profile {self.name}: the database makes the eventId (the append statement "
                    "takes no :eventId), and this scenario sends eventIds of its own"
                )
        return None


# --- named parameters --------------------------------------------------------------

# Quoted text, comments and casts are skipped; `:name` is a parameter; `?` is refused.
_TOKENS = re.compile(
    r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|--[^\n]*|/\*.*?\*/"
    r"|\$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$|::|:(?P<name>[A-Za-z_]\w*)|(?P<mark>\?)",
    re.S,
)


def positional(text: str) -> tuple[str, tuple[str, ...]]:
    """The statement with each `:name` made `?`, and the names in order (repeats kept).

    Raises ValueError for a `?`: the kit's drivers take it as a placeholder."""
    names: list[str] = []
    out: list[str] = []
    last = 0
    for match in _TOKENS.finditer(text):
        if match.group("mark"):
            raise ValueError("write parameters as :name, not ?")
        if match.group("name"):
            out += [text[last : match.start()], "?"]
            names.append(match.group("name"))
            last = match.end()
    out.append(text[last:])
    return "".join(out), tuple(names)


# --- loading ------------------------------------------------------------------------


@cache
def profile_schema() -> dict[str, Any]:
    text = resources.files("conformance.schema").joinpath("profile.schema.json").read_text()
    return json.loads(text)


@cache
def profile_check() -> SchemaCheck:
    return SchemaCheck(profile_schema())


def bundled_profiles() -> dict[str, Path]:
    """The profiles that ship with the kit, by name."""
    folder = Path(str(resources.files("conformance.spec").joinpath("profiles")))
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def load_profile(given: str | None, setting: str = "--profile") -> Profile:
    """A bundled profile by name, or a profile file; the spec's own when none is given."""
    bundled = bundled_profiles()
    name = given or DEFAULT_PROFILE
    if name in bundled:
        return read_profile(bundled[name], f"bundled:{name}")
    path = Path(name)
    if not path.is_file():
        known = ", ".join(bundled)
        raise ProfileError(f"{setting} {name}: no such file, nor a bundled profile ({known})")
    return read_profile(path, str(path))


@cache
def default_profile() -> Profile:
    return load_profile(None)


def read_profile(path: Path, source: str) -> Profile:
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{source}: cannot read profile: {exc}") from None
    shown = str(path) if not source.startswith("bundled:") else source
    data, lines = parse_with_lines(text, shown, ProfileError, "profile")
    error = profile_check().first_error(data, lines)
    if error is not None:
        where, message = tuple(error.absolute_path), error.message
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            unknown = next(key for key in error.instance if key not in known)
            where, message = (*where, unknown), f"unknown key (known: {', '.join(known)})"
        raise ProfileError(f"{shown}:{line_of(where, lines)}: {dotted(where)}: {message}")
    return _build(data, lines, shown, source, hashlib.sha256(raw).hexdigest(), path.stem)


def _build(
    data: dict[str, Any], lines: Lines, shown: str, source: str, sha256: str, stem: str
) -> Profile:
    statements: dict[str, str] = dict(data.get("statements", {}))
    where = {
        f"statements.{key}": f"{shown}:{line_of(('statements', key), lines)}" for key in statements
    }
    for section in ("tables", "columns"):
        for key in data.get(section, {}):
            where[f"{section}.{key}"] = f"{shown}:{line_of((section, key), lines)}"
    profile = Profile(
        name=data.get("name", stem),
        source=source,
        sha256=sha256,
        tables={t: data.get("tables", {}).get(t, t) for t in SPEC_TABLES},
        columns={c: data.get("columns", {}).get(c, c) for c in SPEC_COLUMNS},
        statements=statements,
        lacks=dict(data.get("lacks", {})),
        where=where,
    )
    problem = _inconsistency(profile, data)
    if problem is not None:
        path, message = problem
        raise ProfileError(f"{shown}:{line_of(path, lines)}: {dotted(path)}: {message}")
    return profile


def _inconsistency(profile: Profile, data: dict[str, Any]) -> tuple[tuple[str, ...], str] | None:
    """The first thing the schema cannot see that makes the profile unusable."""
    takes_event_id = {"append-first": True, "append-next": True}  # as the spec's do
    for key, text in profile.statements.items():
        path = ("statements", key)
        try:
            _, names = positional(text)
        except ValueError as exc:
            return path, str(exc)
        allowed, required = STATEMENT_PARAMETERS[key]
        unknown = [n for n in names if n not in allowed]
        if unknown:
            known = ", ".join(f":{n}" for n in allowed) or "none"
            return path, f"unknown parameter :{unknown[0]} (this statement takes {known})"
        missing = [n for n in required if n not in names]
        if missing:
            return path, f"takes no :{missing[0]}, which this statement must send"
        if key.startswith("append-"):
            takes_event_id[key] = "eventId" in names
    if len(set(takes_event_id.values())) > 1:
        written = next(key for key in takes_event_id if key in profile.statements)
        return ("statements", written), (
            "append-first and append-next must agree: both send :eventId, "
            "or both let the database make it (and return it)"
        )
    if DEFINITIONS in profile.lacks:
        for path in (("tables", "entity_events"), ("statements", "define"),
                     ("statements", "read-definitions")):  # fmt: skip
            if path[1] in data.get(path[0], {}):
                return path, "the profile says the DDL lacks definitions: leave this out"
    return None
