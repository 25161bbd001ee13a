"""Database failures a request can cause, as the platform's own errors (the drivers' exceptions stay in the store).

The services check what they can first (a duplicate name, a missing row) and say it in their own words; this is the
safety net under them, applied when a unit of work ends with an exception: a unique or foreign-key violation, a value
the column cannot hold, a full disk. It names tables and columns, never the values of other rows.
"""

from __future__ import annotations

import errno
import re
import time
import weakref

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from wuxin.errors import Conflict, InvalidInput, StorageFull, WuxinError

SQLITE_FULL = 13  # "database or disk is full": the disk, or PRAGMA max_page_count
PG_DISK_FULL = "53100"
PG_UNIQUE, PG_FOREIGN_KEY = "23505", "23503"
FULL_MESSAGE = "the database has no room left to write (its disk or its size limit is full); retry once space is freed"

_full_at: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()


def translate(exc: BaseException) -> WuxinError | None:
    """The WuxinError a database failure means for the caller, or None when it is not one we can explain."""
    if isinstance(exc, IntegrityError):
        return _integrity(exc)
    if is_storage_full(exc):
        return StorageFull(FULL_MESSAGE)
    if isinstance(exc, DataError):  # PostgreSQL: a number out of the column's range, text too long, a NUL character
        return InvalidInput(f"the database cannot hold a value of this request: {_first_line(exc.orig)}")
    if isinstance(exc, OverflowError) and "SQLite INTEGER" in str(exc):
        return InvalidInput("a number in this request is beyond 64 bits, more than the database holds")
    if isinstance(exc, UnicodeEncodeError) and "surrogates not allowed" in str(exc):
        return InvalidInput(
            f"text in this request is not valid Unicode: {exc.object[exc.start : exc.end]!r} is a lone surrogate"
        )
    return None


def is_storage_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    if not isinstance(exc, OperationalError):
        return False
    orig = exc.orig
    return getattr(orig, "sqlite_errorcode", None) == SQLITE_FULL or getattr(orig, "sqlstate", None) == PG_DISK_FULL


def note_storage_full(engine: Engine) -> None:
    """Remember that a write failed for want of room, for the health check."""
    _full_at[engine] = time.monotonic()


def storage_full_within(engine: Engine, seconds: float) -> bool:
    at = _full_at.get(engine)
    return at is not None and time.monotonic() - at < seconds


def _integrity(exc: IntegrityError) -> WuxinError:
    orig = exc.orig
    text = str(orig)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate == PG_UNIQUE or text.startswith("UNIQUE constraint failed"):
        table, columns = _unique_target(orig)
        return Conflict(f"{table} already holds one with the same {', '.join(columns) or 'key'}")
    if sqlstate == PG_FOREIGN_KEY or text.startswith("FOREIGN KEY constraint failed"):
        return InvalidInput(f"this request refers to something that does not exist{_table_suffix(orig)}")
    return InvalidInput(f"the database refused this request: {_first_line(orig)}")


def _unique_target(orig) -> tuple[str, list[str]]:
    """(table, columns) of a unique violation, from PostgreSQL's diagnostics or SQLite's message."""
    diag = getattr(orig, "diag", None)
    if diag is not None:
        detail = re.match(r"Key \((.*?)\)=", diag.message_detail or "")
        return diag.table_name or "a table", [c.strip() for c in detail.group(1).split(",")] if detail else []
    target = str(orig).split(":", 1)[1].strip()
    if target.startswith("index "):
        return target, []
    qualified = [c.strip() for c in target.split(",")]
    return qualified[0].split(".")[0], [c.split(".", 1)[-1] for c in qualified]


def _table_suffix(orig) -> str:
    diag = getattr(orig, "diag", None)
    return f" (table {diag.table_name}, {diag.constraint_name})" if diag is not None and diag.table_name else ""


def _first_line(orig) -> str:
    return str(orig).strip().splitlines()[0][:200] if str(orig).strip() else type(orig).__name__
