"""Where the bundled DDL files and scenarios are, installed or in a source checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _package_folder(package: str, fallback: str) -> Path:
    try:
        folder = Path(str(resources.files(package)))
        if folder.is_dir():
            return folder
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / fallback


def bundled_scenarios() -> Path:
    return _package_folder("conformance.scenarios", "scenarios")


def bundled_ddl_folder() -> Path:
    return _package_folder("conformance.ddl", "ddl")
