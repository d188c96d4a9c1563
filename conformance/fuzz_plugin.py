"""The fuzzing plugin: `pytest --ddl=FILE --conformance-fuzz` adds one test item that searches.

The item runs the Hypothesis state machine of `conformance.fuzz` against the DDL in the
database the conformance plugin set up (`--dsn`), and fails with a minimal scenario file
when the database and the reference model disagree. A seed makes a run reproducible;
without one, a random seed is drawn and shown so that any run can be repeated.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.errors import KitError
from conformance.fuzz_budget import DEFAULT_EXAMPLES, STEPS_PER_EXAMPLE
from conformance.plugin import KIT_KEY
from conformance.report import failure_text

if TYPE_CHECKING:
    from conformance.fuzz import FuzzReport


class FuzzSettings:
    """The fuzz options, checked once at configure."""

    def __init__(self, examples: int, seed: int, save: Path | None) -> None:
        self.examples = examples
        self.seed = seed
        self.save = save
        self.report: FuzzReport | None = None


FUZZ_KEY = pytest.StashKey[FuzzSettings]()
ITEM_NAME = "conformance-fuzz"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "event store DDL conformance")
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


@pytest.hookimpl(trylast=True)  # after the conformance plugin has made its kit
def pytest_configure(config: pytest.Config) -> None:
    if not (config.getoption("conformance_fuzz") or config.getini("conformance_fuzz")):
        return
    try:
        settings = _settings(config)
    except KitError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[FUZZ_KEY] = settings


def _settings(config: pytest.Config) -> FuzzSettings:
    if KIT_KEY not in config.stash:
        raise KitError("--conformance-fuzz: give the DDL to search with --ddl=FILE")
    budget = config.getoption("conformance_fuzz_budget") or config.getini("conformance_fuzz_budget")
    examples = _whole_number("--conformance-fuzz-budget", budget, DEFAULT_EXAMPLES, minimum=1)
    seed = _whole_number(
        "--conformance-fuzz-seed",
        config.getoption("conformance_fuzz_seed"),
        random.randrange(2**32),
        minimum=0,
    )
    folder = config.getoption("conformance_fuzz_save") or config.getini("conformance_fuzz_save")
    save = Path(folder) if folder else None
    if save is not None:
        try:
            save.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KitError(
                f"--conformance-fuzz-save {folder}: cannot use it as a folder: {exc}"
            ) from None
    return FuzzSettings(examples, seed, save)


def _whole_number(option: str, text: str | None, default: int, minimum: int) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise KitError(f"{option} {text!r}: not a whole number of at least {minimum}")
    return value


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    settings = config.stash.get(FUZZ_KEY, None)
    if settings is None:
        return None
    return [
        f"conformance fuzz: {settings.examples} examples of up to {STEPS_PER_EXAMPLE} steps, "
        f"seed {settings.seed} (--conformance-fuzz-seed={settings.seed} repeats this search)"
    ]


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect: the item can be selected by name
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if FUZZ_KEY in config.stash:
        items.append(FuzzItem.from_parent(session, name=ITEM_NAME, nodeid=ITEM_NAME))


class FuzzFailed(Exception):
    def __init__(self, report: FuzzReport) -> None:
        super().__init__(ITEM_NAME)
        self.report = report


class FuzzItem(pytest.Item):
    """The search as one test: it fails with the minimal case the database gets wrong."""

    def runtest(self) -> None:
        kit = self.config.stash[KIT_KEY]
        settings = self.config.stash[FUZZ_KEY]
        from conformance.fuzz import fuzz  # Hypothesis loads only when the fuzzer runs

        report = fuzz(
            kit.backend,
            seed=settings.seed,
            examples=settings.examples,
            label=kit.ddl.path.stem,
            save=settings.save,
        )
        settings.report = report
        if report.found:
            raise FuzzFailed(report)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, FuzzFailed):
            return failure_report(excinfo.value.report)
        if isinstance(excinfo.value, KitError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, ITEM_NAME


def failure_report(report: FuzzReport) -> str:
    stats = report.stats
    lines = [
        f"conformance fuzz: the database and the reference model disagree (seed {report.seed}; "
        f"first seen after {stats.found_after_steps} steps, {stats.found_after_seconds or 0:.1f} s; "
        f"{stats.steps} steps in {stats.seconds:.1f} s with shrinking)"
    ]
    reproducer = report.reproducer
    if reproducer is None:
        lines.append(
            f"the database answered the same steps differently on two runs: {report.flaky}"
        )
        return "\n".join(lines)
    if reproducer.result.passed:
        lines.append(
            "the minimal case passed when run again as a scenario: the database answers "
            "the same steps differently from run to run"
        )
    else:
        lines.append(failure_text(reproducer.result))
    lines += [
        "",
        "minimal case as a scenario file (run it with --scenarios=FILE):",
        "",
        reproducer.text.rstrip(),
    ]
    if reproducer.path is not None:
        lines += ["", f"saved to {reproducer.path}"]
    return "\n".join(lines)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    settings = config.stash.get(FUZZ_KEY, None)
    if settings is None or settings.report is None:
        return
    report = settings.report
    stats = report.stats
    verdict = (
        "no divergence"
        if not report.found
        else f"divergence first seen after {stats.found_after_steps} steps"
    )
    terminalreporter.write_line(
        f"conformance fuzz: {stats.examples} examples, {stats.steps} steps in {stats.seconds:.1f} s "
        f"({stats.steps_per_second:.0f} steps/s), seed {report.seed}: {verdict}"
    )
