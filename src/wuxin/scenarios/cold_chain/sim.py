"""Cold-chain simulator: a cold store's rooms holding pledged frozen or chilled goods, and its reefer trucks.

Each room keeps one kind of goods (goods.json) at its class's set point. The air a logger reads is the set point
with the compressor's cycling, a warm-up at each evaporator defrost (frozen rooms: electric heaters, the air climbs
9-11 K for 20-35 min; chilled rooms: an off-cycle defrost, 3-4.5 K for 10-20 min) and a small rise at each door
opening; loading opens the door once per forklift trip. The refrigeration meter sees the evaporator fans always,
the compressor while it cycles on, the heaters while defrosting. With the cooling off the air relaxes towards the
outside air with the room's time constant (a day or more for a loaded, insulated room). RFID counts the tagged
pallets in the room; the pledged lot stands on a weighing platform. Trucks load at the store, drive to a customer,
unload and come back; the reefer runs from its pre-cool to the end of unloading, the truck's trip logger records
while goods are aboard. Latent health drives the trade: failing firms move pledged pallets out at night unbooked.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from wuxin.sim import patterns as P
from wuxin.sim.spec import DeviceSpec, EnterpriseSpec, SiteSpec, make_uscc

LOGGER, DOOR, METER = "cold_chain.temp_logger", "cold_chain.door_sensor", "cold_chain.refrigeration_meter"
RFID, SCALE, REEFER = "cold_chain.rfid_reader", "cold_chain.scale", "cold_chain.reefer_unit"
STEP_MS = 5 * P.MINUTE_MS  # loggers, meters and moving trucks report every 5 minutes
STATUS_MS = 15 * P.MINUTE_MS  # RFID, scale and door state every 15 minutes (doors also on each change)
PARKED_MS = 30 * P.MINUTE_MS  # a parked truck's telematics
DEFROST_RISE_K = {"frozen": (9.0, 11.0), "chilled": (3.0, 4.5)}
DEFROST_RECOVERY_MIN = 8.0  # the coil pulls the air back within minutes once it is cold again
DOOR_RISE_K_PER_MIN = {"frozen": 0.15, "chilled": 0.08}  # warm, moist air falling in through an open door
DOOR_RISE_MAX_K = {"frozen": 8.0, "chilled": 5.0}
PULL_DOWN_K_PER_H = 3.0  # a room's recovery after a stop
ROOM_TAU_H = (20.0, 40.0)  # loaded insulated room, cooling off: the air follows the outside air this slowly
TRUCK_TAU_H = (2.5, 4.0)  # a reefer box holds far less cold
PLACES = (
    P.Place("上海市浦东新区", "上海浦东", 31.108, 121.805, "310115"),
    P.Place("天津市东丽区", "天津东丽", 39.087, 117.314, "120110"),
    P.Place("山东省青岛市黄岛区", "青岛黄岛", 35.960, 120.198, "370211"),
    P.Place("河南省郑州市中牟县", "郑州中牟", 34.719, 113.976, "410122"),
    P.Place("广东省广州市南沙区", "广州南沙", 22.801, 113.525, "440115"),
)
PLATE_HEADS = {"310115": "沪D", "120110": "津A", "370211": "鲁B", "410122": "豫A", "440115": "粤A"}
REST_WEEKDAYS = frozenset({6})  # fewer loadings on Sundays
WORKING_FLOOR = 1.2  # in normal trade a room keeps at least this many times its pledged pallets


@lru_cache
def goods_catalogue() -> dict:
    """goods.json: the goods (range, excursion allowance, pallet weight, price) and their classes."""
    return orjson.loads((Path(__file__).parent / "goods.json").read_bytes())


def goods(code: str) -> dict:
    return goods_catalogue()["goods"][code]


def goods_class(code: str) -> dict:
    return goods_catalogue()["classes"][goods(code)["class"]]


# ---------------------------------------------------------------- enterprises


def build_enterprise(rng: random.Random, index: int) -> EnterpriseSpec:
    place = rng.choice(PLACES)
    name = P.company_name(rng, place, ("冷链物流", "冷冻食品", "冷链仓储", "食品供应链"))
    lat, lon = P.jitter(rng, place.lat, place.lon, 5)
    site = SiteSpec(f"{name}冷库", place.region, lat, lon)
    mode = P.choose_source_mode(rng)
    prefix = P.key_prefix("cold", index, rng)
    devices: list[DeviceSpec] = []
    codes = sorted(goods_catalogue()["goods"])
    for n in range(rng.randint(2, 4)):
        devices += _room_devices(rng, prefix, site.name, mode, f"R{n + 1}", rng.choice(codes))
    for n in range(rng.randint(1, 3)):
        plate = PLATE_HEADS[place.code] + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(5))
        devices += _truck_devices(rng, prefix, site.name, mode, n + 1, plate, rng.choice(codes))
    return EnterpriseSpec(
        name, make_uscc(rng, place.code), "cold_chain", place.region, P.choose_health(rng), (site,), tuple(devices)
    )


def _logger_attributes(space: str, kind: str, code: str) -> dict:
    g = goods(code)
    return {
        "space_id": space,
        "space_kind": kind,
        "goods": code,
        "temp_min_c": float(g["temp_min_c"]),
        "temp_max_c": float(g["temp_max_c"]),
        "excursion_limit_min": int(g["excursion_limit_min"]),
    }


def _room_devices(rng: random.Random, prefix: str, site: str, mode: str, room: str, code: str) -> list[DeviceSpec]:
    capacity = rng.choice((200, 400, 600, 800))
    pledged = round(capacity * rng.uniform(0.3, 0.45))
    rated = round(capacity * rng.uniform(0.09, 0.12) * (1.6 if goods(code)["class"] == "frozen" else 1.0), 1)
    lot = f"{prefix}-{room}-LOT1"
    stack_kg = pledged * goods(code)["pallet_kg"]
    out = [
        DeviceSpec(
            f"{prefix}-{room.lower()}-logger-{k + 1}", LOGGER, site, mode, _logger_attributes(room, "room", code)
        )
        for k in range(rng.randint(1, 2))
    ]
    out += [
        DeviceSpec(f"{prefix}-{room.lower()}-door", DOOR, site, mode, {"space_id": room, "space_kind": "room"}),
        DeviceSpec(
            f"{prefix}-{room.lower()}-meter",
            METER,
            site,
            mode,
            {"space_id": room, "fan_load_kw": round(rated * 0.12, 2), "rated_kw": rated},
        ),
        DeviceSpec(
            f"{prefix}-{room.lower()}-rfid",
            RFID,
            site,
            mode,
            {
                "space_id": room,
                "zone_id": room,
                "goods": code,
                "capacity_pallets": capacity,
                "pallet_kg": float(goods(code)["pallet_kg"]),
                "lot_id": lot,
                "pledged_units": pledged,
                "unit_value_cny": round(goods(code)["pallet_kg"] * goods(code)["price_cny_per_kg"]),
            },
        ),
        # the bank pledges 97 % of the stack's weight at pledging: pallets, cartons and glaze are not goods
        DeviceSpec(
            f"{prefix}-{room.lower()}-scale",
            SCALE,
            site,
            mode,
            {"space_id": room, "goods": code, "lot_id": lot, "pledged_kg": round(0.97 * stack_kg)},
        ),
    ]
    return out


def _truck_devices(
    rng: random.Random, prefix: str, site: str, mode: str, n: int, plate: str, code: str
) -> list[DeviceSpec]:
    vin = "LGA" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(14))
    return [
        DeviceSpec(
            f"{prefix}-truck{n}-reefer",
            REEFER,
            site,
            mode,
            {"plate": plate, "vin": vin, "rated_kw": round(rng.uniform(4.0, 9.0), 1)},
        ),
        DeviceSpec(f"{prefix}-truck{n}-logger", LOGGER, site, mode, _logger_attributes(plate, "truck", code)),
        DeviceSpec(f"{prefix}-truck{n}-door", DOOR, site, mode, {"space_id": plate, "space_kind": "truck"}),
    ]


def rooms(enterprise: EnterpriseSpec) -> dict[str, list[DeviceSpec]]:
    """The devices of each cold room, by room id."""
    out: dict[str, list[DeviceSpec]] = {}
    for d in enterprise.devices:
        if d.attributes.get("space_kind", "room") == "room" and "space_id" in d.attributes:
            out.setdefault(d.attributes["space_id"], []).append(d)
    return out


def trucks(enterprise: EnterpriseSpec) -> dict[str, list[DeviceSpec]]:
    """The devices of each reefer truck, by plate."""
    out: dict[str, list[DeviceSpec]] = {}
    for d in enterprise.devices:
        plate = d.attributes.get("plate") or (
            d.attributes["space_id"] if d.attributes.get("space_kind") == "truck" else None
        )
        if plate:
            out.setdefault(plate, []).append(d)
    return out


def _room_of(device: DeviceSpec) -> str:
    return device.attributes["space_id"]


def _first(devices: list[DeviceSpec], device_type: str) -> DeviceSpec:
    """The room's first device of `device_type` (every room has a logger and an RFID reader)."""
    found = next((d for d in devices if d.device_type == device_type), None)
    if found is None:
        raise ValueError(f"no {device_type} among {[d.key for d in devices]}")
    return found


