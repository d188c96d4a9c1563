"""How the benchmark writes in bulk through any backend: multi-row inserts in transactions.

Only the Session interface is used, so every engine works. A multi-row INSERT is built
by repeating a row of `?` placeholders; values are always bound, never formatted in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import islice
from typing import Any

from conformance.backends.base import Session

ROWS_PER_STATEMENT = 500
ROWS_PER_TRANSACTION = 5000


@contextmanager
def transaction(session: Session) -> Iterator[None]:
    """One transaction, begun as the backend begins a write; rolled back if the block raises."""
    session.begin()
    try:
        yield
    except BaseException:
        session.rollback()
        raise
    session.commit()


@lru_cache(maxsize=64)
def multi_row_insert(head: str, columns: int, rows: int) -> str:
    """`head VALUES (?, ...), (?, ...)` for `rows` rows of `columns` values."""
    row = "(" + ", ".join(["?"] * columns) + ")"
    return f"{head} VALUES " + ", ".join([row] * rows)


def batches(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def insert_many(session: Session, head: str, rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (all of one width) with as few statements as the batch size allows."""
    for chunk in batches(rows, ROWS_PER_STATEMENT):
        statement = multi_row_insert(head, len(chunk[0]), len(chunk))
        session.execute(statement, [value for row in chunk for value in row])
