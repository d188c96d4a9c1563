"""The shipped MariaDB DDL passes the whole bundled corpus; each broken one is caught.

Every file in tests/broken/mariadb/ is the shipped MariaDB DDL with one rule taken
out, the way a port to MariaDB tends to lose it (a default collation, a UUID column
type, a unique key that NULLs slip through). It is named for that rule, as the SQLite
ones are (`rule--variant.ddl`). The scenarios of that rule must fail against it, and
each failure must blame that rule and no other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BROKEN
from helpers import corpus, run_on

from conformance.backends.mariadb import MariadbBackend
from conformance.catalogue import load_catalogue
from conformance.ddl import DdlScript
from conformance.report import failure_text

BROKEN_DDLS = sorted(BROKEN.glob("*.ddl"))


def broken_rule(path: Path) -> str:
    return path.stem.split("--")[0]


def test_the_bundled_corpus_passes_on_the_shipped_mariadb_ddl(
    pytester: pytest.Pytester,
    mariadb_ddl: Path,
    mariadb_dsn: str,
    kit_databases: Callable[[], set[str]],
) -> None:
    result = pytester.runpytest(
        f"--ddl={mariadb_ddl}", f"--dsn={mariadb_dsn}", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=len(corpus()))
    result.stdout.fnmatch_lines(["conformance: backend mariadb, MariaDB *"])
    assert kit_databases() == set()  # every database the run made is gone


def test_every_broken_mariadb_ddl_names_a_catalogued_rule() -> None:
    assert len(BROKEN_DDLS) >= 10
    for path in BROKEN_DDLS:
        rule = broken_rule(path)
        assert rule in load_catalogue(), path.name
        assert f"Breaks exactly one rule: {rule}\n" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", BROKEN_DDLS, ids=lambda path: path.stem)
def test_a_broken_mariadb_ddl_is_caught_by_its_rule_only(
    path: Path, mariadb_dsn: str, kit_databases: Callable[[], set[str]]
) -> None:
    rule = broken_rule(path)
    scenarios = [s for s in corpus() if rule in s.all_rules]
    backend = MariadbBackend(mariadb_dsn, DdlScript.read(path))
    failures = [result for result in run_on(backend, scenarios) if not result.passed]

    assert failures, f"{path.name}: no scenario of {rule} fails, so the kit cannot see it broken"
    blamed_elsewhere = [r for r in failures if set(r.violated_rules) != {rule}]
    assert not blamed_elsewhere, "\n\n".join(failure_text(r) for r in blamed_elsewhere)
    assert kit_databases() == set()
