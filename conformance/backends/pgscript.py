"""A PostgreSQL script cut into statements, each with its line, the way psql cuts it.

The kit applies a DDL one statement at a time so that a statement the server rejects
can be named by `file:line`. Semicolons end a statement only outside quotes, quoted
identifiers, dollar-quoted bodies, comments and `BEGIN ATOMIC ... END` function bodies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# One token the cutter must step over whole, or one word that matters to it.
_TOKEN = re.compile(
    r"""
      (?P<line_comment>--[^\n]*)
    | (?P<block_comment>/\*)
    | (?P<escape_string>[eE]'(?:[^'\\]|\\.|'')*'?)
    | (?P<string>'(?:[^']|'')*'?)
    | (?P<identifier>"(?:[^"]|"")*"?)
    | (?P<dollar>\$(?:[A-Za-z_\x80-\uffff][\w\x80-\uffff]*)?\$)
    | (?P<word>[A-Za-z_][\w$]*)
    | (?P<semicolon>;)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Statement:
    line: int  # 1-based line of the statement's first character in the script
    offset: int  # character offset of that first character
    text: str

    def line_of(self, position: int | None) -> int:
        """The script line of a 1-based character position within this statement."""
        if not position:
            return self.line
        return self.line + self.text.count("\n", 0, position - 1)


def split_script(script: str) -> list[Statement]:
    return list(_statements(script))


def _statements(script: str) -> Iterator[Statement]:
    start = 0
    cutter = _Cutter(script)
    for end in cutter.ends():
        statement = _trimmed(script, start, end)
        if statement:
            yield statement
        start = end
    statement = _trimmed(script, start, len(script))
    if statement:
        yield statement


def _trimmed(script: str, start: int, end: int) -> Statement | None:
    """The statement in script[start:end] without leading blanks and comments; None if empty."""
    position = start
    while position < end:
        match = re.compile(r"\s+|--[^\n]*").match(script, position, end)
        if match and match.end() > position:
            position = match.end()
            continue
        if script.startswith("/*", position):
            position = _block_comment_end(script, position)
            continue
        break
    text = script[position:end].strip()
    if not text or text == ";":
        return None
    return Statement(script.count("\n", 0, position) + 1, position, text)


def _block_comment_end(script: str, start: int) -> int:
    """End of a (nestable) /* */ comment starting at `start`; the script's end if unclosed."""
    depth = 0
    position = start
    while position < len(script):
        if script.startswith("/*", position):
            depth += 1
            position += 2
        elif script.startswith("*/", position):
            depth -= 1
            position += 2
            if depth == 0:
                return position
        else:
            position += 1
    return len(script)


class _Cutter:
    """Finds the offsets just past each statement-ending semicolon."""

    def __init__(self, script: str) -> None:
        self.script = script
        self.atomic_depth = 0  # inside BEGIN ATOMIC: BEGIN/CASE ... END nesting
        self.previous_word = ""

    def ends(self) -> Iterator[int]:
        position = 0
        while True:
            match = _TOKEN.search(self.script, position)
            if match is None:
                return
            position = self.skip(match)
            if match.lastgroup == "semicolon" and self.atomic_depth == 0:
                self.previous_word = ""
                yield position

    def skip(self, match: re.Match[str]) -> int:
        kind = match.lastgroup
        if kind == "block_comment":
            return _block_comment_end(self.script, match.start())
        if kind == "dollar":
            closing = self.script.find(match.group(), match.end())
            return len(self.script) if closing < 0 else closing + len(match.group())
        if kind == "word":
            self.track_atomic(match.group().upper())
        return match.end()

    def track_atomic(self, word: str) -> None:
        if (word == "ATOMIC" and self.previous_word == "BEGIN") or (
            self.atomic_depth and word in ("BEGIN", "CASE")
        ):
            self.atomic_depth += 1
        elif self.atomic_depth and word == "END":
            self.atomic_depth -= 1
        self.previous_word = word
