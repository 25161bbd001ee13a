"""Indicators as use cases: the incremental update (dirty device-days only), and reading values,
the readings behind them, industry indexes and percentiles under the platform's access rules."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from wuxin.bootstrap import Platform
from wuxin.domain.model import BANK_ROLES, Role
from wuxin.errors import Denied, InvalidInput, NotFound
from wuxin.indicators.days import (
    DEFAULT_ZONE,
    day_iso,
    day_start_ms,
    day_window,
    day_zone,
    month_days,
    month_iso,
    month_of_day,
)
from wuxin.indicators.declare import GroupIndicator, Indicator, IndicatorPack
from wuxin.indicators.engine import aggregate_enterprise_day, aggregate_month, compute_device_days, compute_group_days
from wuxin.indicators.index import distribution, percentile_rank
from wuxin.indicators.planner import index_groups, plan_update
from wuxin.indicators.series import DeviceDays, Events, Series
from wuxin.security.policy import (
    Principal,
    enterprise_not_found,
    readable_device_keys,
    require_can_see_enterprise,
    require_role,
    valid_consents,
)
from wuxin.services.access.data_access import log_access
from wuxin.services.bootstrap import indicator_packs, pack_for_device_type
from wuxin.services.console.timeline import record_run_slots
from wuxin.services.devices.calendars import zoned_devices
from wuxin.services.devices.registry import consent_views
from wuxin.store.uow import UnitOfWork

BATCH_DEVICE_DAYS = 5000
MAX_EVIDENCE_ROWS = 20_000
MAX_RANGE_DAYS = 366
INDEX_ROLES = (Role.PLATFORM_ADMIN, Role.REGULATOR, *BANK_ROLES)


@dataclass
class UpdateSummary:
    device_days: int = 0
    enterprise_days: int = 0
    enterprise_months: int = 0
    index_groups: int = 0
    points: int = 0  # readings and events read
    seconds: float = 0.0
    batches: int = 0
    timings: dict = field(default_factory=dict)

    def public(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "timings"} | {
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()}
        }


# ---------------------------------------------------------------- the incremental update


_one_update = threading.Lock()  # one update at a time in a process: the serve job, the daily rules, an API call


def update_indicators(
    platform: Platform, batch_device_days: int = BATCH_DEVICE_DAYS, max_batches: int | None = None
) -> UpdateSummary:
    """Recompute the dirty device-days, then the enterprise days, months and industry indexes they
    touch; each batch is one transaction that also clears the marks it saw (a mark renewed by a
    point stored meanwhile survives for the next run)."""
    with _one_update:
        return _update(platform, batch_device_days, max_batches)


@dataclass
class CatchUp:
    """One bounded run of the indicators job: what it recomputed, and the dirty device-days still waiting."""

    summary: UpdateSummary
    backlog_device_days: int


def catch_up(platform: Platform, max_device_days: int) -> CatchUp:
    """The periodic job of `wuxin serve`: at most `max_device_days` dirty device-days (one batch, in device
    and day order) with their enterprise days, months and index days, so a large backlog is caught up
    over several runs instead of one that holds the database for an hour."""
    summary = update_indicators(platform, batch_device_days=max_device_days, max_batches=1)
    with platform.uow() as uow:
        backlog = uow.indicators.count_dirty()
    platform.metrics.indicators_backlog.set(backlog)
    return CatchUp(summary, backlog)


def _update(platform: Platform, batch_device_days: int, max_batches: int | None) -> UpdateSummary:
    summary = UpdateSummary()
    started = time.perf_counter()
    while max_batches is None or summary.batches < max_batches:
        with platform.uow() as uow:
            dirty = uow.indicators.dirty(batch_device_days)
            if not dirty:
                break
            _update_batch(platform, uow, dirty, summary)
            uow.indicators.clear_dirty(dirty)
            uow.commit()
        summary.batches += 1
    summary.seconds = time.perf_counter() - started
    return summary


def _tick(summary: UpdateSummary, name: str, since: float) -> float:
    now = time.perf_counter()
    summary.timings[name] = summary.timings.get(name, 0.0) + now - since
    return now


def _update_batch(platform: Platform, uow, dirty: list[tuple[int, int, int]], summary: UpdateSummary) -> None:
    now_ms = platform.clock_ms()
    t = time.perf_counter()
    devices = {d["id"]: d for d in uow.indicators.devices({d for d, _, _ in dirty})}
    marks = uow.retention.marks()  # days whose raw readings retention deleted keep their values (late points too)
    kept = [
        (d, day)
        for d, day, _ in dirty
        if d in devices and day_start_ms(day) >= marks.get(devices[d]["enterprise_id"], {}).get("raw_before_ms", 0)
    ]
    plan = plan_update(kept, {d: row["enterprise_id"] for d, row in devices.items()})
    fleet = _fleet(uow, {e for e, _ in plan.enterprise_days})
    zones = zoned_devices(platform, uow)
    for device_id, runs in plan.device_runs.items():
        device = devices[device_id]
        pack = pack_for_device_type(device["device_type"])
        if pack is None:  # no pack computes this device type's indicators
            continue
        decls = pack.for_type(device["device_type"])
        for first, last in runs if decls else ():
            with day_zone(zones.get(device_id)):  # the device's days are its site's local days
                data = load_device_days(
                    uow, device, np.arange(first, last + 1), fleet[device["enterprise_id"]], now_ms, pack, decls
                )
                rows = compute_device_days(decls, data)
                uow.indicators.put_device_days(device_id, device["enterprise_id"], rows, now_ms)
                record_run_slots(uow, device, data, now_ms)  # the console's equipment timeline read model
            summary.device_days += last - first + 1
            summary.points += sum(len(s) for s in data.series.values()) + sum(len(e) for e in data.events.values())
    t = _tick(summary, "device_days", t)
    peers = uow.indicators.peer_groups({e for e, _ in plan.enterprise_days})
    for enterprise_id, day in sorted(plan.enterprise_days):
        with day_zone(next((zones[d["id"]] for d in fleet[enterprise_id] if d["id"] in zones), None)):
            _update_enterprise_day(
                uow, enterprise_id, day, peers.get(enterprise_id, ("", ""))[0], fleet[enterprise_id], now_ms
            )
    summary.enterprise_days += len(plan.enterprise_days)
    t = _tick(summary, "enterprise_days", t)
    for enterprise_id, month in sorted(plan.enterprise_months):
        _update_month(uow, enterprise_id, month, peers.get(enterprise_id, ("", ""))[0], now_ms)
    summary.enterprise_months += len(plan.enterprise_months)
    t = _tick(summary, "enterprise_months", t)
    groups = index_groups(plan.enterprise_days, peers)
    for scenario, region, day in sorted(groups):
        _update_index(uow, scenario, region, day, now_ms)
    summary.index_groups += len(groups)
    _tick(summary, "index", t)


def _fleet(uow, enterprise_ids: set[int]) -> dict[int, list[dict]]:
    fleet: dict[int, list[dict]] = {e: [] for e in enterprise_ids}
    for row in uow.indicators.enterprise_devices(enterprise_ids):
        fleet[row["enterprise_id"]].append(row)
    return fleet


def load_device_days(
    uow, device: dict, days: np.ndarray, siblings: list[dict], now_ms: int, pack: IndicatorPack, decls
) -> DeviceDays:
    """Read one device's declared inputs over the days and the look-back before them."""
    numeric, text, event_names = pack.inputs(device["device_type"], decls)
    from_ms, to_ms = day_window(int(days[0]), int(days[-1]))
    series = {
        k: Series(ts, num)
        for k, (ts, num) in uow.indicators.numeric_series(device["id"], sorted(numeric), from_ms, to_ms).items()
    }
    for key, rows in uow.indicators.text_series(device["id"], sorted(text), from_ms, to_ms).items():
        series[key] = Series(
            np.array([r[0] for r in rows], dtype=np.int64),
            np.array([np.nan if r[1] is None else r[1] for r in rows]),
            np.array([r[2] for r in rows], dtype=object),
        )
    grouped: dict[str, list] = {}
    for name, ts, params in uow.indicators.events(device["id"], sorted(event_names), from_ms, to_ms):
        grouped.setdefault(name, []).append((ts, orjson.loads(params)))
    return DeviceDays(
        device["key"],
        device["device_type"],
        device["attributes"] or {},
        days,
        series,
        {n: Events.of(p) for n, p in grouped.items()},
        tuple((s["device_type"], s["attributes"] or {}) for s in siblings),
        now_ms,
    )


