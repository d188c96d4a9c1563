"""Every option of the plugin, each both a command-line flag and an ini key, read once
into typed settings: the collection, the reporter and the fuzzer read them from here.

A flag wins over `$CONFORMANCE_DSN` (for the DSN only), which wins over the ini key.

PYTEST_DONT_REWRITE: no test code here, so pytest need not rewrite its asserts.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.errors import KitError
from conformance.fuzz.budget import DEFAULT_EXAMPLES, STEPS_PER_EXAMPLE

DSN_ENV = "CONFORMANCE_DSN"
GROUP = ("conformance", "event store DDL conformance")


@dataclass(frozen=True)
class FuzzOptions:
    """The fuzzer's budget, seed and save folder, checked."""

    examples: int
    seed: int
    save: Path | None


@dataclass(frozen=True)
class Settings:
    """The plugin's options for this run, as given (flags, then environment, then ini)."""

    ddl: Path | None
    dsn: str | None
    profile: str | None  # a bundled profile's name or a profile file; None: the spec's
    scenarios: tuple[Path, ...]
    bundled: bool
    report_paths: tuple[Path, ...]
    strict: bool
    lint: bool
    fuzz: bool
    fuzz_budget: str | None
    fuzz_seed: str | None
    fuzz_save: str | None
    reporting_flags: tuple[str, ...]  # reporting flags given on the command line

    def fuzz_options(self) -> FuzzOptions:
        """The fuzz options checked, with a random seed unless one is given."""
        examples = _whole_number(
            "--conformance-fuzz-budget", self.fuzz_budget, DEFAULT_EXAMPLES, minimum=1
        )
        seed = _whole_number(
            "--conformance-fuzz-seed", self.fuzz_seed, random.randrange(2**32), minimum=0
        )
        return FuzzOptions(examples, seed, Path(self.fuzz_save) if self.fuzz_save else None)


SETTINGS_KEY = pytest.StashKey[Settings]()
REPORTING_FLAGS = {
    "--conformance-report": "conformance_report",
    "--conformance-strict": "conformance_strict",
    "--lint": "conformance_lint",
}


def settings(config: pytest.Config) -> Settings:
    """This run's settings, read on first use."""
    if SETTINGS_KEY not in config.stash:
        config.stash[SETTINGS_KEY] = _read(config)
    return config.stash[SETTINGS_KEY]


def _read(config: pytest.Config) -> Settings:
    def given(name: str) -> object:
        return config.getoption(f"conformance_{name}") or config.getini(f"conformance_{name}")

    dsn = (
        config.getoption("conformance_dsn")
        or os.environ.get(DSN_ENV)
        or config.getini("conformance_dsn")
    )
    # Report paths from the flags (relative to the current folder), else the ini (to its file).
    reports = [Path(p) for p in config.getoption("conformance_report")]
    return Settings(
        ddl=Path(str(given("ddl"))) if given("ddl") else None,
        dsn=dsn or None,
        profile=_profile_setting(config),
        scenarios=(
            *(Path(p) for p in config.getoption("conformance_scenarios")),
            *(Path(p) for p in config.getini("conformance_scenarios")),
        ),
        bundled=not config.getoption("conformance_no_bundled"),
        report_paths=tuple(reports or config.getini("conformance_report")),
        strict=bool(given("strict")),
        lint=bool(given("lint")),
        fuzz=bool(given("fuzz")),
        fuzz_budget=_text(given("fuzz_budget")),
        fuzz_seed=_text(config.getoption("conformance_fuzz_seed")),
        fuzz_save=_text(given("fuzz_save")),
        reporting_flags=tuple(
            flag for flag, dest in REPORTING_FLAGS.items() if config.getoption(dest)
        ),
    )


def _profile_setting(config: pytest.Config) -> str | None:
    """--profile as given; an ini key naming a file is read relative to the ini file."""
    flag = config.getoption("conformance_profile")
    if flag:
        return str(flag)
    value = _text(config.getini("conformance_profile"))
    if value and config.inipath is not None and value.endswith((".yaml", ".yml")):
        return str(config.inipath.parent / value)
    return value


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _whole_number(option: str, text: str | None, default: int, minimum: int) -> int:
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise KitError(f"{option} {text!r}: not a whole number of at least {minimum}")
    return value


