"""Online/offline from last-seen time and the thing model's heartbeat timeout; transitions readable under consent."""

from __future__ import annotations

from tests.conftest import T0_MS
from tests.world import build_world, login
from wuxin.services.devices.connectivity import sweep_connectivity
from wuxin.services.ingest.telemetry import ingest_lines

MINUTE_MS = 60_000


def test_sweep_records_online_then_offline_after_the_heartbeat_timeout_and_the_listing_agrees(live, platform):
    world = build_world(platform)
    ingest_lines(platform, [{"device": "loom-01", "ts": T0_MS, "values": {"current_a": 5}}], "http")
    assert [(t["to_state"], t["cause"]) for t in sweep_connectivity(platform)] == [("online", "data")]
    assert sweep_connectivity(platform) == []  # nothing changed, nothing recorded
    platform.clock.advance(11 * MINUTE_MS)  # bracelet heartbeat timeout: 600 s
    (offline,) = sweep_connectivity(platform)
    assert offline["to_state"] == "offline" and offline["at_ms"] == T0_MS + 10 * MINUTE_MS
    officer = login(live.client, "officer")
    listing = live.client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=officer).json()
    assert {d["key"]: d["connectivity"] for d in listing}["loom-01"] == "offline"
    response = live.client.get(f"/api/v1/enterprises/{world.factory}/connectivity/transitions", headers=officer)
    assert response.status_code == 200
    assert [(t["device"], t["from"], t["to"], t["cause"]) for t in response.json()] == [
        ("loom-01", "unknown", "online", "data"),
        ("loom-01", "online", "offline", "heartbeat_timeout"),
    ]


def test_transitions_are_refused_without_consent_and_reads_are_logged(live, platform):
    world = build_world(platform)
    ingest_lines(platform, [{"device": "truck-01", "ts": T0_MS, "values": {"speed_kmh": 5}}], "http")
    sweep_connectivity(platform)
    url = f"/api/v1/enterprises/{world.fleet}/connectivity/transitions"
    assert live.client.get(url).status_code == 401
    assert live.client.get(url, headers=login(live.client, "officer")).status_code == 404  # no consent from the fleet
    assert live.client.get(url, headers=login(live.client, "owner")).status_code == 404  # another enterprise
    own = live.client.get(url, headers=login(live.client, "fleetowner"))
    assert own.status_code == 200 and [t["device"] for t in own.json()] == ["truck-01"]
    with platform.uow() as uow:
        assert [e["action"] for e in uow.logs.access_entries(world.fleet)] == ["connectivity.read"]


def test_a_device_whose_clock_runs_hours_behind_is_online_while_it_sends_live(platform):
    build_world(platform)
    three_hours_ago = T0_MS - 3 * 60 * MINUTE_MS
    ingest_lines(platform, [{"device": "loom-01", "ts": three_hours_ago, "values": {"current_a": 5}}], "http")
    assert [(t["to_state"], t["at_ms"]) for t in sweep_connectivity(platform)] == [("online", T0_MS)]
    platform.clock.advance(5 * MINUTE_MS)
    ingest_lines(
        platform, [{"device": "loom-01", "ts": three_hours_ago + 5 * MINUTE_MS, "values": {"current_a": 6}}], "mqtt"
    )
    platform.clock.advance(9 * MINUTE_MS)  # 14 min after the first line, 9 after the last: within the 600 s timeout
    assert sweep_connectivity(platform) == []
    platform.clock.advance(2 * MINUTE_MS)
    assert [(t["to_state"], t["at_ms"]) for t in sweep_connectivity(platform)] == [("offline", T0_MS + 15 * MINUTE_MS)]


def test_imported_history_leaves_a_device_last_seen_at_its_newest_reading_not_at_the_import(platform):
    build_world(platform)
    yesterday = T0_MS - 24 * 60 * MINUTE_MS
    ingest_lines(platform, [{"device": "loom-01", "ts": yesterday, "values": {"current_a": 5}}], "bulk")
    with platform.uow() as uow:
        (loom,) = [d for d in uow.devices.by_keys(["loom-01"])]
    assert loom["last_seen_ms"] == yesterday
    assert [t["to_state"] for t in sweep_connectivity(platform)] == ["offline"]
