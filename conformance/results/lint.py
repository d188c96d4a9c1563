"""sqlfluff lint of a DDL with the kit's rule set and the dialect that fits its engine.

The rule set is ddl/.sqlfluff (shipped with the package, so `--lint` works on an
installed kit); it names no dialect because one configuration serves every engine:
the dialect comes from the DDL's file name for the shipped DDLs and from the DSN's
scheme for `--lint`. The configuration is read on its own, never merged with a
`.sqlfluff` of the folder being linted, so a lint means the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conformance.backends import scheme_of
from conformance.errors import KitError
from conformance.resources import bundled_ddl_folder

CONFIG_NAME = ".sqlfluff"

# A word in the file name -> the sqlfluff dialect, first match wins.
DIALECT_BY_FILE_WORD = (
    ("sqlite", "sqlite"),
    ("postgres", "postgres"),
    ("mariadb", "mariadb"),
    ("mysql", "mysql"),
)

DIALECT_BY_SCHEME = {
    "sqlite": "sqlite",
    "postgresql": "postgres",
    "postgres": "postgres",
    "mariadb": "mariadb",
    "mysql": "mysql",
}


@dataclass(frozen=True)
class Finding:
    line: int
    column: int
    code: str
    description: str

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.code} {self.description}"


@dataclass(frozen=True)
class LintReport:
    """Findings for one DDL, or why it was not linted (no dialect fits)."""

    path: str
    dialect: str | None
    findings: tuple[Finding, ...] = ()
    note: str = ""


def dialect_for_file(path: Path) -> str:
    name = path.name.lower()
    for word, dialect in DIALECT_BY_FILE_WORD:
        if word in name:
            return dialect
    words = ", ".join(word for word, _ in DIALECT_BY_FILE_WORD)
    raise KitError(
        f"{path}: no sqlfluff dialect fits this file name (it should contain one of: {words})"
    )


def dialect_for_dsn(dsn: str | None) -> str | None:
    """The dialect for the DSN's engine; None when the kit knows none for its scheme."""
    return DIALECT_BY_SCHEME.get(scheme_of(dsn))


def config_text() -> str:
    return (bundled_ddl_folder() / CONFIG_NAME).read_text(encoding="utf-8")


def lint_text(text: str, dialect: str, name: str = "ddl") -> tuple[Finding, ...]:
    """Every finding of the kit's rule set on `text`, parse errors included, in file order."""
    from sqlfluff.core import FluffConfig, Linter  # imported here: it takes a second to load

    config = FluffConfig.from_string(config_text(), overrides={"dialect": dialect})
    linted = Linter(config=config).lint_string(text, fname=name)
    findings = (
        Finding(v.line_no, v.line_pos, v.rule_code(), v.desc()) for v in linted.get_violations()
    )
    return tuple(sorted(findings, key=lambda f: (f.line, f.column, f.code)))


def lint_ddl(path: Path, text: str, dialect: str | None) -> LintReport:
    if dialect is None:
        return LintReport(str(path), None, note="no sqlfluff dialect is known for this engine")
    return LintReport(str(path), dialect, lint_text(text, dialect, str(path)))