def add_options(parser: pytest.Parser) -> None:
    """Register every flag and ini key of the plugin."""
    group = parser.getgroup(*GROUP)
    _add_run_options(group, parser)
    _add_reporting_options(group, parser)
    _add_fuzz_options(group, parser)


def _add_run_options(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    group.addoption(
        "--ddl",
        dest="conformance_ddl",
        metavar="FILE",
        help="the DDL file to check; turns the conformance run on (ini: conformance_ddl)",
    )
    group.addoption(
        "--dsn",
        dest="conformance_dsn",
        metavar="URL",
        help=f"database to run in: sqlite:///DIR, postgresql://..., (env: {DSN_ENV}; "
        "ini: conformance_dsn); default: a fresh temporary SQLite database per scenario",
    )
    group.addoption(
        "--profile",
        dest="conformance_profile",
        metavar="NAME|FILE",
        help="how the DDL spells the spec's tables, columns and client statements: a bundled "
        "profile (spec, snake_case) or a profile file (docs/profiles.md); default: spec "
        "(ini: conformance_profile)",
    )
    group.addoption(
        "--scenarios",
        dest="conformance_scenarios",
        metavar="PATH",
        action="append",
        default=[],
        help="a scenario file or folder to run besides the bundled ones "
        "(repeatable; ini: conformance_scenarios)",
    )
    group.addoption(
        "--no-bundled",
        dest="conformance_no_bundled",
        action="store_true",
        help="run only the files given with --scenarios",
    )
    parser.addini("conformance_ddl", "the DDL file to check", default=None)
    parser.addini("conformance_dsn", "database URL to run the scenarios in", default=None)
    parser.addini(
        "conformance_profile", "bundled profile name or profile file (default: spec)", default=None
    )
    parser.addini(
        "conformance_scenarios", "extra scenario files or folders", type="paths", default=[]
    )


def _add_reporting_options(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    group.addoption(
        "--conformance-report",
        dest="conformance_report",
        metavar="PATH",
        action="append",
        default=[],
        help="write the conformance report to PATH: .md (Markdown, e.g. a CI job summary) "
        "or .json (conformance/schema/report.schema.json); repeatable (ini: conformance_report)",
    )
    group.addoption(
        "--conformance-strict",
        dest="conformance_strict",
        action="store_true",
        help="a broken SHOULD rule fails the run too (ini: conformance_strict)",
    )
    group.addoption(
        "--lint",
        dest="conformance_lint",
        action="store_true",
        help="lint the DDL with sqlfluff in the dialect of the DSN's engine; findings are "
        "advice in the summary and never fail the run (ini: conformance_lint)",
    )
    parser.addini(
        "conformance_report", "conformance report files (.md or .json)", type="paths", default=[]
    )
    parser.addini(
        "conformance_strict", "a broken SHOULD rule fails the run", type="bool", default=False
    )
    parser.addini("conformance_lint", "lint the DDL with sqlfluff", type="bool", default=False)


def _add_fuzz_options(group: pytest.OptionGroup, parser: pytest.Parser) -> None:
    group.addoption(
        "--conformance-fuzz",
        dest="conformance_fuzz",
        action="store_true",
        default=None,
        help="also search for steps on which the database and the reference model "
        "disagree (one extra test item; ini: conformance_fuzz)",
    )
    group.addoption(
        "--conformance-fuzz-budget",
        dest="conformance_fuzz_budget",
        metavar="EXAMPLES",
        help=f"how many examples of up to {STEPS_PER_EXAMPLE} steps to try "
        f"(default {DEFAULT_EXAMPLES}; ini: conformance_fuzz_budget)",
    )
    group.addoption(
        "--conformance-fuzz-seed",
        dest="conformance_fuzz_seed",
        metavar="N",
        help="seed for a reproducible search (default: a random one, shown in the header)",
    )
    group.addoption(
        "--conformance-fuzz-save",
        dest="conformance_fuzz_save",
        metavar="DIR",
        help="write the minimal failing case as a scenario file into DIR "
        "(ini: conformance_fuzz_save)",
    )
    parser.addini("conformance_fuzz", "search with the fuzzer too", type="bool", default=False)
    parser.addini("conformance_fuzz_budget", "examples the fuzzer tries", default=None)
    parser.addini(
        "conformance_fuzz_save", "folder for the fuzzer's minimal failing case", default=None
    )