def _update_enterprise_day(uow, enterprise_id: int, day: int, scenario: str, devices: list[dict], now_ms: int) -> None:
    pack = indicator_packs().get(scenario)
    if pack is None:
        return
    per_type: dict[str, int] = {}
    for d in devices:
        per_type[d["device_type"]] = per_type.get(d["device_type"], 0) + 1
    values = [
        (r["device_type"], r["indicator"], r["value"], r["quality"])
        for r in uow.indicators.device_values_of_day(enterprise_id, day)
    ]
    groups = {
        g.name: _group_value(uow, g, pack, day, devices, now_ms) for g in pack.groups if per_type.get(g.device_type)
    }
    rows = aggregate_enterprise_day(pack, values, per_type, groups)
    uow.indicators.put_enterprise_day(enterprise_id, day, rows, now_ms)


def _group_value(uow, decl: GroupIndicator, pack: IndicatorPack, day: int, devices: list[dict], now_ms: int):
    members = [
        load_device_days(uow, d, np.array([day]), devices, now_ms, pack, [decl])
        for d in devices
        if d["device_type"] == decl.device_type
    ]
    row = compute_group_days(decl, members)[0]
    return row.value, row.quality


def _update_month(uow, enterprise_id: int, month: int, scenario: str, now_ms: int) -> None:
    pack = indicator_packs().get(scenario)
    if pack is None:
        return
    days = month_days(month)
    by_name: dict[str, list] = {}
    for r in uow.indicators.enterprise_days(enterprise_id, days.start, days.stop - 1):
        by_name.setdefault(r["indicator"], []).append((r["day"], r["value"], r["quality"]))
    uow.indicators.put_enterprise_month(enterprise_id, month, aggregate_month(pack, month, by_name, now_ms), now_ms)


