"""Stores made ahead of need: the shape shared by the backends whose stores live on a
server (a schema, a database).

Making a store (creating it and applying the DDL) is mostly waiting for the server, so
worker threads make the next stores while a scenario runs and drop finished ones. A
failure to make a store is raised by the `take` that wanted it; the next one is ordered
all the same, so every scenario gets its own verdict.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class StoreBuilder(Generic[T]):
    """Keeps `ahead` stores in the making on `workers` threads.

    `make` creates one store and returns what `take` hands out (a name, a name and a
    connection); `discard` releases one made ahead and never taken. Dropping stores is
    the backend's business: it queues its drops here with `drop_later`, and drops what
    it still owns when it closes.
    """

    def __init__(
        self,
        make: Callable[[], T],
        *,
        workers: int,
        ahead: int,
        name: str,
        discard: Callable[[T], None] | None = None,
    ) -> None:
        self.make = make
        self.ahead_count = ahead
        self.discard = discard
        self.workers = ThreadPoolExecutor(workers, thread_name_prefix=name)
        self.ahead: deque[Future[T]] = deque()

    def make_now(self) -> None:
        """Make one store in this thread, so that a failure is raised here."""
        done: Future[T] = Future()
        done.set_result(self.make())
        self.ahead.append(done)

    def take(self) -> T:
        """A store made ahead (or made now); the next ones are started meanwhile."""
        future = self.ahead.popleft() if self.ahead else self.workers.submit(self.make)
        while len(self.ahead) < self.ahead_count:
            self.ahead.append(self.workers.submit(self.make))
        return future.result()

    def drop_later(self, drop: Callable[..., None], *args: Any) -> None:
        self.workers.submit(drop, *args)

    def stop(self) -> None:
        """Finish the jobs running now, cancel the rest, and release the stores made
        ahead and never taken; the backend then drops every store it still owns."""
        self.workers.shutdown(wait=True, cancel_futures=True)
        while self.ahead:
            future = self.ahead.popleft()
            if self.discard and not future.cancelled() and future.exception() is None:
                self.discard(future.result())
