"""Connected-vehicle simulator: freight trucks driving between real Chinese cities.

Each truck plans one trip a day (or a rest day) from where it stands to a city within a
day's drive, leaves in the morning, drives an expressway route with urban stretches at both
ends, rests 20 minutes after four hours at the wheel (as the road-transport rules demand),
refuels at a service area when the tank runs low, and parks overnight at its destination.
Position, odometer and fuel are integrated from the speed, so they agree with the track.
The GPS terminal reports every `driving` seconds with the ignition on and every `parked`
seconds with it off; the ADAS unit raises driver-behaviour events at rates set by the
driver's risk and the hours driven. Latent health sets how many days the fleet works.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from wuxin.sim import patterns as P
from wuxin.sim.spec import DeviceSpec, EnterpriseSpec, SiteSpec, make_uscc

DEFAULT_INTERVALS_S = {"driving": 60, "parked": 900}
EPOCH_2020_MS = 1_577_836_800_000


@dataclass(frozen=True)
class City:
    name: str
    lat: float
    lon: float
    alt: float
    province: str
    plate: str


CITIES = (
    City("苏州", 31.299, 120.585, 5, "江苏省苏州市", "苏E"),
    City("上海", 31.230, 121.474, 4, "上海市", "沪B"),
    City("南京", 32.060, 118.797, 10, "江苏省南京市", "苏A"),
    City("杭州", 30.274, 120.155, 10, "浙江省杭州市", "浙A"),
    City("宁波", 29.868, 121.544, 5, "浙江省宁波市", "浙B"),
    City("合肥", 31.821, 117.227, 30, "安徽省合肥市", "皖A"),
    City("徐州", 34.205, 117.285, 40, "江苏省徐州市", "苏C"),
    City("临沂", 35.104, 118.356, 80, "山东省临沂市", "鲁Q"),
    City("济南", 36.651, 117.120, 50, "山东省济南市", "鲁A"),
    City("青岛", 36.067, 120.383, 20, "山东省青岛市", "鲁B"),
    City("郑州", 34.747, 113.625, 110, "河南省郑州市", "豫A"),
    City("武汉", 30.593, 114.305, 23, "湖北省武汉市", "鄂A"),
    City("长沙", 28.228, 112.939, 60, "湖南省长沙市", "湘A"),
    City("南昌", 28.682, 115.858, 30, "江西省南昌市", "赣A"),
    City("天津", 39.084, 117.201, 5, "天津市", "津C"),
    City("北京", 39.904, 116.407, 50, "北京市", "京A"),
    City("石家庄", 38.042, 114.515, 80, "河北省石家庄市", "冀A"),
    City("太原", 37.870, 112.549, 800, "山西省太原市", "晋A"),
    City("西安", 34.341, 108.940, 400, "陕西省西安市", "陕A"),
    City("成都", 30.573, 104.066, 500, "四川省成都市", "川A"),
    City("重庆", 29.563, 106.551, 250, "重庆市", "渝B"),
    City("广州", 23.129, 113.264, 10, "广东省广州市", "粤A"),
    City("东莞", 23.021, 113.752, 10, "广东省东莞市", "粤S"),
    City("福州", 26.075, 119.306, 10, "福建省福州市", "闽A"),
)
HOMES = ("苏州", "临沂", "郑州", "武汉", "成都", "天津", "广州", "合肥")
CITY = {c.name: c for c in CITIES}
REGION_CODE = {
    "苏州": "320505",
    "临沂": "371302",
    "郑州": "410182",
    "武汉": "420112",
    "成都": "510112",
    "天津": "120116",
    "广州": "440113",
    "合肥": "340121",
}


def haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 6371.0 * 2 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


FENCE_MARGIN_KM = 100.0  # the permitted area reaches this far beyond the cities a truck serves (routes bend <= 60 km)
DETOUR_KMH = 80.0


def lanes(dev: DeviceSpec, home: City) -> tuple[City, ...]:
    """The cities a truck serves besides home (its usual routes): two to four within a day's drive of home,
    drawn from its key alone, so the permitted area is known without its telemetry."""
    near = [c for c in CITIES if c is not home and 120 < float(haversine_km(home.lat, home.lon, c.lat, c.lon)) < 600]
    rng = random.Random(f"lanes|{dev.key}")
    return tuple(rng.sample(near, min(len(near), rng.randint(2, 4))))


def permitted_area(dev: DeviceSpec, home: City) -> list[list[float]]:
    """The truck's permitted area: the convex hull, as [[lon, lat], ...] counter-clockwise, of circles of
    FENCE_MARGIN_KM around home and the cities it serves (every normal trip stays inside)."""
    points = []
    for c in (home, *lanes(dev, home)):
        for a in np.linspace(0, 2 * np.pi, 24, endpoint=False):
            points.append(
                (
                    round(c.lon + FENCE_MARGIN_KM * math.sin(a) / (111.0 * math.cos(math.radians(c.lat))), 4),
                    round(c.lat + FENCE_MARGIN_KM * math.cos(a) / 111.0, 4),
                )
            )
    return [list(v) for v in convex_hull(points)]


def convex_hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Andrew's monotone chain, counter-clockwise, no repeated first vertex."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def half(seq):
        out: list = []
        for q in seq:
            while (
                len(out) >= 2
                and ((out[-1][0] - out[-2][0]) * (q[1] - out[-2][1]) - (out[-1][1] - out[-2][1]) * (q[0] - out[-2][0]))
                <= 0
            ):
                out.pop()
            out.append(q)
        return out[:-1]

    return half(pts) + half(reversed(pts))


def inside(lon: float, lat: float, polygon: list[list[float]]) -> bool:
    """Even-odd ray casting on [[lon, lat], ...]."""
    result = False
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1]):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


def _fence_facts(
    rng: random.Random, enterprise: EnterpriseSpec, devices: list[DeviceSpec], start_ms: int, end_ms: int
) -> dict:
    """The permitted area of the chosen truck; bank-installed terminals carry the fence and report leaving it."""
    (dev,) = devices
    return {
        "fence_id": f"fence-{dev.attributes['plate']}",
        "polygon": permitted_area(dev, _home_of(enterprise)),
        "terminal_event": dev.source_mode == "bank_installed",
        "margin_km": 100.0,
    }


def leave_fence(lines: list[dict], record) -> list[dict]:
    """geofence_exit: from the first position at or after start the truck drives (DETOUR_KMH, straight) to a point
    80-150 km outside its permitted area, parks there, and drives back to where its clean track is at the last
    position before end. Odometer and fuel follow the detour; later odometer readings carry the extra km. The
    terminal reports `geofence_exit` at the first outside position when `terminal_event`."""
    fence = record.facts["polygon"]
    window = [l for l in lines if "values" in l and "lat" in l["values"] and record.start_ms <= l["ts"] < record.end_ms]
    if len(window) < 2:
        return lines
    first, last = window[0], window[-1]
    r = random.Random(f"detour|{record.enterprise_uscc}|{first['device']}|{record.start_ms}")
    a = (first["values"]["lat"], first["values"]["lon"])
    b = (last["values"]["lat"], last["values"]["lon"])
    out = _outside_point(a, fence, r.uniform(80, 150))
    rows = _detour_rows(first, a, out, b, last["ts"], r)
    extra_km = rows[-1]["values"]["odometer_km"] - last["values"]["odometer_km"]
    key = first["device"]
    if record.facts.get("terminal_event"):
        cross = next(row for row in rows if not inside(row["values"]["lon"], row["values"]["lat"], fence))
        rows.append(
            {
                "device": key,
                "ts": cross["ts"],
                "event": "geofence_exit",
                "params": {
                    "fence_id": record.facts["fence_id"],
                    "lat": cross["values"]["lat"],
                    "lon": cross["values"]["lon"],
                },
            }
        )
    kept = []
    for l in lines:
        if record.start_ms <= l["ts"] <= last["ts"] and ("values" in l or l["event"] == "overspeed"):
            continue  # the clean track's positions and its speeding are replaced by the detour
        if l["ts"] > last["ts"] and "values" in l and "odometer_km" in l["values"]:
            l = {**l, "values": {**l["values"], "odometer_km": round(l["values"]["odometer_km"] + extra_km, 1)}}
        kept.append(l)
    return sorted(kept + rows, key=lambda l: l["ts"])


def _outside_point(a: tuple[float, float], fence: list[list[float]], beyond_km: float) -> tuple[float, float]:
    """A point `beyond_km` past the fence on the ray from the fence's centre through a (lat, lon)."""
    c_lon, c_lat = float(np.mean([v[0] for v in fence])), float(np.mean([v[1] for v in fence]))
    d_lat, d_lon = a[0] - c_lat, (a[1] - c_lon) * math.cos(math.radians(a[0]))
    norm = math.hypot(d_lat, d_lon) or 1.0
    d_lat, d_lon = (d_lat, d_lon) if norm > 1e-3 else (1.0, 0.0)
    step_km, km = 10.0, 0.0
    while True:
        km += step_km
        lat = a[0] + d_lat / norm * km / 111.0
        lon = a[1] + d_lon / norm * km / (111.0 * math.cos(math.radians(a[0])))
        if not inside(lon, lat, fence):
            break
    km += beyond_km
    return a[0] + d_lat / norm * km / 111.0, a[1] + d_lon / norm * km / (111.0 * math.cos(math.radians(a[0])))


