"""Site-local rules and the PV sales check through the platform: a Berlin warehouse's night outbound after the
autumn clock change, a Berlin truck's odometer wound back late in its own evening, a Berlin meter's evening load, and a
PV plant's feed-in bills against its inverters (import, indicators, credit assessment)."""

from __future__ import annotations

import datetime as dt
import math
import random
from zoneinfo import ZoneInfo

from wuxin.indicators.days import day_start_ms, local_day
from wuxin.services.credit import business_data
from wuxin.services.credit.assessment import gather
from wuxin.services.devices import registry
from wuxin.services.indicators import update_indicators
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.services.monitoring.daily import evaluate_daily
from wuxin.sim.spec import make_uscc

MIN, HOUR, DAY_MS = 60_000, 3_600_000, 86_400_000
BERLIN = "Europe/Berlin"


def _alarms(platform, alarm_type: str) -> list[dict]:
    with platform.uow() as uow:
        return [a for a in uow.monitoring.list_alarms(None, None, None, None, 1000) if a["alarm_type"] == alarm_type]


def _berlin_firm(platform, name: str, industry: str, seed: int) -> tuple[int, int]:
    firm = registry.create_enterprise(platform, None, name, make_uscc(random.Random(seed)), industry, "Berlin")
    site = registry.add_site(platform, None, firm, "Lager Berlin", "Berlin", 52.5, 13.4, BERLIN)
    return firm, site


def at(y: int, m: int, d: int, h: int) -> int:
    return int(dt.datetime(y, m, d, h, tzinfo=ZoneInfo(BERLIN)).timestamp() * 1000)


def test_a_berlin_gate_is_judged_on_berlin_hours_after_the_clock_change(platform):
    """Trucks at 08, 11 and 15 Berlin time through a summer fortnight, then on the Monday after the change at the same
    local hours plus one at 02:00: only the 02:00 truck is night outbound (on China's clock the 15:00 truck was too)."""
    platform.clock.now_ms = at(2026, 10, 27, 12)
    firm, site = _berlin_firm(platform, "Berlin Lager GmbH", "logistics", 31)
    registry.register_device(
        platform, None, firm, "gate-b", "logistics.gate_camera", "bank_installed", site, {"zone_id": "A"}
    )
    trucks = {at(2026, 10, d, h) for d in range(11, 25) for h in (8, 11, 15)} | {
        at(2026, 10, 26, h) for h in (2, 8, 11, 15)
    }
    first, last = at(2026, 10, 11, 0), at(2026, 10, 27, 0)
    lines = [
        {"device": "gate-b", "ts": t, "values": {"count_out": 20 if t in trucks else 0}}
        for t in range(first, last, 15 * MIN)
    ]
    assert not ingest_lines(platform, lines, "bulk").rejections
    evaluate_daily(platform, local_day(at(2026, 10, 26, 12), BERLIN))
    (alarm,) = _alarms(platform, "unauthorised_outbound")
    assert alarm["detail"]["from_ms"] == at(2026, 10, 26, 2) and alarm["detail"]["timezone"] == BERLIN
    assert {8, 11, 15}.isdisjoint(alarm["detail"]["quiet_hours"]) and BERLIN in alarm["detail"]["threshold_from"]["zh"]


def truck_lines(device: str, first_day: int, days: int, seed: int, wind_back_at: int | None = None) -> list[dict]:
    """Driving 08:00-16:00 Berlin time each day, a reading every 5 minutes."""
    rng = random.Random(seed)
    odo, lat, lon, out = 80_000.0, 52.5, 13.4, []
    for day in range(first_day, first_day + days):
        start = day_start_ms(day, BERLIN)
        for t in range(start, day_start_ms(day + 1, BERLIN), 5 * MIN):
            minute = (t - start) // MIN
            if 480 <= minute < 960:
                km = (60 + rng.gauss(0, 4)) / 12
                lon += (1 if minute < 720 else -1) * km / (111.32 * math.cos(math.radians(lat)))
                odo += km * 1.05
            shown = odo - 3_000 if wind_back_at is not None and t >= wind_back_at else odo
            out.append(
                {
                    "device": device,
                    "ts": t,
                    "values": {"lat": round(lat, 6), "lon": round(lon, 6), "odometer_km": round(shown, 1)},
                }
            )
    return out


def test_a_berlin_truck_wound_back_late_in_its_evening_raises_on_that_berlin_day(platform):
    """Wound back at 23:30 Berlin time (05:30 the next day in China): the Berlin day's verdict raises it."""
    firm, site = _berlin_firm(platform, "Berlin Spedition GmbH", "vehicles", 32)
    registry.register_device(platform, None, firm, "truck-b", "vehicles.gps_terminal", "bank_installed", site)
    today = local_day(platform.clock_ms(), BERLIN)
    wound = day_start_ms(today - 1, BERLIN) + 23 * HOUR + 30 * MIN
    assert local_day(wound, "Asia/Shanghai") == today  # China would call it the next day
    assert not ingest_lines(platform, truck_lines("truck-b", today - 9, 9, 1, wind_back_at=wound), "bulk").rejections
    evaluate_daily(platform, today - 1)
    (alarm,) = _alarms(platform, "odometer_tamper")
    assert alarm["detail"]["day"] == today - 1 and alarm["detail"]["test"] == "rollback"
    assert alarm["detail"]["timezone"] == BERLIN and alarm["detail"]["at_ms"] == wound