def _update_index(uow, scenario: str, region: str, day: int, now_ms: int) -> None:
    pack = indicator_packs().get(scenario)
    rows = []
    for name in pack.index if pack else ():
        dist = distribution([r["value"] for r in uow.indicators.peer_values(scenario, region, day, name)])
        if dist is not None:
            rows.append(
                dict(
                    indicator=name,
                    enterprises=dist.enterprises,
                    p25=dist.p25,
                    median=dist.median,
                    p75=dist.p75,
                    mean=dist.mean,
                )
            )
    uow.indicators.put_index(scenario, region, day, rows, now_ms)


def mark_all_dirty(platform: Platform, enterprise_ids: list[int] | None, from_day: int, to_day: int) -> int:
    """Mark every device-day of a range stale (after changing a declaration, or a first run)."""
    with platform.uow() as uow:
        devices = (
            uow.devices.list() if enterprise_ids is None else [d for e in enterprise_ids for d in uow.devices.list(e)]
        )
        pairs = [(d["id"], day) for d in devices for day in range(from_day, to_day + 1)]
        uow.indicators.mark_dirty(pairs, platform.clock_ms())
        uow.commit()
    return len(pairs)


# ---------------------------------------------------------------- reading


def catalog() -> list[dict]:
    """Every declared indicator: name, unit, labels, where it comes from, how it aggregates."""
    out = []
    for scenario, pack in sorted(indicator_packs().items()):
        for decl in pack.all():
            out.append(
                {
                    "scenario": scenario,
                    "name": decl.name,
                    "unit": decl.unit,
                    "label": decl.label,
                    "level": "device"
                    if isinstance(decl, Indicator)
                    else "enterprise"
                    if isinstance(decl, GroupIndicator)
                    else "derived",
                    "device_type": getattr(decl, "device_type", None),
                    "properties": list(getattr(decl, "properties", ())),
                    "events": list(getattr(decl, "events", ())),
                    "aggregation": getattr(decl, "aggregation", None),
                    "inputs": list(getattr(decl, "inputs", ())),
                    "month": decl.month_method,
                    "index": decl.name in pack.index,
                }
            )
    return out


