"""Operator-facing commands and the health of a server whose database is gone."""

from __future__ import annotations

import json

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import free_port
from wuxin.cli.main import app
from wuxin.config import Settings, get_settings


@pytest.fixture
def cli_env(platform, monkeypatch):
    monkeypatch.setenv("WUXIN_DATABASE_URL", platform.settings.database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_help_explains_where_to_start():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "serve", "import", "thing-model", "quarantine", "bench", "db"):
        assert command in result.output


def test_thing_model_import_accepts_a_good_file_and_names_the_fault_of_a_bad_one(platform, cli_env, tmp_path):
    good = tmp_path / "good.json"
    good.write_bytes(
        orjson.dumps(
            {
                "profile": {"productKey": "manufacturing.vibration_sensor"},
                "properties": [
                    {"identifier": "vibration_mm_s", "dataType": {"type": "float", "specs": {"min": "0", "max": "100"}}}
                ],
            }
        )
    )
    result = cli_env.invoke(app, ["thing-model", "import", str(good)])
    assert result.exit_code == 0 and "manufacturing.vibration_sensor" in result.output
    platform.thing_models.reload()
    assert platform.thing_models.get("manufacturing.vibration_sensor") is not None
    bad = tmp_path / "bad.json"
    bad.write_bytes(
        orjson.dumps(
            {
                "profile": {"productKey": "manufacturing.broken"},
                "properties": [{"identifier": "x", "dataType": {"type": "decimal"}}],
            }
        )
    )
    result = cli_env.invoke(app, ["thing-model", "import", str(bad)])
    assert result.exit_code == 2 and "decimal" in result.output


def test_quarantine_list_and_replay_from_the_command_line(platform, cli_env):
    from tests.world import build_world
    from wuxin.services.ingest.telemetry import ingest_lines

    build_world(platform)
    ingest_lines(platform, [{"device": "loom-01", "ts": platform.clock_ms(), "values": {"current_a": -5}}], "http")
    result = cli_env.invoke(app, ["quarantine", "list"])
    assert result.exit_code == 0 and "out_of_range" in result.output
    result = cli_env.invoke(app, ["quarantine", "replay", "1"])
    assert json.loads(result.output) == {"replayed": [], "still_refused": [1]}


def test_health_says_unavailable_when_the_database_is_unreachable():
    import threading
    import time

    import uvicorn

    from wuxin.api.app import create_app
    from wuxin.bootstrap import build_platform

    dead = build_platform(Settings(database_url=f"postgresql://127.0.0.1:{free_port()}/nowhere"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(dead), host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=30)
        assert response.status_code == 503 and response.json()["database"] == "unreachable"
        response = httpx.post(f"http://127.0.0.1:{port}/api/v1/wxd_x/telemetry", content=b"{}", timeout=30)
        assert response.status_code == 503 and response.json()["error"] == "unavailable"
        assert "unreachable" in response.json()["message"]
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=30).status_code == 503  # still serving
    finally:
        server.should_exit = True
        thread.join(timeout=10)
