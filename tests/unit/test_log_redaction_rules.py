"""What the log redaction replaces, and what it must leave alone."""

from __future__ import annotations

import logging

import pytest

from wuxin.logs import install_redaction, redact

TOKEN = "wxd_" + "a1B2c3D4e5" * 4 + "xyz"  # the shape of a device token: prefix + 43 URL-safe characters


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            f'127.0.0.1:5 - "POST /api/v1/{TOKEN}/telemetry HTTP/1.1" 200',
            '127.0.0.1:5 - "POST /api/v1/***/telemetry HTTP/1.1" 200',
        ),
        ("POST /api/v1/A1b2C3d4E5f6G7h8I9/attributes", "POST /api/v1/***/attributes"),  # a ThingsBoard-style token
        (f"GET /x?access_token={TOKEN}&limit=5", "GET /x?access_token=***&limit=5"),
        ("GET /x?token=abc", "GET /x?token=***"),
        (f"auth code {TOKEN} refused", "auth code wxd_*** refused"),
        ("Authorization: Bearer wxu_secret", "Authorization: Bearer ***"),
        # our own routes and ordinary text stay readable
        ("GET /api/v1/ledger/telemetry/batches/7/devices/loom-01/proof", None),
        ("POST /api/v1/devices/me/telemetry", None),
        ("GET /api/v1/enterprises/3/devices/loom-01/telemetry?from=0&to=9", None),
        ("GET /epcis/events?nextPageToken=abc", None),
    ],
)
def test_redact(line, expected):
    assert redact(line) == (expected or line)


def test_every_record_is_redacted_when_made_keeping_numbers_for_their_format(caplog):
    install_redaction()
    install_redaction()  # twice changes nothing
    log = logging.getLogger("wuxin.anything.below")
    with caplog.at_level(logging.INFO):
        log.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "POST", f"/api/v1/{TOKEN}/telemetry", "1.1", 200)
        log.info("mapping %(url)s", {"url": f"/api/v1/{TOKEN}/telemetry"})
        try:
            raise ValueError(f"bad token {TOKEN}")
        except ValueError:
            log.exception("failed")
    text = caplog.text
    assert TOKEN not in text and '"POST /api/v1/***/telemetry HTTP/1.1" 200' in text
    assert "mapping /api/v1/***/telemetry" in text and "bad token wxd_***" in text
