"""Where the bundled DDL files and scenarios are, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _package_folder(name: str) -> Path:
    """conformance/NAME in an installed kit (the wheel maps the checkout's NAME/ there),
    else NAME/ beside the package in a source checkout.

    Found by path, not imported: `conformance.ddl` is also the name of a module.
    """
    installed = _PACKAGE / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def bundled_scenarios() -> Path:
    return _package_folder("scenarios")


def bundled_ddl_folder() -> Path:
    return _package_folder("ddl")
