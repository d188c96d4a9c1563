"""The bench command at a tiny scale, and the invariant checker against corrupted stores.

The checker is proved on stores made with a bare-table DDL, which keeps no rule, so that
each kind of damage can be written on purpose; a clean store must show none.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench_cases import (
    DAMAGE,
    Damage,
    assert_checker_finds_exactly,
    bare_ddl,
    prepared,
    shipped_ddl,
)
from helpers import REPO, engine_dsn, own_schemas

from conformance.backends import Backend, Session, backend_class
from conformance.bench import ledger
from conformance.bench.command import create_hot_instances, fresh_store, main
from conformance.bench.invariants import CHECKS, check_store
from conformance.bench.ledger import RunLedger
from conformance.bench.workloads import (
    NEXT_EVENT,
    HotWriter,
    Tally,
    append,
    new_id,
    replay,
)
from conformance.spec import statements as sql

TINY = ["--rounds", "2", "--duration", "0.2", "--writers", "1,2", "--events", "200,1000"]
TINY += ["--replays", "20", "--hot-instances", "2", "--no-progress"]


def run_bench(tmp_path: Path, ddl: Path, *extra: str) -> tuple[int, dict]:
    output = tmp_path / "bench.json"
    code = main([f"--ddl={ddl}", *TINY, f"--output={output}", *extra])
    return code, json.loads(output.read_text()) if output.exists() else {}


def test_bench_writes_every_figure_to_json(tmp_path: Path, sqlite_ddl: Path, capsys) -> None:
    code, results = run_bench(tmp_path, sqlite_ddl)
    assert code == 0
    assert results["format"] == "conformance-bench/1"
    assert results["engine"] == "sqlite"
    assert results["settings"]["session_setup"] == ["PRAGMA journal_mode=WAL"]
    entries = {(e["workload"], e["writers"]): e for e in results["appends"]}
    assert set(entries) == {(w, n) for w in ("distinct", "bare", "hot") for n in (1, 2)}
    for (workload, _), entry in entries.items():
        assert len(entry["rounds"]) == 2
        assert all(r["appends"] > 0 and r["errors"] == 0 for r in entry["rounds"])
        spread = entry["appends_per_second"]
        assert spread["min"] <= spread["median"] <= spread["max"]
        has_ratio = workload == "distinct"
        assert (entry["ratio_to_bare"]["appends_per_second"] is not None) == has_ratio
    assert all(r["conflicts"] == 0 for r in entries[("distinct", 2)]["rounds"])
    assert [r["events"] for r in results["replay"]] == [200, 1000]
    assert results["replay"][0]["p50_ratio_to_smallest"]["median"] == 1.0
    assert all(len(r["rounds"]) == 2 for r in results["replay"])
    targets = {t["name"]: t for t in results["targets"]}
    assert targets["single-writer appends/s vs the bare table"]["threshold"] == 0.7
    assert targets["single-writer appends/s vs the bare table"]["met"] in (True, False)
    assert all(t["measured"] is None for name, t in targets.items() if "writers" in name)
    # 2 rounds x 2 writer counts x (distinct, bare, hot) runs, and the 2 replay stores
    assert results["invariants"] == {"stores_checked": 14, "violations": []}
    table = capsys.readouterr().out
    assert "distinct instances" in table and "every invariant holds" in table


def test_bench_draws_charts(tmp_path: Path, sqlite_ddl: Path) -> None:
    charts = tmp_path / "charts"
    code, _ = run_bench(tmp_path, sqlite_ddl, f"--charts={charts}")
    assert code == 0
    pngs = sorted(charts.iterdir())
    assert [p.name for p in pngs] == ["sqlite-replay.png", "sqlite-throughput.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)


def test_python_dash_m_runs_the_command_and_leaves_no_store(
    tmp_path: Path, sqlite_ddl: Path
) -> None:
    folder = tmp_path / "stores"
    output = tmp_path / "out.json"
    args = [sys.executable, "-m", "conformance", "bench", f"--ddl={sqlite_ddl}", *TINY]
    args += [f"--dsn=sqlite://{folder}", f"--output={output}", "--writers=1", "--rounds=1"]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(output.read_text())["invariants"]["stores_checked"] == 5
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--events=150"], "--events: 150 is not a multiple of 100"),
        (["--dsn=nosuch://x"], "--dsn: unknown scheme 'nosuch'"),
        (["--writers=0"], "argument --writers: '0': every value must be 1 or more"),
        (["--bare-ddl=/nonexistent.ddl"], "--bare-ddl /nonexistent.ddl: no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, sqlite_ddl: Path, tmp_path: Path, capsys
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([f"--ddl={sqlite_ddl}", f"--output={tmp_path / 'x.json'}", *args])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1]
    assert "Traceback" not in "\n".join(err)
    assert not (tmp_path / "x.json").exists()


def test_a_ddl_that_does_not_apply_is_one_line(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.ddl"
    broken.write_text("CREATE TABLE events (;\n")
    with pytest.raises(SystemExit) as stopped:
        main([f"--ddl={broken}", *TINY])
    assert stopped.value.code == 2
    assert f"{broken}:1" in capsys.readouterr().err


@pytest.mark.postgres
def test_bench_on_postgresql_leaves_no_schema(tmp_path: Path, pg_dsn: str) -> None:
    code, results = run_bench(tmp_path, shipped_ddl("postgresql"), f"--dsn={pg_dsn}")
    assert code == 0
    assert results["engine"] == "postgresql"
    assert results["settings"]["session_setup"] == ["SET synchronous_commit = on"]
    assert results["bare_ddl"]["path"].endswith("postgresql-bare-table.ddl")
    targets = {t["name"]: t for t in results["targets"]}
    assert targets["single-writer appends/s vs the bare table"]["threshold"] == 0.8
    assert results["invariants"] == {"stores_checked": 14, "violations": []}
    assert own_schemas(pg_dsn) == []


# --- the invariant checker -----------------------------------------------------------

ENGINES = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


@pytest.fixture(scope="module", params=ENGINES)
def dsn(request: pytest.FixtureRequest) -> str | None:
    """Each engine in turn: SQLite files, then the servers of `pg_dsn` and `mariadb_dsn`."""
    return engine_dsn(request, request.param)


@pytest.fixture(scope="module")
def no_rules(dsn: str | None) -> Iterator[Backend]:
    """A backend whose stores keep no rule (the bare table): any damage can be written."""
    with prepared(bare_ddl(backend_class(dsn).name), dsn) as backend:
        yield backend


@pytest.fixture(scope="module")
def event_store(dsn: str | None) -> Iterator[Backend]:
    """The shipped event store of the engine."""
    with prepared(shipped_ddl(backend_class(dsn).name), dsn) as backend:
        yield backend


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_the_checker_finds_exactly_the_damage_done(no_rules: Backend, damage) -> None:
    assert_checker_finds_exactly(no_rules, damage)


def test_every_check_is_proved_by_some_damage() -> None:
    assert {c.kind for c in CHECKS} == set().union(*DAMAGE.values())


def test_offending_rows_name_the_ids(no_rules: Backend) -> None:
    with fresh_store(no_rules) as (_, session):
        d = Damage(session)
        root = d.acknowledged("k")
        d.acknowledged("k", root)
        d.acknowledged("k", root)
        (violation,) = check_store(session, index_events=True)
    assert violation.check.kind == "fork"
    assert [str(v) for v in violation.rows[0]] == [root, "2"]
    assert root in violation.text()


LOSSY = """
-- Says yes to the sixth append of the first writer's first instance, and drops it.
CREATE TRIGGER IF NOT EXISTS events_lose_one
BEFORE INSERT ON events
WHEN new.entityKey = 'distinct-w0-0'
    AND (SELECT COUNT(*) FROM events WHERE entityKey = new.entityKey) = 5
