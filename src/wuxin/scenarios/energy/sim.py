"""Energy simulator: PV plants that follow the sun and the weather, and EV charging stations.

PV: pvlib gives the sun's position and Ineichen clear-sky irradiance at the plant; each day
draws a sky (clear, broken cloud, overcast) with the region's odds, passing clouds cut the
irradiance, Erbs splits it into beam and diffuse and the transposition model gives the
plane-of-array irradiance on the modules. Inverters turn it into AC with temperature losses,
soiling, clip at their AC rating and sometimes trip on faults (longer and more often when
the owner's health is poor). Inverters report every 5 min in daylight, every 30 min at night.

Charging: cars arrive at each pile with the daily pattern of an urban station (ride-hailing
drivers at night on the valley tariff, commuters at noon and evening); a session charges at
the pile's power, tapering as the battery fills, then reports session_end.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pvlib

from wuxin.sim import patterns as P
from wuxin.sim.spec import DeviceSpec, EnterpriseSpec, SiteSpec, make_uscc

DEFAULT_INTERVALS_S = {"pv": 300, "pv_night": 1800, "energy.weather_station": 300, "charging": 120, "pile_idle": 900}
EPOCH_2020_MS = 1_577_836_800_000

PV_PLACES = (  # place, clear-day odds (clear, broken, overcast), tilt
    (P.Place("青海省海西蒙古族藏族自治州格尔木市", "格尔木", 36.402, 94.903, "632801", 2800), (0.65, 0.27, 0.08), 36),
    (P.Place("青海省海南藏族自治州共和县", "共和", 36.150, 100.600, "632521", 2900), (0.6, 0.3, 0.1), 36),
    (P.Place("宁夏回族自治区中卫市沙坡头区", "中卫", 37.500, 105.180, "640502", 1250), (0.55, 0.3, 0.15), 35),
    (P.Place("宁夏回族自治区银川市灵武市", "灵武", 38.100, 106.340, "640181", 1120), (0.55, 0.3, 0.15), 35),
    (P.Place("河北省张家口市张北县", "张北", 41.150, 114.700, "130722", 1400), (0.5, 0.32, 0.18), 38),
)
ROOF_PLACES = (
    (P.Place("江苏省常州市武进区", "常州武进", 31.701, 119.947, "320412", 5), (0.35, 0.35, 0.3), 10),
    (P.Place("浙江省嘉兴市海宁市", "海宁", 30.510, 120.680, "330481", 5), (0.33, 0.35, 0.32), 10),
)
CHARGE_PLACES = (
    P.Place("上海市闵行区", "上海", 31.113, 121.382, "310112", 5),
    P.Place("江苏省苏州市工业园区", "苏州", 31.317, 120.720, "320571", 5),
    P.Place("广东省深圳市龙岗区", "深圳", 22.720, 114.247, "440307", 30),
    P.Place("浙江省杭州市余杭区", "杭州", 30.419, 120.300, "330110", 10),
)
FAULTS = ((1021, "电网过压"), (2003, "绝缘阻抗低"), (3110, "IGBT过温"), (4012, "直流电弧故障"), (5001, "通讯板异常"))
ALL_PLACES = {p.region: (p, odds, tilt) for p, odds, tilt in PV_PLACES + ROOF_PLACES}
ALL_PLACES.update({p.region: (p, (0.35, 0.35, 0.3), 10) for p in CHARGE_PLACES})


ANOMALIES = {  # labelled anomalies this pack can inject (see wuxin.sim.fleet.plan_anomalies)
    "pv_above_irradiance": P.AnomalySpec(
        "energy.pv_inverter",
        "set",
        (6 * 3600, 30 * 3600),
        values=lambda d: {"ac_power_kw": round(0.9 * d.attributes["capacity_kwp"], 2), "status": "normal"},
        expect="ac_power_kw held at 90 % of capacity, status normal, at night and under "
        "cloud: more than the plane-of-array irradiance allows",
    ),
    "fabricated_copy": P.fabricated_copy("energy.pv_inverter"),
    "fabricated_smooth": P.fabricated_smooth(
        "energy.pv_inverter",
        lambda d: {
            "ac_power_kw": {
                "mean": 0.0,
                "amplitude": round(0.75 * d.attributes["capacity_kwp"], 2),
                "peak_hour": 13.5,
                "floor": 0.0,
                "decimals": 2,
            }
        },
        expect="ac_power_kw a perfect cosine bell every day (peak 75 % of capacity at 13:30, zero 07:30-19:30 outside), "
        "whatever the sky: no cloud dips, same curve each day",
    ),
}

MAINTENANCE = {"scope": "device", "device_type": "energy.pv_inverter"}  # an inverter powered down for service
COUNTERS = {"energy.pv_inverter": "energy_kwh_total", "energy.charging_pile": "energy_kwh_total"}


def build_enterprise(rng: random.Random, index: int) -> EnterpriseSpec:
    kind = rng.choices(("pv", "charging", "roof_and_piles"), (0.5, 0.3, 0.2))[0]
    place, _, tilt = (
        rng.choice(PV_PLACES if kind == "pv" else ROOF_PLACES)
        if kind != "charging"
        else (rng.choice(CHARGE_PLACES), None, 0)
    )
    trades = {
        "pv": ("光伏发电", "新能源", "光伏电力"),
        "charging": ("充电科技", "新能源汽车服务", "能源科技"),
        "roof_and_piles": ("新能源科技", "光伏科技", "绿色能源"),
    }[kind]
    name = P.company_name(rng, place, trades)
    lat, lon = P.jitter(rng, place.lat, place.lon, 5)
    site = SiteSpec(f"{name}{'电站' if kind == 'pv' else '场站'}", place.region, lat, lon)
    mode = P.choose_source_mode(rng)
    prefix = P.key_prefix("ene", index, rng)
    devices = []
    if kind != "charging":
        n_inv, kw_ac = (rng.randint(8, 14), 225.0) if kind == "pv" else (rng.randint(3, 6), 100.0)
        dc_ac = rng.uniform(1.15, 1.35)
        for i in range(n_inv):
            devices.append(
                DeviceSpec(
                    f"{prefix}-inv-{i + 1:02d}",
                    "energy.pv_inverter",
                    site.name,
                    mode,
                    {
                        "capacity_kwp": round(kw_ac * dc_ac, 1),
                        "ac_capacity_kw": kw_ac,
                        "tilt_deg": float(tilt),
                        "azimuth_deg": float(180 + rng.choice((0, 0, -5, 5))),
                        "lat": lat,
                        "lon": lon,
                    },
                )
            )
        devices.append(
            DeviceSpec(f"{prefix}-wx-01", "energy.weather_station", site.name, mode, {"lat": lat, "lon": lon})
        )
    if kind != "pv":
        for c in range(rng.randint(6, 14) if kind == "charging" else rng.randint(3, 6)):
            rated = rng.choice((7.0, 60.0, 120.0, 120.0, 160.0))
            devices.append(
                DeviceSpec(
                    f"{prefix}-pile-{c + 1:02d}",
                    "energy.charging_pile",
                    site.name,
                    "third_party_platform" if rng.random() < 0.3 else mode,
                    {"rated_kw": rated, "tariff_cny_per_kwh": round(rng.uniform(1.0, 1.8), 2)},
                )
            )
    return EnterpriseSpec(
        name, make_uscc(rng, place.code), "energy", place.region, P.choose_health(rng), (site,), tuple(devices)
    )


def telemetry(
    enterprise: EnterpriseSpec,
    start_ms: int,
    end_ms: int,
    seed: int,
    *,
    intervals_s: dict[str, int] | None = None,
    truth: dict | None = None,
) -> Iterator[dict]:
    """Lines of every device; `truth`, when given, receives {weather station key: {"ts", "poa_wm2",
    "module_temp_c"}}, the irradiance and temperature before sensor noise and rounding."""
    iv = {**DEFAULT_INTERVALS_S, **(intervals_s or {})}
    if any(d.device_type != "energy.charging_pile" for d in enterprise.devices):
        yield from _pv(enterprise, start_ms, end_ms, seed, iv, truth)
    piles = [d for d in enterprise.devices if d.device_type == "energy.charging_pile"]
    for dev in piles:
        yield from _pile(dev, enterprise, start_ms, end_ms, seed, iv)


# ---------------------------------------------------------------- PV


def _sky(enterprise: EnterpriseSpec, ts: np.ndarray, seed: int, odds) -> np.ndarray:
    """Clearness index per sample: a sky drawn per day, with passing clouds on broken days."""
    r = P.rng_for(seed, enterprise.uscc, "sky")
    day = P.local_day(ts)
    d0 = int(day[0])
    nd = int(day[-1]) - d0 + 1
    state = r.choice(3, nd, p=odds)
    base = np.where(
        state == 0, r.uniform(0.93, 1.0, nd), np.where(state == 1, r.uniform(0.75, 0.92, nd), r.uniform(0.15, 0.4, nd))
    )
    kt = base[(day - d0).astype(int)]
    broken = (state == 1)[(day - d0).astype(int)]
    clouds = P.segments_mask(r, len(ts), 0.06, 3.0)
    kt = np.where(broken & clouds, kt * r.uniform(0.3, 0.65, len(ts)), kt)
    return np.clip(kt * (1 + r.normal(0, 0.015, len(ts))), 0.05, 1.05)


def _pv(
    enterprise: EnterpriseSpec, start_ms: int, end_ms: int, seed: int, iv: dict, truth: dict | None = None
) -> Iterator[dict]:
    place, odds, _ = ALL_PLACES.get(enterprise.region, (PV_PLACES[0][0], PV_PLACES[0][1], 35))
    site = enterprise.sites[0]
    step = iv["pv"] * 1000
    ts = P.grid(start_ms, end_ms, step)
    if len(ts) == 0:
        return
    times = pd.DatetimeIndex(ts.astype("datetime64[ms]")).tz_localize("UTC")
    loc = pvlib.location.Location(site.lat, site.lon, altitude=place.altitude_m)
    with warnings.catch_warnings():  # pvlib 0.16 still calls pandas' deprecated dayofyear
        warnings.filterwarnings("ignore", message=".*dayofyear.*")
        sp = loc.get_solarposition(times)
        cs = loc.get_clearsky(times, model="ineichen", solar_position=sp)
    kt = _sky(enterprise, ts, seed, odds)
    ghi = cs["ghi"].to_numpy() * kt
    zen = sp["zenith"].to_numpy()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dayofyear.*")
        erbs = pvlib.irradiance.erbs(ghi, zen, times)
    er = P.rng_for(seed, enterprise.uscc, "weather")
    air = P.climate_temp_c(site.lat, place.altitude_m, ts, er) + 0.004 * ghi
    wind = P.wind_ms(ts, er, mean=4.0 if place.altitude_m > 1000 else 2.8)
    elev = sp["elevation"].to_numpy()
    night_step = iv["pv_night"] * 1000
    report = (elev > -5) | (ts % night_step == 0)
    health = enterprise.health
    level = P.health_level(health, P.days_to_end(ts, end_ms), er)
    poa_cache: dict[tuple[float, float], np.ndarray] = {}

    def poa_for(tilt: float, az: float) -> np.ndarray:
        if (tilt, az) not in poa_cache:
            irr = pvlib.irradiance.get_total_irradiance(
                tilt, az, sp["apparent_zenith"], sp["azimuth"], erbs["dni"], ghi, erbs["dhi"], albedo=0.25
            )
            poa_cache[(tilt, az)] = np.nan_to_num(np.asarray(irr["poa_global"], dtype=float)).clip(0, None)
        return poa_cache[(tilt, az)]

    for dev in enterprise.devices:
        r = P.rng_for(seed, dev.key)
        if dev.device_type == "energy.weather_station":
            tilt = next(
                (float(d.attributes["tilt_deg"]) for d in enterprise.devices if d.device_type == "energy.pv_inverter"),
                30.0,
            )
            poa = poa_for(tilt, 180.0)
            module = pvlib.temperature.sapm_module(poa, air, wind, -3.47, -0.0594)
            if truth is not None:
                truth[dev.key] = {"ts": ts, "poa_wm2": poa, "module_temp_c": np.clip(module, -50, 100)}
            cols = {
                "ghi_wm2": np.clip(ghi * r.normal(1, 0.01, len(ts)), 0, 1500),
                "poa_wm2": np.clip(poa * r.normal(1, 0.01, len(ts)), 0, 1800),
                "air_temp_c": air,
                "module_temp_c": np.clip(module, -50, 100),
                "wind_ms": wind,
                **P.status_columns(r, ts, mains=True),
            }
            values = P.lines_from_arrays(
                dev.key,
                ts,
                cols,
                {
                    "ghi_wm2": 1,
                    "poa_wm2": 1,
                    "air_temp_c": 1,
                    "module_temp_c": 1,
                    "wind_ms": 1,
                    "battery_pct": 1,
                    "rssi_dbm": 0,
                },
            )
            yield from P.device_stream(dev.key, r, start_ms, end_ms, health, values)
            continue
        if dev.device_type != "energy.pv_inverter":
            continue
        cap = float(dev.attributes["capacity_kwp"])
        drawn_ac_max = cap / r.uniform(1.15, 1.3)  # drawn either way: the random stream stays the same
        ac_max = float(dev.attributes.get("ac_capacity_kw") or drawn_ac_max)  # the inverter clips at its AC rating
        poa = poa_for(float(dev.attributes["tilt_deg"]), float(dev.attributes["azimuth_deg"]))
        cell = pvlib.temperature.sapm_cell(poa, air, wind, -3.47, -0.0594, 3)
        soiling = {"growing": 0.98, "stable": 0.96, "declining": 0.9, "failing": 0.88}[health] * r.uniform(0.98, 1.01)
        dc = cap * poa / 1000 * (1 - 0.0037 * (cell - 25)) * 0.95 * soiling
        ac = np.clip(np.minimum(dc * 0.983, ac_max), 0, None)
        ac = np.where(poa > 15, ac, 0.0)
        fault_rate = (
            {"growing": 0.004, "stable": 0.006, "declining": 0.015, "failing": 0.03}[health] * step / P.HOUR_MS / 10
        )
        fault = P.segments_mask(r, len(ts), fault_rate, r.uniform(3, 30) * P.HOUR_MS / step)
        fault |= (level < 0.3) & (r.random() < 0.5)  # a failing owner stops paying for O&M
        ac = np.where(fault, 0.0, ac)
        vmp = 1050 * (1 - 0.0035 * (cell - 25)) * (1 + 0.04 * np.log(np.clip(poa, 1, None) / 1000))
        dc_v = np.clip(np.where(poa > 5, np.where(fault, vmp * 1.2, vmp), 0.0) + r.normal(0, 2, len(ts)), 0, 1500)
        status = np.where(fault, "fault", np.where(ac > 0, "normal", "standby")).astype(object)
        hours_before = max((start_ms - EPOCH_2020_MS) / P.HOUR_MS, 0.0)
        e0 = cap * 0.17 * hours_before * r.uniform(0.9, 1.0)
        energy = e0 + np.cumsum(ac) * step / P.HOUR_MS
        keep = report
        cols = {
            "ac_power_kw": ac[keep],
            "energy_kwh_total": energy[keep],
            "dc_voltage_v": dc_v[keep],
            "status": status[keep],
            **P.status_columns(r, ts[keep], mains=True),
        }
        values = P.lines_from_arrays(
            dev.key,
            ts[keep],
            cols,
            {"ac_power_kw": 2, "energy_kwh_total": 2, "dc_voltage_v": 1, "battery_pct": 1, "rssi_dbm": 0},
        )
        starts = np.flatnonzero(fault & ~np.concatenate(([False], fault[:-1])))
        events = []
        for i in starts:
            code, msg = FAULTS[int(r.integers(len(FAULTS)))]
            events.append((int(ts[i]), "fault", {"code": code, "message": msg}))
        yield from P.device_stream(dev.key, r, start_ms, end_ms, health, values, events)


# ---------------------------------------------------------------- charging piles

# arrivals per hour of day for a fast pile, relative (ride-hailing at night, noon, evening)
ARRIVALS = np.array(
    [
        0.9,
        0.9,
        0.8,
        0.6,
        0.4,
        0.3,
        0.3,
        0.4,
        0.5,
        0.5,
        0.6,
        0.9,
        1.0,
        0.9,
        0.6,
        0.5,
        0.5,
        0.6,
        0.8,
        0.9,
        0.8,
        0.6,
        0.7,
        0.9,
    ]
)


def _pile(
    dev: DeviceSpec, enterprise: EnterpriseSpec, start_ms: int, end_ms: int, seed: int, iv: dict
) -> Iterator[dict]:
    r = P.rng_for(seed, dev.key)
    rated = float(dev.attributes["rated_kw"])
    ac_pile = rated <= 22
    per_day = r.uniform(2, 4) if ac_pile else r.uniform(6, 11)
    health = enterprise.health
    ent_r = P.rng_for(seed, enterprise.uscc, "piles")  # one collapse date for all piles of the firm
    day_starts = np.arange(start_ms, end_ms, P.DAY_MS, dtype=np.int64)
    day_level = P.health_level(health, P.days_to_end(day_starts + P.DAY_MS // 2, end_ms), ent_r)
    rate_h = ARRIVALS / ARRIVALS.sum() * per_day
    if ac_pile:
        rate_h = np.roll(rate_h, 6)  # overnight home-like charging at AC piles
    c_step, idle_step = iv["charging"] * 1000, iv["pile_idle"] * 1000
    hours_before = max((start_ms - EPOCH_2020_MS) / P.HOUR_MS, 0.0)
    total = float(r.uniform(1e3, 5e3) + hours_before * per_day * 25 / 24 * 0.5)
    rows: list[tuple[int, float, float, str]] = []
    events: list[tuple[int, str, dict]] = []
    t = start_ms
    next_idle = -(-start_ms // idle_step) * idle_step
    while t < end_ms:
        lvl = float(day_level[min(int((t - start_ms) // P.DAY_MS), len(day_level) - 1)])
        h = int(P.local_hour(np.array(t, dtype=np.int64)))
        lam = rate_h[h] * lvl / P.HOUR_MS
        wait = int(r.exponential(1 / lam)) if lam > 0 else P.HOUR_MS
        if wait > P.HOUR_MS - (t % P.HOUR_MS):  # no arrival this hour: move to the next hour
            nxt = (t // P.HOUR_MS + 1) * P.HOUR_MS
            while next_idle < min(nxt, end_ms):
                rows.append((next_idle, 0.0, total, "idle"))
                next_idle += idle_step
            t = nxt
            continue
        t_arr = t + wait
        while next_idle < min(t_arr, end_ms):
            rows.append((next_idle, 0.0, total, "idle"))
            next_idle += idle_step
        if t_arr >= end_ms:
            break
        if r.random() < (0.004 if health in ("growing", "stable") else 0.02):  # pile trips: out of service for hours
            down = int(r.uniform(2, 30) * P.HOUR_MS)
            events.append((t_arr, "power_lost", {}))
            rows.append((t_arr, 0.0, total, "fault"))
            t = t_arr + down
            next_idle = -(-t // idle_step) * idle_step
            continue
        need = float(r.uniform(10, 40) if ac_pile else r.uniform(15, 60))
        car_max = rated if ac_pile else min(rated, float(r.choice([60.0, 90.0, 120.0, 150.0])))
        p_full = car_max * r.uniform(0.85, 0.95)
        got, tt = 0.0, t_arr
        rows.append((tt, round(p_full * 0.5, 2), total, "charging"))
        while got < need and tt < end_ms:
            frac = got / need
            p = p_full if frac < 0.8 else p_full * (1 - 3.2 * (frac - 0.8))
            p = max(p, p_full * 0.3) * r.normal(1, 0.01)
            tt += c_step
            got += p * c_step / P.HOUR_MS
            total += p * c_step / P.HOUR_MS
            rows.append((tt, round(p, 2), total, "charging"))
        if tt < end_ms:
            end_t = tt + 1000
            rows.append((end_t, 0.0, total, "idle"))
            events.append(
                (
                    end_t,
                    "session_end",
                    {"energy_kwh": round(got, 2), "duration_min": round((end_t - t_arr) / P.MINUTE_MS, 1)},
                )
            )
        t = tt + int(r.uniform(1, 5) * P.MINUTE_MS)
        next_idle = -(-t // idle_step) * idle_step
    rows = [row for row in rows if start_ms <= row[0] < end_ms]
    ts = np.array([x[0] for x in rows], dtype=np.int64)
    cols = {
        "power_kw": np.array([x[1] for x in rows]),
        "energy_kwh_total": np.array([x[2] for x in rows]),
        "status": np.array([x[3] for x in rows], dtype=object),
        **P.status_columns(r, ts, mains=True),
    }
    values = P.lines_from_arrays(dev.key, ts, cols, {"battery_pct": 1, "rssi_dbm": 0}) if len(ts) else []
    yield from P.device_stream(
        dev.key, r, start_ms, end_ms, health, values, [e for e in events if start_ms <= e[0] < end_ms]
    )
