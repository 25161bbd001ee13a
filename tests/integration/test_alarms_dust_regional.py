"""A site's dust through the platform: readings ingested, judged on the sweep against the median of the other
construction sites' monitors in the same region (regional haze raises every site and no alarm; one site's works
raise its own), and a site alone in its region judged by the fixed limit in working hours only. Peers count only
when their firms consented to every bank reading the judged firm's alarms."""

from __future__ import annotations

import random

from wuxin.indicators.days import HOUR_MS
from wuxin.services.access import consent, identity
from wuxin.services.devices import registry
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.services.monitoring import sweeps
from wuxin.sim.spec import make_uscc

STEP_MS = 600_000
REGION = "上海市浦东新区"
ALONE = "四川省成都市双流区"


def alarms(platform) -> list[tuple[str, str]]:
    with platform.uow() as uow:
        rows = uow.monitoring.list_alarms(None, None, None, None, 1000)
        keys = {d["id"]: d["key"] for e in uow.enterprises.list() for d in uow.devices.list(e["id"])}
    return sorted((keys.get(r["device_id"]), r["status"]) for r in rows if r["alarm_type"] == "dust")


def sites(platform, regions=(REGION,) * 4 + (ALONE,), consenting=None) -> list[int]:
    """One firm and monitor env-<s> per region given; each firm in `consenting` (default: all) grants one bank."""
    rng = random.Random(5)
    bank = identity.create_tenant(platform, "浦东农商银行", "bank")
    firms = []
    for s, region in enumerate(regions):
        firm = registry.create_enterprise(
            platform, None, f"上海建工第{s}工程有限公司", make_uscc(rng), "construction", region
        )
        registry.register_device(platform, None, firm, f"env-{s}", "construction.env_monitor", "bank_installed")
        if consenting is None or s in consenting:
            consent.grant(
                platform, None, firm, bank, "all", [], "credit monitoring", platform.clock_ms() + 30 * 24 * HOUR_MS
            )
        firms.append(firm)
    return firms


def china_midnight(platform) -> int:
    return platform.clock_ms() // (24 * HOUR_MS) * (24 * HOUR_MS) - 8 * HOUR_MS


def feed(platform, start: int, hours: int, pm10, sites: int = 5) -> None:
    """10-min PM10 readings of every site, swept every 10 min as they come in."""
    for i in range(hours * HOUR_MS // STEP_MS):
        ts = start + i * STEP_MS
        platform.clock.now_ms = ts + 60_000
        lines = [{"device": f"env-{s}", "ts": ts, "values": {"pm10_ugm3": pm10(s, i)}} for s in range(sites)]
        assert not ingest_lines(platform, lines, "bulk").rejections
        sweeps.sweep_regional_excess(platform)


def test_haze_over_the_region_raises_nothing_and_one_sites_own_dust_does(platform):
    sites(platform)
    midnight = china_midnight(platform)
    feed(platform, midnight + 1 * HOUR_MS, 4, lambda s, i: 230.0 + 5 * s)  # night haze, 01:00-05:00, 230-250
    assert alarms(platform) == []  # the region's sites are each within 80 of their peers; env-4 alone is idle at night
    feed(
        platform,
        midnight + 9 * HOUR_MS,
        3,
        lambda s, i: 150.0 + (100.0 if s == 1 and i >= 3 else 0.0) + (50.0 if s == 4 else 0.0),
    )
    assert alarms(platform) == [
        ("env-1", "active"),
        ("env-4", "active"),
    ]  # env-1: 250 over 150; env-4: 200 over the fixed 150 by day
    with platform.uow() as uow:
        details = {a["device_id"]: a["detail"] for a in uow.monitoring.list_alarms(None, None, None, None, 10)}
        keys = {d["id"]: d["key"] for e in uow.enterprises.list() for d in uow.devices.list(e["id"])}
    by_key = {keys[i]: d for i, d in details.items()}
    assert by_key["env-1"]["judged_by"] == "regional_background" and by_key["env-1"]["background"] == 150.0
    assert by_key["env-1"]["peers"] == 3 and "margin of 80" in by_key["env-1"]["threshold_from"]["en"]
    assert by_key["env-4"]["judged_by"] == "fallback_working_hours" and by_key["env-4"]["peers"] == 0
    assert "固定限值150" in by_key["env-4"]["threshold_from"]["zh"]
    feed(platform, midnight + 12 * HOUR_MS, 1, lambda s, i: 60.0)
    assert alarms(platform) == [("env-1", "cleared"), ("env-4", "cleared")]


def test_a_peer_whose_firm_never_consented_to_the_reading_bank_does_not_enter_the_background(platform):
    """env-1's bank holds consent from env-0, env-2 and env-3's firms, not from env-4..6's (another bank's borrowers,
    working hard at 300). Their readings must not pull the background up: 250 against 150 + 80 raises; with them
    counted the median of six peers would be 225 and 250 would pass."""
    sites(platform, (REGION,) * 7, consenting={0, 1, 2, 3})
    feed(
        platform,
        china_midnight(platform) + 9 * HOUR_MS,
        2,
        lambda s, i: 250.0 if s == 1 else 300.0 if s >= 4 else 150.0,
        sites=7,
    )
    with platform.uow() as uow:
        keys = {d["id"]: d["key"] for e in uow.enterprises.list() for d in uow.devices.list(e["id"])}
        details = {
            keys[a["device_id"]]: a["detail"]
            for a in uow.monitoring.list_alarms(None, None, None, None, 10)
            if a["alarm_type"] == "dust"
        }
    assert details["env-1"]["background"] == 150.0 and details["env-1"]["peers"] == 3
    assert "consented to every bank" in details["env-1"]["threshold_from"]["en"]
    # env-4..6: nobody reads their alarms, so no peer's consent can be relied on: the fallback alone (300 > 150)
    assert {details[k]["judged_by"] for k in ("env-4", "env-5", "env-6")} == {"fallback_working_hours"}
    assert {details[k]["peers"] for k in ("env-4", "env-5", "env-6")} == {0}


def test_a_peer_must_have_consented_to_every_bank_that_reads_the_alarm(platform):
    """Two banks read env-0's alarms; env-3's firm consented to one of them only, so env-0 has two peers, too few for a
    background: judged by the fixed limit (by day, 200 > 150), not against the region."""
    firms = sites(platform, (REGION,) * 4)
    second = identity.create_tenant(platform, "上海银行", "bank")
    for firm in firms[:3]:
        consent.grant(
            platform, None, firm, second, "all", [], "credit monitoring", platform.clock_ms() + 30 * 24 * HOUR_MS
        )
    feed(platform, china_midnight(platform) + 9 * HOUR_MS, 2, lambda s, i: 200.0, sites=4)
    with platform.uow() as uow:
        keys = {d["id"]: d["key"] for e in uow.enterprises.list() for d in uow.devices.list(e["id"])}
        details = {
            keys[a["device_id"]]: a["detail"]
            for a in uow.monitoring.list_alarms(None, None, None, None, 10)
            if a["alarm_type"] == "dust"
        }
    assert details["env-0"]["judged_by"] == "fallback_working_hours" and details["env-0"]["peers"] == 2
    assert "env-3" not in details  # read by the first bank only, whose consent covers all three others: 200 - 200 < 80