# ---------------------------------------------------------------- anomalies


def _room_widen(enterprise: EnterpriseSpec, chosen: list[DeviceSpec]) -> list[DeviceSpec]:
    names = {_room_of(d) for d in chosen}
    return [d for d in enterprise.devices if d.attributes.get("space_id") in names]


def _truck_widen(enterprise: EnterpriseSpec, chosen: list[DeviceSpec]) -> list[DeviceSpec]:
    plates = {d.attributes["plate"] for d in chosen}
    return [d for plate, devs in trucks(enterprise).items() if plate in plates for d in devs]


def _room_facts(
    rng: random.Random, enterprise: EnterpriseSpec, chosen: list[DeviceSpec], start_ms: int, end_ms: int
) -> dict:
    room = _room_of(chosen[0])
    rfid = _first(rooms(enterprise)[room], RFID)
    return {"room": room, "goods": rfid.attributes["goods"], "tau_h": round(rng.uniform(*ROOM_TAU_H), 1)}


def _door_facts(
    rng: random.Random, enterprise: EnterpriseSpec, chosen: list[DeviceSpec], start_ms: int, end_ms: int
) -> dict:
    return {"space": chosen[0].attributes["space_id"], "space_kind": chosen[0].attributes["space_kind"]}


def _moved_facts(
    rng: random.Random, enterprise: EnterpriseSpec, chosen: list[DeviceSpec], start_ms: int, end_ms: int
) -> dict:
    """The room is emptied at night after start, unbooked, in 1-2 trips, down to `left_share` of the pledge: the free
    pallets first, then pledged ones off the weighed stack (how many follows from the stock the simulator holds)."""
    reader = chosen[0]
    night = P.day_ms(int(P.local_day(np.int64(start_ms)))) + P.DAY_MS + int(rng.uniform(1.0, 4.0) * P.HOUR_MS)
    first = min(max(night if night < end_ms else start_ms, start_ms), end_ms - 2 * P.HOUR_MS)
    times = [first + k * 40 * P.MINUTE_MS for k in range(rng.randint(1, 2))]
    return {
        "room": _room_of(reader),
        "lot_id": reader.attributes["lot_id"],
        "pledged_units": reader.attributes["pledged_units"],
        "times_ms": times,
        "left_share": round(rng.uniform(0.6, 0.85), 2),
    }


