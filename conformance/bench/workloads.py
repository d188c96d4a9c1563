"""Timed append workloads: N writer threads, each with its own Session, for a fixed time.

Distinct: every writer appends to entity instances no other writer touches, one event
per transaction, knowing its last eventId as a client with cached state would.
Hot: every writer picks one of a few shared instances, replays it, appends after its
last event and, when a rule rejects the append because another writer got there first,
replays and retries the same command (same commandId, new eventId). Rejections are
counted as conflicts.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.backends.base import Backend, Outcome, Session
from conformance.bench import ledger
from conformance.bench.ledger import LedgerFile
from conformance.bench.stats import percentile
from conformance.execution.snapshot import normalize_id

ENTITY = "bench"
FIRST_EVENT = "opened"
NEXT_EVENT = "noted"
DEFINITIONS = ((ENTITY, FIRST_EVENT), (ENTITY, NEXT_EVENT))
STREAM_LENGTH = 100
# Workloads: appends to instances of its own, the same on the bare table, a few shared instances.
DISTINCT, BARE, HOT = "distinct", "bare", "hot"
MAX_ATTEMPTS = 1000  # a hot command that loses this often is reported, not retried forever


class BenchFailure(Exception):
    """The workload saw something no correct store may show (a replay of the wrong length)."""


def new_id() -> str:
    return str(uuid.uuid4())


def payload(writer: int) -> str:
    """A small JSON document, as most events carry."""
    return f'{{"writer": {writer}, "note": "benchmark event", "amount": 12345}}'


def append(
    session: Session,
    backend: Backend,
    key: str,
    event: str,
    data: str,
    ids: tuple[str, str],
    previous_id: Any,
) -> tuple[Outcome, str]:
    """The seed's append statement, spelled by the backend's profile: its outcome as the
    backend classifies it, and the eventId (sent, or made by the database and returned)."""
    event_id, command_id = ids
    statements = backend.client_statements
    values = {"entity": ENTITY, "entityKey": key, "event": event, "data": data,
              "eventId": event_id, "commandId": command_id, "previousId": previous_id}  # fmt: skip
    statement = statements.append_first if previous_id is None else statements.append_next
    try:
        rows = session.execute(statement.sql, statement.bind(values))
    except Exception as exc:
        outcome = backend.classify(exc)
        if outcome is None:
            raise
        return outcome, event_id
    if not statements.client_event_ids:
        if not rows or not rows[0]:
            raise BenchFailure("the append was accepted but returned no eventId")
        event_id = str(normalize_id(rows[0][0]))
    return Outcome.ACCEPTED, event_id


def replay(session: Session, backend: Backend, key: str) -> list[Any]:
    statement = backend.client_statements.replay
    return session.execute(statement.sql, statement.bind({"entity": ENTITY, "entityKey": key}))


LEDGER_OUTCOME = {
    Outcome.ACCEPTED: ledger.ACKNOWLEDGED,
    Outcome.REJECTED: ledger.REJECTED,
    Outcome.ERROR: ledger.UNKNOWN,
}


@dataclass
class Tally:
    """What one writer did in one run."""

    appends: int = 0
    conflicts: int = 0
    errors: int = 0
    gave_up: int = 0
    latencies: list[float] = field(default_factory=list)
    finished: float = 0.0


class Writer(ABC):
    def __init__(
        self, index: int, session: Session, backend: Backend, ledger_file: LedgerFile, tag: str
    ) -> None:
        self.index = index
        self.session = session
        self.backend = backend
        self.ledger = ledger_file
        self.tag = tag
        self.appended = ""

    def attempt(self, key: str, event: str, ids: tuple[str, str], previous: Any) -> Outcome:
        """Append; `self.appended` is then the eventId the store knows the event by."""
        outcome, self.appended = append(
            self.session, self.backend, key, event, payload(self.index), ids, previous
        )
        self.ledger.record(LEDGER_OUTCOME[outcome], self.appended, ids[1])
        return outcome

    @abstractmethod
    def step(self, tally: Tally) -> None:
        """One command, start to acknowledgement; its latency goes into the tally."""


class DistinctWriter(Writer):
    """Chains of STREAM_LENGTH events on instances of its own, one after another."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.instance = 0
        self.length = 0
        self.last: Any = None

    @property
    def key(self) -> str:
        return f"{self.tag}-w{self.index}-{self.instance}"

    def step(self, tally: Tally) -> None:
        if self.length == STREAM_LENGTH:
            self.instance, self.length, self.last = self.instance + 1, 0, None
        ids = (new_id(), new_id())
        event = FIRST_EVENT if self.last is None else NEXT_EVENT
        start = time.perf_counter()
        outcome = self.attempt(self.key, event, ids, self.last)
        elapsed = time.perf_counter() - start
        if outcome is Outcome.ACCEPTED:
            tally.appends += 1
            tally.latencies.append(elapsed)
            self.length += 1
            self.last = self.appended
            return
        if outcome is Outcome.REJECTED:
            tally.conflicts += 1
        else:
            tally.errors += 1
        self.resync()

    def resync(self) -> None:
        """After a refusal or an error, learn the instance's real state from the store."""
        rows = replay(self.session, self.backend, self.key)
        self.length = len(rows)
        self.last = rows[-1][2] if rows else None


