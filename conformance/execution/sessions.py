"""Sessions on threads of their own, so that a statement waiting for another session's
lock does not stop the schedule.

Each session is one connection owned by one worker thread, which runs the calls it is
handed in order. After handing out a call the kit waits until the pool is *settled*:
every session is idle, done with its call, or waiting for a lock. Only then does it look
at the store or hand out the next call, so the interleaving is the schedule's, never the
thread scheduler's. Whether a statement waits for a lock comes from the store
(`Store.waiting`); for an engine that cannot tell, a call still running after a grace
period well above normal latency is taken to be waiting.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from conformance.backends.base import Session, Store

# For engines that cannot tell whether a statement waits for a lock: a call still
# running after this long is taken to be waiting.
LOCK_WAIT_GRACE = 1.0
# A call that neither finishes nor waits for a lock within this long is stuck.
CALL_LIMIT = 60.0
# How often the pool asks the store who is waiting while calls are in flight.
POLL_INTERVAL = 0.002
# How long the clean-up waits for calls that a rollback should have freed.
CLEANUP_LIMIT = 10.0


@dataclass(eq=False)
class Call:
    """One piece of work for one session; `tag` is whatever the caller wants back."""

    session: str
    work: Callable[[Session], Any]
    tag: Any
    number: int
    started: float | None = None
    finished: int = 0  # the order in which calls finished, across sessions
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    waited: bool = False  # seen waiting (or queued behind a waiting call) at least once
    announced: bool = False
    collected: bool = False
    lock_seen: bool = False  # the engine said it waits for a lock at the last look


class CallStuck(Exception):
    """A call ran past CALL_LIMIT without finishing or waiting for a lock."""

    def __init__(self, call: Call) -> None:
        super().__init__(f"session {call.session!r}: a call ran for {CALL_LIMIT:.0f}s")
        self.call = call


@dataclass(eq=False)
class Worker:
    name: str
    session: Session
    changed: threading.Condition
    finish_order: Iterator[int]
    calls: list[Call] = field(default_factory=list)  # handed out and not finished
    inbox: queue.SimpleQueue[Call | None] = field(default_factory=queue.SimpleQueue)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self.run, name=f"conformance-session-{self.name}", daemon=True
        )
        self.thread.start()

    def run(self) -> None:
        try:
            while (call := self.inbox.get()) is not None:
                with self.changed:
                    call.started = time.monotonic()
                try:
                    result, error = call.work(self.session), None
                except BaseException as exc:  # handed back to the kit's thread as is
                    result, error = None, exc
                with self.changed:
                    call.result, call.error, call.done = result, error, True
                    call.finished = next(self.finish_order)
                    self.calls.remove(call)
                    self.changed.notify_all()
        finally:
            self.session.close()

    @property
    def head(self) -> Call | None:
        return self.calls[0] if self.calls else None


class SessionPool:
    """The sessions of one scenario run; `close` leaves no thread and no connection behind."""

    def __init__(self, store: Store, grace: float = LOCK_WAIT_GRACE) -> None:
        self.store = store
        self.grace = grace
        self.changed = threading.Condition()
        self.workers: dict[str, Worker] = {}
        self.numbers = itertools.count(1)
        self.finish_order = itertools.count(1)
        self.handed_out: list[Call] = []
        self.placement: dict[str, str] = {}  # session -> where it ran, on a cluster

    def open(self, name: str) -> None:
        """Connect session `name` now, on the kit's thread, so a failure shows at once."""
        if name not in self.workers:
            worker = Worker(name, self.store.session(), self.changed, self.finish_order)
            self.workers[name] = worker
            if worker.session.where:
                self.placement[name] = worker.session.where
            worker.start()

    def submit(self, name: str, work: Callable[[Session], Any], tag: Any) -> Call:
        """Queue `work` on session `name`, behind any call it has not finished."""
        self.open(name)
        worker = self.workers[name]
        call = Call(name, work, tag, next(self.numbers))
        with self.changed:
            worker.calls.append(call)
            self.handed_out.append(call)
        worker.inbox.put(call)
        return call

    # --- waiting ------------------------------------------------------------------

    def settle(self, limit: float = CALL_LIMIT) -> None:
        """Return once every session is idle or its current call waits for a lock."""
        since = time.monotonic()
        with self.changed:
            while True:
                running = [
                    w.head for w in self.workers.values() if w.head and not self._waits(w, since)
                ]
                if not running:
                    self._mark_waiting()
                    return
                oldest = min(call.started or since for call in running if call)
                if time.monotonic() - max(oldest, since) > limit:
                    raise CallStuck(running[0])  # type: ignore[arg-type]
                self.changed.wait(POLL_INTERVAL)

    def _waits(self, worker: Worker, since: float) -> bool:
        call = worker.head
        if call is None or call.started is None:
            return False
        verdict = self.store.waiting(worker.session)
        if verdict is None:
            return time.monotonic() - max(call.started, since) >= self.grace
        # A wait counts once seen at two looks in a row: a lock held for an instant (a
        # relation being extended on a loaded server) is not another session's lock.
        confirmed = verdict and call.lock_seen
        call.lock_seen = verdict
        return confirmed

    def _mark_waiting(self) -> None:
        for worker in self.workers.values():
            for call in worker.calls:
                call.waited = True

    def waiting(self) -> list[Call]:
        """Calls not finished when the pool last settled: waiting, or queued behind one."""
        with self.changed:
            return [call for call in self.handed_out if not call.done]

    def newly_waiting(self) -> list[Call]:
        """Waiting calls not reported before, in the order they were handed out."""
        fresh = [call for call in self.waiting() if not call.announced]
        for call in fresh:
            call.announced = True
        return fresh

    def collect(self) -> list[Call]:
        """Finished calls not collected before, in the order they were handed out."""
        with self.changed:
            done = [call for call in self.handed_out if call.done]
            self.handed_out = [call for call in self.handed_out if not call.done]
        for call in done:
            call.collected = True
        return done

    # --- the end ------------------------------------------------------------------

    def retire(self, names: list[str], open_transactions: set[str]) -> None:
        """Roll back the named sessions' open transactions, then stop them and close them."""
        for name in names:
            if name in open_transactions and name in self.workers:
                self.submit(name, _rollback_quietly, None)
        try:
            with contextlib.suppress(CallStuck):
                self.settle(CLEANUP_LIMIT)
        finally:  # whatever went wrong while settling, no thread outlives the pool
            try:
                self._cancel_unfinished(names)
            finally:
                self._stop(names)

    def _stop(self, names: list[str]) -> None:
        for name in names:
            worker = self.workers.pop(name, None)
            if worker is not None:
                worker.inbox.put(None)
                assert worker.thread is not None
                worker.thread.join(CLEANUP_LIMIT)
        with self.changed:
            self.handed_out = [c for c in self.handed_out if c.session not in names]

    def close(self, open_transactions: set[str]) -> None:
        self.retire(list(self.workers), open_transactions)

    def _cancel_unfinished(self, names: list[str]) -> None:
        """Interrupt what is still waiting once every transaction of the pool has ended."""
        deadline = time.monotonic() + CLEANUP_LIMIT
        for name in names:
            worker = self.workers.get(name)
            while worker is not None and worker.head is not None and time.monotonic() < deadline:
                worker.session.cancel()
                with self.changed:
                    self.changed.wait(POLL_INTERVAL * 10)

    def threads(self) -> list[threading.Thread]:
        return [w.thread for w in self.workers.values() if w.thread is not None]


def _rollback_quietly(session: Session) -> None:
    with contextlib.suppress(Exception):  # the transaction may be gone: nothing left to undo
        session.rollback()
