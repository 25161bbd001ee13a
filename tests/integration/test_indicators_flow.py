"""Indicators through the store on SQLite and PostgreSQL: dirty marks written with the points,
incremental updates (a late point recomputes its own day), and reads under consent."""

from __future__ import annotations

import random

import pytest

from tests.world import build_world, login
from wuxin.indicators.days import day_iso, day_start_ms, local_day
from wuxin.services import indicators
from wuxin.services.devices import registry
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.sim.spec import make_uscc

MIN = 60_000


def _days(platform):
    today = local_day(platform.clock_ms())
    return today - 2, today - 1  # two finished days


def _loom_lines(key: str, day: int, run_minutes: int, current: float = 10.0) -> list[dict]:
    start = day_start_ms(day)
    return [
        {"device": key, "ts": start + m * MIN, "values": {"current_a": current if m < run_minutes else 1.0}}
        for m in range(1440)
    ]


def _value(platform, enterprise: int, day: int, name: str):
    result = indicators.enterprise_indicators(platform, None, enterprise, day, day)
    return next(((v["value"], v["quality"]) for v in result["values"] if v["indicator"] == name), None)


def test_update_is_incremental_and_correct_under_disorder_duplicates_and_late_data(platform):
    world = build_world(platform)
    d1, d2 = _days(platform)
    lines = (
        _loom_lines("loom-01", d1, 600)
        + _loom_lines("loom-01", d2, 900)
        + _loom_lines("loom-02", d1, 300)
        + _loom_lines("loom-02", d2, 300)
    )
    random.Random(3).shuffle(lines)
    ingest_lines(platform, lines[:3000], "bulk")
    ingest_lines(platform, lines[2500:], "bulk")  # 500 duplicates
    first = indicators.update_indicators(platform)
    assert first.device_days >= 4 and first.enterprise_days >= 2
    assert _value(platform, world.factory, d1, "run_hours") == (pytest.approx((10 + 5) / 2), "complete")
    assert _value(platform, world.factory, d2, "run_hours") == (pytest.approx((15 + 5) / 2), "complete")
    assert (
        indicators.update_indicators(platform).device_days == 0
    )  # nothing new: nothing recomputed (also after a restart)

    late = [{"device": "loom-02", "ts": day_start_ms(d1) + 600 * MIN + 30_000, "values": {"current_a": 12.0}}]
    ingest_lines(platform, late, "http")  # a point between two stored minutes of day 1, arriving late
    second = indicators.update_indicators(platform)
    assert (second.device_days, second.enterprise_days, second.enterprise_months) == (1, 1, 1)
    value, quality = _value(platform, world.factory, d1, "run_hours")
    assert value == pytest.approx((10 + 5 + 0.5 / 60) / 2) and quality == "complete"
    assert _value(platform, world.factory, d2, "run_hours") == (pytest.approx(10.0), "complete")

    ingest_lines(
        platform, [{"device": "truck-01", "ts": day_start_ms(d1) + MIN, "values": {"lat": 30.0, "lon": 120.0}}], "http"
    )
    indicators.update_indicators(platform)
    rows = indicators.enterprise_indicators(platform, None, world.factory, d1, d1, "month")["values"]
    month = {r["indicator"]: r for r in rows}
    assert month["run_hours"]["quality"] == "partial" and month["run_hours"]["days"] == 2  # the month is not over
    assert month["energy_kwh"]["value"] is None and month["energy_kwh"]["quality"] == "unknown"
    meter = _value(platform, world.factory, d1, "energy_kwh")
    assert meter == (None, "unknown")  # the meter sent nothing: unknown, never zero


def test_a_mark_renewed_during_an_update_survives_it(platform):
    build_world(platform)
    d1, _ = _days(platform)
    ingest_lines(platform, _loom_lines("loom-01", d1, 60), "bulk")
    with platform.uow() as uow:
        seen = uow.indicators.dirty(100)
        device_id = uow.devices.by_key("loom-01")["id"]
        uow.indicators.mark_dirty([(device_id, d1)], platform.clock_ms())  # a point stored meanwhile
        uow.indicators.clear_dirty(seen)
        uow.commit()
        assert (device_id, d1) in {(d, day) for d, day, _ in uow.indicators.dirty(100)}


def test_industry_index_needs_five_peers_and_gives_percentiles(platform):
    d1, _ = _days(platform)
    rng = random.Random(9)
    region = "江苏省苏州市吴江区盛泽镇"
    firms = []
    for i in range(5):
        eid = registry.create_enterprise(
            platform, None, f"盛泽{i}号化纤有限公司", make_uscc(rng), "manufacturing", region
        )
        registry.register_device(
            platform,
            None,
            eid,
            f"loom-{i}",
            "manufacturing.current_bracelet",
            "bank_installed",
            None,
            {"run_threshold_a": 5.0},
        )
        firms.append(eid)
        ingest_lines(platform, _loom_lines(f"loom-{i}", d1, 60 * (20 + i)), "bulk")
        indicators.update_indicators(platform)
        published = indicators.industry_index(platform, None, "manufacturing", region, "run_hours", d1, d1)["values"]
        assert bool(published) == (i == 4)
    (row,) = published
    assert (row["enterprises"], row["median"], row["p25"], row["p75"]) == (
        5,
        pytest.approx(22.0),
        pytest.approx(21.0),
        pytest.approx(23.0),
    )


