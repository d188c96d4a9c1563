"""Race scenarios on every engine: forced interleavings give the same verdict on every one
of 20 runs, the shipped DDL wins each race, and a DDL with a race hole loses it every run.

One suite, parametrized by engine: SQLite (one writer at a time, so the never-wait rule
is not applicable), PostgreSQL (the seed's first-event trigger loses every run) and
MariaDB (chain breaks lose the races built on them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import BROKEN, REPO, engine_dsn
from races import backend_for, explain, race_scenarios, verdicts

from conformance.backends.base import Backend
from conformance.backends.mariadb import MariadbBackend
from conformance.backends.postgres import PostgresBackend
from conformance.backends.sqlite import SqliteBackend
from conformance.ddl_script import DdlScript
from conformance.scenario.objects import Scenario

SCENARIOS = race_scenarios()
MUST_RACES = ("races.same_previous", "races.first_event", "races.stale_replay")


@dataclass(frozen=True)
class Engine:
    """An engine under test: its backend, its DSN fixture, its shipped DDL and race holes."""

    name: str
    backend: type[Backend]
    shipped: Path
    holes: dict[Path, tuple[str, ...]]  # a broken DDL and the race rules it must lose
    not_applicable: tuple[str, ...] = ()  # the rules whose race scenarios cannot run here


ENGINES = [
    Engine(
        "sqlite",
        SqliteBackend,
        REPO / "ddl" / "sqlite-event-store.ddl",
        # One writer at a time: a race rule breaks only with the rule it builds on.
        {
            BROKEN / "sqlite" / "chain.linear.ddl": ("races.same_previous", "races.stale_replay"),
            BROKEN / "sqlite" / "chain.first_event.ddl": ("races.first_event",),
        },
        not_applicable=("races.independent_writers",),
    ),
    Engine(
        "postgres",
        PostgresBackend,
        REPO / "ddl" / "postgres-event-store.ddl",
        {BROKEN / "postgres" / "races.first_event--seed-trigger.ddl": ("races.first_event",)},
    ),
    Engine(
        "mariadb",
        MariadbBackend,
        REPO / "ddl" / "mariadb-event-store.ddl",
        {
            BROKEN / "mariadb" / "chain.linear.ddl": ("races.same_previous", "races.stale_replay"),
            BROKEN / "mariadb" / "chain.first_event--nulls-distinct.ddl": ("races.first_event",),
        },
    ),
]
MARKS = {"postgres": [pytest.mark.postgres], "mariadb": [pytest.mark.mariadb]}


def by_engine(cases: list[tuple[Engine, object]]) -> list[object]:
    """pytest params for (engine, case) pairs, carrying the engine's server mark."""
    return [
        pytest.param(engine, case, marks=MARKS.get(engine.name, []), id=f"{engine.name}-{label}")
        for engine, case, label in ((e, c, _label(c)) for e, c in cases)
    ]


def _label(case: object) -> str:
    return case.name if isinstance(case, Scenario) else Path(str(case)).stem


def dsn_for(engine: Engine, request: pytest.FixtureRequest) -> str | None:
    return engine_dsn(request, engine.name)


def applicable(engine: Engine) -> list[Scenario]:
    return [s for s in SCENARIOS if not engine.backend.not_applicable(s.requirements)]


@pytest.fixture(scope="module")
def shipped_backends() -> Iterator[dict[str, Backend]]:
    """The backends on each engine's shipped DDL, opened on first use, closed at the end."""
    opened: dict[str, Backend] = {}
    yield opened
    for backend in opened.values():
        backend.close()


def shipped_backend(
    engine: Engine, request: pytest.FixtureRequest, opened: dict[str, Backend]
) -> Backend:
    if engine.name not in opened:
        backend = engine.backend(dsn_for(engine, request), DdlScript.read(engine.shipped))
        backend.prepare()
        opened[engine.name] = backend
    return opened[engine.name]


@pytest.mark.parametrize(
    ("engine", "scenario"), by_engine([(e, s) for e in ENGINES for s in applicable(e)])
)
def test_each_race_scenario_passes_every_run(
    engine: Engine, scenario: Scenario, request: pytest.FixtureRequest, shipped_backends
) -> None:
    results = verdicts(shipped_backend(engine, request, shipped_backends), scenario)
    assert all(r.passed for r in results), explain(results)


@pytest.mark.parametrize(
    "engine", [pytest.param(e, marks=MARKS.get(e.name, []), id=e.name) for e in ENGINES]
)
def test_only_the_declared_race_rules_are_not_applicable(engine: Engine) -> None:
    skipped = [s for s in SCENARIOS if s not in applicable(engine)]
    assert {rule for s in skipped for rule in s.all_rules} == set(engine.not_applicable)
    assert bool(skipped) == bool(engine.not_applicable)


@pytest.mark.parametrize(
    ("engine", "hole"), by_engine([(e, path) for e in ENGINES for path in e.holes])
)
def test_a_race_hole_loses_its_races_every_run(
    engine: Engine, hole: Path, request: pytest.FixtureRequest
) -> None:
    """Each broken DDL gives one verdict on all runs, and loses exactly the races it breaks."""
    races = engine.holes[hole]
    scenarios = [s for s in applicable(engine) if set(s.rules) & set(races)]
    lost: set[str] = set()
    with backend_for(engine.backend, dsn_for(engine, request), hole) as backend:
        for scenario in scenarios:
            results = verdicts(backend, scenario)
            assert len({r.passed for r in results}) == 1, f"{scenario.name}: verdict changed"
            if not results[0].passed:
                assert all(set(r.violated_rules) & set(races) for r in results), explain(results)
                lost |= set(scenario.rules) & set(races)
    assert lost == set(races), f"{hole.name}: races not lost: {set(races) - lost}"