ANOMALIES = {  # labelled anomalies this pack can inject (see wuxin.sim.fleet.plan_anomalies)
    "refrigeration_failure": P.AnomalySpec(
        METER,
        "sim",
        (6 * 3600, 30 * 3600),
        facts=_room_facts,
        widen=_room_widen,
        expect="the room's compressor stops at start and is repaired at end: the meter's power falls to the evaporator "
        "fans' draw (no power cut), the room's loggers warm towards the outside air with time constant `tau_h` and "
        "cross the goods' upper limit (temperature excursion once past the goods' allowance); pulled down at "
        f"{PULL_DOWN_K_PER_H:g} K/h after end",
    ),
    "power_cut": P.AnomalySpec(
        METER,
        "sim",
        (2 * 3600, 10 * 3600),
        facts=_room_facts,
        widen=_room_widen,
        expect="the room's refrigeration loses power at start (power_lost event on the meter, power_kw 0, fans too) until "
        "end: power cut after 15 min; the loggers (battery) show the room warming, an excursion if it lasts",
    ),
    "door_left_open": P.AnomalySpec(
        DOOR,
        "sim",
        (45 * 60, 3 * 3600),
        facts=_door_facts,
        widen=_room_widen,
        expect="the door of a room or a truck (`space`) stays open from start to end (door_open true throughout): door "
        "open too long after 20 min; the room's air warms by up to 5-8 K while it is open (a truck's while loaded)",
    ),
    "pledged_goods_moved": P.AnomalySpec(
        RFID,
        "sim",
        (2 * 86400, 3 * 86400),
        facts=_moved_facts,
        widen=_room_widen,
        expect="at `times_ms` trucks empty the room at night down to `left_share` x `pledged_units` pallets (door "
        "openings; tag_count drops below the pledge, the pledged stack's weight below pledged_kg) with no row in "
        "wms_movements and no booked trade until end: stock below the pledge, pledge crossed unbooked, weight "
        "below the pledge; the pallets do not come back",
    ),
    "reefer_off_in_transit": P.AnomalySpec(
        REEFER,
        "sim",
        (86400, 2 * 86400),
        widen=_truck_widen,
        facts=lambda rng, e, chosen, s, t: {"plate": chosen[0].attributes["plate"]},
        expect="the reefer unit stays off from start to end (unit_on false, power 0) while the truck still delivers: on "
        "loaded legs its trip logger warms towards the outside air (excursion past the goods' allowance on long "
        "legs); reefer-on hours fall below hours driving; nothing shows on a day without trips",
    ),
    "fabricated_copy": P.fabricated_copy(LOGGER),
}


def _windows(anomalies: list | None, kind: str, key: str, value: str) -> list[tuple[int, int, dict]]:
    return [(a.start_ms, a.end_ms, a.facts) for a in anomalies or () if a.kind == kind and a.facts.get(key) == value]


def _inside(ts: np.ndarray, windows: list[tuple[int, int, dict]]) -> np.ndarray:
    mask = np.zeros(len(ts), dtype=bool)
    for t0, t1, _ in windows:
        mask |= (ts >= t0) & (ts < t1)
    return mask


# ---------------------------------------------------------------- schedules


def defrosts(
    enterprise: EnterpriseSpec, room: str, code: str, start_ms: int, end_ms: int
) -> list[tuple[int, int, float]]:
    """(start, end, rise K) of each evaporator defrost: a fixed timer, `defrost_per_day` a day at the room's phase."""
    cls = goods_class(code)
    r = random.Random(f"defrost|{enterprise.uscc}|{room}")
    per_day = int(cls["defrost_per_day"])
    phase_h = r.uniform(0, 24 / per_day)
    out = []
    d0, d1 = int(P.local_day(np.int64(start_ms))) - 1, int(P.local_day(np.int64(end_ms)))
    for day in range(d0, d1 + 1):
        dr = random.Random(f"defrost|{enterprise.uscc}|{room}|{day}")
        for k in range(per_day):
            t0 = P.day_ms(day) + int((phase_h + k * 24 / per_day) * P.HOUR_MS)
            t1 = t0 + int(dr.uniform(*cls["defrost_min"]) * P.MINUTE_MS)
            if t1 > start_ms - P.HOUR_MS and t0 < end_ms:
                out.append((t0, t1, dr.uniform(*DEFROST_RISE_K[goods(code)["class"]])))
    return out