class HotWriter(Writer):
    """Replay, append after the last event, and on a rejection replay and retry."""

    def __init__(self, *args: Any, keys: list[str], seed: int) -> None:
        super().__init__(*args)
        self.keys = keys
        self.random = random.Random(seed)

    def step(self, tally: Tally) -> None:
        key = self.random.choice(self.keys)
        command_id = new_id()
        start = time.perf_counter()
        for _ in range(MAX_ATTEMPTS):
            rows = replay(self.session, self.backend, key)
            if not rows:
                raise BenchFailure(f"replay of hot instance {key!r} returned no event")
            outcome = self.attempt(key, NEXT_EVENT, (new_id(), command_id), rows[-1][2])
            if outcome is Outcome.ACCEPTED:
                tally.appends += 1
                tally.latencies.append(time.perf_counter() - start)
                return
            if outcome is Outcome.REJECTED:
                tally.conflicts += 1
            else:
                tally.errors += 1
        tally.gave_up += 1


@dataclass(frozen=True)
class RunResult:
    """One timed run of N writers."""

    writers: int
    seconds: float
    appends: int
    conflicts: int
    errors: int
    gave_up: int
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.appends / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict[str, float | int]:
        return {
            "seconds": self.seconds,
            "appends": self.appends,
            "appends_per_second": self.rate,
            "conflicts": self.conflicts,
            "errors": self.errors,
            "gave_up": self.gave_up,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
        }


def run_writers(writers: list[Writer], duration: float) -> RunResult:
    """Start all writers at once (a barrier), stop each after its command in progress at
    `duration` seconds; throughput counts acknowledged appends over the real elapsed time."""
    tallies = [Tally() for _ in writers]
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(writers) + 1)
    clock: dict[str, float] = {}

    def work(writer: Writer, tally: Tally) -> None:
        try:
            barrier.wait()
            deadline = clock["deadline"]
            while time.perf_counter() < deadline:
                writer.step(tally)
        except threading.BrokenBarrierError:
            return
        except BaseException as exc:
            failures.append(exc)
        finally:
            tally.finished = time.perf_counter()

    threads = [
        threading.Thread(target=work, args=(w, t), name=f"writer-{w.index}", daemon=True)
        for w, t in zip(writers, tallies, strict=True)
    ]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    clock["deadline"] = start + duration
    barrier.wait()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    latencies = [latency for tally in tallies for latency in tally.latencies]
    return RunResult(
        writers=len(writers),
        seconds=max(t.finished for t in tallies) - start,
        appends=sum(t.appends for t in tallies),
        conflicts=sum(t.conflicts for t in tallies),
        errors=sum(t.errors for t in tallies),
        gave_up=sum(t.gave_up for t in tallies),
        p50_ms=1000 * percentile(latencies, 0.50),
        p99_ms=1000 * percentile(latencies, 0.99),
    )


WriterFactory = Callable[[int, Session, LedgerFile], Writer]
