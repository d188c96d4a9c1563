"""Write forms rendered as SQL: the statements any client with INSERT may send besides
the spec's own (several rows at once, supplied sequence or ts, conflict clauses, bulk
loads), spelled through the profile's table and column names.

A backend says which forms its engine has and renders them with these helpers; a form
it lacks is not applicable with the backend's reason, never a pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.spec.profile import Profile


@dataclass(frozen=True)
class WriteSql:
    """What to send: one statement with `?` placeholders and its parameters, or for a
    bulk load the statement and its rows (`copy_rows`)."""

    sql: str
    params: tuple[Any, ...] = ()
    copy_rows: tuple[tuple[Any, ...], ...] | None = None


@dataclass(frozen=True)
class WriteRows:
    """Rows of one write step, every row with the same spec columns."""

    profile: Profile
    columns: tuple[str, ...]  # spec names
    rows: tuple[Mapping[str, Any], ...]

    @property
    def table(self) -> str:
        return self.profile.tables["events"]

    def name(self, column: str) -> str:
        return self.profile.columns[column]

    @property
    def names(self) -> str:
        return ", ".join(self.name(c) for c in self.columns)

    @property
    def params(self) -> tuple[Any, ...]:
        return tuple(row.get(c) for row in self.rows for c in self.columns)

    @property
    def tuples(self) -> tuple[tuple[Any, ...], ...]:
        return tuple(tuple(row.get(c) for c in self.columns) for row in self.rows)

    def values(self) -> str:
        one = "(" + ", ".join("?" for _ in self.columns) + ")"
        return ", ".join(one for _ in self.rows)

    def insert(self, verb: str = "INSERT INTO", between: str = "", after: str = "") -> WriteSql:
        """`verb table (columns) [between] VALUES (...), (...) [after]`."""
        middle = f" {between}" if between else ""
        tail = f" {after}" if after else ""
        sql = f"{verb} {self.table} ({self.names}){middle} VALUES {self.values()}{tail}"
        return WriteSql(sql, self.params)

    def updated(self, on: str) -> list[str]:
        """The columns an upsert or merge sets: every column sent but its conflict target."""
        return [self.name(c) for c in self.columns if c != on]


def assignments(names: Sequence[str], source: str) -> str:
    """`a = source(a), b = ...` for an upsert's or a merge's update."""
    return ", ".join(f"{n} = {source.format(n)}" for n in names)