def _check_range(from_day: int, to_day: int) -> None:
    if to_day < from_day or to_day - from_day > MAX_RANGE_DAYS:
        raise InvalidInput(
            f"day range {day_iso(from_day)}..{day_iso(to_day)} must be ascending and at most {MAX_RANGE_DAYS} days"
        )


def _readable(platform: Platform, uow, principal: Principal, enterprise_id: int):
    enterprise = uow.enterprises.get(enterprise_id)
    if enterprise is None:
        raise enterprise_not_found(enterprise_id)
    devices = uow.devices.list(enterprise_id)
    consents = consent_views(uow.consents.for_enterprise(enterprise_id))
    readable, consent_id = readable_device_keys(
        principal, enterprise_id, [(d["key"], d["device_type"]) for d in devices], consents, platform.clock_ms()
    )
    return enterprise, devices, readable, consent_id


def _value_view(row: Mapping[str, Any], unit: str | None) -> dict:
    return {"indicator": row["indicator"], "value": row["value"], "unit": unit, "quality": row["quality"]}


def _units(scenario: str) -> dict[str, str]:
    pack = indicator_packs().get(scenario)
    return {d.name: d.unit for d in pack.all()} if pack else {}


def enterprise_indicators(
    platform: Platform,
    principal: Principal | None,
    enterprise_id: int,
    from_day: int,
    to_day: int,
    period: str = "day",
    names: list[str] | None = None,
) -> dict:
    """Enterprise values by day or month; they stand on all its devices, so the consent must cover them all."""
    _check_range(from_day, to_day)
    if period not in ("day", "month"):
        raise InvalidInput(f"period {period!r} is not day or month")
    with platform.uow() as uow:
        if principal is None:  # the local operator at the command line, who owns the database
            enterprise, consent_id = uow.enterprises.get(enterprise_id), None
            if enterprise is None:
                raise enterprise_not_found(enterprise_id)
        else:
            enterprise, devices, readable, consent_id = _readable(platform, uow, principal, enterprise_id)
            hidden = [d["key"] for d in devices if d["key"] not in readable]
            if hidden:
                raise Denied(
                    f"enterprise indicators of {enterprise_id} stand on {len(hidden)} device(s) your consent does not cover"
                )
        rows = _enterprise_values(uow, period, enterprise_id, from_day, to_day, names)
        if principal is not None:
            log_access(
                platform, uow, principal, enterprise_id, None, f"indicators.enterprise_{period}", consent_id, len(rows)
            )
        uow.commit()
    units = _units(enterprise["industry"])
    key = "day" if period == "day" else "month"
    label = day_iso if period == "day" else month_iso
    values = [
        {
            key: label(r[key]),
            **_value_view(r, units.get(r["indicator"])),
            ("devices" if key == "day" else "days"): r["devices" if key == "day" else "days"],
        }
        for r in rows
    ]
    return {
        "enterprise_id": enterprise_id,
        "scenario": enterprise["industry"],
        "period": period,
        "values": values,
        "note": "a day or indicator not listed is unknown (no data), never zero",
    }


def _enterprise_values(
    uow: UnitOfWork, period: str, enterprise_id: int, from_day: int, to_day: int, names: Sequence[str] | None
) -> Sequence[Mapping[str, Any]]:
    """The enterprise's day rows, or its month rows (read by the period's own keys)."""
    if period == "day":
        return uow.indicators.enterprise_days(enterprise_id, from_day, to_day, names)
    return uow.indicators.enterprise_months(enterprise_id, month_of_day(from_day), month_of_day(to_day), names)