def _detour_rows(first: dict, a, out, b, until_ms: int, r: random.Random) -> list[dict]:
    """Value lines of the detour a -> out (park) -> b between first["ts"] and until_ms."""
    key, v0 = first["device"], first["values"]
    odo, fuel, alt = v0["odometer_km"], v0.get("fuel_l", 300.0), v0.get("altitude_m", 50)
    d_out = float(haversine_km(a[0], a[1], out[0], out[1]))
    d_back = float(haversine_km(out[0], out[1], b[0], b[1]))
    span_h = (until_ms - first["ts"]) / P.HOUR_MS
    speed = max(DETOUR_KMH, (d_out + d_back) / max(span_h * 0.9, 0.1))
    t_arrive = first["ts"] + int(d_out / speed * P.HOUR_MS)
    t_leave = max(t_arrive, until_ms - int(d_back / speed * P.HOUR_MS))
    rows, hours = [], set()

    def emit(t, lat, lon, v, heading, on):
        values = {
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "speed_kmh": round(v, 1),
            "heading_deg": round(heading % 360, 1),
            "altitude_m": alt,
            "odometer_km": round(odo, 1),
            "fuel_l": round(max(fuel, 20.0), 1),
            "acc_on": on,
        }
        if t // P.HOUR_MS not in hours:
            hours.add(t // P.HOUR_MS)
            values.update(battery_pct=100.0, rssi_dbm=-80)
        rows.append({"device": key, "ts": int(t), "values": values})

    for p, q, t0, t1 in ((a, out, first["ts"], t_arrive), (out, b, t_leave, until_ms)):
        heading = math.degrees(math.atan2((q[1] - p[1]) * math.cos(math.radians(p[0])), q[0] - p[0]))
        length = float(haversine_km(p[0], p[1], q[0], q[1]))
        steps = max(int((t1 - t0) // 60_000), 1)
        for k in range(1, steps + 1):
            f = k / steps
            odo += length / steps
            fuel -= length / steps * 0.32
            emit(
                t0 + k * (t1 - t0) // steps,
                p[0] + (q[0] - p[0]) * f,
                p[1] + (q[1] - p[1]) * f,
                min(speed * r.uniform(0.95, 1.05), 120.0),
                heading,
                True,
            )
        if q is out:
            for t in range(t_arrive + 900_000, t_leave, 900_000):
                emit(t, out[0], out[1], 0.0, heading, False)
    return rows


ANOMALIES = {  # labelled anomalies this pack can inject (see wuxin.sim.fleet.plan_anomalies)
    "gps_jump": P.AnomalySpec(
        "vehicles.gps_terminal",
        "offset",
        (0, 0),
        values=lambda d: {"lat": 2.5, "lon": 3.5},
        expect="one position displaced by (lat, lon) degrees between two normal ones: a jump of "
        "hundreds of km no speed explains",
    ),
    "geofence_exit": P.AnomalySpec(
        "vehicles.gps_terminal",
        "rewrite",
        (36 * 3600, 60 * 3600),
        facts=_fence_facts,
        rewrite=leave_fence,
        expect="positions outside `polygon` (lon, lat) between start and end: the truck drives "
        "out at about 80 km/h, parks 80-150 km beyond the fence, drives back; a "
        "geofence_exit event only when terminal_event (the rule must work from positions)",
    ),
    "fabricated_copy": P.fabricated_copy("vehicles.gps_terminal"),
}
DEMO_INCIDENTS = ("geofence_exit",)  # the demo's fleet borrower: a pledged truck leaves its area (a bank's reason)
REST_WEEKDAYS = frozenset({6})  # fewer trips on Sundays (see telemetry)


def benign_events(enterprise: EnterpriseSpec, start_ms: int, end_ms: int, seed: int) -> list[P.AnomalyRecord]:
    """The refuelling stops `telemetry` simulates, as benign records (no risk: the fuel level jumps up while the
    truck stands 20-35 min at a service area)."""
    stops: dict = {}
    for _ in telemetry(enterprise, start_ms, end_ms, seed, refuels=stops):
        pass
    return [
        P.AnomalyRecord(
            "refuelling",
            enterprise.uscc,
            (key,),
            t0,
            t1,
            "benign",
            {},
            facts={"fuel_before_l": round(before, 1), "fuel_after_l": round(after, 1)},
            expect="parked 20-35 min, fuel_l jumps up half-way through",
        )
        for key, mine in stops.items()
        for t0, t1, before, after in mine
    ]


COUNTERS = {"vehicles.gps_terminal": "odometer_km"}  # the terminal's own odometer (a new terminal starts at 0)


def build_enterprise(rng: random.Random, index: int) -> EnterpriseSpec:
    home = CITY[rng.choice(HOMES)]
    place = P.Place(home.province, home.name, home.lat, home.lon, REGION_CODE[home.name])
    name = P.company_name(rng, place, ("物流", "运输", "货运", "供应链管理", "汽车运输"), ("有限公司",))
    lat, lon = P.jitter(rng, home.lat, home.lon, 8)
    site = SiteSpec(f"{name}车队停车场", home.province, lat, lon)
    mode = rng.choices(("bank_installed", "third_party_platform", "enterprise_shared"), (0.55, 0.35, 0.10))[0]
    prefix = P.key_prefix("veh", index, rng)
    devices = []
    for v in range(rng.randint(3, 7)):
        plate = home.plate + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(5))
        vin = "LZZ" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(14))
        devices.append(
            DeviceSpec(
                f"{prefix}-gps-{v + 1:02d}",
                "vehicles.gps_terminal",
                site.name,
                mode,
                {"plate": plate, "vin": vin, "jt808_phone": f"0{rng.randrange(10**11):011d}"},
            )
        )
        if rng.random() < 0.75:
            devices.append(
                DeviceSpec(f"{prefix}-adas-{v + 1:02d}", "vehicles.adas_unit", site.name, mode, {"plate": plate})
            )
    return EnterpriseSpec(
        name, make_uscc(rng, place.code), "vehicles", home.province, P.choose_health(rng), (site,), tuple(devices)
    )


def _home_of(enterprise: EnterpriseSpec) -> City:
    return next((c for c in CITIES if c.province == enterprise.region and c.name in HOMES), CITY["苏州"])


def _route(r: np.random.Generator, a: tuple[float, float, float], b: tuple[float, float, float]):
    """A road-like polyline from a to b: the straight line bent by two gentle curves."""
    f = np.linspace(0, 1, 60)
    lat = a[0] + (b[0] - a[0]) * f
    lon = a[1] + (b[1] - a[1]) * f
    d = float(haversine_km(a[0], a[1], b[0], b[1]))
    bend = (
        np.sin(np.pi * f) * r.uniform(-0.08, 0.08) * d / 111.0
        + np.sin(3 * np.pi * f) * r.uniform(-0.02, 0.02) * d / 111.0
    )
    norm = math.hypot(b[0] - a[0], b[1] - a[1]) or 1.0
    lat = lat + bend * (-(b[1] - a[1]) / norm)
    lon = lon + bend * ((b[0] - a[0]) / norm) / max(math.cos(math.radians(a[0])), 0.3)
    alt = a[2] + (b[2] - a[2]) * f + np.sin(np.pi * f * r.integers(2, 6)) * r.uniform(0, 40)
    seg = haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])
    return lat, lon, alt, np.concatenate(([0.0], np.cumsum(seg)))


