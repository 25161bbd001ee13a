"""Device tokens never reach a log line: a real uvicorn server, logging as `wuxin serve` does and with
uvicorn's own logging set-up, gets tokens in paths and query strings; devices that can set a
header send the token in `Authorization: Bearer` instead."""

from __future__ import annotations

import io
import logging
import threading
import time

import httpx
import orjson
import pytest
import structlog
import uvicorn

from tests.conftest import T0_MS, free_port
from tests.world import build_world
from wuxin.api.app import create_app
from wuxin.logs import configure_logging

READING = orjson.dumps([{"ts": T0_MS - 1000, "values": {"current_a": 9.0}}])


@pytest.fixture
def wuxin_serve_logging():
    """Root logging as `wuxin serve` sets it (JSON lines), into a buffer; restored afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, structlog.get_config()
    uvicorn_loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved_uvicorn = [(lg.handlers[:], lg.level, lg.propagate) for lg in uvicorn_loggers]
    for lg in uvicorn_loggers:  # as in a fresh `wuxin serve` process: no handlers of their own, into the root's
        lg.handlers[:], lg.propagate = [], True
        lg.setLevel(logging.NOTSET)
    configure_logging()
    buffer = io.StringIO()
    root.handlers[0].setStream(buffer)
    yield buffer, {"log_config": None}  # as `wuxin serve` runs uvicorn
    root.handlers[:], _, config = saved
    root.setLevel(saved[1])
    structlog.configure(**config)
    for lg, (handlers, level, propagate) in zip(uvicorn_loggers, saved_uvicorn):
        lg.handlers[:], lg.propagate = handlers, propagate
        lg.setLevel(level)


@pytest.fixture
def uvicorn_default_logging():
    """uvicorn's own logging configuration (an operator running `uvicorn` directly), into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(handler)  # our loggers and httpx propagate here
    root.setLevel(logging.INFO)
    yield buffer, {"log_level": "info"}
    root.removeHandler(handler)
    root.setLevel(saved_level)


def serve(platform, buffer: io.StringIO, config: dict):
    server = uvicorn.Server(uvicorn.Config(create_app(platform), host="127.0.0.1", port=free_port(), **config))
    for name in ("uvicorn.access", "uvicorn.error"):  # uvicorn's own handlers, when it configured some
        for handler in logging.getLogger(name).handlers:
            handler.setStream(buffer)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    return server, thread


def wait_for(buffer: io.StringIO, text: str, count: int) -> str:
    """The access log is written after the answer is sent: wait until `count` lines hold `text`."""
    deadline = time.monotonic() + 10
    while buffer.getvalue().count(text) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return buffer.getvalue()


@pytest.mark.parametrize("logging_setup", ["wuxin_serve_logging", "uvicorn_default_logging"])
def test_device_tokens_appear_in_no_log_line(platform, request, logging_setup):
    buffer, config = request.getfixturevalue(logging_setup)
    token = build_world(platform).device_tokens["loom-01"]
    unknown = "wxd_" + "Q" * 43
    server, thread = serve(platform, buffer, config)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.config.port}", timeout=30) as client:
            assert client.post(f"/api/v1/{token}/telemetry", content=READING).json()["accepted"] == 1
            assert client.post(f"/api/v1/{token}/telemetry?access_token={token}", content=READING).status_code == 200
            assert client.post(f"/api/v1/{unknown}/telemetry", content=READING).status_code == 401
            assert client.post(f"/api/v1/{token}/telemtry", content=READING).status_code in (404, 405)  # a typo
            logging.getLogger("wuxin.services.ingest.telemetry").warning("device posted to /api/v1/%s/telemetry", token)
            logging.getLogger("wuxin.api").warning(f"retry with token={token}")
            output = wait_for(buffer, "POST /api/v1/", 4)  # uvicorn's access lines (httpx's hold the full URL)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert output.count("POST /api/v1/***/telemetry") == 3 and "POST /api/v1/wxd_***/telemtry" in output, output
    assert "HTTP Request: POST http://127.0.0.1" in output  # httpx's own lines, redacted too
    assert token not in output and token[4:24] not in output and unknown not in output, output
    assert "access_token=***" in output and "token=***" in output


def test_a_device_sends_its_token_in_the_authorization_header(platform, live):
    world = build_world(platform)
    url = "/api/v1/devices/me/telemetry"
    response = live.client.post(
        url, content=READING, headers={"Authorization": f"Bearer {world.device_tokens['loom-01']}"}
    )
    assert response.status_code == 200 and response.json()["accepted"] == 1
    with platform.uow() as uow:
        device_id = uow.devices.by_key("loom-01")["id"]
        assert uow.conn.exec_driver_sql(f"SELECT num FROM readings WHERE device_id = {device_id}").scalars().all() == [
            9.0
        ]
    missing = live.client.post(url, content=READING)
    assert missing.status_code == 401 and missing.json()["error"] == "missing_token"
    assert "Authorization: Bearer <device token>" in missing.json()["message"]
    forged = live.client.post(url, content=READING, headers={"Authorization": "Bearer wxd_forged"})
    assert forged.status_code == 401 and forged.json()["error"] == "unknown_token"


def _fail_deep_in_the_platform():
    raise RuntimeError("the ledger could not publish")


def test_a_logged_exception_carries_its_traceback(wuxin_serve_logging):
    """The JSON line showed '<traceback object at 0x...>' instead of the stack (exc_info was never formatted)."""
    buffer, _ = wuxin_serve_logging
    for logger in (logging.getLogger("wuxin.test"), structlog.get_logger("wuxin.test")):
        try:
            _fail_deep_in_the_platform()
        except RuntimeError:
            logger.exception("publishing failed")
    lines = [orjson.loads(line) for line in buffer.getvalue().splitlines()]
    assert len(lines) == 2
    for line in lines:
        assert line["event"] == "publishing failed"
        assert "Traceback (most recent call last)" in line["exception"], line
        assert "_fail_deep_in_the_platform" in line["exception"]
        assert "RuntimeError: the ledger could not publish" in line["exception"]
        assert "traceback object" not in orjson.dumps(line).decode()
