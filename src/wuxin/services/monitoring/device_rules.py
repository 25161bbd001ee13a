"""Daily per-device and per-machine rules judged against each device's own history (alerts/odometer.py,
alerts/machines.py, alerts/meters.py): the readings are loaded here, the verdicts are pure functions there."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from wuxin.alerts.engine import Signal
from wuxin.alerts.machines import DEFAULTS as MACHINE_DEFAULTS
from wuxin.alerts.machines import daily_hours, judge_machines
from wuxin.alerts.meters import DEFAULTS as METER_DEFAULTS
from wuxin.alerts.meters import judge_meter
from wuxin.alerts.odometer import DEFAULTS as ODOMETER_DEFAULTS
from wuxin.alerts.odometer import judge as judge_odometer
from wuxin.alerts.performance import explain as explain_ratio
from wuxin.alerts.pv_sky import day_profile, inverter_days, peer_check, sky_tracking, sky_words
from wuxin.alerts.rules import Rule
from wuxin.alerts.stock import DEFAULTS as LOT_DEFAULTS
from wuxin.alerts.stock import (
    FLOW_DEFAULTS,
    CameraTolerance,
    Flow,
    anchor_step,
    camera_tolerance,
    lot_positions,
    lot_step,
    readers_of,
    reconcile,
    source_words,
    unbooked_crossing,
)
from wuxin.calendars.periods import binding, excluded_days, makeup_workdays
from wuxin.indicators.days import DAY_MS, DEFAULT_ZONE, day_start_ms, local_day
from wuxin.services.bootstrap import default_rules, device_types_with
from wuxin.services.monitoring.alarms import apply_signals
from wuxin.services.monitoring.rule_cache import PLATFORM_SCOPE
from wuxin.store.rows import DeviceRow
from wuxin.store.uow import UnitOfWork

LOG = logging.getLogger(__name__)

LIMIT = 5_000_000


def device_zones(
    uow: UnitOfWork, enterprise_id: int, devices: Sequence[Mapping[str, Any]], enterprise_zone: str
) -> dict[int, str]:
    """{device id: the zone of its site's clock}: the site's `timezone`, else the enterprise's zone."""
    named: dict[int | None, str | None] = {s["id"]: s.get("timezone") for s in uow.enterprises.sites(enterprise_id)}
    return {d["id"]: named.get(d.get("site_id")) or enterprise_zone for d in devices}


def device_rule_signals(
    uow: UnitOfWork,
    day: int,
    now_ms: int,
    enterprises: Sequence[Mapping[str, Any]] | None = None,
    calendars: Mapping | None = None,
) -> list[Signal]:
    """Odometer, machine-idle, meter-balance and the PV sky rules for the local `day` (of each enterprise's own zone, with its
    calendar when `calendars` maps enterprise ids to monitoring.DayCalendar); a clear only where an alarm is open."""
    rules = [
        r
        for r in default_rules().values()
        if r.enabled and r.type in ("odometer", "machine_idle", "meter_balance", "sky_tracking", "inverter_peers")
    ]
    signals: list[Signal] = []
    enterprises = enterprises if enterprises is not None else uow.enterprises.list() if rules else []
    for enterprise in enterprises if rules else []:
        devices = uow.devices.list(enterprise["id"])
        calendar = (calendars or {}).get(enterprise["id"])
        zones = device_zones(uow, enterprise["id"], devices, calendar.zone if calendar is not None else DEFAULT_ZONE)
        for rule in rules:
            mine = [d for d in devices if rule.applies_to(d["device_type"])]
            if not mine:
                continue
            if rule.type == "odometer":
                signals += _odometer(uow, rule, enterprise["id"], mine, day, now_ms, zones)
            elif rule.type == "machine_idle":
                signals += _machines(uow, rule, enterprise["id"], mine, day, now_ms, calendar)
            elif rule.type == "sky_tracking":
                signals += _sky_tracking(uow, rule, enterprise["id"], mine, devices, day, now_ms, zones, calendar)
            elif rule.type == "inverter_peers":
                signals += _inverter_peers(uow, rule, enterprise["id"], mine, devices, day, now_ms, calendar)
            else:
                signals += _meters(uow, rule, enterprise["id"], mine, devices, day, now_ms, zones, calendar)
    return [
        s for s in signals if s.action == "raise" or uow.monitoring.open_alarm(s.scope, s.source, s.rule.alarm_type)
    ]


def _series(
    uow: UnitOfWork, device_ids: list[int], keys: set[str], from_ms: int, to_ms: int
) -> dict[int, dict[str, list]]:
    out: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for key in keys:
        for r in uow.telemetry.readings(device_ids, key, from_ms, to_ms, LIMIT):
            if r["num"] is not None:
                out[r["device_id"]][key].append((r["ts_ms"], float(r["num"])))
    return out


def _signal(
    action: str, rule: Rule, enterprise_id: int, device: Mapping[str, Any], now_ms: int, detail: dict
) -> Signal:
    return Signal(
        action,
        PLATFORM_SCOPE,
        rule,
        f"device:{device['id']}",
        enterprise_id,
        now_ms,
        {"device": device["key"], **detail},
        device["id"],
    )


def _odometer(
    uow,
    rule: Rule,
    enterprise_id: int,
    devices: Sequence[Mapping[str, Any]],
    day: int,
    now_ms: int,
    zones: Mapping[int, str] | None = None,
) -> list[Signal]:
    """Odometer rule on each vehicle for the local `day` of its site's zone (`zones`, default China)."""
    p = {**ODOMETER_DEFAULTS, **rule.params}
    key = p.get("odometer_key", "odometer_km")
    zone_of = {d["id"]: (zones or {}).get(d["id"], DEFAULT_ZONE) for d in devices}
    first = min(day_start_ms(day - int(p["history_days"]) - 1, z) for z in zone_of.values())
    last = max(day_start_ms(day + 1, z) for z in zone_of.values())
    data = _series(uow, [d["id"] for d in devices], {key, "lat", "lon"}, first, last)
    out = []
    for d in devices:
        start = day_start_ms(day, zone_of[d["id"]])
        series = data.get(d["id"], {})
        lat, lon = dict(series.get("lat", [])), series.get("lon", [])
        track = [(ts, lat[ts], v) for ts, v in lon if ts in lat]
        odometer = series.get(key, [])
        if not odometer:
            continue
        verdict = judge_odometer(odometer, track, start, p, zone_of[d["id"]])
        if verdict:
            out.append(
                _signal("raise", rule, enterprise_id, d, now_ms, {"day": day, "timezone": zone_of[d["id"]], **verdict})
            )
    return out


def _machines(
    uow, rule: Rule, enterprise_id: int, devices: Sequence[Mapping[str, Any]], day: int, now_ms: int, calendar=None
) -> list[Signal]:
    """Machine idle: days cut in the enterprise's zone; each machine's declared periods (binding as for its source
    mode) and, with `official_calendar`, PRC holidays out of its baseline; make-up working days judged."""
    p = {**MACHINE_DEFAULTS, **rule.params}
    key, attr = p.get("current_key", "current_a"), p.get("run_attr", "run_threshold_a")
    zone = calendar.zone if calendar is not None else DEFAULT_ZONE
    first = day - int(p["history_days"])
    data = _series(uow, [d["id"] for d in devices], {key}, day_start_ms(first, zone), day_start_ms(day + 1, zone))
    official = bool(p.get("official_calendar", False))
    hours, excluded = {}, {}
    for d in devices:
        threshold = (d.get("attributes") or {}).get(attr)
        if isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and data.get(d["id"]):
            hours[d["id"]] = daily_hours(
                data[d["id"]][key],
                float(threshold),
                first,
                day,
                lambda n: day_start_ms(n, zone),
                int(p["max_gap_s"] * 1000),
            )
            periods = binding(calendar.periods, d["source_mode"] != "enterprise_shared") if calendar is not None else []
            excluded[d["id"]] = excluded_days(range(first, day + 1), zone, periods, official, d["id"], d.get("site_id"))
    workdays = makeup_workdays(range(first, day + 1)) if official else frozenset()
    by_id = {d["id"]: d for d in devices}
    return [
        _signal(v.pop("action"), rule, enterprise_id, by_id[device], now_ms, v)
        for device, v in judge_machines(hours, day, p, excluded, workdays).items()
    ]


def _meters(
    uow,
    rule: Rule,
    enterprise_id: int,
    meters: list[DeviceRow],
    devices: Sequence[Mapping[str, Any]],
    day: int,
    now_ms: int,
    zones: Mapping[int, str] | None = None,
    calendar=None,
) -> list[Signal]:
    """Meter balance on each meter for the local `day` of the meter's site zone (`zones`, default China); PRC
    holidays (not make-up working days) and the declared periods binding the meter are its closed days. A verdict
    "unjudged" (an unphysical fit) is logged with its reason, not raised."""
    p = {**METER_DEFAULTS, **rule.params}
    kinds = (
        {p["machine_device_type"]} if p.get("machine_device_type") else device_types_with("measures_machine_current")
    )
    machines = [d for d in devices if d["device_type"] in kinds]
    if not machines:
        return []
    first = day - int(p["history_days"])
    ids = [d["id"] for d in meters + machines]
    zone_of = {d["id"]: (zones or {}).get(d["id"], DEFAULT_ZONE) for d in meters}
    data = _series(
        uow,
        ids,
        {p["energy_key"], p["current_key"]},
        min(day_start_ms(first, z) for z in zone_of.values()) - DAY_MS,
        max(day_start_ms(day + 1, z) for z in zone_of.values()),
    )
    out = []
    for meter in meters:
        fed = [m for m in machines if _feeds(meter, m)]
        if not fed:
            continue
        zone = zone_of[meter["id"]]
        periods = (
            binding(calendar.periods, meter.get("source_mode") != "enterprise_shared") if calendar is not None else []
        )
        shut = excluded_days(range(first, day + 1), zone, periods, True, meter["id"], meter.get("site_id"))
        working = makeup_workdays(range(first, day + 1))
        closed = [day_start_ms(d, zone) for d in shut if d not in working]
        verdict = judge_meter(
            data.get(meter["id"], {}).get(p["energy_key"], []),
            {m["id"]: (data.get(m["id"], {}).get(p["current_key"], []), m.get("attributes") or {}) for m in fed},
            meter.get("attributes") or {},
            [day_start_ms(d, zone) for d in range(first, day + 1)],
            p,
            [day_start_ms(d + 1, zone) for d in range(first, day + 1)],
            closed,
        )
        if verdict and verdict["action"] == "unjudged":
            LOG.info("meter %s day %s not judged: %s", meter["key"], day, verdict["reason"]["en"])
        elif verdict:
            out.append(
                _signal(
                    verdict.pop("action"), rule, enterprise_id, meter, now_ms, {"day": day, "timezone": zone, **verdict}
                )
            )
    return out


def _station_of(inverter: Mapping[str, Any], stations: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The weather station measuring the inverter's sky: the one on its site, else the enterprise's only one."""
    same = [s for s in stations if s.get("site_id") is not None and s.get("site_id") == inverter.get("site_id")]
    return same[0] if same else stations[0] if len(stations) == 1 else None


def _days_off(calendar, device: Mapping[str, Any], days: range, zone: str) -> set[int]:
    """The device's declared shutdown and maintenance days (binding as for its source mode): not judged, not learnt."""
    if calendar is None:
        return set()
    periods = binding(calendar.periods, device.get("source_mode") != "enterprise_shared")
    return set(excluded_days(days, zone, periods, False, device["id"], device.get("site_id")))


def _sky_tracking(
    uow,
    rule: Rule,
    enterprise_id: int,
    inverters: Sequence[Mapping[str, Any]],
    devices: Sequence[Mapping[str, Any]],
    day: int,
    now_ms: int,
    zones: Mapping[int, str],
    calendar=None,
) -> list[Signal]:
    """Sky tracking on each inverter for the local `day` of its site (alerts/pv_sky.sky_tracking): its power's
    quarter-hours against its station's measured irradiance (plane-of-array, else GHI), judged against its own
    earlier days. Raise only, as the other fabricated-data tests."""
    p = rule.params
    stations = [d for d in devices if d["device_type"] == p["sky_device_type"]]
    first = day - int(p.get("history_days", 28))
    out = []
    for inv in inverters:
        station = _station_of(inv, stations)
        if station is None:
            continue
        zone = zones.get(inv["id"], DEFAULT_ZONE)
        days = range(first, day + 1)
        off = _days_off(calendar, inv, days, zone)
        if day in off:
            continue
        data = _series(
            uow,
            [inv["id"], station["id"]],
            {p["power_key"], *p["sky_keys"]},
            day_start_ms(first, zone),
            day_start_ms(day + 1, zone),
        )
        sky_key = next((k for k in p["sky_keys"] if data.get(station["id"], {}).get(k)), None)
        if sky_key is None:
            continue
        power = {d: day_profile(data[inv["id"]][p["power_key"]], day_start_ms(d, zone)) for d in days if d not in off}
        sky = {d: day_profile(data[station["id"]][sky_key], day_start_ms(d, zone)) for d in days if d not in off}
        band = {k: p[k] for k in ("z", "min_history_days", "min_sky_wm2", "min_bins", "min_spread") if k in p}
        check = sky_tracking(power, sky, day, **band)
        if check is not None and check.fabricated:
            out.append(
                _signal(
                    "raise",
                    rule,
                    enterprise_id,
                    inv,
                    now_ms,
                    {
                        "day": day,
                        "timezone": zone,
                        "key": p["power_key"],
                        "test": "sky_tracking",
                        "sky": f"{station['key']}:{sky_key}",
                        "decorrelation": round(check.decorrelation, 4),
                        "score": round(check.score, 4),
                        "threshold": round(check.threshold, 4),
                        "history_days": check.history_days,
                        "best_other_day": check.best_other_day,
                        "best_other_decorrelation": round(check.best_other_decorrelation, 4),
                        "threshold_from": sky_words(check, float(p.get("z", 3.72))),
                    },
                )
            )
    return out


def _inverter_peers(
    uow,
    rule: Rule,
    enterprise_id: int,
    inverters: Sequence[Mapping[str, Any]],
    devices: Sequence[Mapping[str, Any]],
    day: int,
    now_ms: int,
    calendar=None,
) -> list[Signal]:
    """Each inverter of a site with two or more against the site's others and its kWp share of the site's pvlib
    expectation (alerts/pv_sky.peer_check), on the daily indicators; raise when both agree it left its own band,
    clear when it is back inside."""
    p = rule.params
    first = day - int(p.get("history_days", 400))
    measured, expected = _split(uow, enterprise_id, first, day, p)
    zone = calendar.zone if calendar is not None else DEFAULT_ZONE
    stations = [d for d in devices if d["device_type"] == p["sky_device_type"]]
    out = []
    for site in {i.get("site_id") for i in inverters}:
        here = [i for i in inverters if i.get("site_id") == site and _kwp(i) > 0]
        station = _station_of(here[0], stations) if here else None
        if len(here) < 2 or station is None:
            continue
        site_kwp = sum(_kwp(i) for i in here)
        for inv in here:
            others = [o for o in here if o["id"] != inv["id"]]
            off = _days_off(calendar, inv, range(first, day + 1), zone)
            if day in off:
                continue
            own = {d: v for d, v in measured.get(inv["id"], {}).items() if d not in off}
            by_peer, by_physics = inverter_days(
                own,
                [measured.get(o["id"], {}) for o in others],
                _kwp(inv),
                [_kwp(o) for o in others],
                expected.get(station["id"], {}),
                site_kwp,
            )
            band = {
                k: p[k] for k in ("window_days", "baseline_days", "min_expected_kwh", "max_rise", "max_drop") if k in p
            }
            check = peer_check(by_peer, by_physics, day, **band)
            if check is None:
                continue
            detail = {
                "day": day,
                "against_peers": explain_ratio(check.against_peers),
                "against_physics": explain_ratio(check.against_physics),
                "peers": len(others),
                "threshold_from": _peer_words(check, len(others)),
            }
            if check.direction is not None:
                out.append(_signal("raise", rule, enterprise_id, inv, now_ms, {**detail, "direction": check.direction}))
            elif check.against_peers.direction is None and check.against_physics.direction is None:
                out.append(_signal("clear", rule, enterprise_id, inv, now_ms, detail))
    return out


def _kwp(inverter: Mapping[str, Any]) -> float:
    value = (inverter.get("attributes") or {}).get("capacity_kwp")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _split(uow, enterprise_id: int, first: int, day: int, p: Mapping) -> tuple[dict, dict]:
    """({device: {day: measured kWh}}, {device: {day: expected kWh}}) of the enterprise's daily device indicators."""
    measured: dict[int, dict[int, float]] = defaultdict(dict)
    expected: dict[int, dict[int, float]] = defaultdict(dict)
    for r in uow.indicators.enterprise_device_values(enterprise_id, first, day, [p["measured"], p["expected"]]):
        (measured if r["indicator"] == p["measured"] else expected)[r["device_id"]][r["day"]] = float(r["value"])
    return measured, expected


def _peer_words(check, peers: int) -> dict[str, str]:
    a, b = check.against_peers, check.against_physics
    return {
        "en": f"{a.window_days}-day kWh against {peers} other inverter(s) of the site per kWp (ratio {a.ratio:.3f}, "
        f"own baseline {a.baseline_pr:.3f}, band {a.low:.3f}-{a.high:.3f}) and against its kWp share of the "
        f"station's pvlib expectation (ratio {b.ratio:.3f}, band {b.low:.3f}-{b.high:.3f}); raised only when "
        f"both leave their band the same way",
        "zh": f"{a.window_days}天发电量按千瓦峰值对照本站其他{peers}台逆变器(比值{a.ratio:.3f}, 自身基线{a.baseline_pr:.3f}, "
        f"区间{a.low:.3f}-{a.high:.3f}), 并对照按容量分摊的本站pvlib理论发电量(比值{b.ratio:.3f}, 区间"
        f"{b.low:.3f}-{b.high:.3f}); 两者同向越界才告警",
    }


def _feeds(meter: Mapping[str, Any], machine: Mapping[str, Any]) -> bool:
    """The meter measures the machine: the machine's `meter_id` names the meter's, or the machine names none and the
    meter is the enterprise's only one (checked by the caller's list)."""
    named = (machine.get("attributes") or {}).get("meter_id")
    return named is None or named == (meter.get("attributes") or {}).get("meter_id")


def sweep_lots(platform) -> int:
    """Lot-stock rules on each enterprise's RFID readers: the whole pledged lot's stock against its pledge, with its
    gate cameras' counts and its WMS bookings reconciled in; the scenario's lot_unbooked rule beside it."""

    now_ms = platform.clock_ms()
    rules = [r for r in default_rules().values() if r.type == "lot_stock" and r.enabled]
    unbooked = {r.scenario: r for r in default_rules().values() if r.type == "lot_unbooked" and r.enabled}
    signals: list[Signal] = []
    with platform.uow() as uow:
        for enterprise in uow.enterprises.list() if rules else []:
            devices = uow.devices.list(enterprise["id"])
            for rule in rules:
                mine = [d for d in devices if rule.applies_to(d["device_type"])]
                if mine:
                    signals += lot_signals(
                        uow, rule, enterprise["id"], mine, now_ms, devices, unbooked.get(rule.scenario)
                    )
        apply_signals(platform, uow, signals, now_ms)
        uow.commit()
    return len(signals)


def lot_signals(
    uow: UnitOfWork,
    rule: Rule,
    enterprise_id: int,
    devices: list[dict],
    now_ms: int,
    everything: list[dict] | None = None,
    unbooked_rule: Rule | None = None,
) -> list[Signal]:
    p = {**LOT_DEFAULTS, **FLOW_DEFAULTS, **rule.params}
    readers = readers_of(devices, p["lot_attr"], p["value_attr"], p["lot_value_attr"])
    fresh = {
        d["id"]
        for d in (everything or devices)
        if d.get("last_seen_ms") is not None and now_ms - d["last_seen_ms"] <= p["fresh_s"] * 1000
    }
    points = uow.monitoring.latest_points([r.id for r in readers], p["key"], now_ms)
    latest = {device: value for device, (_, value) in points.items() if value is not None}
    positions = lot_positions(readers, latest, fresh)
    keys = {lot: (PLATFORM_SCOPE, rule.id, f"lot:{enterprise_id}:{lot}"[:60]) for lot in positions}
    states = uow.monitoring.states(keys.values())
    zones: dict[int, str | None] = {
        d["id"]: (d.get("attributes") or {}).get(p.get("zone_attr", "zone_id")) for d in devices
    }
    changed, out = {}, []
    wms_rows = _wms_rows(uow, enterprise_id, int(p.get("wms_feed_days", 30)), now_ms) if positions else []
    for lot, position in positions.items():
        state = dict(states.get(keys[lot]) or {})
        before = dict(state)
        rfid = position["stock"]
        lot_zones = {zones[r] for r in position["readers"]} - {None}
        read_ms: dict[str, int] = {}
        for r in position["readers"]:
            zone = zones[r]
            if r in points and zone is not None:
                read_ms[zone] = min(read_ms.get(zone, points[r][0]), points[r][0])
        anchor = anchor_step(state, rfid, True, now_ms, p["anchor_s"], read_ms)  # only set when there is none yet
        learnt = _camera_tolerances(uow, p, lot, lot_zones, everything or [], position["readers"], zones, state, now_ms)
        flows = _lot_flows(p, lot, lot_zones, everything or [], fresh, anchor, now_ms, uow, wms_rows, learnt)
        reconciled = reconcile(rfid, anchor, flows)
        camera = next((f for f in flows if f.source == "camera"), None)
        if reconciled is not None:
            reconciled["camera_tolerance"] = (
                camera.tolerance if camera else p["flow_tolerance"],
                {c["key"]: learnt[c["id"]] for c in everything or [] if c["id"] in learnt},
            )
        judged = {**position, "stock": reconciled["stock"] if reconciled else None}
        action = lot_step(judged, state, now_ms, int(p["duration_s"] * 1000))
        # renewed for the next sweep only once judged at or above the pledge: a drop seen by a flow keeps its anchor
        anchor_step(
            state, rfid, judged["stock"] is None or judged["stock"] < judged["pledged"], now_ms, p["anchor_s"], read_ms
        )
        if action:
            detail = _lot_detail(lot, judged, state, before, reconciled, p)
            out.append(Signal(action, PLATFORM_SCOPE, rule, keys[lot][2], enterprise_id, now_ms, detail))
        if unbooked_rule is not None and reconciled is not None:
            out += _unbooked_step(
                unbooked_rule,
                enterprise_id,
                keys[lot][2],
                lot,
                judged,
                anchor,
                next((f for f in flows if f.source == "wms"), None),
                state,
                now_ms,
                reconciled,
                p,
                _feed_delay_ms(wms_rows),
            )
        if state != before:
            changed[keys[lot]] = state
    uow.monitoring.save_states(changed, now_ms)
    return out


def _lot_detail(lot: str, judged: dict, state: dict, before: dict, reconciled: dict | None, p: dict) -> dict:
    n = len(judged["readers"])
    detail = {
        "lot": lot,
        "stock_units": judged["stock"],
        "pledged_units": judged["pledged"],
        "readers": n,
        "since_ms": state.get("since", before.get("since")),
        "threshold_from": {
            "en": "the pledge set on the lot"
            if judged["declared_on_lot"]
            else f"the sum of the pledged shares of the lot's {n} readers",
            "zh": "质押合同约定的整批数量" if judged["declared_on_lot"] else f"该批货{n}个读写器质押份额之和",
        },
    }
    if reconciled:
        detail.update(
            stock_set_by=reconciled["set_by"],
            sources=reconciled["sources"],
            disagree=reconciled["disagree"],
            stock_from=source_words(reconciled, *reconciled["camera_tolerance"]),
        )
    return detail


def _unbooked_step(
    rule: Rule,
    enterprise_id: int,
    source: str,
    lot: str,
    judged: dict,
    anchor,
    wms,
    state: dict,
    now_ms: int,
    reconciled: dict,
    p: dict,
    feed_delay_ms: int = 0,
) -> list[Signal]:
    """The lot under its pledge while its bookings say it holds the pledge, for the grace a late booking has to
    arrive (`booking_grace_s`, or the feed's own longest interval between imports over `wms_feed_days`, whichever
    is longer: a WMS imported once a day gets a day): raise; the books covering the drop again, or the lot
    back, clears."""
    declared_ms = int({**FLOW_DEFAULTS, **rule.params}["booking_grace_s"] * 1000)
    grace_ms = max(declared_ms, feed_delay_ms)
    why = (
        {"en": "the WMS feed's own longest interval between imports", "zh": "该WMS数据自身最长导入间隔"}
        if feed_delay_ms > declared_ms
        else {"en": "the declared allowance", "zh": "规则设定的补记账宽限"}
    )
    crossing = unbooked_crossing(judged["stock"], judged["pledged"], anchor, wms)
    if crossing is None:
        state.pop("unbooked_since", None)
        if state.pop("unbooked_raised", False):
            return [Signal("clear", PLATFORM_SCOPE, rule, source, enterprise_id, now_ms, {"lot": lot})]
        return []
    since = state.setdefault("unbooked_since", now_ms)
    if state.get("unbooked_raised") or now_ms - since < grace_ms:
        return []
    state["unbooked_raised"] = True
    detail = {
        "lot": lot,
        "stock_units": judged["stock"],
        "pledged_units": judged["pledged"],
        "since_ms": since,
        **crossing,
        "stock_from": source_words(reconciled, *reconciled["camera_tolerance"]),
        "threshold_from": {
            "en": f"the lot's pledge ({judged['pledged']:g}) against its own WMS bookings since the RFID anchor "
            f"({crossing['anchor_units']:g} + in - out = {crossing['booked_stock_units']:g}): the books hold "
            f"the pledge, the goods do not, {grace_ms // 60000} min after ({why['en']} for a late booking)",
            "zh": f"质押数量({judged['pledged']:g})对照该批自身WMS记账(RFID锚点{crossing['anchor_units']:g}+入库-出库"
            f"={crossing['booked_stock_units']:g}):账面仍足额而实物不足,已超过{grace_ms // 60000}分钟"
            f"({why['zh']})",
        },
    }
    return [Signal("raise", PLATFORM_SCOPE, rule, source, enterprise_id, now_ms, detail)]


def _lot_cameras(p: dict, lot: str, lot_zones: set, everything: list[dict]) -> list[dict]:
    kinds = {p["camera_device_type"]} if p.get("camera_device_type") else device_types_with("counts_goods_out")
    return [
        d
        for d in everything
        if d["device_type"] in kinds
        and (
            (d.get("attributes") or {}).get("zone_id") in lot_zones
            or (d.get("attributes") or {}).get(p["lot_attr"]) == lot
        )
    ]


def _camera_tolerances(
    uow: UnitOfWork,
    p: dict,
    lot: str,
    lot_zones: set,
    everything: list[dict],
    readers: list[int],
    zones: Mapping[int, str | None],
    state: dict,
    now_ms: int,
) -> dict[int, CameraTolerance]:
    """Each gate camera's own counting error (alerts/stock.camera_tolerance) over its last `tolerance_days` China days:
    its net count against its zone's RFID stock change, day by day (a zone with several gates: their sum, shared).
    Learnt once a day and kept in the lot's state."""
    cams = _lot_cameras(p, lot, lot_zones, everything) if lot_zones else []
    today = int(local_day(now_ms))
    kept = state.get("camera_tolerance") or {}
    if kept.get("day") == today and set(kept.get("by_camera", {})) == {str(c["id"]) for c in cams}:
        return {int(k): CameraTolerance(*v) for k, v in kept["by_camera"].items()}
    days = range(today - int(p["tolerance_days"]), today)
    starts = [day_start_ms(d, DEFAULT_ZONE) for d in days] + [day_start_ms(today, DEFAULT_ZONE)]
    zone_of: dict[int, str | None] = {c["id"]: (c.get("attributes") or {}).get("zone_id") for c in cams}
    counts = _series(uow, [c["id"] for c in cams], {"count_in", "count_out"}, starts[0], starts[-1]) if cams else {}
    tags = _series(uow, readers, {p["key"]}, starts[0] - DAY_MS, starts[-1]) if cams else {}
    per_zone: dict[str | None, list[tuple[float, float, float]]] = {}  # a camera of no zone learns from nothing
    for z in {z for z in zone_of.values() if z is not None}:
        mine = [c for c in cams if zone_of[c["id"]] == z]
        held = [tags.get(r, {}).get(p["key"], []) for r in readers if zones.get(r) == z]
        rows = []
        for a, b in zip(starts, starts[1:]):
            moved_in = sum(v for c in mine for ts, v in counts.get(c["id"], {}).get("count_in", []) if a <= ts < b)
            moved_out = sum(v for c in mine for ts, v in counts.get(c["id"], {}).get("count_out", []) if a <= ts < b)
            before, after = _held_at(held, a), _held_at(held, b)
            if held and before is not None and after is not None and moved_in + moved_out > 0:
                rows.append((moved_in - moved_out, after - before, moved_in + moved_out))
        per_zone[z] = rows
    learnt = {
        c["id"]: camera_tolerance(
            per_zone.get(zone_of[c["id"]], []),
            float(p["flow_tolerance"]),
            int(p["min_tolerance_days"]),
            float(p["tolerance_z"]),
        )
        for c in cams
    }
    state["camera_tolerance"] = {
        "day": today,
        "by_camera": {str(k): [v.share, v.days, v.basis] for k, v in learnt.items()},
    }
    return learnt


def _held_at(series_by_reader: list[list[tuple[int, float]]], ts_ms: int) -> float | None:
    """The zone's stock at `ts_ms`: each reader's last count before it, summed; None when a reader has none."""
    total = 0.0
    for series in series_by_reader:
        before = [v for t, v in series if t < ts_ms]
        if not before:
            return None
        total += before[-1]
    return total


def _lot_flows(
    p: dict,
    lot: str,
    lot_zones: set,
    everything: list[dict],
    fresh: set[int],
    anchor,
    now_ms: int,
    uow: UnitOfWork,
    wms_rows: list[dict],
    learnt: Mapping[int, CameraTolerance] | None = None,
) -> list[Flow]:
    """The lot's camera and WMS flows since the anchor; a source is left out when it does not cover the whole lot
    (a zone without a fresh camera, a camera silent since the anchor; no WMS booking naming the lot or its zones in
    `wms_feed_days`)."""
    if anchor is None or not lot_zones:
        return []
    flows = [
        _camera_flow(uow, p, lot, lot_zones, everything, fresh, anchor, now_ms, learnt or {}),
        _wms_flow(wms_rows, lot, lot_zones, anchor, now_ms),
    ]
    return [f for f in flows if f is not None]


def _camera_flow(
    uow,
    p: dict,
    lot: str,
    lot_zones: set,
    everything: list[dict],
    fresh: set[int],
    anchor,
    now_ms: int,
    learnt: Mapping[int, CameraTolerance],
) -> Flow | None:
    """The cameras' counts since the anchor, credited the blend of each camera's own tolerance weighted by the units
    it counted (the declared `flow_tolerance` for a camera with too few days of its own)."""
    cams = _lot_cameras(p, lot, lot_zones, everything)
    if not lot_zones <= {(c.get("attributes") or {}).get("zone_id") for c in cams} or not all(
        c["id"] in fresh for c in cams
    ):
        return None
    ids = [c["id"] for c in cams]
    since = {
        c["id"]: (anchor.get("zones") or {}).get((c.get("attributes") or {}).get("zone_id"), anchor["ts_ms"])
        for c in cams
    }  # each zone's flows from when its readers were read
    units = {"count_in": 0.0, "count_out": 0.0}
    moved: dict[int, float] = defaultdict(float)
    first: dict[int, int] = {}
    for key in units:
        for r in uow.telemetry.readings(ids, key, min(since.values()) + 1, now_ms + 1, LIMIT):
            if r["ts_ms"] > since[r["device_id"]]:
                first[r["device_id"]] = min(first.get(r["device_id"], r["ts_ms"]), r["ts_ms"])
                units[key] += float(r["num"] or 0)
                moved[r["device_id"]] += float(r["num"] or 0)
    if now_ms - anchor["ts_ms"] > p["fresh_s"] * 1000 and not all(
        c in first and first[c] - anchor["ts_ms"] <= p["fresh_s"] * 1000 for c in ids
    ):
        return None  # a camera silent since the anchor: its counts are unknown, never zero
    declared = float(p["flow_tolerance"])
    share = {c: learnt[c].share if c in learnt else declared for c in ids}
    total = sum(moved.values())
    tolerance = (
        sum(share[c] * moved[c] for c in ids) / total if total > 0 else (max(share.values()) if share else declared)
    )
    return Flow("camera", units["count_in"], units["count_out"], round(tolerance, 4))


def _wms_rows(uow: UnitOfWork, enterprise_id: int, feed_days: int, now_ms: int) -> list[dict]:
    """The enterprise's shared WMS movements of the last `feed_days` (a bank's own import stays its own), with their
    time and their import's time in ms."""
    today = local_day(now_ms)
    rows = uow.credit.shared_records_between(enterprise_id, "wms_movements", today - feed_days, today + 1)
    return [
        {
            **r["data"],
            "ts_ms": int(dt.datetime.fromisoformat(r["data"]["ts"]).timestamp() * 1000),
            "imported_ms": r["created_ms"],
        }
        for r in rows
    ]


def _feed_delay_ms(rows: list[dict]) -> int:
    """How long a booking may wait to reach the platform: the WMS feed's own longest interval between two consecutive
    imports over the window (a movement just after one import arrives with the next; a month's back-fill does not
    count as a delay). 0 with fewer than two imports."""
    imports = sorted({r["imported_ms"] for r in rows})
    return max((b - a for a, b in zip(imports, imports[1:])), default=0)


def _wms_flow(rows: list[dict], lot: str, lot_zones: set, anchor, now_ms: int) -> Flow | None:
    mine = [m for m in rows if m.get("lot_id") == lot or (not m.get("lot_id") and m.get("zone_id") in lot_zones)]
    if not mine:
        return None  # no booking feed for this lot: bookings unknown, never zero
    moved = {"in": 0.0, "out": 0.0}
    for m in mine:
        if anchor["ts_ms"] < m["ts_ms"] <= now_ms:
            moved[m["direction"]] += float(m["quantity"])
    return Flow("wms", moved["in"], moved["out"], 0.0)
