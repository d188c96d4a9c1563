"""The fuzzing plugin: `pytest --ddl=FILE --conformance-fuzz` adds one test item that searches.

The item runs the Hypothesis state machine of `conformance.fuzz.machine` against the DDL in the
database the conformance plugin set up (`--dsn`), and fails with a minimal scenario file
when the database and the reference model disagree. A seed makes a run reproducible;
without one, a random seed is drawn and shown so that any run can be repeated.

What the search found is a record like a scenario's (`fuzz_record`): it counts in the
rule matrix, the verdict, gate_passed, both reports and JUnit XML.

Without the fuzzer nothing of the kit imports Hypothesis, but Hypothesis's own pytest
plugin imports it (about a second) in its terminal summary at the end of every run.
When nothing in the run needed Hypothesis, that summary has nothing to say, so the
plugin is unregistered before it (see `pytest_sessionfinish`).

PYTEST_DONT_REWRITE: no test code here, so pytest need not rewrite its asserts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.errors import KitError
from conformance.fuzz.budget import STEPS_PER_EXAMPLE
from conformance.pytest_plugin.collection import KIT_KEY
from conformance.pytest_plugin.options import FuzzOptions, settings
from conformance.results.failure import failure_text
from conformance.results.matrix import (
    FuzzSummary,
    ScenarioRecord,
    Status,
    failed_record,
    level_of,
    step_failure,
)
from conformance.results.outcome import bounded
from conformance.spec.catalogue import Catalogue, Level

if TYPE_CHECKING:
    from conformance.fuzz.machine import FuzzReport


class FuzzSettings:
    """The fuzz options, checked once at configure, and the search's report once it ran."""

    def __init__(self, options: FuzzOptions) -> None:
        self.examples = options.examples
        self.seed = options.seed
        self.save = options.save
        self.report: FuzzReport | None = None


FUZZ_KEY = pytest.StashKey[FuzzSettings]()
ITEM_NAME = "conformance-fuzz"
HYPOTHESIS_PLUGIN = "hypothesispytest"  # the name of Hypothesis's pytest11 entry point


@pytest.hookimpl(trylast=True)  # after the conformance plugin has made its kit
def pytest_configure(config: pytest.Config) -> None:
    given = settings(config)
    if not given.fuzz:
        return
    try:
        if KIT_KEY not in config.stash:
            raise KitError("--conformance-fuzz: give the DDL to search with --ddl=FILE")
        fuzz = FuzzSettings(given.fuzz_options())
        _make_save_folder(fuzz.save)
    except KitError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[FUZZ_KEY] = fuzz


def _make_save_folder(save: Path | None) -> None:
    if save is None:
        return
    try:
        save.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KitError(
            f"--conformance-fuzz-save {save}: cannot use it as a folder: {exc}"
        ) from None


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

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        seed = self.config.stash[FUZZ_KEY].seed
        self.user_properties += [("seed", str(seed))]

    def runtest(self) -> None:
        kit = self.config.stash[KIT_KEY]
        settings = self.config.stash[FUZZ_KEY]
        from conformance.fuzz.machine import fuzz  # Hypothesis loads only when the fuzzer runs

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


def fuzz_record(nodeid: str, report: FuzzReport, catalogue: Catalogue) -> ScenarioRecord:
    """The search as a result: passed, or failed / warning on the rules the minimal case
    breaks, or an error when the database answered the same steps differently twice."""
    stats = report.stats
    reproducer = report.reproducer
    summary = FuzzSummary(
        report.seed, stats.examples, stats.steps, round(stats.seconds, 3),
        reproducer.text if reproducer else None,
        str(reproducer.path) if reproducer and reproducer.path else None,
    )  # fmt: skip
    base = {
        "nodeid": nodeid,
        "name": f"fuzz search, seed {report.seed}",
        "location": ITEM_NAME,
        "rules": (),
        "level": Level.MUST,
        "fuzz": summary,
    }
    if not report.found:
        return ScenarioRecord(**base, status=Status.PASSED)
    if reproducer is None or reproducer.result.passed or report.divergence is None:
        why = report.flaky or "the minimal case passed when run again as a scenario"
        return ScenarioRecord(**base, status=Status.ERROR, reason=bounded(
            f"the database answers the same steps differently from run to run: {why}"))  # fmt: skip
    step = reproducer.result.failure
    assert step is not None
    violated = reproducer.result.violated_rules or report.divergence.rules
    base.update(rules=violated, level=level_of(violated, catalogue))
    return failed_record(base, violated, step_failure(step), catalogue, errored=step.errored)


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


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Before the terminal summary (pytest's terminal reporter calls it after this hook):
    leave Hypothesis's plugin out of it when the run did not need Hypothesis."""
    config = session.config
    if KIT_KEY in config.stash and not _needs_hypothesis_summary(config):
        config.pluginmanager.unregister(name=HYPOTHESIS_PLUGIN)


def _needs_hypothesis_summary(config: pytest.Config) -> bool:
    """Whether Hypothesis's terminal summary may have something to say: it reports on
    Hypothesis tests, which are Python test functions that import Hypothesis (here, or in
    an xdist worker, whose reports then name a .py file), and on the fuzzer's search."""
    if FUZZ_KEY in config.stash or "hypothesis" in sys.modules:
        return True
    if config.pluginmanager.get_plugin(HYPOTHESIS_PLUGIN) is None:
        return False
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    reports = terminal.stats.values() if terminal is not None else ()
    return any(
        getattr(report, "nodeid", "").split("::")[0].endswith(".py")
        for group in reports
        for report in group
    )