def enterprise_figure(platform: Platform, principal: Principal, enterprise_id: int, indicator: str, day: int) -> dict:
    """One enterprise value of a day and the device values behind it, each linking to its readings."""
    with platform.uow() as uow:
        enterprise, devices, readable, consent_id = _readable(platform, uow, principal, enterprise_id)
        if any(d["key"] not in readable for d in devices):
            raise Denied(f"enterprise indicators of {enterprise_id} stand on devices your consent does not cover")
        figure = next((r for r in uow.indicators.enterprise_days(enterprise_id, day, day, [indicator])), None)
        behind = [r for r in uow.indicators.device_values_of_day(enterprise_id, day) if r["indicator"] == indicator]
        log_access(platform, uow, principal, enterprise_id, None, "indicators.figure", consent_id, len(behind) + 1)
        uow.commit()
    if figure is None:
        raise NotFound(f"no value of {indicator!r} for enterprise {enterprise_id} on {day_iso(day)}")
    units = _units(enterprise["industry"])
    return {
        "enterprise_id": enterprise_id,
        "day": day_iso(day),
        **_value_view(figure, units.get(indicator)),
        "devices": [
            {
                "device": r["key"],
                "device_type": r["device_type"],
                "value": r["value"],
                "quality": r["quality"],
                "points": r["points"],
                "readings": f"/api/v1/enterprises/{enterprise_id}/devices/{r['key']}/indicators/{indicator}/{day_iso(day)}/readings",
            }
            for r in behind
        ],
    }


def device_indicators(
    platform: Platform, principal: Principal, enterprise_id: int, device_key: str, from_day: int, to_day: int
) -> dict:
    _check_range(from_day, to_day)
    with platform.uow() as uow:
        enterprise, device, consent_id = _readable_device(platform, uow, principal, enterprise_id, device_key)
        rows = uow.indicators.device_days(device["id"], from_day, to_day)
        log_access(platform, uow, principal, enterprise_id, device["id"], "indicators.device", consent_id, len(rows))
        uow.commit()
    units = _units(enterprise["industry"])
    return {
        "enterprise_id": enterprise_id,
        "device": device_key,
        "values": [
            {"day": day_iso(r["day"]), **_value_view(r, units.get(r["indicator"])), "points": r["points"]} for r in rows
        ],
    }


def _readable_device(platform: Platform, uow, principal: Principal, enterprise_id: int, device_key: str):
    enterprise, devices, readable, consent_id = _readable(platform, uow, principal, enterprise_id)
    device = next((d for d in devices if d["key"] == device_key and d["key"] in readable), None)
    if device is None:  # a device outside the consent gets the answer of a missing one
        raise NotFound(f"device {device_key!r} is not a device of enterprise {enterprise_id}")
    return enterprise, device, consent_id


def readings_behind(
    platform: Platform, principal: Principal, enterprise_id: int, device_key: str, indicator: str, day: int
) -> dict:
    """The device-day value and every reading and event its computation read (the day and the
    look-back hour before it), under the same consent as raw telemetry, logged."""
    with platform.uow() as uow:
        enterprise, device, consent_id = _readable_device(platform, uow, principal, enterprise_id, device_key)
        pack = indicator_packs().get(enterprise["industry"]) or pack_for_device_type(device["device_type"])
        decl = pack.get(indicator) if pack else None
        if decl is None or getattr(decl, "device_type", None) != device["device_type"]:
            raise NotFound(f"indicator {indicator!r} is not computed for {device['device_type']} devices")
        value = next((r for r in uow.indicators.device_days(device["id"], day, day, [indicator])), None)
        zone = zoned_devices(platform, uow).get(device["id"], DEFAULT_ZONE)
        with day_zone(zone):
            from_ms, to_ms = day_window(day, day)
        keys = (*decl.properties, *decl.text_properties)
        readings = [
            r
            for k in sorted(set(keys))
            for r in uow.telemetry.readings([device["id"]], k, from_ms, to_ms, MAX_EVIDENCE_ROWS)
        ]
        events = [
            e
            for e in uow.telemetry.events([device["id"]], from_ms, to_ms, MAX_EVIDENCE_ROWS)
            if e["name"] in decl.events
        ]
        log_access(
            platform,
            uow,
            principal,
            enterprise_id,
            device["id"],
            "indicators.readings",
            consent_id,
            len(readings) + len(events),
        )
        uow.commit()
    return {
        "enterprise_id": enterprise_id,
        "device": device_key,
        "day": day_iso(day),
        "indicator": indicator,
        "unit": decl.unit,
        "value": value["value"] if value else None,
        "quality": value["quality"] if value else "unknown",
        "window": {
            "from_ms": from_ms,
            "to_ms": to_ms,
            "timezone": zone,
            "note": f"the local day ({zone}) and the look-back hour before it",
        },
        "readings": [
            {
                "key": r["key"],
                "ts": r["ts_ms"],
                "value": r["txt"] if r["txt"] is not None else r["num"],
                "batch_id": r["batch_id"],
            }
            for r in readings
        ],
        "events": [
            {"event": e["name"], "ts": e["ts_ms"], "params": orjson.loads(e["params"]), "batch_id": e["batch_id"]}
            for e in events
        ],
    }


