"""Engines from one URL: SQLite (embedded default) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from wuxin.errors import Unavailable
from wuxin.store.errors import FULL_MESSAGE, storage_full_within

RECENT_FULL_S = 60  # after a write failed for want of room, /health says degraded this long (PostgreSQL's only sign)


def normalise_url(url: str) -> str:
    """Accept postgresql:// and postgres:// and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def driver_connection(conn: Connection) -> Any:
    """The DBAPI driver's own connection under a SQLAlchemy one (psycopg's COPY, sqlite3's executemany)."""
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the database connection is closed")
    return raw


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def ping(engine: Engine) -> None:
    """Raise if the database does not answer."""
    with engine.connect() as conn:
        conn.exec_driver_sql("select 1")


def unreachable_database(exc: BaseException) -> str | None:
    """One line for a database that does not answer (a driver's OperationalError), else None."""
    if not isinstance(exc, OperationalError):
        return None
    lines = str(exc.orig).strip().splitlines() or [type(exc.orig).__name__]
    return f"database unreachable: {lines[0]}"


def shown_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database could not be reached or could not work right now (retry the same
    data later); False when it is about the data itself (a value the driver or the server refused).

    Connection loss, a refused connection, a server shutting down, a deadlock, a full disk and SQLite's
    "database is locked" are OperationalError/InterfaceError: retry. PostgreSQL's class 54 (program
    limit exceeded, e.g. a value too large for an index) is an OperationalError about the data.
    """
    if isinstance(exc, (Unavailable, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, (OperationalError, InterfaceError)):
            return not str(getattr(exc.orig, "sqlstate", "") or "").startswith("54")
        return False
    return isinstance(exc, OSError)


def writes_refused(engine: Engine, min_free_bytes: int) -> str | None:
    """Why writes would fail now, or None: a write failed for want of room in the last RECENT_FULL_S, or (SQLite)
    less than min_free_bytes left on the database's volume or under its page limit (PRAGMA max_page_count)."""
    if storage_full_within(engine, RECENT_FULL_S):
        return f"a write failed in the last {RECENT_FULL_S} s: {FULL_MESSAGE}"
    if engine.dialect.name == "sqlite":
        room = sqlite_room_bytes(engine)
        if room < min_free_bytes:
            return f"{room // 1024} KiB left to write to the database, under the {min_free_bytes // 1024} KiB kept free"
    return None


def sqlite_room_bytes(engine: Engine) -> int:
    """Bytes the SQLite database can still grow by: the smaller of its volume's free space and its page limit."""
    with engine.connect() as conn:
        page_bytes, pages, max_pages, free_pages = (
            int(conn.exec_driver_sql(f"PRAGMA {name}").scalar_one())
            for name in ("page_size", "page_count", "max_page_count", "freelist_count")
        )
    room = (max_pages - pages + free_pages) * page_bytes
    path = engine.url.database
    if path and path != ":memory:":
        room = min(room, shutil.disk_usage(Path(path).resolve().parent).free + free_pages * page_bytes)
    return room


def observe_queries(engine: Engine, observe_s: Callable[[str, float], None]) -> None:
    """Call observe_s(statement kind, seconds) after every statement the engine runs (SQLAlchemy cursor events);
    the kind is the statement's first word in lower case (select, insert, update, delete, ...), never its text."""

    @event.listens_for(engine, "before_cursor_execute")
    def _started(conn, _cursor, _statement, _parameters, _context, _executemany) -> None:
        conn.info.setdefault("wuxin_query_started", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _finished(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        started = conn.info["wuxin_query_started"].pop()
        observe_s(statement_kind(statement), time.perf_counter() - started)

    @event.listens_for(engine, "handle_error")
    def _failed(context) -> None:
        stack = context.connection.info.get("wuxin_query_started") if context.connection is not None else None
        if stack:
            stack.pop()


QUERY_KINDS = frozenset(
    {
        "select",
        "insert",
        "update",
        "delete",
        "with",
        "pragma",
        "begin",
        "commit",
        "rollback",
        "create",
        "drop",
        "alter",
        "truncate",
        "lock",
        "savepoint",
        "release",
        "set",
        "show",
    }
)


def statement_kind(statement: str) -> str:
    """A bounded label: the first word when it is a known kind, else "other"."""
    words = statement.lstrip(" (\n\t").split(None, 1)
    kind = words[0].lower() if words else ""
    return kind if kind in QUERY_KINDS else "other"


def pool_checked_out(engine: Engine) -> Callable[[], int]:
    """Connections in use now from the engine's pool (0 for a pool that does not count them)."""
    pool = engine.pool
    return lambda: int(pool.checkedout()) if hasattr(pool, "checkedout") else 0
