"""Construction simulator: a building site with tower cranes, a dust/noise monitor and face-ID gates.

Cranes lift during working hours (07:00-18:00 with a lunch break, Sundays at reduced
strength, closed over Spring Festival) unless the wind at jib height exceeds 13.8 m/s
(Beaufort 6, where lifting must stop). Each lift picks a load within the crane's load chart
rated(r) = min(max_load, M / r) at its radius, hoists, slews and trolleys to the drop point
and lowers; now and then an operator overloads (moment over 100 %) and the limiter alarms.
Outside working hours the crane is left free to weathervane and reports every 10 min. The
monitor sees dust and noise rise with the work. The gates log each worker in and out
(hashed identities, a few unregistered people). Latent health sets the crew size and the
pace of work: a failing builder's site runs out of money and falls quiet.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np

from wuxin.sim import patterns as P
from wuxin.sim.spec import DeviceSpec, EnterpriseSpec, SiteSpec, make_uscc

DEFAULT_INTERVALS_S = {"crane_working": 60, "crane_idle": 600, "construction.env_monitor": 600}
WIND_STOP_MS = 13.8

PLACES = (  # place, winter and summer PM2.5 baseline (ug/m3)
    (P.Place("上海市浦东新区", "上海浦东", 31.221, 121.544, "310115"), (45, 20)),
    (P.Place("江苏省苏州市工业园区", "苏州工业园区", 31.317, 120.720, "320571"), (50, 22)),
    (P.Place("浙江省杭州市萧山区", "杭州萧山", 30.184, 120.264, "330109"), (48, 20)),
    (P.Place("四川省成都市双流区", "成都双流", 30.400, 104.070, "510116", 500), (75, 25)),
    (P.Place("安徽省合肥市包河区", "合肥包河", 31.733, 117.283, "340111", 30), (60, 25)),
    (P.Place("江苏省南京市浦口区", "南京浦口", 32.059, 118.628, "320111", 10), (55, 24)),
)
PROJECTS = ("花园", "科创中心", "安置房", "产业园", "学校")


ANOMALIES = {  # labelled anomalies this pack can inject (see wuxin.sim.fleet.plan_anomalies)
    "crane_overload": P.AnomalySpec(
        "construction.tower_crane",
        "set",
        (5 * 60, 20 * 60),
        values=lambda d: {"load_t": 11.5, "moment_pct": 142.0},
        expect="load_t and moment_pct at the given values (moment above 100 %) on the crane's "
        "lines from start to end (none at night, when the crane sends nothing)",
    ),
    "fabricated_copy": P.fabricated_copy("construction.env_monitor"),
    "fabricated_smooth": P.fabricated_smooth(
        "construction.env_monitor",
        lambda d: {
            "pm25_ugm3": {"mean": 35.0, "decimals": 1},
            "pm10_ugm3": {"mean": 58.0, "decimals": 1},
            "noise_db": {"mean": 60.0, "amplitude": 6.0, "peak_hour": 14.0, "decimals": 1},
        },
        expect="pm25_ugm3 and pm10_ugm3 exactly constant (just under the limits), noise_db a perfect daily sine: "
        "a dust monitor fed made-up figures",
    ),
}

REST_WEEKDAYS = frozenset({6})  # Sunday: a light day (see telemetry)


def build_enterprise(rng: random.Random, index: int) -> EnterpriseSpec:
    place, _ = rng.choice(PLACES)
    name = P.company_name(rng, place, ("建设工程", "建筑工程", "建设发展", "市政工程"))
    lat, lon = P.jitter(rng, place.lat, place.lon, 6)
    site = SiteSpec(f"{place.short}{rng.choice(PROJECTS)}项目工地", place.region, lat, lon)
    mode = rng.choices(("bank_installed", "third_party_platform", "enterprise_shared"), (0.5, 0.35, 0.15))[0]
    prefix = P.key_prefix("con", index, rng)
    devices = [
        DeviceSpec(f"{prefix}-crane-{c + 1}", "construction.tower_crane", site.name, mode, {"crane_id": f"TC-{c + 1}"})
        for c in range(rng.randint(1, 4))
    ]
    devices.append(DeviceSpec(f"{prefix}-env-1", "construction.env_monitor", site.name, mode, {"site_id": "S1"}))
    devices += [
        DeviceSpec(f"{prefix}-gate-{g + 1}", "construction.access_gate", site.name, mode, {"site_id": "S1"})
        for g in range(rng.randint(1, 2))
    ]
    return EnterpriseSpec(
        name, make_uscc(rng, place.code), "construction", place.region, P.choose_health(rng), (site,), tuple(devices)
    )


def _place_of(enterprise: EnterpriseSpec):
    return next(((p, pm) for p, pm in PLACES if p.region == enterprise.region), PLACES[0])


def rated_load_t(radius_m: np.ndarray | float, max_load_t: float, moment_tm: float) -> np.ndarray:
    """The load chart: full load up to the knee radius, then constant moment."""
    return np.minimum(max_load_t, moment_tm / np.maximum(radius_m, 1.0))


def _working(ts: np.ndarray, day_open: dict[int, float]) -> np.ndarray:
    hour = P.local_hour(ts)
    day = P.local_day(ts)
    shift = ((hour >= 7.0) & (hour < 11.5)) | ((hour >= 13.0) & (hour < 18.0))
    open_ = np.array([day_open.get(int(d), 0.0) for d in day]) if len(ts) else np.zeros(0)
    return shift & (open_ > 0)


def telemetry(
    enterprise: EnterpriseSpec, start_ms: int, end_ms: int, seed: int, *, intervals_s: dict[str, int] | None = None
) -> Iterator[dict]:
    iv = {**DEFAULT_INTERVALS_S, **(intervals_s or {})}
    place, (pm_winter, pm_summer) = _place_of(enterprise)
    health = enterprise.health
    er = P.rng_for(seed, enterprise.uscc, "site")
    d0, d1 = int(P.local_day(np.int64(start_ms))), int(P.local_day(np.int64(end_ms - 1)))
    days = np.arange(d0, d1 + 1)
    level = P.health_level(
        health, P.days_to_end(np.array([P.day_ms(int(d)) + P.DAY_MS // 2 for d in days]), end_ms), er
    )
    pace = {}
    for k, d in enumerate(days):
        wf = P.work_factor(P.date_of_day(int(d))) * (0.6 if P.work_weekday(int(d)) == 6 else 1.0)
        pace[int(d)] = float(wf * level[k]) if er.random() < 0.9 + 0.1 * level[k] else 0.0  # rain days off
    # weather shared by the site: 1-min wind for the cranes, 10-min for the monitor
    fine = P.grid(start_ms, end_ms, iv["crane_working"] * 1000)
    if len(fine) == 0:
        return
    wind = P.wind_ms(fine, er, mean=3.2)
    cranes = [d for d in enterprise.devices if d.device_type == "construction.tower_crane"]
    work = _working(fine, pace)
    for dev in cranes:
        yield from _crane(
            dev,
            enterprise,
            fine,
            work,
            wind,
            pace,
            start_ms,
            end_ms,
            seed,
            iv,
            [c.attributes["crane_id"] for c in cranes],
        )

    env = next((d for d in enterprise.devices if d.device_type == "construction.env_monitor"), None)
    if env is not None:
        r = P.rng_for(seed, env.key)
        ts = P.grid(start_ms, end_ms, iv["construction.env_monitor"] * 1000)
        k = len(ts)
        doy = (P.local_day(ts) - 20) % 365.25
        base_pm = pm_summer + (pm_winter - pm_summer) * (0.5 + 0.5 * np.cos(2 * np.pi * doy / 365.25))
        busy = _working(ts, pace) * np.array([pace.get(int(d), 0.0) for d in P.local_day(ts)])
        pm25 = np.clip(base_pm * np.exp(P.smooth_noise(r, k, 0.35, 0.995)) + 8 * busy * r.lognormal(0, 0.4, k), 1, 1000)
        pm10 = np.clip(pm25 * r.uniform(1.5, 1.9) + 45 * busy * r.lognormal(0, 0.5, k), 1, 2000)
        noise = np.clip(np.where(busy > 0, 66 + 8 * busy, 51) + r.normal(0, 2.5, k), 20, 140)
        temp = P.climate_temp_c(place.lat, place.altitude_m, ts, er)
        cols = {
            "pm25_ugm3": pm25,
            "pm10_ugm3": pm10,
            "noise_db": noise,
            "temp_c": temp,
            "humidity_pct": np.clip(75 - 1.5 * (temp - temp.mean()) + P.smooth_noise(r, k, 8, 0.99), 15, 100),
            "wind_ms": np.interp(ts, fine, wind),
            **P.status_columns(r, ts, mains=True),
        }
        values = P.lines_from_arrays(
            env.key,
            ts,
            cols,
            {
                "pm25_ugm3": 1,
                "pm10_ugm3": 1,
                "noise_db": 1,
                "temp_c": 1,
                "humidity_pct": 1,
                "wind_ms": 1,
                "battery_pct": 1,
                "rssi_dbm": 0,
            },
        )
        yield from P.device_stream(env.key, r, start_ms, end_ms, health, values)

    gates = [d for d in enterprise.devices if d.device_type == "construction.access_gate"]
    if gates:
        yield from _gates(gates, enterprise, days, pace, start_ms, end_ms, seed)


def _crane(
    dev: DeviceSpec,
    enterprise: EnterpriseSpec,
    fine: np.ndarray,
    work: np.ndarray,
    wind: np.ndarray,
    pace: dict[int, float],
    start_ms: int,
    end_ms: int,
    seed: int,
    iv: dict,
    crane_ids: list[str],
) -> Iterator[dict]:
    r = P.rng_for(seed, dev.key)
    max_load = float(r.choice([6.0, 8.0, 10.0]))
    knee = float(r.uniform(11, 16))
    moment = max_load * knee
    jib = float(r.choice([50.0, 55.0, 60.0]))
    tower = float(r.uniform(30, 90))
    overload_p = {"growing": 0.002, "stable": 0.003, "declining": 0.008, "failing": 0.012}[enterprise.health]
    n = len(fine)
    wind_h = np.clip(wind * 1.35, 0, 75)
    load, radius, slew, height = np.zeros(n), np.full(n, jib * 0.3), np.zeros(n), np.full(n, tower - 5)
    events: list[tuple[int, str, dict]] = []
    park_slew = float(r.uniform(0, 360))
    cur_slew, cur_r = park_slew, jib * 0.3
    i = 0
    while i < n:
        if not work[i]:
            park_slew = (park_slew + wind[i] * r.normal(0, 1.5)) % 360  # free to weathervane
            slew[i], radius[i], height[i] = park_slew, cur_r, tower - 5
            i += 1
            continue
        d = int(P.local_day(fine[i]))
        if wind_h[i] > WIND_STOP_MS or r.random() > 0.25 + 0.6 * pace.get(d, 0.0):
            slew[i], radius[i], height[i] = cur_slew, cur_r, tower - 5
            i += 1
            continue
        k = int(r.integers(4, 8))  # one lift, minutes
        r1, r2 = float(r.uniform(8, jib)), float(r.uniform(5, jib))
        s1, s2 = cur_slew, float((cur_slew + r.uniform(-150, 150)) % 360)
        rated = float(rated_load_t(max(r1, r2), max_load, moment))
        weight = rated * float(r.uniform(1.03, 1.25) if r.random() < overload_p else r.uniform(0.2, 0.88))
        f = np.linspace(0, 1, k)
        stop = i
        while stop < min(i + k, n) and work[stop]:  # the hook is set down when the shift ends
            stop += 1
        seg = slice(i, stop)
        m = stop - i
        f = f if m == k else np.linspace(0, 1, m)
        radius[seg] = (r1 + (r2 - r1) * f)[:m]
        delta = ((s2 - s1 + 180) % 360) - 180
        slew[seg] = ((s1 + delta * f) % 360)[:m]
        height[seg] = (tower * 0.6 * np.sin(np.pi * f) + 2)[:m]
        load[seg] = weight * r.normal(1, 0.01, m)
        m_pct = weight * r1 / moment * 100
        if m_pct > 100:
            events.append(
                (
                    int(fine[i]),
                    "overload",
                    {
                        "load_t": round(weight, 2),
                        "rated_load_t": round(float(rated_load_t(r1, max_load, moment)), 2),
                        "moment_pct": round(m_pct, 1),
                    },
                )
            )
        cur_slew, cur_r = s2, r2
        i += m
        if len(crane_ids) > 1 and r.random() < 0.003:
            other = r.choice([c for c in crane_ids if c != dev.attributes["crane_id"]])
            events.append(
                (
                    int(fine[min(i, n - 1)]),
                    "collision_risk",
                    {"other_crane_id": str(other), "distance_m": round(float(r.uniform(2, 8)), 1)},
                )
            )
    rated_now = rated_load_t(radius, max_load, moment)
    moment_pct = np.clip(load * radius / moment * 100, 0, 300)
    idle_step = iv["crane_idle"] * 1000
    keep = work | (fine % idle_step == 0)
    ts = fine[keep]
    cols = {
        "load_t": np.clip(load, 0, 100)[keep],
        "rated_load_t": rated_now[keep],
        "moment_pct": moment_pct[keep],
        "height_m": height[keep],
        "radius_m": radius[keep],
        "wind_ms": wind_h[keep],
        "slew_deg": np.mod(slew, 360)[keep],
        **P.status_columns(r, ts, mains=True),
    }
    values = P.lines_from_arrays(
        dev.key,
        ts,
        cols,
        {"moment_pct": 1, "height_m": 1, "radius_m": 1, "wind_ms": 1, "slew_deg": 1, "battery_pct": 1, "rssi_dbm": 0},
    )
    yield from P.device_stream(dev.key, r, start_ms, end_ms, enterprise.health, values, events)


def _gates(
    gates: list[DeviceSpec],
    enterprise: EnterpriseSpec,
    days: np.ndarray,
    pace: dict[int, float],
    start_ms: int,
    end_ms: int,
    seed: int,
) -> Iterator[dict]:
    r = P.rng_for(seed, enterprise.uscc, "crew")
    crew = int(r.integers(40, 180))
    pool = [P.person_hash(enterprise.uscc, w) for w in range(int(crew * 1.3))]
    per_gate: dict[str, list] = {g.key: [] for g in gates}
    for d in days:
        p = pace.get(int(d), 0.0)
        if p <= 0:
            continue
        today = r.choice(len(pool), min(len(pool), int(crew * p * r.uniform(0.85, 1.0))), replace=False)
        base = P.day_ms(int(d))
        for w in today:
            who = pool[int(w)]
            t_in = base + int(r.normal(6.9, 0.25) * P.HOUR_MS)
            t_out = base + int((r.normal(18.1, 0.3) if r.random() < 0.8 else r.uniform(19, 21)) * P.HOUR_MS)
            passes = [(t_in, "entry"), (t_out, "exit")]
            if r.random() < 0.3:
                passes += [
                    (base + int(r.uniform(11.5, 12.0) * P.HOUR_MS), "exit"),
                    (base + int(r.uniform(12.5, 13.0) * P.HOUR_MS), "entry"),
                ]
            for t, name in passes:
                gate = gates[int(r.integers(len(gates)))].key
                per_gate[gate].append((t, name, {"person_hash": who, "authorised": True}))
        for _ in range(
            r.poisson(0.5 + (1.5 if enterprise.health == "failing" else 0))
        ):  # unregistered visitors, tailgaters
            t = base + int(r.uniform(7, 17) * P.HOUR_MS)
            per_gate[gates[0].key].append(
                (t, "entry", {"person_hash": P.person_hash("visitor", seed, t), "authorised": False})
            )
    for g in gates:
        gr = P.rng_for(seed, g.key)
        ts = P.grid(start_ms, end_ms, P.HOUR_MS)
        values = P.lines_from_arrays(
            g.key, ts, P.status_columns(gr, ts, every_ms=1, mains=True), {"battery_pct": 1, "rssi_dbm": 0}
        )
        yield from P.device_stream(
            g.key,
            gr,
            start_ms,
            end_ms,
            enterprise.health,
            values,
            [e for e in per_gate[g.key] if start_ms <= e[0] < end_ms],
        )
