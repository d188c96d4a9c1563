"""The bench command on MariaDB: a tiny run in a process of its own leaves no database.

The invariant checker and the fault cases run on every engine in test_bench.py and
test_faults.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pymysql
from bench_cases import (
    shipped_ddl,
)


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
