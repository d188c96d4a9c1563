"""What can be known about a multi-session schedule before it runs.

A step naming an undeclared session, a begin on a session already in a transaction, a
commit or rollback with no open transaction, anything but a rollback after a rejection
inside a transaction (PostgreSQL aborts such a transaction, SQLite keeps the rest, so no
verdict could be engine-neutral), or a step on the kit's own connection while a
transaction is open (it could wait for that transaction forever) is a scenario error
at load time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from conformance.scenario.objects import (
    DEFAULT_SESSION,
    SESSION_STEPS,
    AppendStep,
    DefineStep,
    Step,
    TransactionStep,
)


@dataclass(frozen=True)
class Problem:
    index: int  # the step's position in the scenario
    key: str  # the key of the step the message is about
    message: str


@dataclass
class _Open:
    begun_at: str
    rejected: bool = False


def schedule_problems(steps: tuple[Step, ...], declared: tuple[str, ...]) -> Iterator[Problem]:
    """Every static mistake of a scenario's schedule, in step order."""
    known = {DEFAULT_SESSION, *declared}
    open_: dict[str, _Open] = {}
    for index, step in enumerate(steps):
        if step.session not in known:
            names = ", ".join(sorted(known))
            yield Problem(index, "session", f"unknown session {step.session!r} (declared: {names})")
        elif not isinstance(step, SESSION_STEPS):
            yield from _needs_no_open_transaction(index, step, open_)
        else:
            yield from _session_step(index, step, open_)


def _session_step(index: int, step: Step, open_: dict[str, _Open]) -> Iterator[Problem]:
    current = open_.get(step.session)
    action = step.action if isinstance(step, TransactionStep) else None
    if current and current.rejected and action != "rollback":
        yield Problem(
            index,
            key_of(step),
            f"session {step.session!r} had a step rejected in this transaction, so it can only "
            "roll back: engines differ on what is left of it (PostgreSQL aborts it, SQLite "
            "keeps the rest)",
        )
    elif action == "begin" and current:
        yield Problem(
            index,
            "begin",
            f"session {step.session!r} already has an open transaction, begun at {current.begun_at}",
        )
    elif action in ("commit", "rollback") and current is None:
        yield Problem(
            index,
            action,
            f"{action}: session {step.session!r} has no open transaction (begin one first)",
        )
    if action == "begin":
        open_[step.session] = _Open(str(step.location))
    elif action in ("commit", "rollback"):
        open_.pop(step.session, None)
    elif isinstance(step, (AppendStep, DefineStep)) and step.expect == "rejected" and current:
        current.rejected = True


def _needs_no_open_transaction(
    index: int, step: Step, open_: dict[str, _Open]
) -> Iterator[Problem]:
    if open_:
        session, state = next(iter(open_.items()))
        kind = key_of(step)
        yield Problem(
            index,
            kind,
            f"a {kind} step runs on the kit's own connection, only when every transaction has "
            f"ended; session {session!r} is still open (begun at {state.begun_at})",
        )


def key_of(step: Step) -> str:
    """The YAML key that names a step's kind (`append`, `begin`, `race`, ...)."""
    if isinstance(step, TransactionStep):
        return step.action
    return type(step).__name__.removesuffix("Step").lower()
