"""Notifications: a signed webhook retried after a failure, and e-mail through a local SMTP server."""

from __future__ import annotations

import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import free_port
from tests.world import build_world
from wuxin.errors import Denied, InvalidInput
from wuxin.services.access.identity import login, principal_for_token
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.services.monitoring import alarms as monitoring
from wuxin.services.monitoring import notifications


class Receiver(BaseHTTPRequestHandler):
    answers: list[int] = []
    received: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(Receiver.answers.pop(0) if Receiver.answers else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def webhook():
    server = HTTPServer(("127.0.0.1", free_port()), Receiver)
    Receiver.answers, Receiver.received = [500], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, ("127.0.0.1", controller.port)
    controller.stop()


def test_webhook_is_signed_and_retried_and_email_is_sent(platform, webhook, smtp):
    inbox, (smtp_host, smtp_port) = smtp
    platform.settings = platform.settings.model_copy(
        update={"smtp_host": smtp_host, "smtp_port": smtp_port, "smtp_from": "alarms@wuxin.example"}
    )
    build_world(platform)
    risk = principal_for_token(platform, login(platform, "risk", "correct-horse-battery"))
    officer = principal_for_token(platform, login(platform, "officer", "correct-horse-battery"))
    with pytest.raises(Denied):
        notifications.add_channel(platform, officer, "webhook", webhook)
    with pytest.raises(InvalidInput):
        notifications.add_channel(platform, risk, "webhook", "ftp://nowhere")
    hook = notifications.add_channel(platform, risk, "webhook", webhook, "major")
    notifications.add_channel(platform, risk, "email", "risk@bank.example", "critical")
    notifications.add_channel(platform, risk, "email", "quiet@bank.example", "critical")
    ingest_lines(platform, [{"device": "loom-01", "ts": platform.clock_ms(), "event": "tamper", "params": {}}], "http")

    first = notifications.deliver_due(platform)  # SMTP host, port and sender from the settings
    assert first == {"sent": 2, "retry": 1, "failed": 0}  # the webhook answered 500 once
    assert notifications.deliver_due(platform) == {"sent": 0, "retry": 0, "failed": 0}  # not due yet
    platform.clock.advance(notifications.retry_delay_ms(1))
    assert notifications.deliver_due(platform)["sent"] == 1

    headers, body = Receiver.received[-1]
    expected = notifications.sign(hook["secret"], int(headers["X-Wuxin-Timestamp"]), body)
    assert hmac.compare_digest(headers["X-Wuxin-Signature"], expected)
    assert notifications.sign("wrong", int(headers["X-Wuxin-Timestamp"]), body) != expected
    assert json.loads(body)["alarm_type"] == "device_tamper" and json.loads(body)["event"] == "raised"
    assert sorted(r[0][0] for r in inbox.messages) == ["quiet@bank.example", "risk@bank.example"]
    assert "device_tamper" in inbox.messages[0][1] and "From: alarms@wuxin.example" in inbox.messages[0][1]


def test_an_unreachable_webhook_is_given_up_after_the_last_attempt(platform):
    build_world(platform)
    risk = principal_for_token(platform, login(platform, "risk", "correct-horse-battery"))
    notifications.add_channel(platform, risk, "webhook", f"http://127.0.0.1:{free_port()}/gone", "warning")
    ingest_lines(platform, [{"device": "loom-01", "ts": platform.clock_ms(), "event": "tamper", "params": {}}], "http")
    outcomes = []
    for attempt in range(1, notifications.MAX_ATTEMPTS + 1):
        outcomes.append(notifications.deliver_due(platform))
        platform.clock.advance(notifications.retry_delay_ms(attempt))
    assert outcomes[-1] == {"sent": 0, "retry": 0, "failed": 1}
    (alarm,) = monitoring.list_alarms(platform, risk)
    with platform.uow() as uow:
        (n,) = uow.monitoring.notifications_for(alarm["id"])
    assert n["status"] == "failed" and n["attempts"] == notifications.MAX_ATTEMPTS and "ConnectError" in n["last_error"]
