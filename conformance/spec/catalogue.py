"""The rule catalogue: the spec's rules as data, shared by scenarios, runner and reports."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

# The rule of the session-setting variants (conformance/execution/settings.py): no scenario
# file names it, the kit adds it to each scenario it runs again under a setting.
SETTINGS_RULE = "session.settings"


class Level(enum.Enum):
    """RFC 2119 strength of a rule."""

    MUST = "MUST"
    SHOULD = "SHOULD"


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    statement: str
    section: str
    # Single-writer rules this one builds on: a DDL breaking them fails this one too.
    builds_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    rules: tuple[Rule, ...]

    def __contains__(self, rule_id: object) -> bool:
        return any(rule.id == rule_id for rule in self.rules)

    def __getitem__(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.rules)


@cache
def load_catalogue() -> Catalogue:
    """Read the bundled rules.yaml once per process."""
    text = resources.files("conformance.spec").joinpath("rules.yaml").read_text(encoding="utf-8")
    # libyaml's parser when PyYAML has it: the pure-Python one takes 50 ms over this file.
    entries = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return Catalogue(
        tuple(
            Rule(
                e["id"],
                Level(e["level"]),
                e["statement"],
                e["section"],
                tuple(e.get("builds_on", ())),
            )
            for e in entries
        )
    )
