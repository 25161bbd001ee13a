"""The console's read models: the equipment timeline and portfolio follow consent like every read."""

from __future__ import annotations

from tests.world import build_world, login
from wuxin.indicators.days import local_day
from wuxin.services.console.timeline import SLOTS_PER_DAY, clear_timeline_cache
from wuxin.services.indicators import update_indicators

MINUTE = 60_000


def _post_current(live, token: str, start_ms: int, minutes: int, amps: float):
    points = [{"ts": start_ms + i * MINUTE, "values": {"current_a": amps}} for i in range(minutes)]
    response = live.client.post(f"/api/v1/{token}/telemetry", json=points)
    assert response.status_code == 200, response.text


def test_timeline_shows_run_state_per_slot_and_refreshes_when_the_device_sends_more(platform, live):
    world = build_world(platform)
    clear_timeline_cache(platform)
    officer = login(live.client, "officer")
    now = platform.clock_ms()
    day_start = now - (now + 8 * 3_600_000) % 86_400_000  # China local midnight today
    _post_current(live, world.device_tokens["loom-01"], day_start, 30, 99.0)
    url = f"/api/v1/console/enterprises/{world.factory}/equipment-timeline?days=2"
    body = live.client.get(url, headers=officer).json()
    loom = next(m for m in body["machines"] if m["key"] == "loom-01")
    assert len(loom["slots"]) == 2 * SLOTS_PER_DAY and loom["slots"][SLOTS_PER_DAY : SLOTS_PER_DAY + 3] == "RR-"
    platform.clock.advance(MINUTE)  # it sends its backlog a minute later
    _post_current(live, world.device_tokens["loom-01"], day_start + 30 * MINUTE, 15, 0.0)
    loom = next(m for m in live.client.get(url, headers=officer).json()["machines"] if m["key"] == "loom-01")
    assert loom["slots"][SLOTS_PER_DAY : SLOTS_PER_DAY + 3] == "RRS"


def _loom_slots(live, world, headers, days: int = 2) -> tuple[str, dict]:
    body = live.client.get(
        f"/api/v1/console/enterprises/{world.factory}/equipment-timeline?days={days}", headers=headers
    ).json()
    return next(m for m in body["machines"] if m["key"] == "loom-01")["slots"], body


def test_timeline_reads_the_slots_the_indicators_update_stored_until_the_day_gets_new_points(platform, live):
    world = build_world(platform)
    clear_timeline_cache(platform)
    officer = login(live.client, "officer")
    now = platform.clock_ms()
    yesterday = now - (now + 8 * 3_600_000) % 86_400_000 - 86_400_000  # China local midnight, yesterday
    _post_current(live, world.device_tokens["loom-01"], yesterday, 30, 99.0)
    update_indicators(platform)
    with platform.uow() as uow:
        loom = next(d for d in uow.devices.list(world.factory) if d["key"] == "loom-01")
        stored = uow.console.run_slots([loom["id"]], local_day(yesterday), local_day(yesterday))
        assert stored[(loom["id"], local_day(yesterday))][:3] == "RR-"
        uow.console.put_run_slots(loom["id"], [(local_day(yesterday), "S" * SLOTS_PER_DAY)], now)  # mark what is read
        uow.commit()
    slots, body = _loom_slots(live, world, officer)
    assert slots[:SLOTS_PER_DAY] == "S" * SLOTS_PER_DAY and body["machine_days_from_read_model"] >= 1
    _post_current(live, world.device_tokens["loom-01"], yesterday + 30 * MINUTE, 15, 0.0)  # the day is dirty again
    slots, _ = _loom_slots(live, world, officer)
    assert slots[:3] == "RRS"  # from the readings, not the stored row
    update_indicators(platform)
    clear_timeline_cache(platform)
    slots, body = _loom_slots(live, world, officer)
    assert slots[:3] == "RRS" and body["machine_days_from_read_model"] >= 1


