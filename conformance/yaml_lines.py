"""YAML files whose every value keeps its line, validated against a JSON Schema.

Scenario files and profiles are both read this way, so that any error in either is one
line: `file:line: where: what is wrong`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jsonschema_rs
import yaml

from conformance.errors import KitError

if TYPE_CHECKING:  # jsonschema is imported only to explain a file that fails its schema
    import jsonschema

JsonPath = tuple[str | int, ...]
Lines = dict[JsonPath, int]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_constructor = yaml.SafeLoader("")


def parse_with_lines(
    text: str, shown: str, error: type[KitError], kind: str = "file"
) -> tuple[Any, Lines]:
    """The document as Python values, and the line of every value by its path."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{shown}{line}: malformed YAML: {problem}") from None
    if node is None:
        raise error(f"{shown}:1: empty {kind}")
    lines: Lines = {}
    return _to_python(node, (), lines, shown, error), lines


def _to_python(
    node: yaml.Node, path: JsonPath, lines: Lines, shown: str, error: type[KitError]
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                raise error(
                    f"{shown}:{key_node.start_mark.line + 1}: {dotted(path)}: duplicate key {key!r}"
                )
            result[key] = _to_python(value_node, (*path, key), lines, shown, error)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _to_python(item, (*path, i), lines, shown, error) for i, item in enumerate(node.value)
        ]
    return _scalar(node)


_STR_TAG = "tag:yaml.org,2002:str"


def _scalar(node: yaml.Node) -> Any:
    if node.tag == _STR_TAG and isinstance(node, yaml.ScalarNode):
        return node.value  # what the constructor returns for a string, without its bookkeeping
    return _constructor.construct_object(node, deep=True)


def dotted(path: JsonPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def line_of(path: JsonPath, lines: Lines) -> int:
    while path not in lines:
        path = path[:-1]
    return lines[path]


def first_schema_error(
    validator: jsonschema.protocols.Validator, data: Any, lines: Lines
) -> jsonschema.ValidationError | None:
    """The schema error nearest the top of the file, the most telling one at that place."""
    from jsonschema.exceptions import best_match

    errors = list(validator.iter_errors(data))
    if not errors:
        return None
    error = min(
        errors, key=lambda e: (line_of(tuple(e.absolute_path), lines), -len(e.absolute_path))
    )
    return best_match([e for e in errors if e.absolute_path == error.absolute_path])


class SchemaCheck:
    """A JSON Schema, checked by the compiled validator (jsonschema-rs); jsonschema, slower
    to import and to run, only explains a document that fails (its errors carry the path
    that gives the line)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.compiled = jsonschema_rs.Draft202012Validator(schema)
        self._explaining: jsonschema.Draft202012Validator | None = None

    def passes(self, data: Any) -> bool:
        """The compiled validator's word; False for a value JSON has no type for (a YAML
        date, say), which jsonschema then judges."""
        try:
            return self.compiled.is_valid(data)
        except ValueError:
            return False

    def first_error(self, data: Any, lines: Lines) -> jsonschema.ValidationError | None:
        if self.passes(data):
            return None
        if self._explaining is None:
            import jsonschema

            self._explaining = jsonschema.Draft202012Validator(self.schema)
        return first_schema_error(self._explaining, data, lines)
