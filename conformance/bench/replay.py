"""Replay at scale: stores of a given size, loaded in bulk, and the latency of replaying
one 100-event stream in them.

A store of E events holds E / 100 streams of 100 events, written round-robin (the first
event of every stream, then the second of every stream, ...), so that a stream's events
are spread over the whole table as they are in a store with many active streams, and
replay cannot profit from rows that happen to sit together. Ids are derived from
(stream, position), so an event's previousId is computed, never remembered: loading a
million events holds no more in memory than one batch.
"""

from __future__ import annotations

import random
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from conformance.backends.base import Backend, Session
from conformance.bench import ledger
from conformance.bench.invariants import spelled
from conformance.bench.stats import percentile
from conformance.bench.storage import ROWS_PER_TRANSACTION, batches, insert_many, transaction
from conformance.bench.workloads import (
    ENTITY,
    FIRST_EVENT,
    NEXT_EVENT,
    STREAM_LENGTH,
    BenchFailure,
    replay,
)
from conformance.errors import KitError
from conformance.execution.snapshot import normalize_id
from conformance.spec.profile import TABLE_WRITES, Profile

INSERT_EVENTS = "INSERT INTO events(entity, entityKey, event, data, eventId, commandId, previousId)"


def insert_events(profile: Profile) -> str:
    """INSERT_EVENTS in the profile's names: the load writes the events table directly."""
    if TABLE_WRITES in profile.lacks:
        raise KitError(
            f"--profile {profile.name}: the replay bench loads the events table directly, "
            f"and the profile says the DDL allows no such writes: {profile.lacks[TABLE_WRITES]}"
        )
    return spelled(INSERT_EVENTS, profile)


EVENT_ID, COMMAND_ID = 0, 1
DATA = '{"note": "bulk-loaded benchmark event", "amount": 12345}'


class StreamIds:
    """Ids of bulk-loaded events: a random 64-bit prefix per store, then (kind, position,
    stream). They rise in load order, as time-ordered ids (UUIDv7) do, so every index on
    an id grows at its right edge and a load needs no more cache than one batch."""

    def __init__(self) -> None:
        self.prefix = secrets.randbits(64) << 64

    def of(self, kind: int, stream: int, position: int) -> str:
        return str(uuid.UUID(int=self.prefix | kind << 60 | position << 44 | stream))


def stream_key(stream: int) -> str:
    return f"load-{stream}"


@dataclass
class LoadedStore:
    """A store filled to `events` events; `session` is the one replays are timed on."""

    session: Session
    ids: StreamIds
    backend: Backend
    events: int = 0

    @property
    def streams(self) -> int:
        return self.events // STREAM_LENGTH

    def rows(self, streams: int) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
        """(event row, ledger row) for `streams` streams, round-robin by position."""
        for position in range(STREAM_LENGTH):
            event = FIRST_EVENT if position == 0 else NEXT_EVENT
            for stream in range(streams):
                event_id = self.ids.of(EVENT_ID, stream, position)
                command_id = self.ids.of(COMMAND_ID, stream, position)
                previous = self.ids.of(EVENT_ID, stream, position - 1) if position else None
                yield (
                    (ENTITY, stream_key(stream), event, DATA, event_id, command_id, previous),
                    (event_id, command_id, ledger.ACKNOWLEDGED),
                )

    def load(self, loader: Session, events: int, advance: Callable[[int], object]) -> None:
        """Fill the empty store with `events` events through `loader`, a transaction per
        batch; `advance(n)` reports progress."""
        if self.events:
            raise ValueError("a loaded store is filled once")
        insert = insert_events(self.backend.profile)
        for batch in batches(self.rows(events // STREAM_LENGTH), ROWS_PER_TRANSACTION):
            with transaction(loader):
                insert_many(loader, insert, [row for row, _ in batch])
                ledger.record_rows(loader, [entry for _, entry in batch])
            self.events += len(batch)
            advance(len(batch))

    def measure(self, replays: int, rng: random.Random) -> tuple[float, float]:
        """(p50, p99) in ms of replaying `replays` streams picked at random, after a warm-up."""
        for _ in range(max(1, replays // 10)):
            self.replay_one(rng)
        latencies = [self.replay_one(rng) for _ in range(replays)]
        return 1000 * percentile(latencies, 0.5), 1000 * percentile(latencies, 0.99)

    def replay_one(self, rng: random.Random) -> float:
        """Replay one stream; checked (outside the clock) to be its events in chain order."""
        stream = rng.randrange(self.streams)
        start = time.perf_counter()
        rows = replay(self.session, self.backend, stream_key(stream))
        elapsed = time.perf_counter() - start
        expected = [self.ids.of(EVENT_ID, stream, p) for p in range(STREAM_LENGTH)]
        if [normalize_id(row[2]) for row in rows] != expected:
            raise BenchFailure(
                f"replay of {stream_key(stream)!r} returned {len(rows)} events that are not "
                f"its {STREAM_LENGTH} events in the order they were appended"
            )
        return elapsed
