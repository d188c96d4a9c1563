"""Where the MariaDB tests find the shipped and the broken MariaDB DDLs.

(A module of its own: `from conftest import ...` would meet the tests folder's own
conftest, since neither folder is a package.)
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
MARIADB_DDL = REPO / "ddl" / "mariadb-event-store.ddl"
BROKEN = REPO / "tests" / "broken" / "mariadb"