class _Truck:
    def __init__(self, r: np.random.Generator, home: City, tank_l: float, fuel_l: float, odo_km: float):
        self.r, self.home = r, home
        self.lat, self.lon, self.alt = home.lat + r.normal(0, 0.03), home.lon + r.normal(0, 0.03), home.alt
        self.tank, self.fuel, self.odo = tank_l, fuel_l, odo_km
        self.l_per_100 = r.uniform(28, 36)
        self.heading = 0.0
        self.speeder = r.uniform(0.0, 0.004)  # chance per driving sample of a speeding spell
        self.rows: list[tuple] = []
        self.events: list[tuple[int, str, dict]] = []
        self.refuels: list[tuple[int, int, float, float]] = []  # (parked from, leaves at, litres before, after)

    def park(self, t0: int, t1: int, step: int) -> None:
        for t in range(-(-t0 // step) * step, t1, step):
            self.rows.append(
                (t, self.lat, self.lon, 0.0, self.heading, self.alt, self.odo, self.fuel + self.r.normal(0, 0.6), False)
            )

    def drive(self, t0: int, dest: tuple[float, float, float], step: int, drive_log: list) -> int:
        """Drive to dest from t0; returns the arrival time. Appends (t, speed, hours_driven) to drive_log."""
        r = self.r
        lat, lon, alt, s_km = _route(r, (self.lat, self.lon, self.alt), dest)
        length = float(s_km[-1])
        s, t, driven_h, since_rest = 0.0, t0, 0.0, 0.0
        cruise = r.uniform(78, 90)
        spell = 0
        while s < length:
            urban = s < 12 or length - s < 12
            limit = 60.0 if urban else 100.0
            v = r.uniform(25, 55) if urban else cruise + r.normal(0, 4)
            if spell > 0:
                v, spell = limit * r.uniform(1.1, 1.25), spell - 1
            elif not urban and r.random() < self.speeder:
                spell = int(r.integers(2, 8))
            if r.random() < 0.01:  # congestion
                v = r.uniform(0, 20)
            v = float(max(v, 0.0))
            if (
                v > limit * 1.1
                and spell > 0
                and (not self.events or self.events[-1][1] != "overspeed" or t - self.events[-1][0] > 600_000)
            ):
                self.events.append((t, "overspeed", {"speed_kmh": round(v, 1), "limit_kmh": limit}))
            ds = v * step / 3_600_000
            s = min(s + ds, length)
            new_lat, new_lon = float(np.interp(s, s_km, lat)), float(np.interp(s, s_km, lon))
            moved = float(haversine_km(self.lat, self.lon, new_lat, new_lon))
            if moved > 0.01:
                self.heading = (
                    math.degrees(math.atan2((new_lon - self.lon) * math.cos(math.radians(new_lat)), new_lat - self.lat))
                    % 360.0
                )
            self.lat, self.lon, self.alt = new_lat, new_lon, float(np.interp(s, s_km, alt))
            self.odo += moved
            self.fuel = max(self.fuel - moved * self.l_per_100 / 100 - 0.04 * step / 60_000 * 0.1, 0.0)
            t += step
            driven_h += step / 3_600_000
            since_rest += step / 3_600_000
            self.rows.append(
                (t, self.lat, self.lon, v, self.heading, self.alt, self.odo, self.fuel + r.normal(0, 0.8), True)
            )
            drive_log.append((t, v, since_rest, self.lat, self.lon))
            if s < length and (since_rest >= 4.0 or self.fuel < 0.2 * self.tank):
                rest = int(r.uniform(20, 35) * 60_000)
                if self.fuel < 0.35 * self.tank:  # refuel at the service area
                    self.park(t + 1, t + rest // 2, step)
                    before, self.fuel = self.fuel, self.tank * r.uniform(0.9, 0.98)
                    self.refuels.append((t, t + rest, before, self.fuel))
                self.park(t + rest // 2, t + rest, step)
                t += rest
                since_rest = 0.0
        return t


def telemetry(
    enterprise: EnterpriseSpec,
    start_ms: int,
    end_ms: int,
    seed: int,
    *,
    intervals_s: dict[str, int] | None = None,
    truth: dict | None = None,
    refuels: dict | None = None,
) -> Iterator[dict]:
    """Lines of every device; `truth`, when given, receives {(gps key, local day): km driven}; `refuels`, when
    given, receives {gps key: [(parked from, leaves at, litres before, litres after), ...]} of the refuelling stops
    in the window (a service-area stop: parked 20-35 min, the tank filled to 90-98 % half-way through)."""
    iv = {**DEFAULT_INTERVALS_S, **(intervals_s or {})}
    drive_step, park_step = iv["driving"] * 1000, iv["parked"] * 1000
    home = _home_of(enterprise)
    ent_rng = P.rng_for(seed, enterprise.uscc, "fleet")
    first_day, last_day = int(P.local_day(np.int64(start_ms))), int(P.local_day(np.int64(end_ms - 1)))
    days = np.arange(first_day, last_day + 1)
    level = P.health_level(
        enterprise.health, P.days_to_end(np.array([P.day_ms(int(d)) + P.DAY_MS // 2 for d in days]), end_ms), ent_rng
    )
    work = np.array([P.work_factor(P.date_of_day(int(d))) for d in days])
    adas = {d.attributes["plate"]: d for d in enterprise.devices if d.device_type == "vehicles.adas_unit"}
    for dev in enterprise.devices:
        if dev.device_type != "vehicles.gps_terminal":
            continue
        r = P.rng_for(seed, dev.key)
        hours_before = max((start_ms - EPOCH_2020_MS) / P.HOUR_MS, 0.0)
        truck = _Truck(
            r,
            home,
            tank_l=float(r.choice([400, 500, 600])),
            fuel_l=float(r.uniform(150, 380)),
            odo_km=float(r.uniform(2e4, 8e4) + hours_before * r.uniform(6, 12)),
        )
        drive_log: list = []
        served = (home, *lanes(dev, home))  # trips stay within its permitted area
        t = start_ms
        here = home
        for k, d in enumerate(days):
            depart = P.day_ms(int(d)) + int(r.uniform(5.5, 9.0) * P.HOUR_MS)
            active = r.random() < 0.85 * level[k] * work[k] and r.random() < (
                0.75 if P.work_weekday(int(d)) < 6 else 0.45
            )
            if not active or depart <= t or depart >= end_ms:
                continue
            options = [
                c for c in served if c is not here and 120 < float(haversine_km(here.lat, here.lon, c.lat, c.lon)) < 600
            ]
            back_home = here is not home and r.random() < 0.4
            dest_city = home if back_home or not options else options[int(r.integers(len(options)))]
            truck.park(t, depart, park_step)
            dest = (dest_city.lat + r.normal(0, 0.03), dest_city.lon + r.normal(0, 0.03), dest_city.alt)
            t = truck.drive(depart, dest, drive_step, drive_log) + 1
            here = dest_city
        truck.park(t, end_ms, park_step)
        rows = [row for row in truck.rows if start_ms <= row[0] < end_ms]
        if refuels is not None:
            refuels[dev.key] = [stop for stop in truck.refuels if start_ms <= stop[0] < end_ms]
        if not rows:
            continue
        cols = list(zip(*rows))
        ts = np.array(cols[0], dtype=np.int64)
        if truth is not None:  # km between consecutive rows (unrounded odometer), on the later row's day
            km = np.diff(np.array(cols[6]), prepend=cols[6][0])
            day = P.local_day(ts)
            truth.update({(dev.key, int(d)): float(km[day == d].sum()) for d in np.unique(day)})
        columns = {
            "lat": np.array(cols[1]),
            "lon": np.array(cols[2]),
            "speed_kmh": np.array(cols[3]),
            "heading_deg": np.array(cols[4]),
            "altitude_m": np.array(cols[5]),
            "odometer_km": np.array(cols[6]),
            "fuel_l": np.clip(np.array(cols[7]), 0, 2000),
            "acc_on": np.array(cols[8], dtype=bool),
            **P.status_columns(r, ts, mains=True),
        }
        decimals = {
            "lat": 6,
            "lon": 6,
            "speed_kmh": 1,
            "heading_deg": 1,
            "altitude_m": 0,
            "odometer_km": 1,
            "fuel_l": 1,
            "battery_pct": 1,
            "rssi_dbm": 0,
        }
        values = P.lines_from_arrays(dev.key, ts, columns, decimals)
        own = [e for e in truck.events if start_ms <= e[0] < end_ms]
        yield from P.device_stream(dev.key, r, start_ms, end_ms, enterprise.health, values, own)
        unit = adas.get(dev.attributes["plate"])
        if unit is not None:
            yield from _adas_lines(
                unit, P.rng_for(seed, unit.key), drive_log, start_ms, end_ms, enterprise.health, drive_step
            )


ADAS_RATES_PER_H = {
    "phone_use": 0.05,
    "smoking": 0.04,
    "distraction": 0.08,
    "lane_departure": 0.15,
    "forward_collision": 0.04,
    "collision": 0.0004,
}


def _adas_lines(
    unit: DeviceSpec, r: np.random.Generator, drive_log: list, start_ms: int, end_ms: int, health: str, step: int
) -> Iterator[dict]:
    risk = r.lognormal(0, 0.6)
    events: list[tuple[int, str, dict]] = []
    status_ts = []
    last_hour = None
    for t, v, since_rest, lat, lon in drive_log:
        if not start_ms <= t < end_ms:
            continue
        if t // P.HOUR_MS != last_hour:
            last_hour = t // P.HOUR_MS
            status_ts.append(t)
        hours = step / 3_600_000
        night = P.local_hour(np.array(t, dtype=np.int64)) < 5 or P.local_hour(np.array(t, dtype=np.int64)) >= 22
        fatigue_rate = 0.02 + 0.12 * max(since_rest - 2.5, 0) + (0.3 if night else 0)
        rates = dict(ADAS_RATES_PER_H, fatigue=fatigue_rate)
        for name, rate in rates.items():
            if v > 10 and r.random() < rate * risk * hours:
                params = {
                    "speed_kmh": round(float(v), 1),
                    "lat": round(lat, 6),
                    "lon": round(lon, 6),
                    "level": 1 if r.random() < 0.3 else 0,
                }
                events.append((t, name, params))
    ts = np.array(status_ts, dtype=np.int64)
    values = (
        P.lines_from_arrays(
            unit.key, ts, P.status_columns(r, ts, every_ms=1, mains=True), {"rssi_dbm": 0, "battery_pct": 1}
        )
        if len(ts)
        else []
    )
    yield from P.device_stream(unit.key, r, start_ms, end_ms, health, values, events)
