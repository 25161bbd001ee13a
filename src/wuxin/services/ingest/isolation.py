"""Store a batch whole; when its data (not the database) makes that fail, store all but the items that fail alone.

Validation refuses every bad input we know of; this is the net under it, for what we do not know
yet: one message the database will not take must never hold back the good ones behind it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from wuxin.errors import Unavailable
from wuxin.store.db import is_unavailable

log = logging.getLogger(__name__)
R = TypeVar("R")


def store_isolating(
    count: int, store_range: Callable[[int, int], R], quarantine_one: Callable[[int, Exception], R]
) -> list[R]:
    """Results of storing items [0, count): `store_range(start, end)` stores items start..end-1 in one
    transaction. When it raises and the database is reachable, the range is halved until each failing
    item stands alone; `quarantine_one(index, error)` keeps that one, the others are stored. A database
    that is down or cut raises to the caller, who retries everything later: good data is never
    quarantined because the database was away.
    """
    results: list[R] = []
    pending = [(0, count)]
    while pending:
        start, end = pending.pop()
        try:
            results.append(store_range(start, end))
        except Exception as exc:
            if is_unavailable(exc):
                if isinstance(exc, Unavailable):
                    raise
                raise Unavailable(
                    f"the database did not take the data (retry later): {type(exc).__name__}: {str(exc)[:200]}"
                ) from exc
            if end - start == 1:
                log.warning(
                    "item %d could not be stored and goes to the quarantine: %s: %s",
                    start,
                    type(exc).__name__,
                    str(exc)[:300],
                )
                results.append(quarantine_one(start, exc))
            else:
                middle = (start + end) // 2
                pending += [(middle, end), (start, middle)]
    return results
