"""A backend from a package the kit has never heard of, found through its entry point.

The test writes a throwaway distribution into a folder on sys.path: a module with a
Backend written against `conformance.backends.base` alone, and a dist-info whose
entry_points.txt registers it in the `conformance.backends` group under a new DSN
scheme. `--dsn throwaway://...` must then run the bundled corpus through it (all but
the scenarios needing sessions, a capability it does not declare).
"""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import pytest
from helpers import corpus, one_error_line

from conformance.backends import base
from conformance.scenario.objects import WriteStep

REPO = Path(__file__).resolve().parents[2]
SQLITE_DDL = REPO / "ddl" / "sqlite-event-store.ddl"
BACKENDS_DOC = REPO / "docs" / "backends.md"

THROWAWAY_MODULE = '''
"""An engine adapter as a third party writes it: SQLite in memory under a new scheme."""

import itertools
import sqlite3

from conformance.backends.base import Backend, Outcome, Session, Store
from conformance.errors import KitError

NAMES = itertools.count(1)


class MemorySession(Session):
    def __init__(self, uri):
        self.connection = sqlite3.connect(uri, uri=True, isolation_level=None)

    def execute(self, sql, params=()):
        return self.connection.execute(sql, tuple(params)).fetchall()

    def close(self):
        self.connection.close()


class MemoryStore(Store):
    """A shared in-memory database: it lives as long as `keeper` is open."""

    def __init__(self, ddl_text):
        self.uri = f"file:throwaway-{next(NAMES)}?mode=memory&cache=shared"
        self.ddl_text = ddl_text
        self.keeper = sqlite3.connect(self.uri, uri=True, isolation_level=None)
        self.reapply_ddl()

    def session(self):
        return MemorySession(self.uri)

    def reapply_ddl(self):
        self.keeper.executescript(self.ddl_text)

    def close(self):
        self.keeper.close()


class ThrowawayBackend(Backend):
    name = "throwaway"

    def prepare(self):
        try:
            MemoryStore(self.ddl.text).close()
        except sqlite3.Error as exc:
            raise KitError(f"--ddl {self.ddl.path}: does not apply: {exc}") from None

    def create_store(self):
        return MemoryStore(self.ddl.text)

    def classify(self, exc):
        if isinstance(exc, sqlite3.IntegrityError):
            return Outcome.REJECTED
        if isinstance(exc, sqlite3.Error):
            return Outcome.ERROR
        return None

    def server_version(self):
        return f"throwaway 0.1 on SQLite {sqlite3.sqlite_version}"
'''


def install_throwaway(site: Path, module: str, entry_point: str) -> None:
    """What `pip install` would leave: the module and its dist-info with the entry point."""
    site.mkdir()
    (site / "throwaway_backend.py").write_text(textwrap.dedent(module), encoding="utf-8")
    info = site / "throwaway_backend-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: throwaway-backend\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[conformance.backends]\n{entry_point}\n", encoding="utf-8"
    )


def test_a_backend_registered_by_another_package_runs_the_corpus(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_throwaway(
        tmp_path / "site", THROWAWAY_MODULE, "throwaway = throwaway_backend:ThrowawayBackend"
    )
    monkeypatch.syspath_prepend(tmp_path / "site")

    result = pytester.runpytest(
        f"--ddl={SQLITE_DDL}", "--dsn=throwaway://anything", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines(["conformance: backend throwaway, throwaway 0.1 on SQLite *"])
    # It declares no capabilities and renders no write form but a plain INSERT: scenarios
    # with sessions or other forms are not applicable there.
    needing = [
        s
        for s in corpus()
        if s.requirements
        or any(isinstance(step, WriteStep) and step.form != "insert" for step in s.steps)
    ]
    assert needing
    result.assert_outcomes(passed=len(corpus()) - len(needing), skipped=len(needing))


def test_a_registered_backend_that_cannot_be_imported_is_one_line(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_throwaway(
        tmp_path / "site", "import no_such_driver\n", "throwaway = throwaway_backend:Backend"
    )
    monkeypatch.syspath_prepend(tmp_path / "site")

    result = pytester.runpytest(f"--ddl={SQLITE_DDL}", "--dsn=throwaway://anything")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert "scheme 'throwaway': its backend cannot be loaded" in line
    assert "no_such_driver" in line


def test_an_unknown_scheme_lists_the_installed_ones(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(f"--ddl={SQLITE_DDL}", "--dsn=oracle://scott@db/orcl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert "unknown scheme 'oracle'" in line
    for scheme in ("mariadb", "mysql", "sqlite"):
        assert scheme in line


def interface_methods() -> list[str]:
    """Every method of the backend interface a porter writes or may override."""
    names = []
    for cls in (base.Backend, base.Store, base.Session):
        names += [
            name
            for name, member in vars(cls).items()
            if inspect.isfunction(member) and not name.startswith("_")
        ]
    return names


def test_the_backend_guide_documents_every_method_of_the_interface() -> None:
    guide = BACKENDS_DOC.read_text(encoding="utf-8")
    missing = [name for name in interface_methods() if f"`{name}" not in guide]
    assert not missing, f"docs/backends.md does not document: {missing}"
    assert "conformance.backends" in guide
