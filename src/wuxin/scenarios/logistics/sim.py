"""Logistics simulator: warehouses holding pledged goods, watched from several sides.

Trucks arrive during working hours to deliver (in) or collect (out) goods; each truck is
weighed on the weighbridge on arrival and departure, and its units are counted by the AI
camera at the zone gate while it is (un)loaded. RFID readers count the tags present in the
zone; the lidar scanner measures the stock's volume; the alarm host guards the fence.
`wms_movements` gives the same movements as the warehouse system books them, so the
counts can be reconciled. Latent health drives the net flow: growing firms stock up,
declining ones draw down, failing ones sell pledged goods off the books at night (the
camera raises unauthorised_out and the fence alarm may trip).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from wuxin.sim import patterns as P
from wuxin.sim.spec import DeviceSpec, EnterpriseSpec, SiteSpec, make_uscc

DEFAULT_INTERVALS_S = {"logistics.gate_camera": 900, "logistics.rfid_reader": 900, "logistics.volume_scanner": 3600}


@dataclass(frozen=True)
class Sku:
    name: str
    unit_kg: float
    unit_m3: float
    per_truck: tuple[int, int]
    stock: tuple[int, int]
    value_cny: float


SKUS = (
    Sku("轮胎-205/55R16", 9.0, 0.045, (300, 700), (15000, 40000), 380.0),
    Sku("轮胎-295/80R22.5", 62.0, 0.25, (60, 140), (2000, 6000), 1900.0),
    Sku("热轧卷板-Q235", 22000.0, 4.5, (1, 2), (80, 300), 83000.0),
    Sku("电解铜-1#", 2500.0, 0.28, (8, 14), (100, 400), 180000.0),
    Sku("棉花-3128B(包)", 227.0, 0.9, (100, 150), (3000, 9000), 3400.0),
    Sku("白酒-53度(箱)", 9.5, 0.02, (400, 900), (8000, 30000), 1200.0),
)
PLACES = (
    P.Place("上海市嘉定区", "上海嘉定", 31.375, 121.266, "310114"),
    P.Place("上海市浦东新区", "上海浦东", 31.108, 121.805, "310115"),
    P.Place("江苏省苏州市太仓市", "太仓", 31.457, 121.130, "320585"),
    P.Place("江苏省苏州市相城区", "苏州相城", 31.396, 120.637, "320507"),
    P.Place("江苏省无锡市惠山区", "无锡惠山", 31.681, 120.298, "320206"),
)
PLATE_HEADS = ("沪A", "沪D", "苏E", "苏B", "浙F", "皖A", "鲁Q")
WORKING_FLOOR = 1.25  # firms keep stock at least this many times the pledged quantity in normal trade
UNLOAD_MS = 45 * P.MINUTE_MS  # a truck's units are in (or out of) the zone this long after it arrives


def pledged_units(enterprise: EnterpriseSpec, zone_id: str) -> int:
    """The quantity of a zone's goods pledged to the lender (a contract fact: from the enterprise and zone alone)."""
    lo = sku_of_zone(zone_id).stock[0]
    return max(1, round(lo * random.Random(f"pledge|{enterprise.uscc}|{zone_id}").uniform(0.55, 0.75)))


def _zone_devices(enterprise: EnterpriseSpec, cameras: list[DeviceSpec]) -> list[DeviceSpec]:
    """The chosen zone's devices and the weighbridge: all whose lines extra truck movements change."""
    zones = {d.attributes["zone_id"] for d in cameras}
    return [
        d
        for d in enterprise.devices
        if d.attributes.get("zone_id") in zones or d.device_type == "logistics.weighbridge"
    ]


