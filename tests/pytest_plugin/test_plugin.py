"""The pytest plugin seen from outside: collection, selection, options, failure reports."""

from __future__ import annotations

import os
import tempfile
from fnmatch import fnmatch
from pathlib import Path

import pytest
from helpers import BROKEN, bundled_count, one_error_line, sqlite_not_applicable

STALE_REPLAY = "chain.yaml::an append based on a stale replay is rejected"


def test_without_ddl_the_plugin_collects_nothing(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--collect-only", "-q")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_ddl_alone_collects_the_bundled_scenarios_in_an_empty_folder(
    pytester: pytest.Pytester, sqlite_ddl: Path
) -> None:
    result = pytester.runpytest(f"--ddl={sqlite_ddl}", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([STALE_REPLAY, f"{bundled_count()} tests collected*"])


def test_the_bundled_suite_passes_on_the_shipped_ddl(
    pytester: pytest.Pytester, sqlite_ddl: Path
) -> None:
    result = pytester.runpytest(f"--ddl={sqlite_ddl}", "-q", "-p", "no:cacheprovider")
    skipped = sqlite_not_applicable()
    assert skipped > 0
    result.assert_outcomes(passed=bundled_count() - skipped, skipped=skipped)
    assert result.ret == pytest.ExitCode.OK


def test_rule_ids_are_markers_for_selection(pytester: pytest.Pytester, sqlite_ddl: Path) -> None:
    wanted = bundled_count("chain.linear")
    assert 0 < wanted < bundled_count()
    result = pytester.runpytest(f"--ddl={sqlite_ddl}", "-m", "chain.linear", "-q")
    result.assert_outcomes(passed=wanted)
    by_keyword = pytester.runpytest(f"--ddl={sqlite_ddl}", "-k", "chain.linear", "-q")
    by_keyword.assert_outcomes(passed=wanted)


def test_settings_come_from_ini_and_the_environment(
    pytester: pytest.Pytester, sqlite_ddl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "stores"
    pytester.makeini(f"[pytest]\nconformance_ddl = {sqlite_ddl}\n")
    monkeypatch.setenv("CONFORMANCE_DSN", f"sqlite://{folder}")
    result = pytester.runpytest("-m", "chain.linear", "-q")
    result.assert_outcomes(passed=bundled_count("chain.linear"))
    assert folder.is_dir() and list(folder.iterdir()) == []  # every store it made is gone


USER_SCENARIO = """\
definitions:
  order: [created, paid]
history:
  - append: {entity: order, entityKey: o-1, event: created, id: created}
scenarios:
  - name: stale append
    rules: [chain.linear]
    steps:
      - append: {entity: order, entityKey: o-1, event: paid, id: paid, previous: created}
        expect: accepted
      - append: {entity: order, entityKey: o-1, event: paid, previous: created}
        expect: rejected
"""


def test_user_scenarios_run_alone_with_no_bundled(
    pytester: pytest.Pytester, sqlite_ddl: Path
) -> None:
    pytester.makefile(".yaml", mine=USER_SCENARIO)
    result = pytester.runpytest(
        f"--ddl={sqlite_ddl}", "--no-bundled", "--scenarios=mine.yaml", "-v"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*mine.yaml::stale append PASSED*"])


def test_a_failure_report_names_file_line_expected_actual_and_sql(
    pytester: pytest.Pytester,
) -> None:
    ddl = BROKEN / "sqlite" / "chain.linear.ddl"
    pytester.makefile(".yaml", mine=USER_SCENARIO)
    result = pytester.runpytest(f"--ddl={ddl}", "--no-bundled", "--scenarios=mine.yaml")
    result.assert_outcomes(failed=1)
    assert "Traceback" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "mine.yaml:6: scenario 'stale append' [[]chain.linear[]]",
            "*step 2 mine.yaml:11 *append 'order'/'o-1' 'paid' previous=created*FAILED",
            "*expected: rejected",
            "*actual:   accepted",
            "*sql:      INSERT INTO events(entity, entityKey, event, data, eventId, commandId, previousId)*",
            "*rule broken: chain.linear",
        ]
    )


def test_a_ddl_without_the_events_table_is_an_error_never_a_pass(
    pytester: pytest.Pytester,
) -> None:
    ddl = pytester.makefile(".ddl", empty="CREATE TABLE entity_events (entity TEXT, event TEXT);\n")
    pytester.makefile(".yaml", mine=USER_SCENARIO)
    result = pytester.runpytest(f"--ddl={ddl}", "--no-bundled", "--scenarios=mine.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # the preflight stops it before any scenario
    assert "table events is not in the DDL" in one_error_line(result)
    assert "no such table: events" in one_error_line(result)
    assert "passed" not in result.stdout.str()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--ddl=missing.ddl"], "ERROR: --ddl missing.ddl: no such file"),
        (["--dsn=oracle://db/x"], "ERROR: --dsn: unknown scheme 'oracle' (known: *sqlite*)"),
        (["--dsn=just-a-word"], "ERROR: --dsn 'just-a-word': not a URL*"),
        (["--no-bundled"], "ERROR: --no-bundled: no scenario files left to run*"),
        (["--scenarios=nowhere"], "ERROR: nowhere: no such scenario file or folder"),
    ],
)
def test_bad_options_give_one_line_and_a_usage_exit(
    pytester: pytest.Pytester, sqlite_ddl: Path, args: list[str], expected: str
) -> None:
    has_ddl = any(a.startswith("--ddl") for a in args)
    result = pytester.runpytest(*([] if has_ddl else [f"--ddl={sqlite_ddl}"]), *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert fnmatch(line, expected), line


def test_a_ddl_that_does_not_apply_names_its_statement_line(pytester: pytest.Pytester) -> None:
    ddl = pytester.makefile(
        ".ddl",
        bad="CREATE TABLE entity_events (entity TEXT, event TEXT);\n\nCREATE TABEL events (x);\n",
    )
    result = pytester.runpytest(f"--ddl={ddl}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert f"{ddl}:3: CREATE TABEL events (x);" in line and "does not apply" in line


def test_a_malformed_scenario_file_names_file_line_and_key(
    pytester: pytest.Pytester, sqlite_ddl: Path
) -> None:
    pytester.makefile(".yaml", mine=USER_SCENARIO.replace("        expect: rejected\n", ""))
    result = pytester.runpytest(f"--ddl={sqlite_ddl}", "--scenarios=mine.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert "mine.yaml:11: scenarios[0].steps[1]: 'expect' is a required property" in line


def test_a_dangling_symbolic_id_is_a_load_error(
    pytester: pytest.Pytester, sqlite_ddl: Path
) -> None:
    pytester.makefile(
        ".yaml",
        mine=USER_SCENARIO.replace(
            "previous: created}\n        expect: rejected",
            "previous: ghost}\n        expect: rejected",
        ),
    )
    result = pytester.runpytest(f"--ddl={sqlite_ddl}", "--scenarios=mine.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        "mine.yaml:11: scenarios[0].steps[1].append.previous: symbolic id 'ghost'"
        in one_error_line(result)
    )


def test_a_ddl_that_does_not_apply_leaves_no_temporary_folder(pytester: pytest.Pytester) -> None:
    from conformance.backends.sqlite import memory_folder

    # Only this process's folders: other runs on the machine come and go meanwhile.
    folder = Path(memory_folder() or tempfile.gettempdir())
    own = f"conformance-sqlite-{os.getpid()}-*"
    before = set(folder.glob(own))
    ddl = pytester.makefile(".ddl", bad="CREATE TABEL events (x);\n")
    result = pytester.runpytest(f"--ddl={ddl}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert set(folder.glob(own)) - before == set()