def loadings(enterprise: EnterpriseSpec, room: str, start_ms: int, end_ms: int) -> list[dict]:
    """Trucks loaded or unloaded at the room in working hours (fewer on Sundays and holidays, and as trade sags):
    {ts, end_ms, pallets, direction, openings: [(open, close)]}; each forklift trip opens the door for 1-5 min."""
    bias = {"growing": 0.56, "stable": 0.5, "declining": 0.44, "failing": 0.4}[enterprise.health]
    out: list[dict[str, Any]] = []
    d0, d1 = int(P.local_day(np.int64(start_ms))), int(P.local_day(np.int64(end_ms - 1)))
    levels = P.health_level(
        enterprise.health, P.days_to_end(np.arange(d0, d1 + 1) * P.DAY_MS + P.DAY_MS // 2 - P.CN_OFFSET_MS, end_ms)
    )
    for day, level in zip(range(d0, d1 + 1), levels.tolist()):
        dr = random.Random(f"loading|{enterprise.uscc}|{room}|{day}")
        factor = P.work_factor(P.date_of_day(day)) * (0.5 if P.work_weekday(day) == 6 else 1.0) * (0.6 + 0.4 * level)
        for _ in range(_poisson(dr, 3.0 * factor)):
            t = P.day_ms(day) + int(dr.uniform(7.0, 18.5) * P.HOUR_MS)
            pallets = dr.randint(6, 18)
            openings, at = [], t
            for _ in range(math.ceil(pallets / 2)):  # a forklift carries two pallets a trip
                shut = at + int(dr.uniform(1, 5) * P.MINUTE_MS)
                openings.append((at, shut))
                at = shut + int(dr.uniform(0.5, 3) * P.MINUTE_MS)
            out.append(
                {
                    "ts": t,
                    "end_ms": at,
                    "pallets": pallets,
                    "direction": "in" if dr.random() < bias else "out",
                    "openings": openings,
                    "booked": True,
                }
            )
    return [m for m in out if start_ms <= m["ts"] < end_ms]


def _poisson(r: random.Random, mean: float) -> int:
    """Knuth's method (small means)."""
    limit, k, p = math.exp(-mean), 0, r.random()
    while p > limit:
        k += 1
        p *= r.random()
    return k


def room_movements(
    enterprise: EnterpriseSpec, room: str, start_ms: int, end_ms: int, anomalies: list | None = None
) -> dict:
    """The room's stock: {stock0, moves: [loading...]}; booked trade keeps the stock above WORKING_FLOOR x the pledge
    and under its capacity. A pledged_goods_moved anomaly's night trips (unbooked) take the room down to its
    `left_share` of the pledge (`pledged_taken`: the pallets off the pledged stack); no booked trade until its end."""
    rfid = _first(rooms(enterprise)[room], RFID)
    capacity, pledged = rfid.attributes["capacity_pallets"], rfid.attributes["pledged_units"]
    floor = math.ceil(WORKING_FLOOR * pledged)
    stock = random.Random(f"stock0|{enterprise.uscc}|{room}").randint(floor + 10, max(floor + 11, int(0.85 * capacity)))
    stock0, on_stack, moves = stock, pledged, []
    thefts = [
        (t, facts, len(facts["times_ms"]) - k)
        for t0, t1, facts in _windows(anomalies, "pledged_goods_moved", "room", room)
        for k, t in enumerate(facts["times_ms"])
    ]
    quiet: list[tuple[int, int, dict]] = [
        (facts["times_ms"][0], t1, {}) for t0, t1, facts in _windows(anomalies, "pledged_goods_moved", "room", room)
    ]
    trade = [m for m in loadings(enterprise, room, start_ms, end_ms) if not _inside(np.array([m["ts"]]), quiet)[0]]
    for m in sorted(trade + [{"ts": t, "theft": (facts, left)} for t, facts, left in thefts], key=lambda m: m["ts"]):
        if "theft" in m:
            facts, trips_left = m["theft"]
            units = max(0, stock - round(facts["left_share"] * pledged)) // trips_left
            taken = max(0, units - (stock - on_stack))  # the free pallets go first
            openings = [
                (m["ts"] + k * 4 * P.MINUTE_MS, m["ts"] + k * 4 * P.MINUTE_MS + 3 * P.MINUTE_MS)
                for k in range(max(1, math.ceil(units / 2)))
            ]
            m = {
                "ts": m["ts"],
                "end_ms": openings[-1][1],
                "pallets": units,
                "direction": "out",
                "openings": openings,
                "booked": False,
                "pledged_taken": taken,
            }
            on_stack -= taken
        else:
            units = min(m["pallets"], capacity - stock) if m["direction"] == "in" else min(m["pallets"], stock - floor)
            m = {**m, "pallets": units}
        if m["pallets"] <= 0:
            continue
        stock += m["pallets"] if m["direction"] == "in" else -m["pallets"]
        moves.append(m)
    return {"stock0": stock0, "moves": moves}


def wms_movements(
    enterprise: EnterpriseSpec, start_ms: int, end_ms: int, seed: int, anomalies: list | None = None
) -> list[dict]:
    """The movements the store books in its WMS (business data, not telemetry): booked loadings only."""
    rows = []
    for room, devices in rooms(enterprise).items():
        rfid = _first(devices, RFID)
        for m in room_movements(enterprise, room, start_ms, end_ms, anomalies)["moves"]:
            if m["booked"]:
                rows.append(
                    {
                        "ts": m["ts"],
                        "sku": rfid.attributes["goods"],
                        "zone_id": room,
                        "lot_id": rfid.attributes["lot_id"],
                        "quantity": m["pallets"],
                        "direction": m["direction"],
                    }
                )
    return sorted(rows, key=lambda row: row["ts"])


# ---------------------------------------------------------------- rooms


def _room_air(ts: np.ndarray, setpoint: float, ambient: np.ndarray, cooling: np.ndarray, tau_h: float) -> np.ndarray:
    """The room's air without defrosts and doors: held at the set point while cooling works, relaxing towards the
    outside air with time constant tau_h while it does not, pulled back down at PULL_DOWN_K_PER_H after."""
    out = np.empty(len(ts))
    t = setpoint
    for i in range(len(ts)):
        dt_h = (ts[i] - ts[i - 1]) / P.HOUR_MS if i else 0.0
        if cooling[i]:
            t = max(setpoint, t - PULL_DOWN_K_PER_H * dt_h)
        else:
            t = t + (ambient[i] - t) * (1 - math.exp(-dt_h / tau_h))
        out[i] = t
    return out


def _bumps(ts: np.ndarray, spans: list[tuple[int, int, float]], recovery_min: float) -> np.ndarray:
    """Warm-ups: a linear rise to `rise` K over each span, then an exponential recovery."""
    out = np.zeros(len(ts))
    for t0, t1, rise in spans:
        during = (ts >= t0) & (ts < t1)
        out[during] += rise * (ts[during] - t0) / max(t1 - t0, 1)
        after = ts >= t1
        out[after] += rise * np.exp(-(ts[after] - t1) / (recovery_min * P.MINUTE_MS))
    return out


def _door_spans(openings: list[tuple[int, int]], cls: str) -> list[tuple[int, int, float]]:
    rate, cap = DOOR_RISE_K_PER_MIN[cls], DOOR_RISE_MAX_K[cls]
    return [(a, b, min(cap, rate * (b - a) / P.MINUTE_MS)) for a, b in openings]


def _room_lines(
    enterprise: EnterpriseSpec,
    room: str,
    devices: list[DeviceSpec],
    start_ms: int,
    end_ms: int,
    seed: int,
    anomalies: list | None,
) -> Iterator[dict]:
    rfid = _first(devices, RFID)
    code = rfid.attributes["goods"]
    cls_name = goods(code)["class"]
    cls = goods_class(code)
    site = enterprise.sites[0]
    r = P.rng_for(seed, enterprise.uscc, room)
    ts = P.grid(start_ms, end_ms, STEP_MS)
    ambient = (
        P.climate_temp_c(site.lat, 20.0, ts, P.rng_for(seed, enterprise.uscc, "weather")) + 3.0
    )  # a dock is warmer
    failure = _windows(anomalies, "refrigeration_failure", "room", room)
    cut = _windows(anomalies, "power_cut", "room", room)
    left_open = _windows(anomalies, "door_left_open", "space", room)
    tau_h = next((f["tau_h"] for _, _, f in failure + cut), float(r.uniform(*ROOM_TAU_H)))
    cooling = ~(_inside(ts, failure) | _inside(ts, cut))
    setpoint = float(cls["room_setpoint_c"])
    frosts = defrosts(enterprise, room, code, start_ms, end_ms)
    stock = room_movements(enterprise, room, start_ms, end_ms, anomalies)
    openings = [o for m in stock["moves"] for o in m["openings"]] + [(t0, t1) for t0, t1, _ in left_open]
    cycling = 0.8 * np.sin(2 * np.pi * (ts % (40 * P.MINUTE_MS)) / (40 * P.MINUTE_MS) + r.uniform(0, 6.3))
    air = (
        _room_air(ts, setpoint, ambient, cooling, tau_h)
        + cycling * cooling
        + _bumps(ts, [f for f in frosts], DEFROST_RECOVERY_MIN) * cooling
        + _bumps(ts, _door_spans(openings, cls_name), 15.0)
    )
    in_defrost = _inside(ts, [(a, b, {}) for a, b, _ in frosts])
    for d in devices:
        dr = P.rng_for(seed, d.key)
        if d.device_type == LOGGER:
            temp = air + dr.uniform(-0.5, 0.5) + dr.normal(0, 0.15, len(ts))  # stratification, sensor noise
            humidity = np.clip(85 + 5 * in_defrost + dr.normal(0, 2, len(ts)), 40, 100)
            cols = {"temp_c": temp, "humidity_pct": humidity, **P.status_columns(dr, ts)}
            values = P.lines_from_arrays(
                d.key, ts, cols, {"temp_c": 1, "humidity_pct": 1, "battery_pct": 1, "rssi_dbm": 0}
            )
            yield from P.device_stream(d.key, dr, start_ms, end_ms, enterprise.health, values)
        elif d.device_type == METER:
            yield from _meter_lines(
                d,
                dr,
                ts,
                start_ms,
                end_ms,
                enterprise.health,
                cooling,
                _inside(ts, cut),
                in_defrost,
                cls_name,
                ambient - setpoint,
                air > setpoint + 1.5,
            )
        elif d.device_type == DOOR:
            yield from _door_lines(d, dr, start_ms, end_ms, enterprise.health, openings)
        elif d.device_type == RFID:
            yield from _stock_lines(d, dr, start_ms, end_ms, enterprise.health, stock, "tag_count")
        elif d.device_type == SCALE:
            yield from _stock_lines(d, dr, start_ms, end_ms, enterprise.health, stock, "weight_kg", rfid.attributes)


def _meter_lines(
    d: DeviceSpec,
    r: np.random.Generator,
    ts: np.ndarray,
    start_ms: int,
    end_ms: int,
    health: str,
    cooling: np.ndarray,
    cut: np.ndarray,
    in_defrost: np.ndarray,
    cls: str,
    lift_k: np.ndarray,
    warm: np.ndarray,
) -> Iterator[dict]:
    """Fans always (off while an electric defrost heats), the compressor's share of the 5 min while it works (more
    with a warmer outside, all of it while pulling a warm room down), the heaters (a quarter of the rating) in a
    frozen room's defrost, on their timer even with the compressor failed; nothing during a power cut."""
    fans, rated = d.attributes["fan_load_kw"], d.attributes["rated_kw"]
    duty = np.clip(0.25 + 0.01 * lift_k + r.normal(0, 0.05, len(ts)), 0.15, 0.95)
    duty = np.where(warm & cooling, 1.0, duty)
    electric = in_defrost & (cls == "frozen")
    compressor = (rated - fans) * duty * cooling * ~in_defrost
    power = fans * ~electric + 0.25 * rated * electric + compressor
    power = np.where(cut, 0.0, power * r.normal(1.0, 0.01, len(ts)))
    energy = float(r.uniform(10_000, 400_000)) + np.cumsum(power) * STEP_MS / P.HOUR_MS
    cols = {"power_kw": np.clip(power, 0, None), "energy_kwh_total": energy, **P.status_columns(r, ts, mains=True)}
    values = P.lines_from_arrays(
        d.key, ts, cols, {"power_kw": 2, "energy_kwh_total": 2, "battery_pct": 1, "rssi_dbm": 0}
    )
    lost: list[tuple[int, str, dict]] = [
        (int(ts[i]), "power_lost", {}) for i in np.flatnonzero(cut[1:] & ~cut[:-1]) + 1
    ]
    if len(ts) and cut[0]:
        lost.insert(0, (int(ts[0]), "power_lost", {}))
    yield from P.device_stream(d.key, r, start_ms, end_ms, health, values, lost)


def _door_lines(
    d: DeviceSpec, r: np.random.Generator, start_ms: int, end_ms: int, health: str, openings: list[tuple[int, int]]
) -> Iterator[dict]:
    """The state every 15 min and at each change."""
    changes = sorted([(a, True) for a, _ in openings] + [(b, False) for _, b in openings])
    status = P.grid(start_ms, end_ms, STATUS_MS)
    stamps = sorted({int(t) for t in status} | {t for t, _ in changes if start_ms <= t < end_ms})
    ts = np.array(stamps, dtype=np.int64)
    opened = np.zeros(len(ts), dtype=bool)
    for a, b in openings:
        opened |= (ts >= a) & (ts < b)
    cols = {"door_open": opened, **P.status_columns(r, ts)}
    values = P.lines_from_arrays(d.key, ts, cols, {"battery_pct": 1, "rssi_dbm": 0})
    yield from P.device_stream(d.key, r, start_ms, end_ms, health, values)


def _stock_lines(
    d: DeviceSpec,
    r: np.random.Generator,
    start_ms: int,
    end_ms: int,
    health: str,
    stock: dict,
    key: str,
    reader: dict | None = None,
) -> Iterator[dict]:
    """RFID: the pallets in the room once each loading is done (a missed tag now and then). Scale: the pledged stack,
    untouched by trade; pledged pallets taken out leave it lighter."""
    ts = P.grid(start_ms, end_ms, STATUS_MS)
    moves = stock["moves"]
    done = np.array([m["end_ms"] for m in moves], dtype=np.int64)
    if key == "tag_count":
        delta = np.array([m["pallets"] if m["direction"] == "in" else -m["pallets"] for m in moves])
        level = stock["stock0"] + np.concatenate(([0], np.cumsum(delta)))[np.searchsorted(done, ts, side="right")]
        value = np.round(level * np.clip(r.normal(0.998, 0.002, len(ts)), 0.99, 1.0))
        decimals = 0
    else:
        if reader is None:
            raise ValueError(f"{d.key}: a scale's stock needs its room's RFID reader attributes")
        taken = np.array([m.get("pledged_taken", 0) for m in moves])
        pallets = (
            reader["pledged_units"] - np.concatenate(([0], np.cumsum(taken)))[np.searchsorted(done, ts, side="right")]
        )
        packing = float(r.uniform(0.995, 1.02))  # cartons, glaze and pallet wood on top of the net weight
        value = pallets * reader["pallet_kg"] * packing * r.normal(1.0, 0.0005, len(ts))
        decimals = 1
    cols = {key: value.astype(float), **P.status_columns(r, ts, mains=True)}
    values = P.lines_from_arrays(d.key, ts, cols, {key: decimals, "battery_pct": 1, "rssi_dbm": 0})
    yield from P.device_stream(d.key, r, start_ms, end_ms, health, values)


# ---------------------------------------------------------------- trucks


def truck_trips(enterprise: EnterpriseSpec, plate: str, start_ms: int, end_ms: int) -> list[dict]:
    """Deliveries: pre-cool 30 min, load 20-30 min at the store, drive 30-150 km to a customer at 50-70 km/h, unload
    20-40 min, drive back empty. One or two a working day, fewer on Sundays and holidays."""
    out: list[dict[str, Any]] = []
    site = enterprise.sites[0]
    d0, d1 = int(P.local_day(np.int64(start_ms))), int(P.local_day(np.int64(end_ms - 1)))
    for day in range(d0, d1 + 1):
        r = random.Random(f"trips|{enterprise.uscc}|{plate}|{day}")
        factor = P.work_factor(P.date_of_day(day)) * (0.5 if P.work_weekday(day) == 6 else 1.0)
        at = P.day_ms(day) + int(r.uniform(5.5, 8.0) * P.HOUR_MS)
        for _ in range(min(2, _poisson(r, 1.4 * factor))):
            km, kmh, bearing = r.uniform(30, 150), r.uniform(50, 70), r.uniform(0, 2 * math.pi)
            drive = int(km / kmh * P.HOUR_MS)
            load0 = at + 30 * P.MINUTE_MS
            depart = load0 + int(r.uniform(20, 30) * P.MINUTE_MS)
            arrive = depart + drive
            unloaded = arrive + int(r.uniform(20, 40) * P.MINUTE_MS)
            back = unloaded + drive
            dest = (
                site.lat + km / 111.0 * math.cos(bearing),
                site.lon + km / (111.0 * math.cos(math.radians(site.lat))) * math.sin(bearing),
            )
            out.append(
                {
                    "precool": at,
                    "load": (load0, depart),
                    "depart": depart,
                    "arrive": arrive,
                    "unload": (arrive, unloaded),
                    "back": back,
                    "dest": dest,
                    "kmh": kmh,
                    "openings": _openings(r, load0, depart) + _openings(r, arrive, unloaded),
                }
            )
            at = back + int(r.uniform(0.5, 2.0) * P.HOUR_MS)
    return [t for t in out if t["back"] > start_ms and t["precool"] < end_ms]


def _openings(r: random.Random, t0: int, t1: int) -> list[tuple[int, int]]:
    """A truck's rear doors during loading or unloading: a few openings of at most 10 minutes."""
    out, at = [], t0
    while at < t1:
        shut = min(t1, at + int(r.uniform(3, 10) * P.MINUTE_MS))
        out.append((at, shut))
        at = shut + int(r.uniform(1, 4) * P.MINUTE_MS)
    return out


def _truck_state(ts: np.ndarray, trips: list[dict], home: tuple[float, float]) -> dict[str, np.ndarray]:
    lat, lon = np.full(len(ts), home[0]), np.full(len(ts), home[1])
    speed, acc = np.zeros(len(ts)), np.zeros(len(ts), dtype=bool)
    on, loaded = np.zeros(len(ts), dtype=bool), np.zeros(len(ts), dtype=bool)
    for t in trips:
        out_leg = (ts >= t["depart"]) & (ts < t["arrive"])
        back_leg = (ts >= t["unload"][1]) & (ts < t["back"])
        at_dest = (ts >= t["arrive"]) & (ts < t["unload"][1])
        f = np.where(out_leg, (ts - t["depart"]) / max(t["arrive"] - t["depart"], 1), 0.0)
        f = np.where(back_leg, 1 - (ts - t["unload"][1]) / max(t["back"] - t["unload"][1], 1), f)
        f = np.where(at_dest, 1.0, f)
        moving = out_leg | back_leg
        lat = np.where(moving | at_dest, home[0] + (t["dest"][0] - home[0]) * f, lat)
        lon = np.where(moving | at_dest, home[1] + (t["dest"][1] - home[1]) * f, lon)
        speed = np.where(moving, t["kmh"], speed)
        acc |= moving
        on |= (ts >= t["precool"]) & (ts < t["unload"][1])
        loaded |= (ts >= t["load"][0]) & (ts < t["unload"][1])
    return {"lat": lat, "lon": lon, "speed": speed, "acc": acc, "on": on, "loaded": loaded}


def _truck_lines(
    enterprise: EnterpriseSpec,
    plate: str,
    devices: list[DeviceSpec],
    start_ms: int,
    end_ms: int,
    seed: int,
    anomalies: list | None,
) -> Iterator[dict]:
    logger = _first(devices, LOGGER)
    code = logger.attributes["goods"]
    cls = goods_class(code)
    site = enterprise.sites[0]
    trips = truck_trips(enterprise, plate, start_ms, end_ms)
    ts = P.grid(start_ms, end_ms, STEP_MS)
    s = _truck_state(ts, trips, (site.lat, site.lon))
    off = _inside(ts, _windows(anomalies, "reefer_off_in_transit", "plate", plate))
    running = s["on"] & ~off
    r = P.rng_for(seed, enterprise.uscc, plate)
    ambient = P.climate_temp_c(site.lat, 20.0, ts, P.rng_for(seed, enterprise.uscc, "weather"))
    setpoint = float(cls["room_setpoint_c"])
    box = _room_air(ts, setpoint, ambient, running | ~s["loaded"], float(r.uniform(*TRUCK_TAU_H)))
    openings = [o for t in trips for o in t["openings"]] + [
        (a, b) for a, b, _ in _windows(anomalies, "door_left_open", "space", plate)
    ]
    box = box + _bumps(ts, _door_spans(openings, goods(code)["class"]), 10.0)
    for d in devices:
        dr = P.rng_for(seed, d.key)
        if d.device_type == REEFER:
            busy = s["acc"] | s["on"]
            keep = busy | (ts % PARKED_MS == 0)
            rated = d.attributes["rated_kw"]
            power = np.where(running, rated * np.clip(dr.normal(0.6, 0.1, len(ts)), 0.3, 1.0), 0.0)
            cols = {
                "lat": s["lat"] + dr.normal(0, 2e-5, len(ts)),
                "lon": s["lon"] + dr.normal(0, 2e-5, len(ts)),
                "speed_kmh": np.clip(s["speed"] + dr.normal(0, 4, len(ts)) * (s["speed"] > 0), 0, 120),
                "acc_on": s["acc"],
                "unit_on": running,
                "power_kw": power,
                "setpoint_c": np.full(len(ts), setpoint),
                **P.status_columns(dr, ts, mains=True),
            }
            cols = {k: v[keep] for k, v in cols.items()}
            values = P.lines_from_arrays(
                d.key,
                ts[keep],
                cols,
                {"lat": 6, "lon": 6, "speed_kmh": 1, "power_kw": 2, "setpoint_c": 1, "battery_pct": 1, "rssi_dbm": 0},
            )
            yield from P.device_stream(d.key, dr, start_ms, end_ms, enterprise.health, values)
        elif d.device_type == LOGGER:  # a trip logger: temperature while goods are aboard, its battery every 30 min
            temp = np.where(s["loaded"], box + dr.normal(0, 0.2, len(ts)), np.nan)
            status = P.status_columns(dr, ts, every_ms=PARKED_MS)
            cols = {
                "temp_c": temp,
                "humidity_pct": np.where(s["loaded"], np.clip(80 + dr.normal(0, 3, len(ts)), 40, 100), np.nan),
                **status,
            }
            values = P.lines_from_arrays(
                d.key, ts, cols, {"temp_c": 1, "humidity_pct": 1, "battery_pct": 1, "rssi_dbm": 0}
            )
            yield from P.device_stream(d.key, dr, start_ms, end_ms, enterprise.health, values)
        elif d.device_type == DOOR:
            yield from _door_lines(d, dr, start_ms, end_ms, enterprise.health, openings)


# ---------------------------------------------------------------- the whole firm


def telemetry(
    enterprise: EnterpriseSpec,
    start_ms: int,
    end_ms: int,
    seed: int,
    *,
    intervals_s: dict[str, int] | None = None,
    anomalies: list | None = None,
    benign: list | None = None,
) -> Iterator[dict]:
    """Lines of every device; `anomalies` are labelled records of this pack's "sim" kinds."""
    for room, devices in rooms(enterprise).items():
        yield from _room_lines(enterprise, room, devices, start_ms, end_ms, seed, anomalies)
    for plate, devices in trucks(enterprise).items():
        yield from _truck_lines(enterprise, plate, devices, start_ms, end_ms, seed, anomalies)


def benign_events(enterprise: EnterpriseSpec, start_ms: int, end_ms: int, seed: int) -> list[P.AnomalyRecord]:
    """No-risk events the data already hold: every evaporator defrost (the room's air warms above the goods' limit
    for less than the goods allow) and every loading at a room (the door opens per forklift trip)."""
    out = []
    for room, devices in rooms(enterprise).items():
        code = _first(devices, RFID).attributes["goods"]
        keys = tuple(sorted(d.key for d in devices if d.device_type in (LOGGER, METER)))
        for t0, t1, rise in defrosts(enterprise, room, code, start_ms, end_ms):
            if start_ms <= t0 < end_ms:
                out.append(
                    P.AnomalyRecord(
                        "defrost",
                        enterprise.uscc,
                        keys,
                        t0,
                        t1 + int(3 * DEFROST_RECOVERY_MIN * P.MINUTE_MS),
                        "benign",
                        {},
                        facts={"room": room, "rise_k": round(rise, 1)},
                        expect="the air climbs rise_k K during the defrost and recovers within minutes; "
                        "the meter shows heaters (frozen) or fans only (chilled)",
                    )
                )
        doors = tuple(sorted(d.key for d in devices if d.device_type in (DOOR, LOGGER)))
        for m in room_movements(enterprise, room, start_ms, end_ms)["moves"]:
            out.append(
                P.AnomalyRecord(
                    "loading",
                    enterprise.uscc,
                    doors,
                    m["ts"],
                    m["end_ms"] + 30 * P.MINUTE_MS,
                    "benign",
                    {},
                    facts={"room": room, "pallets": m["pallets"], "direction": m["direction"]},
                    expect="the door opens once per forklift trip (1-5 min each), the air rises a little",
                )
            )
    return out
