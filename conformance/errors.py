"""Errors the kit reports to its user as one line, never as a traceback."""

from __future__ import annotations


class KitError(Exception):
    """Bad input: a scenario file, an option, a DDL or a server the kit cannot use.

    The message is complete on its own and names the file:line or the setting.
    """


class ScenarioError(KitError):
    """A scenario file that is malformed or inconsistent; the message starts with file:line."""
