"""The kit's own YAML data (rules.yaml) is never collected as a scenario file.

In an installed kit the bundled scenarios live inside the package folder, so pytest
walks that folder, rules.yaml included, when it collects them; a checkout shows the
same when the package folder is given on the command line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# The checkout's package folder: CI tests an installed kit, whose package folder also
# holds the bundled scenarios and has no ddl/ beside it.
CHECKOUT = Path(__file__).resolve().parents[2]
PACKAGE = CHECKOUT / "conformance"
SHIPPED_DDL = CHECKOUT / "ddl" / "sqlite-event-store.ddl"


def test_the_package_folder_holds_no_scenarios(pytester: pytest.Pytester) -> None:
    assert (PACKAGE / "spec" / "rules.yaml").is_file()
    result = pytester.runpytest("-p", "no:cacheprovider", f"--ddl={SHIPPED_DDL}", str(PACKAGE))
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert "rules.yaml" not in result.stdout.str() + result.stderr.str()