def test_a_berlin_meter_with_an_undeclared_evening_load_raises_on_that_berlin_day(platform):
    """A meter and two bracelets on Berlin days; 150 kW more on the meter from 19:00 to 24:00 Berlin time of the last
    day (01:00-06:00 of the next day in China): raised on the Berlin day."""
    firm, site = _berlin_firm(platform, "Berlin Werk GmbH", "manufacturing", 33)
    registry.register_device(platform, None, firm, "meter-b", "manufacturing.energy_meter", "bank_installed", site)
    for k in range(2):
        registry.register_device(
            platform,
            None,
            firm,
            f"lathe-b{k}",
            "manufacturing.current_bracelet",
            "bank_installed",
            site,
            {"rated_current_a": 60, "run_threshold_a": 10, "machine_id": f"M{k}"},
        )
    today = local_day(platform.clock_ms(), BERLIN)
    rng, total, lines = random.Random(5), 0.0, []
    kw_per_a = math.sqrt(3) * 380 * 0.85 / 1000
    for day in range(today - 23, today):
        start = day_start_ms(day, BERLIN)
        for t in range(start, day_start_ms(day + 1, BERLIN), 15 * MIN):
            minute = (t - start) // MIN
            amps = [(40 + rng.gauss(0, 3)) if 480 <= minute < 1200 else 0.5 for _ in range(2)]
            extra = 150.0 if day == today - 1 and minute >= 19 * 60 else 0.0
            lines += [
                {"device": f"lathe-b{k}", "ts": t, "values": {"current_a": round(a, 1)}} for k, a in enumerate(amps)
            ]
            lines.append({"device": "meter-b", "ts": t, "values": {"energy_kwh_total": round(total, 2)}})
            total += (sum(amps) * kw_per_a + 12 + extra) * 0.25
    assert not ingest_lines(platform, lines, "bulk").rejections
    evaluate_daily(platform, today - 2)
    assert _alarms(platform, _meter_alarm_type()) == []  # the days before: in step
    evaluate_daily(platform, today - 1)
    raised = [a for a in _alarms(platform, _meter_alarm_type()) if a["detail"].get("day") == today - 1]
    assert raised and raised[0]["detail"]["direction"] == "above" and raised[0]["detail"]["timezone"] == BERLIN


def _meter_alarm_type() -> str:
    from wuxin.services.bootstrap import default_rules

    return default_rules()["manufacturing.meter_balance"].alarm_type


def test_a_pv_plants_inflated_feed_in_bill_fails_and_its_honest_month_agrees(platform):
    """Inverter counters through July and August; the grid's July bill matches them (1 % losses), August's claims
    1.6 times: the assessment's feed-in check flags August with its derived tolerance, in zh and en."""
    firm = registry.create_enterprise(
        platform, None, "嘉兴阳光电力有限公司", make_uscc(random.Random(34)), "energy", "浙江省嘉兴市"
    )
    registry.register_device(
        platform,
        None,
        firm,
        "inv-1",
        "energy.pv_inverter",
        "bank_installed",
        None,
        {"capacity_kwp": 500, "energy_accuracy_pct": 2},
    )
    rng, total, lines = random.Random(9), 1000.0, []
    first, last = day_start_ms(local_day(at(2026, 7, 1, 12), "Asia/Shanghai")), at(2026, 9, 1, 12)
    for t in range(first, last, 30 * MIN):
        hour = (t - first) % DAY_MS / HOUR
        kw = max(0.0, math.sin(math.pi * (hour - 6) / 12)) * 400 * rng.uniform(0.5, 1.0) if 6 <= hour <= 18 else 0.0
        lines.append({"device": "inv-1", "ts": t, "values": {"energy_kwh_total": round(total, 2)}})
        total += kw * 0.5
    assert not ingest_lines(platform, lines, "bulk").rejections
    update_indicators(platform)
    with platform.uow() as uow:
        enterprise = uow.enterprises.get(firm)
        gen = {r["day"]: r["value"] for r in uow.indicators.enterprise_days(firm, 0, 10**6, ["generation_kwh"])}
    july = sum(v for d, v in gen.items() if dt.date(1970, 1, 1) + dt.timedelta(days=d) < dt.date(2026, 8, 1))
    august = sum(v for d, v in gen.items() if dt.date(1970, 1, 1) + dt.timedelta(days=d) >= dt.date(2026, 8, 1))
    uscc = enterprise["uscc"]
    result = business_data.import_rows(
        platform,
        None,
        "feed_in_bills",
        [
            {"uscc": uscc, "month": "2026-07", "kwh": f"{july * 0.99:.1f}", "amount_cny": f"{july * 0.99 * 0.38:.2f}"},
            {
                "uscc": uscc,
                "month": "2026-08",
                "kwh": f"{august * 1.6:.1f}",
                "amount_cny": f"{august * 1.6 * 0.38:.2f}",
            },
            {"uscc": uscc, "month": "2026-09", "kwh": "-1"},
        ],
        "third_party",
    )
    assert (result["accepted"], result["rejected"]) == (2, 1) and result["errors"][0]["field"] == "kwh"
    with platform.uow() as uow:
        devices = uow.devices.list(firm)
        assessment = gather(platform, uow, enterprise, devices, None, local_day(at(2026, 9, 1, 12), "Asia/Shanghai"))
    checks = {c.period: c for c in assessment.checks if c.check == "feed_in_vs_generation"}
    assert checks["2026-07"].status == "consistent" and checks["2026-07"].level == "verified"
    assert checks["2026-08"].status == "overstated" and checks["2026-08"].finding_code == "pv_overstated"
    assert checks["2026-08"].finding_params["inverter_error_pct"] == 2.0 and "tolerance" in checks["2026-08"].finding
