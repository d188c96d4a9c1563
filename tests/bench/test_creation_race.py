"""conformance-bench's hot workload races the creation of instances: writers create the
same new instances inside open transactions, so a first-event check that only looks for
committed rows (the seed's trigger) lets two first events in and the invariants fail,
while the shipped DDL lets exactly one writer create each instance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO

from conformance.bench.command import main

pytestmark = pytest.mark.postgres

SEED_TRIGGER = REPO / "tests" / "broken" / "postgres" / "races.first_event--seed-trigger.ddl"
SHIPPED = REPO / "ddl" / "postgres-event-store.ddl"
TINY = ["--rounds", "1", "--duration", "0.3", "--writers", "2", "--events", "200",
        "--replays", "5", "--hot-instances", "2", "--no-progress"]  # fmt: skip


def test_the_seed_first_event_trigger_fails_the_bench_invariants(
    tmp_path: Path, pg_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "bench.json"
    code = main([f"--ddl={SEED_TRIGGER}", f"--dsn={pg_dsn}", *TINY, f"--output={output}"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "invariants broken in the hot run with 2 writers:" in err
    assert "first_event: an entity instance does not have exactly one first event" in err
    assert "('bench', 'hot-new-0', '2', '2')" in err
    assert not output.exists()


def test_the_shipped_ddl_lets_one_creator_win_each_race(tmp_path: Path, pg_dsn: str) -> None:
    output = tmp_path / "bench.json"
    assert main([f"--ddl={SHIPPED}", f"--dsn={pg_dsn}", *TINY, f"--output={output}"]) == 0
    results = json.loads(output.read_text())
    assert results["invariants"]["violations"] == []
    (hot,) = [a for a in results["appends"] if a["workload"] == "hot" and a["writers"] == 2]
    # every racing writer's first step is a creation race, and each race has a loser
    assert all(run["conflicts"] >= 1 for run in hot["rounds"])
    assert hot["errors"] == 0
