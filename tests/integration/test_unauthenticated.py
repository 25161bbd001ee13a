"""Without a credential nobody fills the disk: bounded quarantine of unauthenticated bodies, a cap on
how many are kept, and 429 for a source that keeps failing; request bodies are limited while they stream."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.conftest import T0_MS
from tests.integration.test_http_ingest import open_quarantine, post, stored
from tests.integration.test_platform_push import _lines, _setup, _signed
from tests.world import build_world

MiB = 1024 * 1024


@pytest.fixture
def roomy(platform):
    """Bodies up to 5 MiB (the production default is 4 MiB; the tests' platform keeps 256 KiB)."""
    platform.settings.max_body_bytes = 5 * MiB
    return platform


def _quarantine_bytes(platform) -> int:
    return sum(len(q["payload"].encode()) + len(q["message"].encode()) for q in open_quarantine(platform))


def test_unauthenticated_4_mib_posts_keep_only_a_bounded_prefix_and_are_counted(roomy, live):
    platform = roomy
    world = build_world(platform)
    body = b'{"current_a": 1.0, "junk": "' + b"j" * (4 * MiB - 40) + b'"}'
    for attempt in range(10):
        response = post(live, f"wxd_guess-{attempt}", body)
        assert response.status_code == 401 and response.json()["error"] == "unknown_token"
    entries = open_quarantine(platform)
    assert len(entries) == 10 and _quarantine_bytes(platform) < 10 * 2048  # not 40 MiB
    kept = json.loads(entries[0]["payload"])
    assert kept["body_bytes"] == len(body) and kept["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert kept["body_prefix"] == body[:1024].decode()
    metrics = live.client.get("/metrics").text
    assert 'wuxin_unauthenticated_requests_total{channel="http",reason="unknown_token"} 10.0' in metrics
    [counted] = [
        l.split()[-1] for l in metrics.splitlines() if l.startswith('wuxin_unauthenticated_bytes_total{channel="http"}')
    ]
    assert float(counted) == 10 * len(body)
    assert post(live, world.device_tokens["loom-01"], {"current_a": 2.0}).status_code == 200  # devices go on


def test_only_the_newest_unauthenticated_entries_are_kept(platform, live):
    build_world(platform)
    platform.settings.unauthenticated_quarantine_max = 3
    for attempt in range(5):
        assert post(live, f"wxd_guess-{attempt}", {"current_a": float(attempt)}).status_code == 401
    entries = open_quarantine(platform)
    assert [json.loads(q["payload"])["body_prefix"] for q in entries] == [
        '{"current_a":2.0}',
        '{"current_a":3.0}',
        '{"current_a":4.0}',
    ]


def test_a_source_that_keeps_failing_gets_429_and_nothing_more_is_kept(platform, live):
    world = build_world(platform)
    platform.settings.unauthenticated_failures_per_minute = 5
    statuses = [post(live, f"wxd_guess-{attempt}", {"current_a": 1.0}).status_code for attempt in range(5)]
    assert statuses == [401] * 5
    refused = post(live, "wxd_guess-6", {"current_a": 1.0})
    assert refused.status_code == 429 and refused.json()["error"] == "too_many_failures"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "127.0.0.1 failed authentication 5 times within a minute" in refused.json()["message"]
    assert len(open_quarantine(platform)) == 5  # the sixth is not kept
    assert post(live, world.device_tokens["loom-01"], {"ts": T0_MS, "values": {"current_a": 2.0}}).status_code == 200
    assert [r["num"] for r in stored(platform, "loom-01")] == [2.0]  # a valid device at that address goes on
    assert 'wuxin_rate_limited_total{channel="http"} 1.0' in live.client.get("/metrics").text


def test_platform_push_with_bad_signatures_gets_429_per_source(live, platform):
    world, secret = _setup(live, platform)
    platform.settings.unauthenticated_failures_per_minute = 3
    body = _lines({"device": "loom-01", "ts": T0_MS - 1000, "values": {"current_a": 11.5}})
    url = "/api/v1/platforms/rootcloud/telemetry"
    statuses = [live.client.post(url, content=body, headers=_signed("wxp_wrong", body)).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert live.client.post(url, content=body, headers=_signed(secret, body)).status_code == 200
    assert open_quarantine(platform) == []  # nothing of an unauthenticated push is kept
    assert (
        'wuxin_unauthenticated_requests_total{channel="platform",reason="bad_signature"} 4.0'
        in live.client.get("/metrics").text
    )


def _peak_rss_bytes() -> int:
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmHWM:"))


def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(platform, live):
    """The live server runs in this process: its memory is ours. 200 MiB offered in 64 KiB chunks."""
    limit = platform.settings.max_body_bytes
    offered = 200 * MiB
    sent = 0

    def body():
        nonlocal sent
        chunk = b"x" * 65536
        while sent < offered:
            sent += len(chunk)
            yield chunk

    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # restart the peak-RSS watermark from now
    before = _peak_rss_bytes()
    response = live.client.post("/api/v1/wxd_any/telemetry", content=body())
    growth = _peak_rss_bytes() - before
    print(
        f"limit {limit} B: the client sent {sent / MiB:.1f} MiB of {offered / MiB:.0f} MiB before the 413; "
        f"peak RSS grew {growth / MiB:.1f} MiB"
    )
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"
    assert sent < 32 * MiB, f"the client could send {sent} bytes: the server read on past the limit"
    assert growth < 64 * MiB, f"the server's memory grew by {growth} bytes for a {limit}-byte limit"
    assert f"over the limit of {limit} bytes (refused at" in response.json()["message"]
    assert live.client.get("/health").status_code == 200
