"""Calendars and time zones through the platform: who may declare and read a firm's shutdowns and maintenance
windows (every denial answered), a site in Berlin whose looms get Berlin days and whose daily verdict waits for Berlin
midnight, and the rules on healthy data with benign breaks: a decommissioned bracelet, a maintenance window, a shutdown."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.world import build_world, login
from wuxin.api.app import create_app
from wuxin.indicators import days as monitoring_days
from wuxin.indicators.days import DAY_MS, HOUR_MS, day_start_ms, local_day
from wuxin.services.devices import calendars
from wuxin.services.indicators import update_indicators
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.services.monitoring import daily, sweeps
from wuxin.store.tables_calendars import calendar_periods

STEP = 15 * 60_000


def alarms(platform, alarm_type: str, status: str | None = None) -> list[str]:
    with platform.uow() as uow:
        rows = uow.monitoring.list_alarms(None, None, status, None, 1000)
        keys = {d["id"]: d["key"] for e in uow.enterprises.list() for d in uow.devices.list(e["id"])}
    return sorted(keys.get(r["device_id"]) or r["source"] for r in rows if r["alarm_type"] == alarm_type)


def site_of(platform, enterprise_id: int) -> int:
    with platform.uow() as uow:
        return uow.enterprises.sites(enterprise_id)[0]["id"]


def test_who_may_declare_read_and_delete_a_firms_calendar(platform):
    world = build_world(platform)
    factory, now = world.factory, platform.clock_ms()
    period = {
        "kind": "maintenance",
        "start_ms": now,
        "end_ms": now + 6 * HOUR_MS,
        "note": "换轴承 bearing change",
        "device": "loom-01",
    }
    with TestClient(create_app(platform)) as client:
        url = f"/api/v1/enterprises/{factory}/calendar"
        owner, officer, other = login(client, "owner"), login(client, "officer"), login(client, "other")
        created = client.post(url, json=period, headers=login(client, "integrator"))  # loom-01 is bank-installed
        assert created.status_code == 201, created.text
        assert created.json()["device"] == "loom-01" and created.json()["kind"] == "maintenance"
        assert client.post(url, json={**period, "device": None}, headers=owner).status_code == 201
        assert client.post(url, json=period, headers=officer).status_code == 403  # a bank reads, it does not declare
        assert (
            client.post(url, json=period, headers=login(client, "fleetowner")).status_code == 404
        )  # not theirs to know
        assert client.post(url, json=period, headers=other).status_code == 404  # a bank without consent
        assert [p["note"] for p in client.get(url, headers=officer).json()] == [
            period["note"]
        ] * 2  # read under consent
        assert client.get(url, headers=other).status_code == 404
        bad = client.post(url, json={**period, "kind": "party"}, headers=owner)
        assert bad.status_code == 422 and "party" in bad.text
        backwards = client.post(url, json={**period, "end_ms": now - 1}, headers=owner)
        assert backwards.status_code == 422 and "end after it starts" in backwards.text
        foreign = client.post(url, json={**period, "device": "truck-01"}, headers=owner)
        assert foreign.status_code == 422 and "truck-01" in foreign.text
        csv = (
            "kind,start,end,note\nshutdown,2027-02-06T00:00:00+08:00,2027-02-16T00:00:00+08:00,春节停产\n"
            "holiday_extra,2026-10-08T00:00:00+08:00,2026-10-09T00:00:00+08:00,厂休\n"
        )
        imported = client.post(f"{url}/import", content=csv.encode(), headers={**owner, "content-type": "text/csv"})
        assert imported.status_code == 201 and imported.json()["added"] == 2
        broken = csv + "shutdown,2026-11-01,2026-11-02,no offset\n"
        past = csv.replace("2027-02-06", "2026-02-14").replace(
            "2027-02-16", "2026-02-24"
        )  # the borrower does not rewrite last winter
        refused = client.post(f"{url}/import", content=past.encode(), headers={**owner, "content-type": "text/csv"})
        assert refused.status_code == 422 and "in the past" in refused.text
        refused = client.post(f"{url}/import", content=broken.encode(), headers={**owner, "content-type": "text/csv"})
        assert refused.status_code == 422 and "line 4" in refused.text and "offset" in refused.text
        assert len(client.get(url, headers=owner).json()) == 4  # the refused import added nothing
        first = created.json()["id"]
        assert client.delete(f"{url}/{first}", headers=officer).status_code == 403
        assert (
            client.delete(
                f"/api/v1/enterprises/{world.fleet}/calendar/{first}", headers=login(client, "fleetowner")
            ).status_code
            == 404
        )
        assert client.delete(f"{url}/{first}", headers=owner).status_code == 204
        assert len(client.get(url, headers=owner).json()) == 3


def test_who_may_set_a_site_zone_and_a_devices_service_dates(platform):
    world = build_world(platform)
    site = site_of(platform, world.factory)
    with TestClient(create_app(platform)) as client:
        owner = login(client, "owner")
        url = f"/api/v1/enterprises/{world.factory}/sites/{site}/timezone"
        assert client.put(url, json={"timezone": "Europe/Berlin"}, headers=owner).json()["timezone"] == "Europe/Berlin"
        bad = client.put(url, json={"timezone": "Europe/Atlantis"}, headers=owner)
        assert bad.status_code == 422 and "Europe/Atlantis" in bad.text
        assert client.put(url, json={"timezone": "UTC"}, headers=login(client, "other")).status_code == 404
        assert client.put(url, json={"timezone": "UTC"}, headers=login(client, "officer")).status_code == 403
        assert (
            client.put(
                f"/api/v1/enterprises/{world.fleet}/sites/{site}/timezone",
                json={"timezone": "UTC"},
                headers=login(client, "fleetowner"),
            ).status_code
            == 404
        )  # another firm's site
        dates = {"installed_ms": platform.clock_ms() - 30 * DAY_MS, "decommissioned_ms": platform.clock_ms()}
        url = "/api/v1/devices/loom-01/service-dates"
        assert (
            client.put(url, json=dates, headers=owner).status_code == 403
        )  # bank-installed: not the borrower's to retire
        assert client.put(url, json=dates, headers=login(client, "other")).status_code == 404
        assert client.put(url, json=dates, headers=login(client, "integrator")).status_code == 200
        swapped = client.put(url, json={"installed_ms": 10, "decommissioned_ms": 5}, headers=login(client, "admin"))
        assert swapped.status_code == 422 and "after installed_ms" in swapped.text
        listed = client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=owner).json()
        assert next(d for d in listed if d["key"] == "loom-01")["decommissioned_ms"] == dates["decommissioned_ms"]
        official = client.get("/api/v1/calendars/official?from=2026-02-13&to=2026-02-15", headers=owner).json()
        assert [d["kind"] for d in official["days"]] == ["workday", "workday", "holiday"]
        assert official["days"][1]["makeup_workday"] and official["days"][2]["holiday"]["zh"] == "春节"


def test_a_decommissioned_bracelet_and_one_under_maintenance_raise_no_offline_alarm(platform):
    world = build_world(platform)
    now = platform.clock_ms()
    lines = [{"device": k, "ts": now, "values": {"current_a": 1.0}} for k in ("loom-01", "loom-02", "meter-01")]
    ingest_lines(platform, lines[:2], "http")
    sweeps.sweep(platform)
    calendars.set_service_dates(platform, None, "loom-01", None, now + 60_000)  # retired a minute later
    calendars.add_periods(
        platform,
        None,
        world.factory,
        [{"kind": "maintenance", "start_ms": now + 60_000, "end_ms": now + 4 * HOUR_MS, "device": "loom-02"}],
    )
    platform.clock.advance(15 * 60_000)  # past the bracelets' 600 s heartbeat
    sweeps.sweep(platform)
    assert alarms(platform, "device_offline") == []
    ingest_lines(platform, [{"device": "loom-02", "ts": platform.clock_ms(), "values": {"current_a": 1.0}}], "http")
    sweeps.sweep(platform)
    platform.clock.advance(5 * HOUR_MS)  # after its maintenance, loom-02's silence is an outage again
    sweeps.sweep(platform)
    assert alarms(platform, "device_offline") == ["loom-02"]


def bracelet_lines(device: str, first_ms: int, days: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "device": device,
            "ts": t,
            "values": {"current_a": round(20 + 8 * ((t // STEP) % 96 < 40) + rng.gauss(0, 1.5), 2)},
        }
        for t in range(first_ms, first_ms + days * DAY_MS, STEP)
    ]


def test_a_copied_looking_day_inside_a_maintenance_window_is_not_called_fabricated(platform):
    """The day a technician replays a test profile on loom-01 (the day before, again) is declared maintenance: no
    alarm; the same day undeclared on loom-02 raises (the rule still works)."""
    world = build_world(platform)
    today = monitoring_days.local_day(platform.clock_ms())
    first = day_start_ms(today - 6, "Asia/Shanghai")
    lines = []
    for device, seed in (("loom-01", 1), ("loom-02", 2)):
        real = bracelet_lines(device, first, 6, seed)
        replayed = first + 5 * DAY_MS
        lines += [l for l in real if l["ts"] < replayed] + [
            {**l, "ts": l["ts"] + DAY_MS} for l in real if replayed - DAY_MS <= l["ts"] < replayed
        ]
    assert not ingest_lines(platform, lines, "bulk").rejections
    calendars.add_periods(
        platform,
        None,
        world.factory,
        [
            {
                "kind": "maintenance",
                "start_ms": first + 5 * DAY_MS + 2 * HOUR_MS,
                "end_ms": first + 5 * DAY_MS + 20 * HOUR_MS,
                "device": "loom-01",
                "note": "test profile",
            }
        ],
    )
    daily.evaluate_daily(platform, today - 1)
    assert alarms(platform, "fabricated_data") == ["loom-02"]


def loom_days(first_day: int, days: int, zone: str, idle_from_day: int) -> list[dict]:
    """loom-01 every 5 minutes, running 08:00-20:00 local time of `zone`, idle from `idle_from_day` on."""
    lines = []
    for day in range(first_day, first_day + days):
        start = day_start_ms(day, zone)
        for step in range((day_start_ms(day + 1, zone) - start) // 300_000):
            hour = step * 300_000 // HOUR_MS
            running = 8 <= hour < 20 and day < idle_from_day
            lines.append(
                {"device": "loom-01", "ts": start + step * 300_000, "values": {"current_a": 9.0 if running else 0.2}}
            )
    return lines


def test_a_plant_in_berlin_gets_berlin_days_and_its_verdict_after_berlin_midnight(platform):
    world = build_world(platform)
    calendars.set_site_timezone(platform, None, world.factory, site_of(platform, world.factory), "Europe/Berlin")
    now = platform.clock_ms()  # 2026-09-21 14:13 UTC: 16:13 in Berlin, 22:13 in China
    today = local_day(now, "Europe/Berlin")
    ingest_lines(platform, loom_days(today - 12, 12, "Europe/Berlin", today + 1), "bulk")
    update_indicators(platform)
    with platform.uow() as uow:
        loom = uow.devices.by_key("loom-01")["id"]
        hours = {r["day"]: r["value"] for r in uow.indicators.device_days(loom, today - 11, today - 2, ["run_hours"])}
    assert list(hours.values()) == [12.0] * 10  # 08:00-20:00 Berlin whole in each Berlin day (China cut: 10 h + 2 h)
    platform.clock.now_ms = day_start_ms(today + 1, "Asia/Shanghai") + 4 * HOUR_MS  # 04:00 China, 22:00 Berlin
    assert daily.run_daily_due(platform) >= 0
    with platform.uow() as uow:
        cursors = uow.monitoring.states([daily.daily_cursor("Europe/Berlin"), daily.DAILY_CURSOR])
    assert cursors[daily.daily_cursor("Europe/Berlin")]["day"] == today - 1  # Berlin's today is not over yet
    assert cursors[daily.DAILY_CURSOR]["day"] == today  # China's is


def test_a_factory_shut_down_for_its_declared_overhaul_raises_no_utilisation_drop(platform):
    """Looms idle for their last two days: an alarm, unless those days were declared a shutdown beforehand."""
    world = build_world(platform)
    today = local_day(platform.clock_ms())
    lines = [
        dict(l, device=d) for l in loom_days(today - 12, 12, "Asia/Shanghai", today - 2) for d in ("loom-01", "loom-02")
    ]
    ingest_lines(platform, lines, "bulk")
    calendars.add_periods(
        platform,
        None,
        world.factory,
        [
            {
                "kind": "shutdown",
                "start_ms": day_start_ms(today - 2, "Asia/Shanghai"),
                "end_ms": day_start_ms(today, "Asia/Shanghai"),
                "note": "检修停产",
            }
        ],
    )
    update_indicators(platform)
    daily.evaluate_daily(platform, today - 1)
    assert alarms(platform, "utilization_drop") == []
    with platform.uow() as uow:
        (period,) = uow.calendars.periods([world.factory])
        uow.calendars.delete_period(period["id"], platform.clock_ms())
        # the same shutdown declared by the borrower itself: its looms are bank-installed, so it takes nothing out
        uow.calendars.add_period(
            **{
                k: period[k]
                for k in ("enterprise_id", "site_id", "device_id", "kind", "start_ms", "end_ms", "note", "created_ms")
            },
            declared_by_enterprise=True,
        )
        uow.commit()
    daily.evaluate_daily(platform, today - 1)
    assert alarms(platform, "utilization_drop") == [f"enterprise:{world.factory}"]


def test_the_operator_imports_a_calendar_and_retires_a_meter_from_the_command_line(platform, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from wuxin.cli.main import app
    from wuxin.config import get_settings

    world = build_world(platform)
    monkeypatch.setenv("WUXIN_DATABASE_URL", platform.settings.database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        good = tmp_path / "calendar.csv"
        good.write_text(
            "kind,start,end,note,site_id,device\nshutdown,2026-02-14T00:00:00+08:00,2026-02-24T00:00:00+08:00,"
            "春节停产,,\nmaintenance,1790000000000,1790021600000,校表,,meter-01\n",
            encoding="utf-8",
        )
        result = runner.invoke(app, ["calendars", "import", str(world.factory), str(good)])
        assert result.exit_code == 0, result.output
        assert "'added': 2" in result.output
        bad = tmp_path / "bad.csv"
        bad.write_text(
            "kind,start,end\nvacation,2026-02-14T00:00:00+08:00,2026-02-15T00:00:00+08:00\n", encoding="utf-8"
        )
        result = runner.invoke(app, ["calendars", "import", str(world.factory), str(bad)])
        assert result.exit_code != 0 and "vacation" in str(result.exception)  # `wuxin` prints it as one error line
        result = runner.invoke(
            app, ["calendars", "service-dates", "meter-01", "--decommissioned", "2026-09-01T00:00:00+08:00"]
        )
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["calendars", "official", "2026-02-14", "2026-02-15"])
        assert "make-up" in result.output and "春节" in result.output
    finally:
        get_settings.cache_clear()
    with platform.uow() as uow:
        assert [p["kind"] for p in uow.calendars.periods([world.factory])] == ["shutdown", "maintenance"]
        assert uow.devices.by_key("meter-01")["decommissioned_ms"] == 1788192000000


def test_culled_cows_tags_do_not_count_as_a_herd_drop(platform):
    """Ten collars, three of them on culled cows (decommissioned) and silent: 7 of 7 in service report, no drop; the
    same three silent without a decommission date are 7 of 10, a drop."""
    import random as _random

    from wuxin.services.devices import registry
    from wuxin.sim.spec import make_uscc

    farm = registry.create_enterprise(
        platform,
        None,
        "和林格尔恒达牧业有限公司",
        make_uscc(_random.Random(11)),
        "dairy",
        "内蒙古自治区呼和浩特市和林格尔县",
    )
    for c in range(10):
        registry.register_device(platform, None, farm, f"collar-{c:02d}", "dairy.collar", "bank_installed")
    platform.clock.advance(DAY_MS)  # past each collar's first report window: only then does it count in the herd
    now = platform.clock_ms()
    ingest_lines(
        platform,
        [{"device": f"collar-{c:02d}", "ts": now - 60_000, "values": {"body_temp_c": 38.6}} for c in range(3, 10)],
        "bulk",
    )
    for c in range(3):
        calendars.set_service_dates(platform, None, f"collar-{c:02d}", None, now - DAY_MS)
    sweeps.sweep_herds(platform)
    assert alarms(platform, "herd_drop") == []
    for c in range(3):
        calendars.set_service_dates(platform, None, f"collar-{c:02d}", None, None)
    sweeps.sweep_herds(platform)
    assert alarms(platform, "herd_drop") == [f"enterprise:{farm}"]


def test_a_pv_plant_with_half_its_strings_in_declared_maintenance_raises_no_performance_alarm(platform):
    """The real SERF East days: the meter reads half from day 30 on. Declared as maintenance, nothing is raised; the
    same days undeclared at another plant raise the 7-day performance-ratio alarm."""
    import random as _random

    from tests.integration.test_alarms_pv_performance import START, _pv_alarms, _store_days
    from wuxin.bench import pv_real as B
    from wuxin.services.devices import registry
    from wuxin.sim.spec import make_uscc

    declared = registry.create_enterprise(
        platform, None, "青海检修光伏电站有限公司", make_uscc(_random.Random(7)), "energy", "青海省西宁市"
    )
    silent = registry.create_enterprise(
        platform, None, "青海未报光伏电站有限公司", make_uscc(_random.Random(8)), "energy", "青海省西宁市"
    )
    df, _ = B.serf_plant(0.92)
    halved = B.plant_days(df, 0.5, START)[:45]
    first = local_day(platform.clock_ms()) - 46
    _store_days(platform, declared, halved, first)
    _store_days(platform, silent, halved, first)
    calendars.add_periods(
        platform,
        None,
        declared,
        [
            {
                "kind": "maintenance",
                "start_ms": day_start_ms(first + START, "Asia/Shanghai"),
                "end_ms": day_start_ms(first + 45, "Asia/Shanghai"),
                "note": "组串更换",
            }
        ],
    )
    for day in range(first + START - 1, first + 45):
        daily.evaluate_daily(platform, day)
    raised = {(a["enterprise_id"], a["alarm_type"]) for a in _pv_alarms(platform)}
    assert raised == {(silent, "performance_ratio_out_of_band")}


def test_the_borrower_cannot_blind_the_banks_monitoring_with_a_declared_window(platform):
    """Review finding 1: the borrower declares only on its own enterprise_shared devices, ahead (not more than a day
    back), for at most 31 days of maintenance; its enterprise-wide window is listed to the consented bank and audited in
    full, and silences its own enterprise_shared loom but never the bank-installed one."""
    from wuxin.services.devices import registry

    world = build_world(platform)
    site = site_of(platform, world.factory)
    registry.register_device(
        platform,
        None,
        world.factory,
        "loom-09",
        "manufacturing.current_bracelet",
        "enterprise_shared",
        site,
        {"run_threshold_a": 5.0},
    )
    now = platform.clock_ms()
    window = {"kind": "maintenance", "start_ms": now, "end_ms": now + 30 * DAY_MS, "note": "全厂检修"}
    with TestClient(create_app(platform)) as client:
        url = f"/api/v1/enterprises/{world.factory}/calendar"
        owner, officer, integrator = login(client, "owner"), login(client, "officer"), login(client, "integrator")
        on_bank_device = client.post(url, json={**window, "device": "loom-01"}, headers=owner)
        assert on_bank_device.status_code == 403 and "bank_installed" in on_bank_device.text
        assert client.post(url, json={**window, "device": "loom-09"}, headers=owner).status_code == 201
        year = client.post(url, json={**window, "end_ms": now + 365 * DAY_MS}, headers=owner)
        assert year.status_code == 422 and "31 days" in year.text
        assert (
            client.post(
                url, json={**window, "kind": "shutdown", "end_ms": now + 62 * DAY_MS}, headers=owner
            ).status_code
            == 201
        )
        client.delete(f"{url}/{client.get(url, headers=owner).json()[-1]['id']}", headers=owner)
        backdated = client.post(
            url, json={**window, "start_ms": now - 2 * DAY_MS, "end_ms": now + DAY_MS}, headers=owner
        )
        assert backdated.status_code == 422 and "past" in backdated.text
        history = client.post(
            url, json={**window, "start_ms": now - 40 * DAY_MS, "end_ms": now - 39 * DAY_MS}, headers=integrator
        )
        assert history.status_code == 201 and history.json()["declared_by_enterprise"] is False  # the bank side may
        declared = client.post(url, json=window, headers=owner)
        assert declared.status_code == 201 and declared.json()["declared_by_enterprise"] is True
        seen = [
            p for p in client.get(url, headers=officer).json() if p["declared_by_enterprise"] and p["device"] is None
        ]
        assert [(p["start_ms"], p["end_ms"], p["note"]) for p in seen] == [(now, now + 30 * DAY_MS, "全厂检修")]
    with platform.uow() as uow:
        audit = next(e for e in uow.logs.audit_entries(20) if e["action"] == "calendar.add")
    assert audit["detail"]["periods"] == [
        {
            "id": declared.json()["id"],
            "kind": "maintenance",
            "start_ms": now,
            "end_ms": now + 30 * DAY_MS,
            "site_id": None,
            "device": None,
            "note": "全厂检修",
            "declared_by_enterprise": True,
        }
    ]
    ingest_lines(
        platform, [{"device": k, "ts": now, "values": {"current_a": 1.0}} for k in ("loom-01", "loom-09")], "http"
    )
    sweeps.sweep(platform)
    platform.clock.advance(15 * 60_000)  # past the bracelets' 600 s heartbeat, inside the declared window
    sweeps.sweep(platform)
    assert alarms(platform, "device_offline") == [
        "loom-01"
    ]  # the bank's loom still raises; the borrower's own does not


def test_a_deleted_period_stays_on_record_and_both_changes_are_audited_in_full(platform):
    """Review finding 9: deletion is soft (deleted_ms, deleted_by) and the audit holds the whole period."""
    world = build_world(platform)
    now = platform.clock_ms()
    with TestClient(create_app(platform)) as client:
        url = f"/api/v1/enterprises/{world.factory}/calendar"
        owner = login(client, "owner")
        made = client.post(
            url, json={"kind": "shutdown", "start_ms": now, "end_ms": now + DAY_MS, "note": "停电"}, headers=owner
        ).json()
        assert client.delete(f"{url}/{made['id']}", headers=owner).status_code == 204
        assert client.get(url, headers=owner).json() == []
        assert client.delete(f"{url}/{made['id']}", headers=owner).status_code == 404  # gone for the rules and the API
    with platform.engine.connect() as conn:
        row = conn.execute(select(calendar_periods).where(calendar_periods.c.id == made["id"])).mappings().one()
    assert (row["deleted_ms"], row["deleted_by"], row["note"]) == (now, world.users["owner"], "停电")
    with platform.uow() as uow:
        entry = next(e for e in uow.logs.audit_entries(20) if e["action"] == "calendar.delete")
    assert entry["detail"]["period"] == {
        "id": made["id"],
        "kind": "shutdown",
        "start_ms": now,
        "end_ms": now + DAY_MS,
        "site_id": None,
        "device": None,
        "note": "停电",
        "declared_by_enterprise": True,
    }


def test_a_calendar_import_checks_rights_first_and_stops_at_the_row_limit(platform):
    """Review findings 10 and 8: a caller who may not know the firm gets its 404 before any parsing; too many rows are
    refused naming the limit; a superscript site id is refused by name, not a crash."""
    world = build_world(platform)
    with TestClient(create_app(platform)) as client:
        url = f"/api/v1/enterprises/{world.factory}/calendar/import"
        csv_headers = {"content-type": "text/csv"}
        broken = b"kind,start,end\nvacation,nonsense,nonsense\n"
        assert client.post(url, content=broken, headers={**login(client, "other"), **csv_headers}).status_code == 404
        assert client.post(url, content=broken, headers={**login(client, "officer"), **csv_headers}).status_code == 403
        owner = {**login(client, "owner"), **csv_headers}
        many = client.post(url, content=("kind,start,end\n" + "x,1,2\n" * 5001).encode(), headers=owner)
        assert many.status_code == 422 and "more than 5000 rows" in many.text
        superscript = "kind,start,end,site_id\nholiday_extra,2026-10-08T00:00:00+08:00,2026-10-09T00:00:00+08:00,²\n"
        refused = client.post(url, content=superscript.encode(), headers=owner)
        assert refused.status_code == 422 and "'²'" in refused.json()["message"]


def test_a_site_zone_must_be_a_real_iana_zone_not_the_hosts(platform):
    """Review finding 13: `localtime` names the server's own zone file, not a place."""
    world = build_world(platform)
    site = site_of(platform, world.factory)
    with TestClient(create_app(platform)) as client:
        url = f"/api/v1/enterprises/{world.factory}/sites/{site}/timezone"
        owner = login(client, "owner")
        for name in ("localtime", "posixrules", "Factory"):
            refused = client.put(url, json={"timezone": name}, headers=owner)
            assert refused.status_code == 422 and name in refused.text
        assert client.put(url, json={"timezone": "Europe/Berlin"}, headers=owner).status_code == 200
