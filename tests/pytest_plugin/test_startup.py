"""What a conformance run loads: nothing it does not use (issue 16, the kit's fixed cost).

Each run is a separate pytest process (runpytest_subprocess): the test process itself has
imported Hypothesis and jsonschema long before. A conftest.py of the run writes, at the
very end (pytest_unconfigure comes after the terminal summary), which of the heavy
libraries the process imported and whether Hypothesis's pytest plugin was still there.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

LOADED_REPORT = "loaded.json"
SPY_CONFTEST = f"""
import json, sys

def pytest_unconfigure(config):
    loaded = {{name: name in sys.modules for name in ("hypothesis", "jsonschema")}}
    loaded["hypothesis plugin"] = config.pluginmanager.get_plugin("hypothesispytest") is not None
    with open({LOADED_REPORT!r}, "w") as out:
        json.dump(loaded, out)
"""


def loaded_by(pytester: pytest.Pytester, *args: str) -> dict[str, bool]:
    pytester.makeconftest(SPY_CONFTEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str() + result.stderr.str()
    return json.loads((pytester.path / LOADED_REPORT).read_text())


def test_a_run_without_fuzzing_imports_neither_hypothesis_nor_jsonschema(
    pytester: pytest.Pytester, sqlite_ddl: Path
) -> None:
    loaded = loaded_by(pytester, f"--ddl={sqlite_ddl}")
    assert loaded == {"hypothesis": False, "jsonschema": False, "hypothesis plugin": False}


def test_hypothesis_tests_beside_the_scenarios_keep_hypothesis_and_its_plugin(
    pytester: pytest.Pytester, sqlite_ddl: Path
) -> None:
    pytester.makepyfile(
        test_own="""
        from hypothesis import given, strategies as st

        @given(st.integers())
        def test_own(n):
            assert n == n
        """
    )
    scenario = pytester.makefile(".yaml", one=ONE_SCENARIO)
    loaded = loaded_by(
        pytester, f"--ddl={sqlite_ddl}", f"--scenarios={scenario}", "--no-bundled", "test_own.py"
    )
    assert loaded["hypothesis"] and loaded["hypothesis plugin"]


def test_an_invalid_scenario_file_is_still_explained_by_jsonschema(
    pytester: pytest.Pytester, sqlite_ddl: Path
) -> None:
    """The compiled validator only certifies valid files: a file it rejects gets the
    same line as ever, from jsonschema, which a bare run then has imported."""
    bad = pytester.makefile(".yaml", bad=ONE_SCENARIO.replace("expect: accepted", "expect: maybe"))
    result = pytester.runpytest_subprocess(
        f"--ddl={sqlite_ddl}", f"--scenarios={bad}", "--no-bundled"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        f"{bad}:10: scenarios[0].steps[0].expect: 'maybe' is not one of ['accepted', 'rejected']"
        in result.stderr.str()
    )


ONE_SCENARIO = """\
description: one scenario
definitions:
  order: [created, paid]
history: []
scenarios:
  - name: an append
    rules: [chain.first_event]
    steps:
      - append: {entity: order, entityKey: o-1, event: created}
        expect: accepted
"""