BEGIN
    SELECT RAISE(IGNORE);
END;
"""


def test_a_store_that_loses_an_append_fails_the_command_with_the_rows(
    tmp_path: Path, sqlite_ddl: Path, capsys
) -> None:
    lossy = tmp_path / "lossy.ddl"
    lossy.write_text(sqlite_ddl.read_text() + LOSSY)
    code, results = run_bench(tmp_path, lossy)
    assert code == 1
    assert results == {}
    err = capsys.readouterr().err
    assert "invariants broken in the distinct run with 1 writer:" in err
    assert "acknowledged_not_once: an acknowledged append is not in the store exactly once" in err


class Interleaved(Session):
    """A session that runs `between` once, right after its first replay: another writer
    appends in the gap between this writer's replay and its append."""

    def __init__(self, inner: Session, between) -> None:
        self.inner = inner
        self.between = between

    def execute(self, statement: str, params=()) -> list:
        rows = self.inner.execute(statement, params)
        if statement == sql.REPLAY and self.between is not None:
            between, self.between = self.between, None
            between()
        return rows

    def close(self) -> None:
        self.inner.close()


def test_a_hot_writer_that_loses_the_race_replays_and_retries_its_command(
    event_store: Backend,
) -> None:
    with fresh_store(event_store) as (store, session):
        run_ledger = RunLedger()
        (key,) = create_hot_instances(session, event_store, 1, run_ledger)
        rival = run_ledger.new_file()

        def rival_appends() -> None:
            ids = (new_id(), new_id())
            last = replay(session, event_store, key)[-1][2]
            outcome, _ = append(session, event_store, key, NEXT_EVENT, "{}", ids, last)
            assert outcome.value == "accepted"
            rival.record(ledger.ACKNOWLEDGED, *ids)

        writer_ledger = run_ledger.new_file()
        writer_session = Interleaved(store.session(), rival_appends)
        writer = HotWriter(0, writer_session, event_store, writer_ledger, "hot", keys=[key], seed=0)
        tally = Tally()
        writer.step(tally)
        writer_session.close()
        attempts = writer_ledger.path
        run_ledger.load(session)
        assert len(replay(session, event_store, key)) == 3
        assert check_store(session) == []
        lines = [line.split() for line in attempts.read_text().splitlines()]
        run_ledger.close()
    assert (tally.appends, tally.conflicts, tally.errors) == (1, 1, 0)
    assert [outcome for outcome, _, _ in lines] == [ledger.REJECTED, ledger.ACKNOWLEDGED]
    assert lines[0][2] == lines[1][2], "the retry keeps the command's commandId"
    assert lines[0][1] != lines[1][1], "and sends a new eventId"


def test_a_ddl_without_the_spec_tables_fails_with_one_line(tmp_path: Path, capsys) -> None:
    other = tmp_path / "other.ddl"
    other.write_text("CREATE TABLE something_else (x INTEGER);\n")
    with pytest.raises(SystemExit) as stopped:  # the preflight: a usage error, before any run
        run_bench(tmp_path, other)
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("conformance-bench: error: profile spec: table events is not in ")
    assert "no such table: events" in err[0]


def test_the_bench_measures_a_snake_case_ddl_through_its_profile(tmp_path: Path, capsys) -> None:
    snake = REPO / "tests" / "spec" / "profiles" / "ddl" / "sqlite-snake-case.ddl"
    code, results = run_bench(tmp_path, snake, "--profile=snake_case")
    assert code == 0, capsys.readouterr().err
    assert results["profile"]["name"] == "snake_case"
    assert "profile snake_case (sha256 " in capsys.readouterr().out
    assert results["invariants"]["stores_checked"] > 0
    assert all(entry["rounds"] for entry in results["appends"])
