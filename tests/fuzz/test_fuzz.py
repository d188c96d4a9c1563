"""The fuzzer: it finds every deliberately broken DDL, and what it prints reproduces the break."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import REPO, SHIPPED_SQLITE_DDL, broken_rule, one_error_line
from hypothesis import given
from hypothesis import strategies as st

from conformance.backends.sqlite import SqliteBackend, SqliteStore
from conformance.ddl_script import DdlScript
from conformance.execution.settings import SETTINGS_RULE
from conformance.fuzz.machine import DATA, DEFINITIONS, event_uuid, fuzz
from conformance.scenario.loader import load_file
from conformance.scenario.objects import Append, AppendStep, Literal, Location, TruncateStep
from conformance.scenario.writer import scenario_yaml
from conformance.spec.catalogue import load_catalogue

NO_EVENTS_TABLE = "no-events-table"  # the preflight stops it before anything runs
# The fuzzer runs on connections with the driver's defaults: a DDL that breaks only under a
# session setting is the setting items' business.
BROKEN = sorted(
    path
    for path in (REPO / "tests" / "broken" / "sqlite").glob("*.ddl")
    if path.stem != NO_EVENTS_TABLE and broken_rule(path) != SETTINGS_RULE
)
SEED = 1


@given(data=DATA, key=st.text(min_size=1, max_size=8))
def test_a_written_scenario_loads_back_with_the_same_values(
    tmp_path_factory, data: str, key: str
) -> None:
    append = Append(
        "order", key, "created", data, Literal(event_uuid(1)), Literal(None), None, "e1"
    )
    step = AppendStep(Location("x", 1), (), append, "rejected")
    text = scenario_yaml(
        description="d", definitions=DEFINITIONS, name="n", rules=["appends.required"], steps=[step]
    )
    path = tmp_path_factory.mktemp("written") / "case.yaml"
    path.write_text(text, encoding="utf-8")
    (loaded,) = load_file(path).scenarios[0].steps
    assert isinstance(loaded, AppendStep)
    assert loaded.append == append and loaded.expect == "rejected"


def test_a_truncate_and_a_large_event_are_written_the_scenario_way(tmp_path: Path) -> None:
    large = "x" * 70000
    append = Append("order", "k-1", "created", large, Literal(event_uuid(1)), Literal(None), None)
    steps = [AppendStep(Location("x", 1), (), append, "rejected"),
             TruncateStep(Location("x", 2), (), "events")]  # fmt: skip
    text = scenario_yaml(description="d", definitions=DEFINITIONS, name="n",
                         rules=["appends.required"], steps=steps)  # fmt: skip
    assert "{repeat: x, times: 70000}" in text and "truncate: events" in text
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_file(path).scenarios[0].steps
    assert isinstance(loaded[0], AppendStep) and loaded[0].append == append
    assert isinstance(loaded[1], TruncateStep) and loaded[1].table == "events"


class CountingBackend(SqliteBackend):
    """The real SQLite backend, remembering every store it made."""

    def __init__(self, ddl: Path) -> None:
        super().__init__(None, DdlScript.read(ddl))
        self.stores: list[SqliteStore] = []

    def create_store(self) -> SqliteStore:
        store = super().create_store()
        self.stores.append(store)
        return store


def test_each_example_gets_a_store_of_its_own_and_closes_it() -> None:
    backend = CountingBackend(SHIPPED_SQLITE_DDL)
    backend.prepare()
    try:
        report = fuzz(backend, seed=SEED, examples=15)
    finally:
        backend.close()
    assert not report.found
    assert report.stats.examples == len(backend.stores) == len({s.path for s in backend.stores})
    assert report.stats.steps > report.stats.examples
    assert not any(store.path.exists() for store in backend.stores)


def fuzz_run(pytester: pytest.Pytester, ddl: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        f"--ddl={ddl}",
        "--conformance-fuzz",
        f"--conformance-fuzz-seed={SEED}",
        "-k",
        "conformance-fuzz",
        "-p",
        "no:cacheprovider",
        *args,
    )


def test_a_ddl_without_the_events_table_stops_at_the_preflight_before_fuzzing(
    pytester: pytest.Pytester,
) -> None:
    ddl = REPO / "tests" / "broken" / "sqlite" / f"{NO_EVENTS_TABLE}.ddl"
    result = fuzz_run(pytester, ddl)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "table events is not in the DDL" in one_error_line(result)


@pytest.mark.parametrize("ddl", BROKEN, ids=lambda path: path.stem)
def test_the_default_budget_finds_each_broken_ddl_with_a_case_that_reproduces(
    pytester: pytest.Pytester, ddl: Path
) -> None:
    saved = pytester.path / "found"
    found = fuzz_run(pytester, ddl, f"--conformance-fuzz-save={saved}")
    # A SHOULD rule broken is a warning (an expected failure) unless the step errored.
    outcomes = found.parseoutcomes()
    outcome = {"failed": 1} if outcomes.get("failed") else {"xfailed": 1}
    found.assert_outcomes(**outcome)
    if load_catalogue()[broken_rule(ddl)].level.value == "MUST":
        assert outcome == {"failed": 1}
    (case,) = saved.glob("*.yaml")
    rule_line = f"*rule broken: {broken_rule(ddl)}"
    if outcome == {"failed": 1}:  # a warning's details are not printed
        assert case.read_text(encoding="utf-8").rstrip() in found.stdout.str()  # as saved
        found.stdout.fnmatch_lines([rule_line])
    else:
        found.stdout.fnmatch_lines([f"*SHOULD rules broken: {broken_rule(ddl)}*"])

    # The case as written, and again under each session setting that could weaken its rules.
    again = pytester.runpytest(f"--ddl={ddl}", "--no-bundled", f"--scenarios={case}")
    outcomes = again.parseoutcomes()
    if load_catalogue()[broken_rule(ddl)].level.value == "MUST":
        assert outcomes.get("failed", 0) >= 1 and not outcomes.get("passed"), outcomes
        again.stdout.fnmatch_lines([rule_line])
    else:  # a warning, or an error where the database erred instead of refusing
        assert again.ret != pytest.ExitCode.OK or outcomes.get("xfailed", 0) >= 1
        again.stdout.fnmatch_lines([f"*{broken_rule(ddl)}*"])
    shipped = pytester.runpytest(
        f"--ddl={SHIPPED_SQLITE_DDL}", "--no-bundled", f"--scenarios={case}"
    )
    outcomes = shipped.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and set(outcomes) == {"passed"}, outcomes


def test_a_search_that_finds_nothing_says_so_with_its_figures(pytester: pytest.Pytester) -> None:
    result = fuzz_run(pytester, SHIPPED_SQLITE_DDL, "--conformance-fuzz-budget=10")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            f"conformance fuzz: 10 examples of up to * steps, seed {SEED} (--conformance-fuzz-seed={SEED} *",
            f"conformance fuzz: 10 examples, * steps in * s (* steps/s), seed {SEED}: no divergence",
        ]
    )


def test_without_a_seed_a_random_one_is_shown(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        f"--ddl={SHIPPED_SQLITE_DDL}",
        "--conformance-fuzz",
        "--conformance-fuzz-budget=2",
        "-k",
        "conformance-fuzz",
    )
    result.assert_outcomes(passed=1)
    assert re.search(
        r"conformance fuzz: 2 examples, \d+ steps .* seed \d+: no divergence", result.stdout.str()
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--conformance-fuzz"],
            "ERROR: --conformance-fuzz: give the DDL to search with --ddl=FILE",
        ),
        (
            [f"--ddl={SHIPPED_SQLITE_DDL}", "--conformance-fuzz", "--conformance-fuzz-budget=0"],
            "ERROR: --conformance-fuzz-budget '0': not a whole number of at least 1",
        ),
        (
            [f"--ddl={SHIPPED_SQLITE_DDL}", "--conformance-fuzz", "--conformance-fuzz-seed=abc"],
            "ERROR: --conformance-fuzz-seed 'abc': not a whole number of at least 0",
        ),
    ],
)
def test_bad_fuzz_options_give_one_line(
    pytester: pytest.Pytester, args: list[str], expected: str
) -> None:
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.startswith("ERROR:")] == [expected]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
