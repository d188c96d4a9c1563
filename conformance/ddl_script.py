"""A DDL file as the kit uses it: its text, its identity, and its statements with lines."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from conformance.errors import KitError


@dataclass(frozen=True)
class DdlScript:
    path: Path
    text: str

    @classmethod
    def read(cls, path: Path, setting: str = "--ddl") -> DdlScript:
        """The file named by `setting` (the option errors name)."""
        try:
            return cls(path, path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KitError(f"{setting} {path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KitError(f"{setting} {path}: cannot read: {exc}") from None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def line_at(self, offset: int) -> int:
        """1-based line of a character offset into the text."""
        return self.text.count("\n", 0, max(offset, 0)) + 1


def first_line(text: str) -> str:
    """The first non-blank, non-comment line of a statement, for error messages."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            return stripped[:120]
    return text.strip()[:120]
