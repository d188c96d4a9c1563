"""The bench command on MariaDB: a tiny run in a process of its own leaves no database.

The invariant checker and the fault cases run on every engine in test_bench.py and
test_faults.py.
"""

from __future__ import annotations

from pathlib import Path

import pymysql
from bench_cases import (
    bench_in_a_process,
    shipped_ddl,
)


def test_bench_on_mariadb_leaves_no_database(
    tmp_path: Path, mariadb_dsn: str, admin: pymysql.Connection
) -> None:
    """In a process of its own, so that its databases (named for its pid) are told apart
    from those the fixtures of this module keep."""
    pid, results = bench_in_a_process(
        tmp_path, shipped_ddl("mariadb"), mariadb_dsn, "--duration=0.2", "--writers=1,2",
        "--events=200,1000", "--replays=20", "--hot-instances=2",
    )  # fmt: skip
    assert results["engine"] == "mariadb"
    assert results["bare_ddl"]["path"].endswith("mariadb-bare-table.ddl")
    assert {(e["workload"], e["writers"]) for e in results["appends"]} == {
        (w, n) for w in ("distinct", "bare", "hot") for n in (1, 2)
    }
    assert results["invariants"] == {"stores_checked": 8, "violations": []}
    with admin.cursor() as cursor:
        cursor.execute("SHOW DATABASES LIKE %s", (f"conformance\\_{pid}\\_%",))
        assert cursor.fetchall() == ()
