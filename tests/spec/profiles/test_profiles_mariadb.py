"""Profiles on MariaDB: the shipped DDL in snake_case passes only through its profile."""

from __future__ import annotations

import pytest
from helpers import one_error_line
from profile_cases import DDL, failed, run_corpus, run_kit

from conformance.backends.mariadb import MariadbBackend

pytestmark = pytest.mark.mariadb

SNAKE_DDL = DDL / "mariadb-snake-case.ddl"


def test_the_snake_case_ddl_passes_with_the_snake_case_profile(mariadb_dsn: str) -> None:
    results = run_corpus(MariadbBackend, mariadb_dsn, SNAKE_DDL, "snake_case")
    assert len(results) > 130
    assert failed(results) == []


def test_without_its_profile_the_snake_case_ddl_stops_at_the_preflight(
    pytester: pytest.Pytester, mariadb_dsn: str
) -> None:
    result = run_kit(pytester, SNAKE_DDL, f"--dsn={mariadb_dsn}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert "profile spec: column events.entityKey is not in the DDL" in line
    assert "Unknown column 'entityKey'" in line
