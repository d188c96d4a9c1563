"""`conformance-bench` / `python -m conformance bench`: options, the order of runs, exit codes.

Every run gets a fresh store of its own from the backend (the DDL under test, or the
bare table for the physical reference), is checked for the invariants in SQL, and is
dropped. Rounds alternate which side runs first, and ratios are taken within a round,
so that a machine busy with other work slows both sides of a ratio alike.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from conformance.backends import Backend, Outcome, Session, Store, backend_class
from conformance.bench import ledger
from conformance.bench.invariants import Violation, check_store
from conformance.bench.ledger import RunLedger
from conformance.bench.output import Report, draw_charts, render_table, write_json
from conformance.bench.progress import Progress
from conformance.bench.replay import LoadedStore, StreamIds
from conformance.bench.settings import Settings, add_arguments, settings_from
from conformance.bench.workloads import (
    BARE,
    DEFINITIONS,
    DISTINCT,
    FIRST_EVENT,
    HOT,
    RACE_CAPABILITY,
    BenchFailure,
    CreationRace,
    DistinctWriter,
    HotWriter,
    RunResult,
    Writer,
    append,
    new_id,
    payload,
    run_writers,
)
from conformance.ddl_script import DdlScript
from conformance.errors import KitError
from conformance.execution.preflight import preflight
from conformance.resources import bundled_ddl_folder

EXIT_VIOLATION = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class InvariantsBroken(Exception):
    def __init__(self, where: str, violations: list[Violation]) -> None:
        super().__init__(where)
        self.where = where
        self.violations = violations


def bare_ddl_for(backend: type[Backend]) -> DdlScript:
    path = bundled_ddl_folder() / "bare" / f"{backend.name}-bare-table.ddl"
    if not path.is_file():
        raise KitError(
            f"--bare-ddl: no bare-table DDL ships for the {backend.name} engine; give one with --bare-ddl FILE"
        )
    return DdlScript.read(path)


# --- stores --------------------------------------------------------------------


def open_backend(
    stack: ExitStack, settings: Settings, ddl: DdlScript, through_profile: bool = True
) -> Backend:
    """The DDL's backend, through the --profile; the bare table keeps the spec's names."""
    backend = backend_class(settings.dsn)(settings.dsn, ddl)
    if through_profile:
        backend.profile = settings.profile
    stack.callback(backend.close)
    backend.prepare()
    if through_profile:
        preflight(backend)
    return backend


def session_setup(backend: Backend, settings: Settings) -> list[str]:
    """Statements every session of the bench runs first, recorded in the results.

    The bench measures durable commits, each engine's default: the PostgreSQL backend
    turns synchronous_commit off for scenario speed, so the bench turns it back on.
    """
    if backend.name == "sqlite":
        return [f"PRAGMA journal_mode={settings.journal_mode.upper()}"]
    if backend.name == "postgresql":
        return ["SET synchronous_commit = on"]
    return []


@dataclass(frozen=True)
class BenchStore:
    """A store whose sessions all start with the bench's session setup."""

    store: Store
    setup: Sequence[str] = ()

    def session(self) -> Session:
        session = self.store.session()
        try:
            for statement in self.setup:
                session.execute(statement)
        except BaseException:
            session.close()
            raise
        return session


@contextmanager
def fresh_store(
    backend: Backend, setup: Sequence[str] = ()
) -> Iterator[tuple[BenchStore, Session]]:
    """A new store with the bench's definitions and an empty ledger, and a session on it;
    dropped on exit."""
    store = BenchStore(backend.create_store(), tuple(setup))
    try:
        session = store.session()
        try:
            define = backend.client_statements.define
            for entity, event in DEFINITIONS if define is not None else ():
                session.execute(define.sql, define.bind({"entity": entity, "event": event}))
            ledger.create_table(session, backend.profile)
            yield store, session
        finally:
            session.close()
    finally:
        store.store.close()


def audit(
    session: Session, backend: Backend, where: str, report: Report, bare: bool = False
) -> None:
    violations = check_store(session, index_events=bare, profile=backend.profile)
    report.stores_checked += 1
    if violations:
        raise InvariantsBroken(where, violations)


# --- append runs ---------------------------------------------------------------


def create_hot_instances(
    session: Session, backend: Backend, count: int, run_ledger: RunLedger
) -> list[str]:
    setup_ledger = run_ledger.new_file()
    keys = [f"hot-{i}" for i in range(count)]
    for key in keys:
        ids = (new_id(), new_id())
        outcome, event_id = append(session, backend, key, FIRST_EVENT, payload(-1), ids, None)
        if outcome is not Outcome.ACCEPTED:
            raise BenchFailure(f"the first event of hot instance {key!r} was {outcome.value}")
        setup_ledger.record(ledger.ACKNOWLEDGED, event_id, ids[1])
    return keys