def test_portfolio_trend_follows_consent_and_counts_alarms(platform, live):
    world = build_world(platform)
    now = platform.clock_ms()
    yesterday = now - (now + 8 * 3_600_000) % 86_400_000 - 86_400_000
    _post_current(live, world.device_tokens["loom-01"], yesterday, 60, 99.0)
    update_indicators(platform)
    body = live.client.get("/api/v1/console/portfolio/trend?days=3", headers=login(live.client, "officer")).json()
    assert len(body["days"]) == 3 and body["alarms"] is not None
    manufacturing = next(s for s in body["scenarios"] if s["scenario"] == "manufacturing")
    assert (
        manufacturing["indicator"] == "run_hours"
        and manufacturing["median"][1] is not None
        and manufacturing["enterprises"][1] == 1
    )
    assert manufacturing["median"][2] is None  # today is still open: never drawn as a dip
    other = live.client.get("/api/v1/console/portfolio/trend?days=3", headers=login(live.client, "other")).json()
    assert other["scenarios"] == []
    assert live.client.get("/api/v1/console/portfolio/trend").status_code == 401
    assert (
        live.client.get("/api/v1/console/portfolio/trend?days=0", headers=login(live.client, "officer")).status_code
        == 422
    )


def _alarm(uow, enterprise_id: int, n: int, started_ms: int, tenant_id: int | None = None, cleared_ms=None) -> None:
    alarm_id, _ = uow.monitoring.raise_alarm(
        dict(
            scope=f"tenant:{tenant_id}" if tenant_id else "platform",
            tenant_id=tenant_id,
            source=f"device:{n}",
            alarm_type="trend_test",
            rule_id="test.trend",
            severity="minor",
            status="active",
            enterprise_id=enterprise_id,
            device_id=None,
            loan_ids=[],
            started_ms=started_ms,
            last_ms=started_ms,
            stored_ms=started_ms,
            detail={},
        )
    )
    if cleared_ms is not None:
        uow.monitoring.set_alarm(alarm_id, status="cleared", cleared_ms=cleared_ms)


def test_the_alarm_trend_counts_every_alarm_of_the_window_not_only_the_newest_thousand(platform, live):
    world = build_world(platform)
    now = platform.clock_ms()
    today_start = now - (now + 8 * 3_600_000) % 86_400_000
    with platform.uow() as uow:
        for n in range(1005):  # yesterday, more than one page of the alarm list
            _alarm(uow, world.factory, n, today_start - 86_400_000 + n)
        _alarm(uow, world.factory, 5000, today_start - 10 * 86_400_000, cleared_ms=today_start - 9 * 86_400_000)
        _alarm(uow, world.factory, 5001, today_start - 10 * 86_400_000)  # still open: open on every day shown
        other_bank = uow.identity.tenant_by_name("Other Bank")
        _alarm(uow, world.factory, 5002, today_start + 1, tenant_id=other_bank["id"])  # another bank's own alarm
        uow.commit()
    officer = login(live.client, "officer")
    trend = live.client.get("/api/v1/console/portfolio/trend?days=3", headers=officer).json()["alarms"]
    assert trend["raised"] == [0, 1005, 0]
    assert trend["open"] == [1, 1006, 1006]


def test_timeline_and_portfolio_refuse_or_hide_without_consent(platform, live):
    world = build_world(platform)
    url = f"/api/v1/console/enterprises/{world.factory}/equipment-timeline"
    other = login(live.client, "other")
    denied = live.client.get(url, headers=other)
    assert denied.status_code == 404 and denied.json()["error"] == "not_found"  # no consent: as if absent
    assert live.client.get("/api/v1/console/portfolio", headers=other).json()["enterprises"] == []
    assert live.client.get(url).status_code == 401
    assert live.client.get(url + "?days=0", headers=login(live.client, "officer")).status_code == 422


def test_consent_tenants_are_for_the_enterprise_and_the_admin_only(platform, live):
    build_world(platform)
    assert live.client.get("/api/v1/console/tenants", headers=login(live.client, "officer")).status_code == 403
    tenants = live.client.get("/api/v1/console/tenants", headers=login(live.client, "owner")).json()
    assert tenants and all(t["kind"] != "regulator" for t in tenants)


def test_console_page_and_vendored_assets_are_served_locally(platform, live):
    assert live.client.get("/console").text.count("/console/static/vendor/echarts.min.js") == 1
    assert live.client.get("/console/static/vendor/echarts.min.js").status_code == 200
    assert live.client.get("/console/static/vendor/china.js").status_code == 200
    assert live.client.get("/console/static/nope.js").status_code == 404
