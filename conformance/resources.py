"""Where the bundled DDL files and scenarios are, installed or in a source checkout.

An installed kit carries them inside the package (conformance/ddl, conformance/scenarios);
in a source checkout or an editable install they are the repository's ddl/ and scenarios/.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def bundled_scenarios() -> Path:
    return _bundled("scenarios")


def bundled_ddl_folder() -> Path:
    return _bundled("ddl")
