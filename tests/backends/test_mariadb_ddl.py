"""The shipped MariaDB DDL passes the whole bundled corpus; each broken one is caught.

Every file in tests/broken/mariadb/ is the shipped MariaDB DDL with one rule taken
out, the way a port to MariaDB tends to lose it (a default collation, a UUID column
type, a unique key that NULLs slip through). It is named for that rule, as the SQLite
ones are (`rule--variant.ddl`), and its first line says which rules it breaks: on
MariaDB some mistakes cannot break one rule alone (a foreign key needs the same
collation on both sides, so a case-blind name also makes a case-blind definition).
The scenarios of those rules run against it: each rule must be caught, and every
failure must blame only rules the file declares.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import BROKEN_MARIADB, assert_corpus_passes, broken_rule, corpus, run_on

from conformance.backends.mariadb import MariadbBackend
from conformance.ddl_script import DdlScript
from conformance.results.failure import failure_text
from conformance.spec.catalogue import SETTINGS_RULE, load_catalogue

pytestmark = pytest.mark.mariadb

BROKEN_DDLS = sorted(BROKEN_MARIADB.glob("*.ddl"))


def declared_rules(path: Path) -> list[str]:
    """`-- Breaks exactly one rule: R` or `-- Breaks these rules: R, S`; R names the file."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"-- Breaks (?:exactly one rule|these rules): (.+)", first)
    assert match, f"{path.name}: the first line must say which rules it breaks"
    rules = [rule.strip() for rule in match.group(1).split(",")]
    assert (rules[0] == broken_rule(path)) and (len(rules) == 1) == ("exactly" in first)
    return rules


def test_the_bundled_corpus_passes_on_the_shipped_mariadb_ddl(
    pytester: pytest.Pytester,
    mariadb_ddl: Path,
    mariadb_dsn: str,
    kit_databases: Callable[[], set[str]],
) -> None:
    result = pytester.runpytest(
        f"--ddl={mariadb_ddl}", f"--dsn={mariadb_dsn}", "-p", "no:cacheprovider"
    )
    assert_corpus_passes(result, MariadbBackend)
    result.stdout.fnmatch_lines(["conformance: backend mariadb, MariaDB *"])
    assert kit_databases() == set()  # every database the run made is gone


def test_every_broken_mariadb_ddl_names_a_catalogued_rule() -> None:
    assert len(BROKEN_DDLS) >= 10
    for path in BROKEN_DDLS:
        for rule in declared_rules(path):
            assert rule in load_catalogue(), path.name


def also_failing(rules: set[str]) -> set[str]:
    """Race rules that build on these rules: breaking one makes their races fail too."""
    return {r.id for r in load_catalogue().rules if rules & set(r.builds_on)}


@pytest.mark.parametrize("path", BROKEN_DDLS, ids=lambda path: path.stem)
def test_a_broken_mariadb_ddl_is_caught_by_its_rules_only(
    path: Path, mariadb_dsn: str, kit_databases: Callable[[], set[str]]
) -> None:
    rules = set(declared_rules(path))
    backend = MariadbBackend(mariadb_dsn, DdlScript.read(path))
    if rules == {SETTINGS_RULE}:
        # Holds as written; only the variants run under a session setting break, and each
        # blames session.settings (besides the rule its step breaks).
        results = run_on(backend, corpus(), settings=True)
        failures = [result for result in results if not result.passed]
        assert failures and all(r.scenario.setting for r in failures)
        unblamed = [r for r in failures if SETTINGS_RULE not in r.violated_rules]
        assert not unblamed, "\n\n".join(failure_text(r) for r in unblamed)
        assert kit_databases() == set()
        return
    allowed = rules | also_failing(rules)
    scenarios = [s for s in corpus() if allowed & set(s.all_rules)]
    failures = [result for result in run_on(backend, scenarios) if not result.passed]

    caught = {rule for result in failures for rule in result.violated_rules}
    assert caught >= rules, f"{path.name}: no scenario shows {sorted(rules - caught)} broken"
    blamed_elsewhere = [r for r in failures if not set(r.violated_rules) <= allowed]
    assert not blamed_elsewhere, "\n\n".join(failure_text(r) for r in blamed_elsewhere)
    assert kit_databases() == set()
