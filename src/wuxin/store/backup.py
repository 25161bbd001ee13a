"""Whole-database backups: PostgreSQL with pg_dump -Fc / pg_restore, SQLite with its online backup API.

A backup is written to FILE.partial and renamed when complete, so a file under the asked name is
always whole. A restore goes only into an empty database (a new PostgreSQL database, a new or
empty SQLite file): it never merges into or overwrites live data.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from wuxin.errors import Conflict, InvalidInput, Unavailable
from wuxin.store.db import make_engine, normalise_url

PG_DUMP_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


def backup(url: str, file: Path) -> int:
    """Copy the whole database at `url` into `file` (refused if it exists); returns its size in bytes."""
    if file.exists():
        raise Conflict(f"backup file {file} already exists: choose a new name (backups are never overwritten)")
    partial = file.with_name(file.name + ".partial")
    parsed = make_url(normalise_url(url))
    try:
        if parsed.get_backend_name() == "sqlite":
            _sqlite_copy(_sqlite_path(parsed), partial)
        else:
            _run_pg_tool("pg_dump", parsed, ["--format=custom", "--no-owner", "--no-acl", f"--file={partial}"])
        partial.rename(file)
    finally:
        partial.unlink(missing_ok=True)
    return file.stat().st_size


def restore(url: str, file: Path) -> None:
    """Load a backup made by `backup` into the empty database at `url`."""
    parsed = make_url(normalise_url(url))
    sqlite = parsed.get_backend_name() == "sqlite"
    _check_format(
        file, SQLITE_MAGIC if sqlite else PG_DUMP_MAGIC, "an SQLite database" if sqlite else "a pg_dump -Fc archive"
    )
    _check_empty(url)
    if sqlite:
        _sqlite_copy(file, Path(_sqlite_path(parsed)))
    else:
        _run_pg_tool(
            "pg_restore", parsed, ["--no-owner", "--no-acl", "--exit-on-error", "--single-transaction", str(file)]
        )


def _sqlite_path(parsed: URL) -> str:
    if not parsed.database or parsed.database == ":memory:":
        raise InvalidInput(f"SQLite database {parsed.database!r} is not a file: nothing to back up or restore into")
    return parsed.database


def _sqlite_copy(source: str | Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while the platform writes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(Path(source).resolve().as_uri() + "?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"SQLite backup from {source} failed: {exc}") from None
    finally:
        src.close()
        dst.close()


def _check_format(file: Path, magic: bytes, what: str) -> None:
    try:
        with file.open("rb") as handle:
            start = handle.read(len(magic))
    except OSError as exc:
        raise InvalidInput(f"cannot read backup file {file}: {exc.strerror}") from None
    if start != magic:
        raise InvalidInput(f"backup file {file} is not {what} (it starts with {start[:16]!r})")


def _check_empty(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise Conflict(
            f"database {make_url(normalise_url(url)).render_as_string(hide_password=True)} is not empty "
            f"({len(tables)} tables, e.g. {sorted(tables)[0]}): restore into a new, empty database"
        )


def _run_pg_tool(tool: str, parsed: URL, args: list[str]) -> None:
    """Run pg_dump/pg_restore on the database; the password goes in the environment, not the command line."""
    dsn = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    command = [_pg_binary(tool), f"--dbname={dsn}", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise Unavailable(f"{tool} failed (exit {result.returncode}): {lines[0] if lines else 'no message'}")


def _pg_binary(tool: str) -> str:
    """On the PATH (Debian's wrapper picks the newest client), else the newest /usr/lib/postgresql/*/bin."""
    debian = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=lambda path: int(Path(path).parts[4]))
    found = shutil.which(tool) or (debian[-1] if debian else None)
    if found is None:
        raise Unavailable(f"{tool} not found: install the PostgreSQL client (apt-get install postgresql-client)")
    return found
