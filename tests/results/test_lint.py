"""The shipped DDLs lint clean under the committed sqlfluff rule set (ddl/.sqlfluff).

Every ddl/*.ddl is linted with the dialect its file name names, so a DDL added for
another engine is linted as soon as it lands, and CI fails on a lint regression.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.errors import KitError
from conformance.resources import bundled_ddl_folder
from conformance.results.lint import Finding, dialect_for_dsn, dialect_for_file, lint_text

DDL_FOLDER = Path(__file__).resolve().parents[2] / "ddl"
SHIPPED = sorted(DDL_FOLDER.glob("*.ddl"))
SQLITE_DDL = DDL_FOLDER / "sqlite-event-store.ddl"


@pytest.mark.parametrize("path", SHIPPED, ids=[path.name for path in SHIPPED])
def test_shipped_ddl_lints_clean(path: Path) -> None:
    findings = lint_text(path.read_text(encoding="utf-8"), dialect_for_file(path), str(path))
    assert findings == (), "\n".join(f"{path}:{finding}" for finding in findings)


def test_the_sqlite_ddl_is_among_the_linted_files() -> None:
    assert SQLITE_DDL in SHIPPED


def test_the_rule_set_is_the_one_the_package_ships() -> None:
    assert (bundled_ddl_folder() / ".sqlfluff").read_text() == (
        DDL_FOLDER / ".sqlfluff"
    ).read_text()


def test_lint_catches_a_regression_in_the_sqlite_ddl() -> None:
    """Lower-case keywords, an over-long line and a missing final semicolon are found."""
    lines = SQLITE_DDL.read_text().rstrip().removesuffix(";").splitlines()
    create = lines.index("CREATE TABLE IF NOT EXISTS events (")
    lines[create] = "create table if not exists events ("
    long_comment = "    -- " + "x" * 100
    lines.insert(create + 1, long_comment)
    findings = lint_text("\n".join(lines) + "\n", "sqlite")
    assert {(f.line, f.code) for f in findings} == {
        (create + 1, "CP01"),
        (create + 2, "LT05"),
        (len(lines), "CV06"),
    }


def test_spec_column_names_keep_their_case_other_names_are_lower_case() -> None:
    findings = lint_text("CREATE TABLE events (entityKey TEXT, entityFoo TEXT);\n", "postgres")
    assert findings == (Finding(1, 38, "CP02", "Unquoted identifiers must be lower case."),)


def test_unparsable_sql_is_a_finding() -> None:
    findings = lint_text("CREATE TABLE events (;\n", "sqlite")
    assert "PRS" in {f.code for f in findings}


@pytest.mark.parametrize(
    ("name", "dialect"),
    [
        ("sqlite-event-store.ddl", "sqlite"),
        ("postgres-event-store.ddl", "postgres"),
        ("mariadb-event-store.ddl", "mariadb"),
        ("mysql-event-store.ddl", "mysql"),
    ],
)
def test_dialect_by_file_name(name: str, dialect: str) -> None:
    assert dialect_for_file(Path("ddl") / name) == dialect


def test_a_file_name_without_an_engine_is_refused() -> None:
    with pytest.raises(KitError, match=r"^ddl/event-store\.ddl: no sqlfluff dialect fits"):
        dialect_for_file(Path("ddl/event-store.ddl"))


@pytest.mark.parametrize(
    ("dsn", "dialect"),
    [
        (None, "sqlite"),
        ("sqlite:///tmp/stores", "sqlite"),
        ("postgresql://127.0.0.1/test", "postgres"),
        ("host=127.0.0.1 dbname=test", "postgres"),
        ("mysql://root@127.0.0.1/test", "mysql"),
        ("mariadb://root@127.0.0.1/test", "mariadb"),
        ("oracle://db/test", None),
    ],
)
def test_dialect_by_dsn(dsn: str | None, dialect: str | None) -> None:
    assert dialect_for_dsn(dsn) == dialect
