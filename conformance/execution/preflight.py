"""The preflight: before any scenario runs, prove the DDL has what the kit will use.

Every table and column the profile maps must exist in a fresh store, and every client
statement must prepare there. Otherwise all scenarios would fail alike with "no such
column"; instead the run stops with one line naming the first mismatch and where the
profile (or the spec, for the default profile) spells it. The spec's own names are
checked the same way: they are what the default profile maps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from conformance.backends.base import Backend, Outcome, Session
from conformance.errors import KitError
from conformance.spec.profile import DEFINITIONS, SPEC_COLUMNS, Profile
from conformance.spec.statements import DEFINITION_COLUMNS

HINT = "give the --profile that spells the DDL's names (docs/profiles.md)"


@dataclass(frozen=True)
class Probe:
    """One thing the kit needs from the store, and the line that says it is missing."""

    sql: str
    params: tuple[None, ...]
    missing: str  # what is wrong when the probe fails, without the database's words
    prepare: bool = False  # a client statement: prepared, not run


class PreflightFailed(KitError):
    """The DDL lacks a table, a column or a statement the profile maps."""


def preflight(backend: Backend) -> None:
    """Raise PreflightFailed with one line at the first thing the store lacks."""
    store = backend.create_store()
    try:
        session = store.session()
        try:
            for probe in probes(backend):
                problem = _failure(backend, session, probe)
                if problem is not None:
                    raise PreflightFailed(f"{probe.missing} ({problem}); {HINT}")
        finally:
            session.close()
    finally:
        store.close()


def probes(backend: Backend) -> Iterator[Probe]:
    """Tables, then their columns, then the client statements, in the spec's order."""
    profile = backend.profile
    tables = [("events", SPEC_COLUMNS)]
    if DEFINITIONS not in profile.lacks:
        tables.append(("entity_events", DEFINITION_COLUMNS))
    for table, _ in tables:
        name = profile.tables[table]
        yield Probe(f"SELECT 1 FROM {name} WHERE 1 = 0", (),
                    f"{_where(profile, 'tables', table)}: table {_spelled(table, name)} "
                    "is not in the DDL")  # fmt: skip
    for table, columns in tables:
        name = profile.tables[table]
        for column in columns:
            spelled = profile.columns[column]
            yield Probe(f"SELECT {spelled} FROM {name} WHERE 1 = 0", (),
                        f"{_where(profile, 'columns', column)}: column "
                        f"{_spelled(f'{table}.{column}', f'{name}.{spelled}')} "
                        "is not in the DDL")  # fmt: skip
    for statement in backend.client_statements.client():
        yield Probe(statement.sql, (None,) * len(statement.names),
                    f"{_where(profile, 'statements', statement.key)}: statement {statement.key} "
                    "does not prepare", prepare=True)  # fmt: skip


def _spelled(spec: str, ddl: str) -> str:
    """A name as the spec writes it, and as the profile spells it when that differs."""
    return spec if spec == ddl else f"{spec} (spelled {ddl})"


def _where(profile: Profile, section: str, key: str) -> str:
    return profile.where.get(f"{section}.{key}") or f"profile {profile.label}"


def _failure(backend: Backend, session: Session, probe: Probe) -> str | None:
    """The database's words when the probe fails; None when it passes.

    A statement tried with NULL parameters may be refused by a rule of the DDL: that
    proves it reached the rules, so it counts as prepared."""
    try:
        if probe.prepare:
            session.prepare(probe.sql, probe.params)
        else:
            session.execute(probe.sql, probe.params)
    except Exception as exc:
        outcome = backend.classify(exc)
        if outcome is None:
            raise
        if outcome is Outcome.REJECTED and probe.prepare:
            return None
        return backend.describe(exc)
    return None
