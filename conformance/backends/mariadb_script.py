"""Splitting a MariaDB/MySQL script into statements the way the mariadb client does."""

from __future__ import annotations

import re
from collections.abc import Iterator

_DELIMITER_LINE = re.compile(r"\s*delimiter\s+(\S+)\s*$", re.IGNORECASE)


def split_statements(text: str) -> Iterator[tuple[int, str]]:
    """(first line, statement) for each statement of a script, as the mariadb client splits it.

    A statement ends at the delimiter (';', or what a `DELIMITER xx` line sets) outside
    quotes, backticks and comments, so a compound trigger body can be written between
    `DELIMITER //` and `DELIMITER ;` lines. The delimiter itself is not sent.
    """
    scanner = _Scanner()
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        yield from scanner.feed(number, line)
    yield from scanner.finish()


class _Scanner:
    """Splits a script line by line; knows whether it is inside a quote or a comment."""

    def __init__(self) -> None:
        self.delimiter = ";"
        self.buffer: list[str] = []
        self.start: int | None = None  # line of the current statement's first code
        self.inside: str | None = None  # the open quote character, or "/*"

    def feed(self, number: int, line: str) -> Iterator[tuple[int, str]]:
        if self.inside is None and self.start is None:
            match = _DELIMITER_LINE.match(line)
            if match:
                self.delimiter = match.group(1)
                return
        i = 0
        while i < len(line):
            if self.inside is not None:
                i = self._skip_quoted(line, i)
                continue
            if line.startswith(self.delimiter, i):
                if self.start is not None:
                    yield self.start, "".join(self.buffer)
                self.buffer, self.start = [], None
                i += len(self.delimiter)
                continue
            i = self._code(number, line, i)

    def _code(self, number: int, line: str, i: int) -> int:
        """Consume the token at line[i] outside quotes; the index after it."""
        char = line[i]
        if char == "#" or (
            line.startswith("--", i) and line[i + 2 : i + 3] in ("", " ", "\t", "\n", "\r")
        ):
            if self.start is not None:
                self.buffer.append(line[i:])
            return len(line)
        if line.startswith("/*", i):
            self.inside = "/*"
            self._keep("/*")
            return i + 2
        if char in "'\"`":
            self.inside = char
        if not char.isspace() and self.start is None:
            self.start = number
        self._keep(char)
        return i + 1

    def _skip_quoted(self, line: str, i: int) -> int:
        """Consume quoted text or comment from line[i]; the index after what was consumed."""
        if self.inside == "/*":
            end = line.find("*/", i)
            stop = len(line) if end < 0 else end + 2
            if end >= 0:
                self.inside = None
            self._keep(line[i:stop])
            return stop
        char = line[i]
        if char == "\\" and self.inside != "`":
            self._keep(line[i : i + 2])
            return i + 2
        if char == self.inside:
            if line[i + 1 : i + 2] == char:
                self._keep(char * 2)
                return i + 2
            self.inside = None
        self._keep(char)
        return i + 1

    def _keep(self, text: str) -> None:
        if self.start is not None or self.inside not in (None, "/*"):
            self.buffer.append(text)

    def finish(self) -> Iterator[tuple[int, str]]:
        if self.start is not None and "".join(self.buffer).strip():
            yield self.start, "".join(self.buffer)
