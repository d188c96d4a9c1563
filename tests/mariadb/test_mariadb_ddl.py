"""The shipped MariaDB DDL passes the whole bundled corpus; each broken one is caught.

Every file in tests/broken/mariadb/ leaves out one rule (its first line says which,
`-- breaks: RULE`): running that rule's scenarios against it must fail, and the
failure must name the rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BROKEN

from conformance.loader import load_files, scenario_paths
from conformance.resources import bundled_scenarios

BROKEN_DDLS = sorted(BROKEN.glob("*.ddl"))


def bundled_count(rule: str | None = None) -> int:
    files = load_files(scenario_paths([bundled_scenarios()]))
    return sum(1 for f in files for s in f.scenarios if rule is None or rule in s.all_rules)


def broken_rule(ddl: Path) -> str:
    match = re.match(r"-- breaks: (\S+)", ddl.read_text(encoding="utf-8"))
    assert match, f"{ddl}: the first line must say `-- breaks: RULE`"
    return match.group(1)


def run_kit(pytester: pytest.Pytester, ddl: Path, dsn: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest(f"--ddl={ddl}", f"--dsn={dsn}", "-p", "no:cacheprovider", *args)


def test_the_bundled_corpus_passes_on_the_shipped_mariadb_ddl(
    pytester: pytest.Pytester,
    mariadb_ddl: Path,
    mariadb_dsn: str,
    kit_databases: Callable[[], set[str]],
) -> None:
    result = run_kit(pytester, mariadb_ddl, mariadb_dsn, "-q")
    result.assert_outcomes(passed=bundled_count())
    assert kit_databases() == set()  # every database the run made is gone


def test_there_are_broken_mariadb_ddls() -> None:
    assert len(BROKEN_DDLS) >= 10


@pytest.mark.parametrize("ddl", BROKEN_DDLS, ids=[p.stem for p in BROKEN_DDLS])
def test_a_broken_mariadb_ddl_is_caught_by_its_rule(
    pytester: pytest.Pytester,
    ddl: Path,
    mariadb_dsn: str,
    kit_databases: Callable[[], set[str]],
) -> None:
    rule = broken_rule(ddl)
    selected = bundled_count(rule)
    assert selected, f"no bundled scenario checks {rule}"
    result = run_kit(pytester, ddl, mariadb_dsn, "-q", "-m", rule)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1, result.stdout.str()
    assert outcomes.get("failed", 0) + outcomes.get("passed", 0) == selected
    result.stdout.fnmatch_lines([f"*rule broken: *{rule}*"])
    assert kit_databases() == set()