def timed_run(
    backend: Backend, settings: Settings, workload: str, writers: int, report: Report
) -> RunResult:
    """One run of `writers` writers in a fresh store; BARE is the distinct workload on
    the bare table."""
    with fresh_store(backend, session_setup(backend, settings)) as (store, session):
        run_ledger = RunLedger()
        sessions: list[Session] = []
        try:
            keys = (
                create_hot_instances(session, backend, settings.hot_instances, run_ledger)
                if workload == HOT
                else []
            )
            team: list[Writer] = []
            race = (
                CreationRace(store.store, backend, writers)
                if workload == HOT and writers > 1 and RACE_CAPABILITY in backend.capabilities
                else None
            )
            for index in range(writers):
                sessions.append(store.session())
                args = (index, sessions[-1], backend, run_ledger.new_file(), workload)
                team.append(
                    HotWriter(*args, keys=keys, seed=index, race=race)
                    if workload == HOT
                    else DistinctWriter(*args)
                )
            result = run_writers(team, settings.duration)
            run_ledger.load(session)
        finally:
            for each in sessions:
                each.close()
            run_ledger.close()
        where = f"{workload} run with {writers} writer{'s' * (writers > 1)}"
        audit(session, backend, where, report, bare=workload == BARE)
        return result


def append_runs(
    settings: Settings, store: Backend, bare: Backend, report: Report, progress: Progress
) -> None:
    started = time.monotonic()
    bar = progress.bar("appends", settings.rounds * len(settings.writers) * 3, "run")
    for round_index in range(settings.rounds):
        for writers in settings.writers:
            sides = [(DISTINCT, store), (BARE, bare)]
            for workload, backend in sides if round_index % 2 == 0 else reversed(sides):
                result = timed_run(backend, settings, workload, writers, report)
                report.add_run(workload, writers, result)
                bar.update()
        for writers in settings.writers:
            report.add_run(HOT, writers, timed_run(store, settings, HOT, writers, report))
            bar.update()
    bar.close()
    report.add_phase("append runs", time.monotonic() - started)


# --- replay --------------------------------------------------------------------


def replay_runs(settings: Settings, backend: Backend, report: Report, progress: Progress) -> None:
    with ExitStack() as stores:
        loaded: list[LoadedStore] = []
        bar = progress.bar("loading", sum(settings.events), "event")
        started = time.monotonic()
        for size in settings.events:
            bench_store, loader = stores.enter_context(
                fresh_store(backend, session_setup(backend, settings))
            )
            # Replays are timed on a session of their own, with the bench's settings only.
            timed = stores.enter_context(closing(bench_store.session()))
            store = LoadedStore(timed, StreamIds(), backend)
            store.load(loader, size, bar.update)
            report.add_memory(size)
            loaded.append(store)
        bar.close()
        report.add_phase("bulk load", time.monotonic() - started)
        started = time.monotonic()
        rng = random.Random(0)
        bar = progress.bar("replay", settings.rounds * len(loaded), "size")
        for round_index in range(settings.rounds):
            for store in loaded if round_index % 2 == 0 else reversed(loaded):
                report.add_replay(store.events, *store.measure(settings.replays, rng))
                bar.update()
        bar.close()
        report.add_phase("replay", time.monotonic() - started)
        started = time.monotonic()
        for store in loaded:
            audit(store.session, backend, f"replay store of {store.events} events", report)
        report.add_phase("replay store audit", time.monotonic() - started)


# --- main ----------------------------------------------------------------------


def run(settings: Settings) -> Report:
    with ExitStack() as stack:
        store = open_backend(stack, settings, settings.ddl)
        bare_ddl = settings.bare_ddl or bare_ddl_for(type(store))
        bare = open_backend(stack, settings, bare_ddl, through_profile=False)
        report = Report.start(settings, store, bare_ddl, session_setup(store, settings))
        progress = Progress(settings.progress)
        try:
            replay_runs(settings, store, report, progress)
            append_runs(settings, store, bare, report, progress)
        except Exception as exc:
            if store.classify(exc) is None:
                raise
            raise BenchFailure(f"the database failed the bench: {store.describe(exc)}") from exc
        report.finish()
        return report


def main(argv: Sequence[str] | None = None, prog: str = "conformance-bench") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run_command(parser.parse_args(argv), parser)


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_command(options: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    started = time.monotonic()
    # A terminated run unwinds like Ctrl-C, so every store it made is dropped.
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        settings = settings_from(options)
        report = run(settings)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted; every store it made was dropped", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KitError as exc:
        parser.exit(EXIT_USAGE, f"{parser.prog}: error: {exc}\n")
    except InvariantsBroken as exc:
        print(f"{parser.prog}: invariants broken in the {exc.where}:", file=sys.stderr)
        for violation in exc.violations:
            print(violation.text(), file=sys.stderr)
        return EXIT_VIOLATION
    except BenchFailure as exc:
        print(f"{parser.prog}: {exc}", file=sys.stderr)
        return EXIT_VIOLATION
    finally:
        signal.signal(signal.SIGTERM, previous)
    output = settings.output or Path(f"conformance-bench-{report.engine}.json")
    write_json(report, output)
    print(render_table(report))
    print(f"results: {output} ({time.monotonic() - started:.0f} s)")
    if settings.charts is not None:
        for chart in draw_charts(report, settings.charts):
            print(f"chart: {chart}")
    return 0
