"""Creating and dropping whole databases (tests and benchmarks on PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from wuxin.store.db import normalise_url


def recreate_postgres_database(url: str) -> None:
    """Drop and create the database named in `url`, connecting to the server's `postgres` database."""
    import psycopg

    parsed = make_url(normalise_url(url))
    name = parsed.database
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"refusing to recreate database {name!r}: use a plain name")
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
