"""`wuxin db upgrade` migrates a fresh database in place, twice without harm, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from tests.conftest import PG_URL
from wuxin.cli.main import app
from wuxin.config import get_settings
from wuxin.store.admin import recreate_postgres_database
from wuxin.store.db import make_engine
from wuxin.store.migrate import current
from wuxin.store.tables import metadata


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_db_upgrade_creates_every_table_and_is_repeatable(backend, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/fresh.db" if backend == "sqlite" else PG_URL + "_migrate"
    if backend == "postgresql":
        recreate_postgres_database(url)
    monkeypatch.setenv("WUXIN_DATABASE_URL", url)
    get_settings.cache_clear()
    for _ in range(2):
        result = CliRunner().invoke(app, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
    get_settings.cache_clear()
    engine = make_engine(url)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from thing_models").scalar() >= 21
    engine.dispose()
    assert current(url) is not None