@pytest.fixture
def served(live, platform):
    world = build_world(platform)
    d1, _ = _days(platform)
    ingest_lines(platform, _loom_lines("loom-01", d1, 600) + _loom_lines("loom-02", d1, 300), "bulk")
    ingest_lines(
        platform,
        [
            {"device": "meter-01", "ts": day_start_ms(d1) + m * 15 * MIN, "values": {"energy_kwh_total": 100.0 + m}}
            for m in range(-2, 96)
        ],
        "bulk",
    )
    indicators.update_indicators(platform)
    return world, d1


def test_enterprise_values_and_the_readings_behind_them_follow_consent(served, live, platform):
    world, d1 = served
    day = day_iso(d1)
    officer = login(live.client, "officer")
    r = live.client.get(
        f"/api/v1/enterprises/{world.factory}/indicators", params={"from": day, "to": day}, headers=officer
    )
    assert r.status_code == 200, r.text
    values = {v["indicator"]: v for v in r.json()["values"]}
    assert values["run_hours"]["value"] == pytest.approx(7.5) and values["run_hours"]["unit"] == "h"
    assert values["energy_kwh"]["value"] == pytest.approx(96.0) and values["energy_kwh"]["quality"] == "complete"
    figure = live.client.get(f"/api/v1/enterprises/{world.factory}/indicators/run_hours/{day}", headers=officer).json()
    link = next(d["readings"] for d in figure["devices"] if d["device"] == "loom-01")
    behind = live.client.get(link, headers=officer)
    assert behind.status_code == 200 and behind.json()["value"] == pytest.approx(10.0)
    assert len(behind.json()["readings"]) == 1440 and {x["key"] for x in behind.json()["readings"]} == {"current_a"}
    with platform.uow() as uow:
        actions = [e["action"] for e in uow.logs.access_entries(world.factory)]
    assert {"indicators.enterprise_day", "indicators.figure", "indicators.readings"} <= set(actions)

    other = login(live.client, "other")
    for url in (f"/api/v1/enterprises/{world.factory}/indicators?from={day}&to={day}", link):
        assert live.client.get(url, headers=other).status_code == 404  # no consent: as if absent
    fleet_owner = login(live.client, "fleetowner")
    assert live.client.get(link, headers=fleet_owner).status_code == 404
    owner = login(live.client, "owner")
    assert live.client.get(link, headers=owner).status_code == 200

    with platform.uow() as uow:  # narrowed to one device: enterprise totals hidden, that device still readable
        uow.consents.update(world.consent_bank_factory, scope="devices", scope_items=["loom-01"])
        uow.commit()
    assert (
        live.client.get(
            f"/api/v1/enterprises/{world.factory}/indicators?from={day}&to={day}", headers=officer
        ).status_code
        == 403
    )
    device_url = f"/api/v1/enterprises/{world.factory}/devices/{{}}/indicators?from={day}&to={day}"
    assert live.client.get(device_url.format("loom-01"), headers=officer).json()["values"]
    assert live.client.get(device_url.format("loom-02"), headers=officer).status_code == 404  # outside the consent
    assert live.client.post(f"/api/v1/consents/{world.consent_bank_factory}/revoke", headers=owner).status_code == 200
    assert live.client.get(link, headers=officer).status_code == 404
    r = live.client.get(
        f"/api/v1/enterprises/{world.factory}/indicators", params={"from": "2026-13-01", "to": day}, headers=owner
    )
    assert r.status_code == 422


def test_index_roles_percentile_and_update_permissions(served, live, platform):
    world, d1 = served
    day = day_iso(d1)
    for user, status in (("officer", 200), ("admin", 200), ("owner", 403), ("integrator", 403)):
        r = live.client.get("/api/v1/industry-index", params={"from": day, "to": day}, headers=login(live.client, user))
        assert r.status_code == status, (user, r.text)
    owner = login(live.client, "owner")
    mine = live.client.get(
        f"/api/v1/enterprises/{world.factory}/percentile", params={"indicator": "run_hours", "day": day}, headers=owner
    )
    assert mine.status_code == 200 and mine.json()["percentile"] is None and "fewer than 5" in mine.json()["reason"]
    assert (
        live.client.get(
            f"/api/v1/enterprises/{world.fleet}/percentile",
            params={"indicator": "run_hours", "day": day},
            headers=owner,
        ).status_code
        == 404
    )
    assert live.client.post("/api/v1/indicators/update", headers=login(live.client, "officer")).status_code == 403
    r = live.client.post("/api/v1/indicators/update", headers=login(live.client, "admin"))
    assert r.status_code == 200 and r.json()["device_days"] == 0
    assert live.client.get("/api/v1/indicators/catalog", headers=owner).status_code == 200
