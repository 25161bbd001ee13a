"""The fast path for many readings: PostgreSQL COPY, SQLite executemany — still idempotent.

Rows are tuples in the column order of `readings`:
(device_id, key, ts_ms, num, txt, batch_id, received_ms).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from wuxin.store.db import driver_connection

READING_COLUMNS = ("device_id", "key", "ts_ms", "num", "txt", "batch_id", "received_ms")
ReadingRow = tuple


def write_readings(conn: Connection, rows: Sequence[ReadingRow]) -> int:
    """Store rows, ignoring any already stored (same device, key, device time); returns how many were new."""
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        return _copy_readings_pg(conn, rows)
    return _executemany_sqlite(conn, "INSERT OR IGNORE INTO readings VALUES (?,?,?,?,?,?,?)", rows)


def _executemany_sqlite(conn: Connection, sql: str, rows: Sequence[ReadingRow]) -> int:
    cursor = driver_connection(conn).cursor()
    try:
        cursor.executemany(sql, rows)
        return cursor.rowcount
    finally:
        cursor.close()


def _copy_readings_pg(conn: Connection, rows: Sequence[ReadingRow]) -> int:
    """COPY straight into `readings`; if any row is already there, merge through a staging table."""
    raw = driver_connection(conn)
    from psycopg import errors

    try:
        with raw.transaction():  # a savepoint inside the unit of work's transaction
            _copy(raw, "readings", rows)
        return len(rows)
    except errors.UniqueViolation:
        pass
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS readings_staging (LIKE readings INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE readings_staging")
    _copy(raw, "readings_staging", rows)
    with raw.cursor() as cursor:
        cursor.execute(
            "INSERT INTO readings SELECT DISTINCT ON (device_id, key, ts_ms) * FROM readings_staging "
            "ON CONFLICT DO NOTHING"
        )
        inserted = cursor.rowcount
        cursor.execute("TRUNCATE readings_staging")
    return inserted


def _copy(raw, table: str, rows: Sequence[ReadingRow]) -> None:
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(READING_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def raw_baseline_table(conn: Connection) -> str:
    """A fresh empty table shaped like `readings`, for measuring the database's own speed."""
    name = "bench_raw_readings"
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE readings INCLUDING ALL)")
    else:
        conn.exec_driver_sql(
            f"CREATE TABLE {name} (device_id INTEGER, key VARCHAR(50), ts_ms BIGINT, num FLOAT, txt TEXT, "
            "batch_id INTEGER, received_ms BIGINT, PRIMARY KEY (device_id, key, ts_ms)) WITHOUT ROWID"
        )
    return name


def raw_write(conn: Connection, table: str, rows: Sequence[ReadingRow]) -> None:
    """The raw speed of the database: plain COPY (PostgreSQL) or plain executemany (SQLite)."""
    if conn.dialect.name == "postgresql":
        _copy(driver_connection(conn), table, rows)
    else:
        _executemany_sqlite(conn, f"INSERT INTO {table} VALUES (?,?,?,?,?,?,?)", rows)


def drop_table(conn: Connection, table: str) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
