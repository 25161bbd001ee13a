"""PostgreSQL: `readings` range-partitioned by month of device time (ts_ms, UTC), plus a DEFAULT partition.

Native declarative partitioning managed by the platform (no extension): one partition per UTC calendar month,
named readings_pYYYYMM, bounds [first ms of the month, first ms of the next). The DEFAULT partition takes any
row no month partition covers, so an insert never fails for want of a partition; `ensure_month` moves such rows
out when it creates their month. The primary key (device_id, key, ts_ms) holds the partition key, so it stays
unique across partitions and re-sent points are still ignored (ON CONFLICT DO NOTHING, COPY + merge).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

PARENT = "readings"
DEFAULT = "readings_default"
_LOCK_KEY = 0x5758_5254  # pg_advisory_xact_lock key of partition changes ("WXRT")
_BOUNDS = re.compile(r"FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)")


@dataclass(frozen=True)
class Partition:
    name: str
    lo_ms: int | None  # None for the DEFAULT partition
    hi_ms: int | None


def month_start_ms(year: int, month: int) -> int:
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)


def month_of(ms: int) -> tuple[int, int]:
    t = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return t.year, t.month


def next_month(year: int, month: int, step: int = 1) -> tuple[int, int]:
    index = year * 12 + month - 1 + step
    return index // 12, index % 12 + 1


def partition_name(year: int, month: int) -> str:
    return f"{PARENT}_p{year:04d}{month:02d}"


def is_partitioned(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql" and bool(
        conn.exec_driver_sql(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = %(t)s AND c.relnamespace = current_schema()::regnamespace",
            {"t": PARENT},
        ).scalar()
    )


def partitions(conn: Connection) -> list[Partition]:
    """The partitions of `readings` (from pg_inherits), month partitions by lower bound, the DEFAULT last."""
    rows = conn.exec_driver_sql(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %(t)s::regclass",
        {"t": PARENT},
    ).all()
    found = []
    for name, bound in rows:
        match = _BOUNDS.search(bound or "")
        found.append(Partition(name, int(match[1]), int(match[2])) if match else Partition(name, None, None))
    return sorted(found, key=lambda p: (p.lo_ms is None, p.lo_ms or 0))


def lock(conn: Connection) -> None:
    """Serialise partition changes of concurrent maintenance runs (held to the end of the transaction)."""
    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")


def create_partitioned_parent(conn: Connection, table: str = PARENT) -> None:
    conn.exec_driver_sql(
        f"CREATE TABLE {table} (device_id INTEGER NOT NULL, key VARCHAR(50) NOT NULL, ts_ms BIGINT NOT NULL, "
        "num DOUBLE PRECISION, txt TEXT, batch_id INTEGER NOT NULL, received_ms BIGINT NOT NULL, "
        f"CONSTRAINT pk_{table} PRIMARY KEY (device_id, key, ts_ms)) PARTITION BY RANGE (ts_ms)"
    )
    conn.exec_driver_sql(f"CREATE TABLE {DEFAULT} PARTITION OF {table} DEFAULT")


def months_with_rows(conn: Connection, table: str) -> list[tuple[int, int]]:
    """The UTC months (year, month) that rows of `table` fall in."""
    rows = conn.exec_driver_sql(
        f"SELECT DISTINCT date_trunc('month', to_timestamp(ts_ms / 1000.0) AT TIME ZONE 'UTC') FROM {table}"
    ).all()
    return sorted((r[0].year, r[0].month) for r in rows)


def ensure_month(conn: Connection, year: int, month: int) -> str | None:
    """Create the month's partition unless one starts there; rows of that month waiting in the DEFAULT partition
    move into it. Returns the name created, or None."""
    lo, hi = month_start_ms(year, month), month_start_ms(*next_month(year, month))
    if any(p.lo_ms == lo for p in partitions(conn)):
        return None
    name = partition_name(year, month)
    conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)")
    conn.exec_driver_sql(
        f"WITH moved AS (DELETE FROM {DEFAULT} WHERE ts_ms >= {lo} AND ts_ms < {hi} RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM moved"
    )
    conn.exec_driver_sql(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ({lo}) TO ({hi})")
    return name


def drop(conn: Connection, partition: Partition) -> None:
    if partition.lo_ms is None:
        raise ValueError(f"refusing to drop the DEFAULT partition {partition.name}")
    conn.exec_driver_sql(f"DROP TABLE {partition.name}")


def convert_to_partitioned(conn: Connection, now_ms: int, months_ahead: int) -> int:
    """Migration 0011: rebuild a plain `readings` as a partitioned one, a partition per month holding rows (and
    the months from now to `months_ahead`), and copy the rows over. Returns the rows copied."""
    old = f"{PARENT}_unpartitioned"
    conn.exec_driver_sql(f"ALTER TABLE {PARENT} RENAME TO {old}")
    conn.exec_driver_sql(f"ALTER INDEX pk_{PARENT} RENAME TO pk_{old}")
    create_partitioned_parent(conn)
    months = set(months_with_rows(conn, old))
    year, month = month_of(now_ms)
    months |= {next_month(year, month, step) for step in range(months_ahead + 1)}
    for y, m in sorted(months):
        ensure_month(conn, y, m)
    copied = conn.exec_driver_sql(f"INSERT INTO {PARENT} SELECT * FROM {old}").rowcount
    conn.exec_driver_sql(f"DROP TABLE {old}")
    return copied


def convert_to_plain(conn: Connection) -> None:
    """Downgrade of 0011: one plain table again, rows copied back."""
    old = f"{PARENT}_partitioned"
    conn.exec_driver_sql(f"ALTER TABLE {PARENT} RENAME TO {old}")
    conn.exec_driver_sql(f"ALTER INDEX pk_{PARENT} RENAME TO pk_{old}")
    conn.exec_driver_sql(
        f"CREATE TABLE {PARENT} (device_id INTEGER NOT NULL, key VARCHAR(50) NOT NULL, ts_ms BIGINT NOT NULL, "
        "num DOUBLE PRECISION, txt TEXT, batch_id INTEGER NOT NULL, received_ms BIGINT NOT NULL, "
        f"CONSTRAINT pk_{PARENT} PRIMARY KEY (device_id, key, ts_ms))"
    )
    conn.exec_driver_sql(f"INSERT INTO {PARENT} SELECT * FROM {old}")
    conn.exec_driver_sql(f"DROP TABLE {old}")  # its partitions go with it