def _outbound_facts(
    rng: random.Random, enterprise: EnterpriseSpec, cameras: list[DeviceSpec], start_ms: int, end_ms: int
) -> dict:
    """1-3 unbooked trucks at random times in the window, at most a fifth of the pledge in all (stock stays above
    the pledge: the anomaly is the missing bookings, not the coverage); the camera flags the after-hours ones."""
    zone = cameras[0].attributes["zone_id"]
    sku, pledge = sku_of_zone(zone), pledged_units(enterprise, zone)
    trucks = rng.randint(1, 3)
    each = max(1, min(rng.randint(*sku.per_truck), int(0.2 * pledge) // trucks))
    times = sorted(rng.randrange(start_ms, max(end_ms - UNLOAD_MS, start_ms + 1)) for _ in range(trucks))
    after_hours = [t for t in times if not 7 <= ((t + P.CN_OFFSET_MS) % P.DAY_MS) / P.HOUR_MS < 19]
    return {
        "zone_id": zone,
        "sku": sku.name,
        "pledged_units": pledge,
        "times_ms": times,
        "units": [each] * trucks,
        "camera_event_ms": after_hours,
    }


def _pledge_facts(
    rng: random.Random, enterprise: EnterpriseSpec, cameras: list[DeviceSpec], start_ms: int, end_ms: int
) -> dict:
    zone = cameras[0].attributes["zone_id"]
    pledge = pledged_units(enterprise, zone)
    return {
        "zone_id": zone,
        "sku": sku_of_zone(zone).name,
        "pledged_units": pledge,
        "lowest_units": max(0, round(pledge * rng.uniform(0.5, 0.85))),
    }


ANOMALIES = {  # labelled anomalies this pack can inject (see wuxin.sim.fleet.plan_anomalies)
    "unauthorised_outbound": P.AnomalySpec(
        "logistics.gate_camera",
        "sim",
        (12 * 3600, 3 * 86400),
        facts=_outbound_facts,
        widen=_zone_devices,
        expect="at `times_ms` trucks take `units` out of the zone: count_out at the gate camera, "
        "tag_count and volume_m3 drop 45 min later, no weighing, and no outbound row in wms_movements; the "
        "camera raises unauthorised_out only for the after-hours ones (`camera_event_ms`), a fence breach may trip",
    ),
    "stock_below_pledge": P.AnomalySpec(
        "logistics.gate_camera",
        "sim",
        (2 * 86400, 4 * 86400),
        facts=_pledge_facts,
        widen=_zone_devices,
        history_s=86400,
        expect="booked outbound trucks (in WMS, weighed, counted) draw the zone down during the day before start; the "
        "stock (tag_count, volume_m3, WMS) is first below `pledged_units` at start and stays below until end, "
        "down to `lowest_units`; a restocking truck brings it back at end",
    ),
    "fabricated_copy": P.fabricated_copy("logistics.rfid_reader"),
    "fabricated_smooth": P.fabricated_smooth(
        "logistics.volume_scanner",
        lambda d: {"volume_m3": {"mean": "hold", "decimals": 2}},
        expect="volume_m3 frozen at its last real value from start to end (no scan noise, no movements) while the "
        "camera and RFID see trucks",
    ),
}


REST_WEEKDAYS = frozenset({6})  # Sunday: a light day (see telemetry)


def build_enterprise(rng: random.Random, index: int) -> EnterpriseSpec:
    place = rng.choice(PLACES)
    name = P.company_name(rng, place, ("仓储", "物流", "供应链管理", "贸易"))
    lat, lon = P.jitter(rng, place.lat, place.lon, 5)
    site = SiteSpec(f"{name}监管仓", place.region, lat, lon)
    mode = P.choose_source_mode(rng)
    prefix = P.key_prefix("log", index, rng)
    devices = [DeviceSpec(f"{prefix}-bridge-01", "logistics.weighbridge", site.name, mode, {"site_id": "WH1"})]
    for z, sku_i in enumerate(rng.sample(range(len(SKUS)), rng.randint(1, 3))):
        zone = f"Z{z + 1}-{sku_i}"
        devices += [
            DeviceSpec(f"{prefix}-cam-{z + 1}", "logistics.gate_camera", site.name, mode, {"zone_id": zone}),
            DeviceSpec(f"{prefix}-rfid-{z + 1}", "logistics.rfid_reader", site.name, mode, {"zone_id": zone}),
            DeviceSpec(f"{prefix}-lidar-{z + 1}", "logistics.volume_scanner", site.name, mode, {"zone_id": zone}),
            DeviceSpec(f"{prefix}-fence-{z + 1}", "logistics.fence_alarm", site.name, mode, {"zone_id": zone}),
        ]
    return EnterpriseSpec(
        name, make_uscc(rng, place.code), "logistics", place.region, P.choose_health(rng), (site,), tuple(devices)
    )


def sku_of_zone(zone_id: str) -> Sku:
    return SKUS[int(zone_id.rsplit("-", 1)[1])]


def _movements(
    enterprise: EnterpriseSpec, start_ms: int, end_ms: int, seed: int, anomalies: list | None = None
) -> dict[str, list[dict]]:
    """Truck movements per zone: {zone: [{ts, units, direction, plate, booked, flagged, tare_kg}]} plus the stock
    before. Normal trade keeps the stock above WORKING_FLOOR x the pledge; `anomalies` add their trucks."""
    out: dict[str, list[dict]] = {}
    health = enterprise.health
    for dev in enterprise.devices:
        if dev.device_type != "logistics.gate_camera":
            continue
        zone = dev.attributes["zone_id"]
        sku = sku_of_zone(zone)
        r = P.rng_for(seed, enterprise.uscc, zone)
        stock = int(r.integers(*sku.stock))
        floor = math.ceil(WORKING_FLOOR * pledged_units(enterprise, zone))
        moves: list[dict] = [{"ts": start_ms, "stock0": stock}]
        trucks_per_day = r.uniform(2, 6)
        bias = {"growing": 0.58, "stable": 0.5, "declining": 0.4, "failing": 0.35}[health]
        d0, d1 = int(P.local_day(np.int64(start_ms))), int(P.local_day(np.int64(end_ms - 1)))
        days = np.arange(d0, d1 + 1)
        levels = P.health_level(health, P.days_to_end(days * P.DAY_MS - P.CN_OFFSET_MS + P.DAY_MS // 2, end_ms), r)
        for day, lvl in zip(days.tolist(), levels.tolist()):
            date = P.date_of_day(day)
            wf = P.work_factor(date) * (0.5 if P.work_weekday(day) == 6 else 1.0)
            n = r.poisson(trucks_per_day * wf * (0.6 + 0.4 * lvl))
            for t in sorted(P.day_ms(day) + (r.uniform(8, 17.5, n) * P.HOUR_MS).astype(np.int64)):
                direction = "in" if r.random() < bias else "out"
                units = int(r.integers(*sku.per_truck))
                if direction == "out":
                    units = min(units, stock - floor)
                if units <= 0:
                    continue
                stock += units if direction == "in" else -units
                moves.append(
                    {
                        "ts": int(t),
                        "units": units,
                        "direction": direction,
                        "booked": True,
                        "flagged": False,
                        "plate": r.choice(PLATE_HEADS) + f"{int(r.integers(10000, 99999))}",
                        "tare_kg": float(r.uniform(12000, 16000)),
                    }
                )
            if health == "failing" and lvl < 0.3 and r.random() < 0.6:  # goods leave at night, not booked
                units = min(int(r.integers(*sku.per_truck)) * 2, stock - floor)
                if units > 0:
                    stock -= units
                    moves.append(
                        {
                            "ts": P.day_ms(day) + int(r.uniform(0.5, 4.5) * P.HOUR_MS),
                            "units": units,
                            "direction": "out",
                            "booked": False,
                            "flagged": True,
                            "plate": r.choice(PLATE_HEADS) + f"{int(r.integers(10000, 99999))}",
                            "tare_kg": float(r.uniform(12000, 16000)),
                        }
                    )
        trucks = [m for m in moves[1:]]
        for rec in anomalies or ():
            if rec.facts.get("zone_id") == zone:
                trucks = ANOMALY_TRUCKS[rec.kind](
                    trucks, moves[0]["stock0"], rec, sku, P.py_rng_for(seed, rec.kind, zone, rec.start_ms)
                )
        out[zone] = sorted((m for m in trucks if start_ms <= m["ts"] < end_ms), key=lambda m: m["ts"])
        out[zone].insert(0, moves[0])
    return out


def _truck(ts: int, units: int, direction: str, booked: bool, rng: random.Random, flagged: bool = False) -> dict:
    return {
        "ts": int(ts),
        "units": int(units),
        "direction": direction,
        "booked": booked,
        "flagged": flagged,
        "plate": rng.choice(PLATE_HEADS) + f"{rng.randint(10000, 99999)}",
        "tare_kg": rng.uniform(12000, 16000),
    }


def _stock_at(stock0: int, trucks: list[dict], t: int) -> int:
    """Units in the zone at t: trucks count once unloaded (UNLOAD_MS after arrival)."""
    return stock0 + sum(
        m["units"] if m["direction"] == "in" else -m["units"] for m in trucks if m["ts"] + UNLOAD_MS <= t
    )


def _unbooked_trucks(trucks: list[dict], stock0: int, rec, sku: Sku, rng: random.Random) -> list[dict]:
    """unauthorised_outbound: the planned trucks leave unbooked; the camera flags the after-hours ones."""
    flagged = set(rec.facts["camera_event_ms"])
    return trucks + [
        _truck(t, units, "out", False, rng, flagged=t in flagged)
        for t, units in zip(rec.facts["times_ms"], rec.facts["units"])
    ]


def _drawdown_trucks(trucks: list[dict], stock0: int, rec, sku: Sku, rng: random.Random) -> list[dict]:
    """stock_below_pledge: normal traffic stops a day before start; full booked trucks leave during that day so
    that the one unloaded at start takes the stock below the pledge, more leave until `lowest_units`; restocking
    trucks bring it back to just under the pledge before end, the one unloaded at end lifts it over, and the rest
    follow until the zone holds what normal trade would have (normal traffic resumes after them)."""
    pledge, lowest, per = rec.facts["pledged_units"], rec.facts["lowest_units"], max(sku.per_truck[1], 1)
    pause = rec.start_ms - P.DAY_MS
    stock = _stock_at(stock0, [m for m in trucks if m["ts"] < pause], rec.start_ms)
    before = max((stock - pledge) // per, 0)  # full trucks that leave the stock still >= the pledge
    gap = min(15 * P.MINUTE_MS, (P.DAY_MS - 2 * UNLOAD_MS) // (before + 1))
    cross = rec.start_ms - UNLOAD_MS
    extra = [_truck(cross - (before - i) * gap, per, "out", True, rng) for i in range(before)]
    left = stock - before * per
    moves = [min(per, left)] + _loads(left - min(per, left) - lowest, per)  # the crossing truck, then down to lowest
    extra += [_truck(cross + i * gap, units, "out", True, rng) for i, units in enumerate(moves)]
    left -= sum(moves)
    back = rec.end_ms - UNLOAD_MS
    under = _loads(pledge - 1 - left, per)  # up to just under the pledge, unloaded before end
    extra += [_truck(back - (len(under) - i) * gap, units, "in", True, rng) for i, units in enumerate(under)]
    left += sum(under)
    done = back
    for _ in range(10):  # normal traffic stays stopped until the restock is done: settle how long that takes
        normal = _stock_at(stock0, [m for m in trucks if m["ts"] < done], P.MAX_MS)
        rest = _loads(max(normal - left, 1), per)
        if back + (len(rest) - 1) * gap == done:
            break
        done = back + (len(rest) - 1) * gap
    extra += [_truck(back + i * gap, units, "in", True, rng) for i, units in enumerate(rest)]
    return [m for m in trucks if not pause <= m["ts"] <= done] + extra


def _loads(units: int, per: int) -> list[int]:
    """Full truck loads of `per` units and the remainder (nothing for units <= 0)."""
    return [per] * (units // per) + ([units % per] if units > 0 and units % per else [])


ANOMALY_TRUCKS = {"unauthorised_outbound": _unbooked_trucks, "stock_below_pledge": _drawdown_trucks}


def wms_movements(
    enterprise: EnterpriseSpec, start_ms: int, end_ms: int, seed: int, anomalies: list | None = None
) -> list[dict]:
    """The stock movements the firm books in its WMS (business data, not telemetry); pass the same `anomalies`
    as to `telemetry` (unbooked trucks stay out of it, a drawdown is in it)."""
    rows = []
    for zone, moves in _movements(enterprise, start_ms, end_ms, seed, anomalies).items():
        sku = sku_of_zone(zone).name
        rows += [
            {"ts": m["ts"], "sku": sku, "zone_id": zone, "quantity": m["units"], "direction": m["direction"]}
            for m in moves[1:]
            if m["booked"]
        ]
    return sorted(rows, key=lambda x: x["ts"])


def telemetry(
    enterprise: EnterpriseSpec,
    start_ms: int,
    end_ms: int,
    seed: int,
    *,
    intervals_s: dict[str, int] | None = None,
    anomalies: list | None = None,
) -> Iterator[dict]:
    """Lines of every device; `anomalies` are labelled records of this pack's "sim" kinds (extra truck movements)."""
    iv = {**DEFAULT_INTERVALS_S, **(intervals_s or {})}
    health = enterprise.health
    moves = _movements(enterprise, start_ms, end_ms, seed, anomalies)
    weighings: list[tuple[int, str, dict]] = []
    for dev in enterprise.devices:
        r = P.rng_for(seed, dev.key)
        zone = dev.attributes.get("zone_id")
        if zone is None:
            continue
        sku = sku_of_zone(zone)
        zm = moves[zone]
        stock0, trucks = zm[0]["stock0"], zm[1:]
        # stock after each truck has finished (un)loading, spread over ~45 minutes
        if dev.device_type == "logistics.gate_camera":
            step = iv[dev.device_type] * 1000
            ts = P.grid(start_ms, end_ms, step)
            cin, cout = np.zeros(len(ts)), np.zeros(len(ts))
            events = []
            for m in trucks:
                dur = int(r.uniform(20, 60) * P.MINUTE_MS)
                b0 = np.searchsorted(ts, m["ts"], side="right")
                b1 = np.searchsorted(ts, m["ts"] + dur, side="right")
                if b0 >= len(ts):
                    continue
                span = np.arange(b0, min(max(b1, b0 + 1), len(ts)))
                parts = np.diff(
                    np.concatenate(([0], np.sort(r.integers(0, m["units"] + 1, len(span) - 1)), [m["units"]]))
                )
                counted = np.round(parts * r.normal(1.0, 0.01, len(span)))  # AI counting error about 1 %
                (cin if m["direction"] == "in" else cout)[span] += np.clip(counted, 0, None)
                if m["flagged"]:
                    events.append((m["ts"] + dur, "unauthorised_out", {"sku": sku.name, "count": int(m["units"])}))
            cols = {
                "count_in": cin,
                "count_out": cout,
                "sku": np.full(len(ts), sku.name, dtype=object),
                **P.status_columns(r, ts, mains=True),
            }
            values = P.lines_from_arrays(
                dev.key, ts, cols, {"count_in": 0, "count_out": 0, "battery_pct": 1, "rssi_dbm": 0}
            )
            yield from P.device_stream(dev.key, r, start_ms, end_ms, health, values, events)
            for m in trucks:
                if not m["booked"]:
                    continue
                cargo = m["units"] * sku.unit_kg
                tare = round(m["tare_kg"], 0)
                full_first = m["direction"] == "in"
                t_in, t_out = (
                    m["ts"] - int(r.uniform(5, 15) * P.MINUTE_MS),
                    m["ts"] + int(r.uniform(60, 90) * P.MINUTE_MS),
                )
                for t, gross in (
                    (t_in, tare + cargo if full_first else tare),
                    (t_out, tare if full_first else tare + cargo),
                ):
                    if start_ms <= t < end_ms:
                        weighings.append(
                            (
                                t,
                                "weighing",
                                {
                                    "gross_kg": round(gross + float(r.normal(0, 10)), 0),
                                    "tare_kg": tare,
                                    "net_kg": round(max(gross - tare, 0), 0),
                                    "direction": m["direction"],
                                    "plate": m["plate"],
                                },
                            )
                        )
            continue
        step = iv.get(dev.device_type, 3600) * 1000
        ts = P.grid(start_ms, end_ms, step)
        if dev.device_type == "logistics.fence_alarm":
            ts = P.grid(start_ms, end_ms, P.HOUR_MS)
            values = P.lines_from_arrays(
                dev.key, ts, P.status_columns(r, ts, every_ms=1), {"battery_pct": 1, "rssi_dbm": 0}
            )
            breaches = [
                (m["ts"] - int(r.uniform(1, 10) * P.MINUTE_MS), "breach", {"segment": f"S{int(r.integers(1, 9))}"})
                for m in trucks
                if not m["booked"] and r.random() < 0.5
            ]
            for _ in range(r.poisson(0.1 * (end_ms - start_ms) / (7 * P.DAY_MS))):  # animals, wind-blown debris
                breaches.append((int(r.integers(start_ms, end_ms)), "breach", {"segment": f"S{int(r.integers(1, 9))}"}))
            yield from P.device_stream(
                dev.key, r, start_ms, end_ms, health, values, [b for b in breaches if start_ms <= b[0] < end_ms]
            )
            continue
        done_t = np.array([m["ts"] + UNLOAD_MS for m in trucks], dtype=np.int64)
        delta = np.array([m["units"] if m["direction"] == "in" else -m["units"] for m in trucks])
        after = stock0 + np.cumsum(delta) if len(delta) else np.zeros(0)
        idx = np.searchsorted(done_t, ts, side="right")
        stock = np.where(idx > 0, np.concatenate(([stock0], after))[idx], stock0).astype(float)
        if dev.device_type == "logistics.rfid_reader":
            tag_count = np.round(stock * np.clip(r.normal(0.995, 0.004, len(ts)), 0.97, 1.0))
            cols = {"tag_count": tag_count, **P.status_columns(r, ts, mains=True)}
            values = P.lines_from_arrays(dev.key, ts, cols, {"tag_count": 0, "battery_pct": 1, "rssi_dbm": 0})
            if stock.max(initial=0) <= 500:  # small zones (steel coils, copper) list their tags
                values = _with_tags(values, zone, stock0, trucks)
        else:
            vol = stock * sku.unit_m3 * 1.15 * r.normal(1.0, 0.015, len(ts))
            cols = {"volume_m3": np.clip(vol, 0, None), **P.status_columns(r, ts, mains=True)}
            values = P.lines_from_arrays(dev.key, ts, cols, {"volume_m3": 2, "battery_pct": 1, "rssi_dbm": 0})
        yield from P.device_stream(dev.key, r, start_ms, end_ms, health, values)
    bridge = next((d for d in enterprise.devices if d.device_type == "logistics.weighbridge"), None)
    if bridge is not None:
        r = P.rng_for(seed, bridge.key)
        ts = P.grid(start_ms, end_ms, P.HOUR_MS)
        values = P.lines_from_arrays(
            bridge.key, ts, P.status_columns(r, ts, every_ms=1, mains=True), {"battery_pct": 1, "rssi_dbm": 0}
        )
        yield from P.device_stream(bridge.key, r, start_ms, end_ms, health, values, weighings)


def _with_tags(values: Iterator[dict], zone: str, stock0: int, trucks: list[dict]) -> Iterator[dict]:
    """Add the tag list (first in, first out) to each RFID line: tags lo..hi-1 are present."""
    lo, hi = 0, stock0
    i = 0
    for line in values:
        while i < len(trucks) and trucks[i]["ts"] + 45 * P.MINUTE_MS <= line["ts"]:
            if trucks[i]["direction"] == "in":
                hi += trucks[i]["units"]
            else:
                lo += trucks[i]["units"]
            i += 1
        if "tag_count" in line["values"] and hi - lo <= 512 and line["ts"] % P.HOUR_MS == 0:  # full list hourly
            present = hi - lo
            missed = present - line["values"]["tag_count"]
            line["values"]["tags"] = [f"{zone}-{k:06d}" for k in range(lo, hi - max(missed, 0))]
        yield line
