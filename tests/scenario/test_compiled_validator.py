"""The compiled validator (jsonschema-rs) passes exactly the files jsonschema passes.

The loader lets a file through on the compiled validator's word alone, so a file it
passed that jsonschema would reject would be a check lost. Each bundled file is mutated
at every place in turn (a value replaced by one of another shape, a key removed, a key
added) and both validators must give the same verdict on every mutant.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from conformance.errors import ScenarioError
from conformance.resources import bundled_scenarios
from conformance.scenario.loader import scenario_check, scenario_paths, scenario_schema
from conformance.yaml_lines import parse_with_lines

# One value of each JSON type and a few that break common constraints (an empty string,
# a negative number, a repeated item).
REPLACEMENTS: tuple[Any, ...] = (None, "", "x y", -1, 2.5, True, ["a", "a"], {})
FILES = scenario_paths([bundled_scenarios()])
# The two smallest files: every value of them is mutated; the large ones would take minutes.
SMALL = sorted(FILES, key=lambda path: path.stat().st_size)[:2]


def places(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from places(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from places(value, (*path, index))


def mutants(data: Any) -> Iterator[Any]:
    for path in places(data):
        if not path:
            continue
        *parent_path, last = path
        for replacement in REPLACEMENTS:
            mutant = copy.deepcopy(data)
            parent = _at(mutant, parent_path)
            parent[last] = replacement
            yield mutant
        if isinstance(last, str):
            mutant = copy.deepcopy(data)
            del _at(mutant, parent_path)[last]
            yield mutant
            mutant = copy.deepcopy(data)
            _at(mutant, parent_path)["unexpected"] = 1
            yield mutant


def _at(data: Any, path: list[Any]) -> Any:
    for part in path:
        data = data[part]
    return data


@pytest.mark.parametrize("path", SMALL, ids=lambda path: path.name)
def test_both_validators_agree_on_every_mutant_of_a_bundled_file(path) -> None:
    data, _ = parse_with_lines(path.read_text(encoding="utf-8"), path.name, ScenarioError)
    reference = jsonschema.Draft202012Validator(scenario_schema())
    rejected = 0
    for mutant in mutants(data):
        expected = reference.is_valid(mutant)
        assert scenario_check().compiled.is_valid(mutant) == expected, mutant
        rejected += not expected
    assert rejected > 0  # the mutants do reach the schema's constraints


def test_a_value_json_has_no_type_for_goes_to_jsonschema() -> None:
    data, _ = parse_with_lines(SMALL[0].read_text(encoding="utf-8"), "small.yaml", ScenarioError)
    data["description"] = datetime.date(2024, 1, 1)  # how YAML reads 2024-01-01
    assert not scenario_check().passes(data)
