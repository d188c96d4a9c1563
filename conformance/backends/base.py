"""The backend interface: everything the kit needs from one database engine.

A backend connects, isolates each scenario in a store of its own, applies the DDL,
executes the seed's statements and classifies each database error as a rejection
(a rule of the DDL said no) or an error (the DDL or the connection is broken).
Third-party packages add engines by registering a Backend subclass under the
`conformance.backends` entry point group, named for the DSN scheme it serves.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from conformance.backends.write_forms import WriteRows, WriteSql, assignments
from conformance.ddl_script import DdlScript
from conformance.spec.profile import Profile, default_profile
from conformance.spec.statements import Statements, statements_for

Row = tuple[Any, ...]

# What a backend can do, as named in `Backend.capabilities` and in a scenario's `requires`.
CAPABILITIES = {
    "sessions": "several connections to one store at once, each on its own thread, "
    "with begin / commit / rollback",
    "concurrent-writers": "two sessions can each hold an open write transaction at once",
    "nul-in-text": "text values may hold a NUL byte",
    "shared-key-waits": "a session writing a key another session's open transaction wrote "
    "waits for that transaction, rather than both going ahead and one failing at COMMIT",
    "dynamic-typing": "a column keeps a value of whatever type the client binds (SQLite's "
    "storage classes), so a name or id can be sent as bytes",
}


@dataclass(frozen=True)
class SessionSetting:
    """A session setting an unprivileged client can change that could weaken a rule.

    `statements` run on every session of a store right after it connects; `weakens` names
    the rules the setting could weaken (empty: every rule), so that only the write
    scenarios naming one of them run again under it.
    """

    label: str  # as shown in the item's name: `chain.yaml::stale replay[foreign_key_checks=0]`
    statements: tuple[str, ...]
    weakens: tuple[str, ...] = ()


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ERROR = "error"


class Session(ABC):
    """One connection to a store, in autocommit mode unless a transaction is begun."""

    # Where the session runs when the DSN names several servers (a cluster's node, as
    # reports show it); empty for a single server.
    where: str = ""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement written with `?` placeholders; rows it returns, if any.

        Raises the driver's own exception; the backend's `classify` judges it.
        """

    @abstractmethod
    def close(self) -> None: ...

    # Transactions, for scenarios with sessions. The defaults send the SQL standard's
    # statements; an engine whose writers must announce themselves overrides begin.
    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        self.execute("ROLLBACK")

    def prepare(self, sql: str, params: Sequence[Any]) -> None:
        """Prove a statement is valid for this store without its effects: by default it
        runs in a transaction that is rolled back; engines that can prepare without
        running override this."""
        self.begin()
        try:
            self.execute(sql, params)
        finally:
            self.rollback()

    def copy(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Bulk-load `rows` with the engine's own statement (`WriteSql.copy_rows`)."""
        raise NotImplementedError(f"this engine has no bulk load: {sql}")

    def cancel(self) -> None:  # noqa: B027 - optional: without it a stuck session is abandoned
        """Interrupt, from another thread, the statement this session is running."""


class Store(ABC):
    """One isolated event store (a database, schema or file) with the DDL applied."""

    # Whether concurrent writers meet only when they commit (a multi-primary cluster
    # certifies each transaction at COMMIT): a race's writers then commit at once.
    commits_together: bool = False

    @abstractmethod
    def session(self) -> Session: ...

    @abstractmethod
    def reapply_ddl(self) -> None:
        """Apply the DDL once more to this store; raises the driver's exception on failure."""

    @abstractmethod
    def close(self) -> None:
        """Drop everything this store created. Safe to call twice."""

    def waiting(self, session: Session) -> bool | None:
        """Whether `session`'s running statement waits for a lock another session holds;
        None when the engine cannot tell (the kit then waits a grace period instead)."""
        return None


class Backend(ABC):
    """One engine. Instantiated once per run with the user's DSN and DDL."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[str]] = frozenset()
    # capability -> why this engine lacks it, shown when a scenario is not applicable
    limitations: ClassVar[dict[str, str]] = {}
    # write form -> why this engine has no such statement (see `write_statement`)
    missing_write_forms: ClassVar[dict[str, str]] = {}
    # Settings a client without privileges can change on its own session that could weaken
    # a rule; the write scenarios run again under each (conformance/execution/settings.py).
    session_settings: ClassVar[tuple[SessionSetting, ...]] = ()

    # Whether the sessions of a store run as a DML-only account the backend creates at
    # `prepare` and drops at `close` (the plugin asks for it before `prepare`; the bench,
    # which makes tables of its own, does not). A backend without accounts ignores it.
    client_account: bool = False

    def __init__(self, dsn: str | None, ddl: DdlScript) -> None:
        self.dsn = dsn
        self.ddl = ddl

    @property
    def profile(self) -> Profile:
        """How the DDL spells the spec's names and statements (the spec's own by default)."""
        return self.__dict__.get("_profile") or default_profile()

    @profile.setter
    def profile(self, profile: Profile) -> None:
        self.__dict__["_profile"] = profile

    @property
    def client_statements(self) -> Statements:
        """Every statement the kit sends, rendered through the profile."""
        return statements_for(self.profile)

    @abstractmethod
    def prepare(self) -> None:
        """Reach the server and prove the DDL applies; raise KitError with one line if not."""

    @abstractmethod
    def create_store(self) -> Store: ...

    @abstractmethod
    def classify(self, exc: BaseException) -> Outcome | None:
        """REJECTED for a rule violation, ERROR for anything else from the database,
        None when `exc` is not a database error at all (the kit then lets it propagate)."""

    def describe(self, exc: BaseException) -> str:
        """The database's own error text, as one line."""
        return " ".join(str(exc).split())

    @abstractmethod
    def server_version(self) -> str: ...

    # write form -> the INSERT verb that sends it (`INSERT OR REPLACE INTO`, `REPLACE INTO`)
    write_verbs: ClassVar[dict[str, str]] = {}
    # the upsert's clause after VALUES, `{sets}` standing for `col = <new value>, ...`
    # and `{}` in `upsert_value` for a column's name
    upsert_clause: ClassVar[str] = ""
    upsert_value: ClassVar[str] = ""

    def write_statement(self, form: str, rows: WriteRows, on: str) -> WriteSql:
        """A write step's rows in `form` (see scenario.objects.WRITE_FORMS), in this
        engine's dialect: a multi-row INSERT, with the verb `write_verbs` names or the
        upsert clause; `write_form_missing` says why any other form is not applicable."""
        if form in self.write_verbs:
            return rows.insert(self.write_verbs[form])
        if form == "upsert" and self.upsert_clause:
            sets = assignments(rows.updated(on), self.upsert_value)
            return rows.insert(after=self.upsert_clause.format(on=rows.name(on), sets=sets))
        if form != "insert":
            raise NotImplementedError(form)
        return rows.insert()

    def write_form_missing(self, form: str) -> str | None:
        """Why this engine has no statement of `form`; None when it has one."""
        if form in self.missing_write_forms:
            return self.missing_write_forms[form]
        renders = (form == "insert" or form in self.write_verbs
                   or (form == "upsert" and bool(self.upsert_clause))
                   or type(self).write_statement is not Backend.write_statement)  # fmt: skip
        return None if renders else f"the {self.name} backend renders no {form!r} statement"

    @classmethod
    def not_applicable(cls, needed: Iterable[str]) -> str | None:
        """Why a scenario needing these capabilities cannot run here; None if it can."""
        for capability in needed:
            if capability not in cls.capabilities:
                return cls.limitations.get(capability) or (
                    f"the {cls.name} backend lacks {capability!r} ({CAPABILITIES[capability]})"
                )
        return None

    def notes(self) -> list[str]:
        """What the run should say once in its summary and reports (e.g. a check it had to
        leave out for lack of a privilege); empty by default."""
        return []

    def store_not_applicable(self, needed: Iterable[str]) -> str | None:
        """Why a scenario needing these capabilities cannot run on the stores this DSN
        gives (a capability the engine has but not this deployment); None if it can."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook, most backends need it
        """Release what `prepare` made (templates, temporary folders)."""
