"""The bench on MariaDB: the invariant checker against damaged stores, a tiny bench run,
and a writer's connection ended by KILL before and after its commit.

KILL is asynchronous, which the cases tolerate by construction: the killed transaction
holds the locks of its row until it is rolled back, so the retry waits for it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
from bench_cases import (
    AFTER_COMMIT,
    BEFORE_COMMIT,
    DAMAGE,
    assert_checker_finds_exactly,
    assert_kill_mid_append,
    bare_ddl,
    kill_server_writer,
    prepared,
    shipped_ddl,
)

from conformance.backends import Backend


@pytest.fixture(scope="module")
def no_rules(mariadb_dsn: str) -> Iterator[Backend]:
    with prepared(bare_ddl("mariadb"), mariadb_dsn) as backend:
        yield backend


@pytest.fixture(scope="module")
def event_store(mariadb_dsn: str) -> Iterator[Backend]:
    with prepared(shipped_ddl("mariadb"), mariadb_dsn) as backend:
        yield backend


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_the_checker_finds_exactly_the_damage_done(no_rules: Backend, damage) -> None:
    assert_checker_finds_exactly(no_rules, damage)


@pytest.mark.parametrize("when", [BEFORE_COMMIT, AFTER_COMMIT])
def test_writer_connection_killed_mid_append(event_store: Backend, when: str) -> None:
    assert_kill_mid_append(event_store, when, kill_server_writer)


def test_bench_on_mariadb_leaves_no_database(
    tmp_path: Path, mariadb_dsn: str, admin: pymysql.Connection
) -> None:
    """In a process of its own, so that its databases (named for its pid) are told apart
    from those the fixtures of this module keep."""
    output = tmp_path / "bench.json"
    args = [sys.executable, "-m", "conformance", "bench", f"--ddl={shipped_ddl('mariadb')}"]
    args += [f"--dsn={mariadb_dsn}", f"--output={output}", "--rounds=1", "--duration=0.2"]
    args += ["--writers=1,2", "--events=200,1000", "--replays=20", "--hot-instances=2"]
    bench = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = bench.communicate(timeout=600)
    assert bench.returncode == 0, err
    results = json.loads(output.read_text())
    assert results["engine"] == "mariadb"
    assert results["bare_ddl"]["path"].endswith("mariadb-bare-table.ddl")
    assert {(e["workload"], e["writers"]) for e in results["appends"]} == {
        (w, n) for w in ("distinct", "bare", "hot") for n in (1, 2)
    }
    assert results["invariants"] == {"stores_checked": 8, "violations": []}
    with admin.cursor() as cursor:
        cursor.execute("SHOW DATABASES LIKE %s", (f"conformance\\_{bench.pid}\\_%",))
        assert cursor.fetchall() == ()
