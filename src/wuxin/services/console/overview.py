"""Read models for the web console: portfolio summary and trend, map points, bank tenants.

Every read goes through the same consent checks as the API's own reads (data_access), so the
console shows exactly what the principal may see, and each read is written to the access log.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from wuxin.bootstrap import Platform
from wuxin.domain.model import Role, TenantKind
from wuxin.errors import Denied, InvalidInput, NotFound
from wuxin.indicators.days import day_iso, day_start_ms, local_day, parse_day
from wuxin.security.policy import Principal, require_role
from wuxin.services import indicators
from wuxin.services.access import data_access
from wuxin.services.console.timeline import is_machine
from wuxin.services.devices import registry
from wuxin.services.monitoring import alarms as monitoring
from wuxin.store.rows import EnterpriseRow


def portfolio(platform: Platform, principal: Principal) -> dict:
    """The visible enterprises with their device counts by connectivity, and the sites."""
    rows = []
    for enterprise in registry.visible_enterprises(platform, principal):
        devices = _devices_or_none(platform, principal, enterprise["id"])
        counts = {"online": 0, "offline": 0, "unknown": 0}
        for d in devices or []:
            counts[d["connectivity"]] += 1
        summary: dict[str, Any] = {k: enterprise[k] for k in ("id", "name", "uscc", "industry", "region")}
        rows.append(
            summary
            | {
                "devices": None if devices is None else len(devices),
                "connectivity": counts,
                "machines": sum(1 for d in devices or [] if is_machine(platform, d)),
            }
        )
    return {"enterprises": rows, "as_of_ms": platform.clock_ms()}


MAX_TREND_DAYS = 90


def portfolio_trend(platform: Platform, principal: Principal, days: int = 30) -> dict:
    """Per local day of the last `days`: each scenario's first industry-index indicator as the
    median over the visible enterprises whose consent covers it, and the alarms raised and open."""
    from wuxin.services.bootstrap import indicator_packs

    if not 1 <= days <= MAX_TREND_DAYS:
        raise InvalidInput(f"trend days {days} is not between 1 and {MAX_TREND_DAYS}")
    last_day = local_day(platform.clock_ms())
    day_list = list(range(last_day - days + 1, last_day + 1))
    per_scenario: dict[str, dict[int, list[float]]] = {}
    hidden = 0
    for enterprise in registry.visible_enterprises(platform, principal):
        pack = indicator_packs().get(enterprise["industry"])
        if pack is None or not pack.index:
            continue
        try:
            values = indicators.enterprise_indicators(
                platform, principal, enterprise["id"], day_list[0], last_day, "day", [pack.index[0]]
            )
        except (
            Denied,
            NotFound,
        ):  # consent narrowed (or just ended) to part of the devices: the aggregate would mislead
            hidden += 1
            continue
        by_day = per_scenario.setdefault(enterprise["industry"], {})
        for v in values["values"]:
            if v["value"] is not None and v["day"] != day_iso(last_day):  # today is still open: a partial day would dip
                by_day.setdefault(parse_day(v["day"]), []).append(v["value"])
    scenarios = [
        {
            "scenario": sc,
            "indicator": indicator_packs()[sc].index[0],
            "median": [_median(by_day.get(d)) for d in day_list],
            "enterprises": [len(by_day.get(d, ())) for d in day_list],
        }
        for sc, by_day in sorted(per_scenario.items())
    ]
    return {
        "days": [day_iso(d) for d in day_list],
        "scenarios": scenarios,
        "hidden_enterprises": hidden,
        "alarms": _alarm_trend(platform, principal, day_list),
    }


def _median(values: list[float] | None) -> float | None:
    return float(np.median(values)) if values else None


def _alarm_trend(platform: Platform, principal: Principal, day_list: list[int]) -> dict | None:
    """Alarms raised each day and open at each day's end (None where the role reads no alarms)."""
    try:
        spans = monitoring.alarm_spans(platform, principal, day_start_ms(day_list[0]), day_start_ms(day_list[-1] + 1))
    except Denied:
        return None
    ends = [day_start_ms(d + 1) for d in day_list]
    return {
        "raised": [
            sum(1 for started, _ in spans if day_start_ms(d) <= started < end) for d, end in zip(day_list, ends)
        ],
        "open": [
            sum(1 for started, cleared in spans if started < end and (cleared is None or cleared >= end))
            for end in ends
        ],
    }


def _devices_or_none(platform: Platform, principal: Principal, enterprise_id: int) -> list[dict] | None:
    try:
        return data_access.list_devices(platform, principal, enterprise_id)
    except (Denied, NotFound):  # the admin sees every enterprise but reads devices only under consent
        return None


def map_points(platform: Platform, principal: Principal) -> dict:
    """Sites of the visible enterprises, and each readable vehicle's last reported position."""
    sites, vehicles = [], []
    for enterprise in registry.visible_enterprises(platform, principal):
        profile = registry.enterprise_profile(platform, principal, enterprise["id"])
        sites += [
            {
                "enterprise_id": enterprise["id"],
                "enterprise": enterprise["name"],
                "industry": enterprise["industry"],
                "name": s["name"],
                "region": s["region"],
                "lat": s["lat"],
                "lon": s["lon"],
            }
            for s in profile["sites"]
            if s["lat"] is not None and s["lon"] is not None
        ]
        vehicles += _vehicles(platform, principal, enterprise)
    return {"sites": sites, "vehicles": vehicles}


def _vehicles(platform: Platform, principal: Principal, enterprise: EnterpriseRow) -> list[dict]:
    out = []
    for device in _devices_or_none(platform, principal, enterprise["id"]) or []:
        model = platform.thing_models.get(device["device_type"])
        if model is None or not {"lat", "lon"} <= set(model.properties) or device["last_seen_ms"] is None:
            continue
        seen = device["last_seen_ms"]
        data = data_access.read_telemetry(
            platform, principal, enterprise["id"], device["key"], None, seen - 600_000, seen + 1, 10_000
        )
        position = _last_position(data["readings"])
        if position:
            out.append(
                {
                    "enterprise_id": enterprise["id"],
                    "enterprise": enterprise["name"],
                    "key": device["key"],
                    "plate": (device["attributes"] or {}).get("plate"),
                    "connectivity": device["connectivity"],
                    **position,
                }
            )
    return out


def _last_position(readings: list[dict]) -> dict | None:
    latest: dict[str, tuple[int, float]] = {}
    for r in readings:
        if r["key"] in ("lat", "lon", "speed_kmh") and (r["key"] not in latest or r["ts"] >= latest[r["key"]][0]):
            latest[r["key"]] = (r["ts"], r["value"])
    if "lat" not in latest or "lon" not in latest:
        return None
    return {
        "lat": latest["lat"][1],
        "lon": latest["lon"][1],
        "ts": latest["lat"][0],
        "speed_kmh": latest.get("speed_kmh", (None, None))[1],
    }


def consent_tenants(platform: Platform, principal: Principal) -> list[dict]:
    """Tenants that can receive a consent (banks and operators), for an enterprise's grant form."""
    require_role(principal, Role.ENTERPRISE_USER, Role.PLATFORM_ADMIN)
    with platform.uow() as uow:
        return [
            {"id": t["id"], "name": t["name"], "kind": t["kind"]}
            for t in uow.identity.list_tenants()
            if t["kind"] != TenantKind.REGULATOR
        ]