def industry_index(
    platform: Platform,
    principal: Principal | None,
    scenario: str | None,
    region: str | None,
    indicator: str | None,
    from_day: int,
    to_day: int,
) -> dict:
    """Published peer-group distributions (aggregate: any bank, regulator or admin user; None is
    the local operator at the command line)."""
    if principal is not None:
        require_role(principal, *INDEX_ROLES)
    _check_range(from_day, to_day)
    with platform.uow() as uow:
        rows = uow.indicators.index(scenario, region, indicator, from_day, to_day)
    return {
        "min_enterprises": 5,
        "values": [
            {
                "scenario": r["scenario"],
                "region": r["region"],
                "day": day_iso(r["day"]),
                "indicator": r["indicator"],
                "unit": _units(r["scenario"]).get(r["indicator"]),
                "enterprises": r["enterprises"],
                "p25": r["p25"],
                "median": r["median"],
                "p75": r["p75"],
                "mean": r["mean"],
            }
            for r in rows
        ],
    }


def enterprise_percentile(
    platform: Platform, principal: Principal, enterprise_id: int, indicator: str, day: int
) -> dict:
    """Where the enterprise stands among its peers (same scenario and region) that day, 0-100."""
    with platform.uow() as uow:
        enterprise = uow.enterprises.get(enterprise_id)
        if enterprise is None:
            raise enterprise_not_found(enterprise_id)
        consents, now_ms = consent_views(uow.consents.for_enterprise(enterprise_id)), platform.clock_ms()
        require_can_see_enterprise(principal, enterprise_id, consents, now_ms)
        pack = indicator_packs().get(enterprise["industry"])
        if pack is None or indicator not in pack.index:
            raise NotFound(f"{indicator!r} is not an industry-index indicator of {enterprise['industry']}")
        peers = uow.indicators.peer_values(enterprise["industry"], enterprise["region"], day, indicator)
        if principal.role is not Role.PLATFORM_ADMIN:  # a bank reads under its consent: the owner's log says which
            live = valid_consents(consents, principal.tenant_id, now_ms) if principal.tenant_id is not None else []
            consent_id = live[0].id if live else None
            log_access(platform, uow, principal, enterprise_id, None, "indicators.percentile", consent_id, 1)
        uow.commit()
    mine = next((r["value"] for r in peers if r["enterprise_id"] == enterprise_id), None)
    rank = percentile_rank(mine, [r["value"] for r in peers]) if mine is not None else None
    reason = (
        None
        if rank is not None
        else ("no complete value that day" if mine is None else "fewer than 5 peers: not published")
    )
    return {
        "enterprise_id": enterprise_id,
        "scenario": enterprise["industry"],
        "region": enterprise["region"],
        "day": day_iso(day),
        "indicator": indicator,
        "value": mine,
        "peers": len(peers) if rank is not None else None,
        "percentile": rank,
        "reason": reason,
    }
