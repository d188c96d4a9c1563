"""Before any scenario: the store the DDL makes has every table and column the spec's
statements use. A DDL that spells a column otherwise (`timestamp` for `ts`,
`entity_key` for `entityKey`) would fail every scenario with the same message, each
blamed on its own rules; one line naming what is missing says it once, and truly.
"""

from __future__ import annotations

from conformance.backends.base import Backend, Session
from conformance.errors import KitError
from conformance.scenario.objects import DEFINITION_COLUMNS, EVENT_COLUMNS

SPEC_TABLES = {"entity_events": DEFINITION_COLUMNS, "events": EVENT_COLUMNS}


def preflight(backend: Backend, ddl_name: str) -> None:
    """Raise KitError naming every table and column of the spec the store lacks."""
    store = backend.create_store()
    try:
        session = store.session()
        try:
            missing = missing_names(session, backend)
        finally:
            session.close()
    finally:
        store.close()
    if missing:
        spelled = "; ".join(f"{table}({', '.join(cols)})" for table, cols in SPEC_TABLES.items())
        raise KitError(
            f"--ddl {ddl_name}: the store it makes has no {', '.join(missing)}, which the "
            f"spec's statements use (they read and write {spelled}); no scenario can run"
        )


def missing_names(session: Session, backend: Backend) -> list[str]:
    """`table X` / `column X.Y` for each name of the spec's tables the store lacks."""
    missing: list[str] = []
    for table, columns in SPEC_TABLES.items():
        if _reads(session, backend, f"SELECT {', '.join(columns)} FROM {table} WHERE 1 = 0"):
            continue
        if not _reads(session, backend, f"SELECT 1 FROM {table} WHERE 1 = 0"):
            missing.append(f"table {table}")
            continue
        missing += [
            f"column {table}.{column}"
            for column in columns
            if not _reads(session, backend, f"SELECT {column} FROM {table} WHERE 1 = 0")
        ]
    return missing


def _reads(session: Session, backend: Backend, statement: str) -> bool:
    try:
        session.execute(statement)
    except Exception as exc:
        if backend.classify(exc) is None:
            raise
        return False
    return True
