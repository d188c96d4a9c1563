"""Shared fixtures of the kit's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SQLITE_DDL = REPO / "ddl" / "sqlite-event-store.ddl"


@pytest.fixture
def sqlite_ddl() -> Path:
    return SQLITE_DDL
