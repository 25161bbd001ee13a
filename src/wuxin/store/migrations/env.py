"""Alembic environment: one URL from the config, metadata from wuxin.store.tables."""

from alembic import context

from wuxin.store.db import make_engine
from wuxin.store.tables import metadata

config = context.config


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
