"""Backend registry: DSN scheme -> Backend class, through the `conformance.backends` entry points."""

from __future__ import annotations

from importlib.metadata import entry_points

from conformance.backends.base import Backend, Outcome, Session, Store
from conformance.errors import KitError

__all__ = ["Backend", "Outcome", "Session", "Store", "backend_class", "scheme_of"]

ENTRY_POINT_GROUP = "conformance.backends"
DEFAULT_SCHEME = "sqlite"


def scheme_of(dsn: str | None) -> str:
    """The DSN's scheme; a libpq key=value string counts as postgresql."""
    if not dsn:
        return DEFAULT_SCHEME
    if "://" in dsn or dsn.split(":", 1)[0] == "sqlite":
        return dsn.split(":", 1)[0].lower()  # not urlsplit: it raises on a malformed host
    if "=" in dsn:
        return "postgresql"
    raise KitError(f"--dsn {dsn!r}: not a URL (scheme://...) nor a key=value connection string")


def known_schemes() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


def backend_class(dsn: str | None) -> type[Backend]:
    scheme = scheme_of(dsn)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == scheme:
            try:
                return ep.load()
            except ImportError as exc:
                raise KitError(
                    f"--dsn scheme {scheme!r}: its backend cannot be loaded: {exc}"
                ) from None
    raise KitError(f"--dsn: unknown scheme {scheme!r} (known: {', '.join(known_schemes())})")
