"""`wuxin bench generate`: a second labelled data set, made apart from the platform's own simulator (issue 15, item 7).

Written from docs/scenarios.md (device types, metric names, install attributes) and the packs' alarm types only: it
imports nothing from wuxin.sim and none of the platform's rules, so thresholds fitted to the simulator meet data they
were not fitted to. It writes DIR in the labelled format `wuxin bench alerts --data DIR` scores (docs/benchmarks.md,
"Labelled data sets"): devices.json, telemetry.jsonl, labels.json.

What differs from the simulator on purpose:
  - noise is AR(1) (each reading remembers the last), machines switch between running and stopped by a Markov
    chain inside their shifts, loads drift; PV irradiance is pvlib's Ineichen clear sky times a cloud cover that
    switches between clear, broken and overcast regimes day by day, and the inverters turn it into power through
    DISC decomposition, Hay-Davies transposition and a NOCT cell temperature (the platform uses Erbs, isotropic
    and SAPM);
  - devices drop single readings, a truck's terminal delivers some fixes late (`sent_ms`), trucks refuel, counters
    reset at maintenance, cows are culled and calve, a herd sweats through a hot afternoon, goods move between
    zones of one pledged lot, one factory never works on Sundays, every firm keeps the PRC calendar (Mid-Autumn and
    National Day 2026 with the make-up Saturday of 10 October) - each such event labelled benign;
  - anomalies are labelled with the platform's alarm types, including kinds the simulator does not make (PV
    inflated x1.3 from a day on, a day fabricated as a shifted and lightly noised copy of the week before, stock
    drawn out at night, a herd padded with collars replaying other cows, a machine idle while its meter still
    claims its load, an odometer rolled back);
  - about half the firms are healthy controls with no risk label at all.
Deterministic per seed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from wuxin.indicators.days import CHINA_TZ as CN
from wuxin.indicators.days import DAY_MS, HOUR_MS

MINUTE_MS = 60_000
SOURCE = "gen2"
# State Council notice for 2026: Mid-Autumn 25-27 Sep, National Day 1-7 Oct; Sun 20 Sep and Sat 10 Oct are worked.
HOLIDAYS_2026 = {
    dt.date(2026, 9, 25),
    dt.date(2026, 9, 26),
    dt.date(2026, 9, 27),
    *(dt.date(2026, 10, d) for d in range(1, 8)),
}
MAKEUP_2026 = {dt.date(2026, 9, 20), dt.date(2026, 10, 10)}


def local_midnight_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=CN).timestamp() * 1000)


def official_workday(day: dt.date) -> bool:
    if day in HOLIDAYS_2026:
        return False
    return day in MAKEUP_2026 or day.weekday() < 5


@dataclass
class DataSet:
    """What is written: enterprises, devices, lines, labels."""

    start: dt.date
    days: int
    enterprises: list = field(default_factory=list)
    devices: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    labels: list = field(default_factory=list)

    @property
    def start_ms(self) -> int:
        return local_midnight_ms(self.start)

    def date(self, d: int) -> dt.date:
        return self.start + dt.timedelta(days=d)

    def at(self, d: int, hour: float) -> int:
        return self.start_ms + d * DAY_MS + int(hour * HOUR_MS)

    def firm(self, fid: str, name: str, industry: str, region: str) -> None:
        self.enterprises.append({"id": fid, "name": name, "industry": industry, "region": region})

    def device(self, fid: str, key: str, device_type: str, **attributes) -> str:
        self.devices.append({"key": key, "enterprise": fid, "device_type": device_type, "attributes": attributes})
        return key

    def reading(self, key: str, ts: int, values: dict, sent_ms: int | None = None) -> None:
        line = {"device": key, "ts": int(ts), "values": values}
        if sent_ms is not None:
            line["sent_ms"] = int(sent_ms)
        self.lines.append(line)

    def event(self, key: str, ts: int, event: str, params: dict | None = None) -> None:
        self.lines.append({"device": key, "ts": int(ts), "event": event, "params": params or {}})

    def label(
        self,
        fid: str,
        alarm_types: list[str],
        devices: list[str],
        start: int,
        end: int,
        kind: str,
        benign: bool = False,
    ) -> None:
        self.labels.append(
            {
                "id": f"{fid}-{len(self.labels) + 1:03d}",
                "alarm_types": alarm_types,
                "enterprise": fid,
                "devices": devices,
                "start": int(start),
                "end": int(end),
                "benign": benign,
                "source": SOURCE,
                "kind": kind,
            }
        )

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "devices.json").write_bytes(
            orjson.dumps(
                {"enterprises": self.enterprises, "devices": self.devices},
                option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY,
            )
        )
        end_ms = self.start_ms + self.days * DAY_MS  # a meter stamping its interval's end would open one more day
        self.lines = [l for l in self.lines if l["ts"] < end_ms and l.get("sent_ms", 0) < end_ms]
        self.lines.sort(key=lambda l: (l["ts"], l["device"]))
        with (out / "telemetry.jsonl").open("wb") as f:
            for line in self.lines:
                f.write(orjson.dumps(line, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
        (out / "labels.json").write_bytes(
            orjson.dumps({"labels": self.labels}, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
        )


def ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    """A stationary AR(1) series of n steps with innovation sd sigma."""
    out = np.empty(n)
    x = rng.normal(0, sigma / math.sqrt(1 - phi * phi))
    for i in range(n):
        x = phi * x + rng.normal(0, sigma)
        out[i] = x
    return out


def working(ds: DataSet, d: int, sundays_off: bool) -> bool:
    day = ds.date(d)
    return official_workday(day) and not (sundays_off and day.weekday() == 6)


def benign_calendar(ds: DataSet, fid: str, types: list[str], sundays_off: bool = False) -> None:
    """Every non-working day of the firm, labelled benign for the types a closed day could fool."""
    for d in range(ds.days):
        if not working(ds, d, sundays_off):
            day = ds.date(d)
            kind = (
                "holiday"
                if day in HOLIDAYS_2026
                else ("sunday_never_worked" if sundays_off and day.weekday() == 6 else "weekend")
            )
            ds.label(fid, types, [], ds.at(d, 0), ds.at(d, 24) - 1, kind, benign=True)


# ---------------------------------------------------------------- manufacturing
def manufacturing(
    ds: DataSet,
    fid: str,
    rng: np.random.Generator,
    risks: list[str],
    sundays_off: bool = False,
    two_shifts: bool = False,
) -> None:
    ds.firm(fid, f"{fid} 精密机械有限公司", "manufacturing", "浙江省宁波市")
    step_min = 5
    per_day = 24 * 60 // step_min
    n = ds.days * per_day
    machines = []
    for m in range(4):
        rated = float(rng.choice([32.0, 50.0, 80.0, 120.0]))
        key = ds.device(
            fid,
            f"{fid}-br{m}",
            "manufacturing.current_bracelet",
            rated_current_a=rated,
            run_threshold_a=round(0.25 * rated, 1),
            machine_id=f"{fid}-CNC{m}",
            voltage_v=380,
            power_factor=0.85,
            phases=3,
            meter_id=f"{fid}-MTR",
        )
        machines.append((key, rated))
    meter = ds.device(fid, f"{fid}-meter", "manufacturing.energy_meter", meter_id=f"{fid}-MTR", base_load_kw=18.0)
    counter = ds.device(fid, f"{fid}-plc", "manufacturing.output_counter", product="轴承座", unit_price_cny=42.0)
    shifts = [(8.0, 12.0), (13.0, 17.5)] + ([(18.5, 22.5)] if two_shifts else [])

    def on_shift(d: int, hour: float) -> bool:
        return working(ds, d, sundays_off) and any(a <= hour < b for a, b in shifts)

    # the risks' days: after three weeks of history
    idle_day = ds.days - 9
    plans = {
        "machine_idle": 1,
        "meter_claims_idle": 2,
        "fabricated_copy": 3,
        "tamper": 0,
        "offline": 0,
        "clock_skew": 3,
    }
    maintenance = (ds.days - 13, 0)  # a planned service: machine 0 stopped for one working day
    while not working(ds, maintenance[0], sundays_off):
        maintenance = (maintenance[0] + 1, 0)
    # the running state of every machine at every step, then the currents
    run = np.zeros((4, n), dtype=bool)
    current = np.zeros((4, n))
    for m, (key, rated) in enumerate(machines):
        state = False
        load = 0.65 + 0.15 * rng.random() + ar1(rng, n, 0.97, 0.015)
        for i in range(n):
            d, slot = divmod(i, per_day)
            hour = slot * step_min / 60
            if on_shift(d, hour):
                state = rng.random() < (0.93 if state else 0.35)
            else:
                state = False
            if (d, m) == maintenance:
                state = False
            idle = ("machine_idle" in risks and m == plans["machine_idle"]) or (
                "meter_claims_idle" in risks and m == plans["meter_claims_idle"]
            )
            if idle and d >= idle_day:
                state = False
            run[m, i] = state
            if state:
                current[m, i] = rated * float(np.clip(load[i], 0.3, 1.05))
            elif on_shift(d, hour) or (d, m) == maintenance:
                current[m, i] = rated * 0.04 * (1 + 0.2 * rng.random())  # powered, spindle stopped
            else:
                current[m, i] = 0.0 if rng.random() < 0.8 else round(0.3 * rng.random(), 2)
    kw = np.sqrt(3) * 380 * current * 0.85 / 1000
    if "meter_claims_idle" in risks:  # the meter goes on booking the idle machine's usual load
        m = plans["meter_claims_idle"]
        usual = kw[m, : idle_day * per_day][run[m, : idle_day * per_day]].mean()
        for i in range(idle_day * per_day, n):
            d, slot = divmod(i, per_day)
            if on_shift(d, slot * step_min / 60) and rng.random() < 0.8:
                kw[m, i] = usual * (1 + 0.05 * rng.normal())
    copy_day = ds.days - 6
    skew = (ds.days - 5, 9.0, 20.0)
    offline = (ds.days - 11, 9.0, 14.5)
    for m, (key, rated) in enumerate(machines):
        values = current[m].copy()
        if "fabricated_copy" in risks and m == plans["fabricated_copy"]:
            # the day is the same weekday a week earlier, shifted by one step and lightly noised
            src = values[(copy_day - 7) * per_day - 1 : (copy_day - 6) * per_day - 1]
            values[copy_day * per_day : (copy_day + 1) * per_day] = src * (1 + 0.01 * rng.normal(size=per_day))
        for i in range(n):
            if rng.random() < 0.01:
                continue  # a dropped reading
            d, slot = divmod(i, per_day)
            ts = ds.start_ms + i * step_min * MINUTE_MS + int(rng.integers(0, 20_000))
            hour = slot * step_min / 60
            if "offline" in risks and m == 0 and d == offline[0] and offline[1] <= hour < offline[2]:
                continue
            stamp = ts
            if "clock_skew" in risks and m == plans["clock_skew"] and d == skew[0] and skew[1] <= hour < skew[2]:
                stamp = ts + 3 * HOUR_MS
            ds.reading(
                key,
                stamp,
                {"current_a": round(float(values[i]), 2), "rssi_dbm": int(-70 + 6 * rng.normal())},
                sent_ms=ts if stamp != ts else None,
            )
    if "fabricated_copy" in risks:
        m = plans["fabricated_copy"]
        ds.label(
            fid,
            ["fabricated_data"],
            [machines[m][0]],
            ds.at(copy_day, 0),
            ds.at(copy_day, 24) - 1,
            "day copied from the week before, shifted 5 min, noised 1 %",
        )
    if "machine_idle" in risks:
        m = plans["machine_idle"]
        ds.label(
            fid,
            ["machine_idle"],
            [machines[m][0]],
            ds.at(idle_day, 0),
            ds.at(ds.days, 0) - 1,
            "one machine stopped while the plant works",
        )
    if "meter_claims_idle" in risks:
        m = plans["meter_claims_idle"]
        ds.label(
            fid,
            ["machine_idle"],
            [machines[m][0]],
            ds.at(idle_day, 0),
            ds.at(ds.days, 0) - 1,
            "machine stopped (its meter still books its load)",
        )
        ds.label(
            fid,
            ["meter_balance"],
            [meter],
            ds.at(idle_day, 0),
            ds.at(ds.days, 0) - 1,
            "meter books the load of a machine that is idle",
        )
    if "offline" in risks:
        ds.label(
            fid,
            ["device_offline"],
            [machines[0][0]],
            ds.at(offline[0], offline[1]),
            ds.at(offline[0], offline[2]),
            "bracelet silent 5.5 h on a working day",
        )
    if "clock_skew" in risks:
        m = plans["clock_skew"]
        ds.label(
            fid,
            ["clock_skew"],
            [machines[m][0]],
            ds.at(skew[0], skew[1]),
            ds.at(skew[0], skew[2]),
            "bracelet clock 3 h ahead",
        )
    if "tamper" in risks:
        t = ds.at(ds.days - 4, 15.3)
        ds.event(machines[1][0], t, "tamper")
        ds.label(fid, ["device_tamper"], [machines[1][0]], t, t + HOUR_MS, "bracelet housing opened")
    ds.label(
        fid,
        ["machine_idle", "utilization_drop", "fabricated_data"],
        [machines[maintenance[1]][0]],
        ds.at(maintenance[0], 0),
        ds.at(maintenance[0], 24) - 1,
        "planned maintenance, one machine",
        benign=True,
    )
    # the meter every 15 min: the machines' energy plus the plant's own load (lights, compressors, HVAC)
    base = 18.0 * (1 + ar1(rng, n, 0.95, 0.03))
    total = 250_000.0 + 3000 * rng.random()
    count_total = float(rng.integers(100_000, 400_000))
    reset_day = maintenance[0]
    for i in range(n):
        d, slot = divmod(i, per_day)
        hour = slot * step_min / 60
        daytime = 1.0 + 0.4 * max(0.0, math.sin(math.pi * (hour - 7) / 12)) if working(ds, d, sundays_off) else 0.6
        total += (base[i] * daytime + kw[:, i].sum()) * step_min / 60
        count_total += rng.poisson(1.8 * run[:, i].sum())
        if (i + 1) % 3:
            continue
        ts = ds.start_ms + (i + 1) * step_min * MINUTE_MS
        if d == reset_day and 10.0 <= hour < 10.25:
            count_total = 0.0  # the PLC was replaced during the service: its counter restarts
        if rng.random() > 0.005:
            ds.reading(
                meter,
                ts + 3000,
                {"energy_kwh_total": round(total, 2), "power_kw": round(float(base[i] * daytime + kw[:, i].sum()), 2)},
            )
        if rng.random() > 0.005:
            ds.reading(counter, ts + 7000, {"output_count_total": int(count_total)})
    ds.label(
        fid,
        ["fabricated_data", "meter_balance"],
        [counter],
        ds.at(reset_day, 10),
        ds.at(reset_day, 11),
        "output counter reset (PLC replaced)",
        benign=True,
    )
    benign_calendar(ds, fid, ["machine_idle", "utilization_drop", "device_offline"], sundays_off)


# ---------------------------------------------------------------- energy (PV)
def clear_sky(times_ms: np.ndarray, lat: float, lon: float):
    import pandas as pd
    import pvlib

    times = pd.DatetimeIndex(pd.to_datetime(times_ms, unit="ms", utc=True))
    site = pvlib.location.Location(lat, lon, tz="UTC", altitude=50)
    return times, site, site.get_clearsky(times, model="ineichen")["ghi"].to_numpy()


def plant_power(times, site, ghi: np.ndarray, air_c: np.ndarray, kwp: float, ac_kw: float) -> np.ndarray:
    """AC kW: DISC split, Hay-Davies onto a 25 deg south plane, NOCT cell temperature, -0.4 %/K, 86 % losses."""
    import pvlib

    sp = site.get_solarposition(times)
    disc = pvlib.irradiance.disc(ghi, sp["apparent_zenith"], times)
    dni = np.nan_to_num(disc["dni"].to_numpy())
    dhi = np.clip(ghi - dni * np.cos(np.radians(sp["apparent_zenith"].to_numpy())).clip(0, None), 0, None)
    poa = pvlib.irradiance.get_total_irradiance(
        25,
        180,
        sp["apparent_zenith"],
        sp["azimuth"],
        dni,
        ghi,
        dhi,
        dni_extra=pvlib.irradiance.get_extra_radiation(times),
        model="haydavies",
    )["poa_global"].to_numpy()
    poa = np.nan_to_num(poa).clip(0, None)
    cell = air_c + poa * (45 - 20) / 800
    dc = kwp * poa / 1000 * (1 - 0.004 * (cell - 25))
    return np.minimum(dc * 0.86, ac_kw).clip(0, None)


def energy(ds: DataSet, fid: str, rng: np.random.Generator, risks: list[str], lat: float, lon: float) -> None:
    ds.firm(fid, f"{fid} 光伏电站有限公司", "energy", "河北省石家庄市" if lat > 35 else "江苏省盐城市")
    step_min = 10
    per_day = 24 * 60 // step_min
    n = ds.days * per_day
    stamps = ds.start_ms + np.arange(n) * step_min * MINUTE_MS
    times, site, cs = clear_sky(stamps, lat, lon)
    # cloud regimes by day (Markov: clear, broken, overcast), then a per-step cover within the regime
    regime, cover = 0, np.empty(n)
    moves = np.array([[0.6, 0.3, 0.1], [0.35, 0.4, 0.25], [0.3, 0.4, 0.3]])
    wobble = ar1(rng, n, 0.8, 0.12)
    for d in range(ds.days):
        regime = int(rng.choice(3, p=moves[regime]))
        sl = slice(d * per_day, (d + 1) * per_day)
        if regime == 0:
            cover[sl] = 0.97 + 0.02 * np.tanh(wobble[sl])
        elif regime == 1:
            cover[sl] = np.clip(0.62 + 0.5 * wobble[sl] + 0.15 * rng.normal(size=per_day), 0.15, 1.05)
        else:
            cover[sl] = np.clip(0.28 + 0.1 * wobble[sl], 0.08, 0.6)
    ghi = cs * cover
    hour = ((stamps + 8 * HOUR_MS) % DAY_MS) / HOUR_MS
    air = 19 + 7 * np.sin(np.pi * (hour - 9) / 12) + ar1(rng, n, 0.98, 0.25)
    air -= np.arange(n) / n * 6  # autumn cools over the month
    wind = np.clip(2.5 + ar1(rng, n, 0.9, 0.4), 0, None)
    station = ds.device(fid, f"{fid}-wx", "energy.weather_station", lat=lat, lon=lon)
    inverters = []
    for k in range(2):
        kwp = float(rng.choice([250.0, 320.0, 400.0]))
        ac_kw = round(kwp / 1.15, 1)
        key = ds.device(
            fid,
            f"{fid}-inv{k}",
            "energy.pv_inverter",
            capacity_kwp=kwp,
            ac_capacity_kw=ac_kw,
            tilt_deg=25,
            azimuth_deg=180,
            lat=lat,
            lon=lon,
        )
        inverters.append(
            (key, kwp, ac_kw, plant_power(times, site, ghi, air, kwp, ac_kw) * (0.97 + 0.03 * rng.random()))
        )
    for i in range(n):
        if rng.random() < 0.01:
            continue
        measured = max(0.0, ghi[i] * (1 + 0.02 * rng.normal()))
        ds.reading(
            station,
            stamps[i] + 2000,
            {"ghi_wm2": round(measured, 1), "air_temp_c": round(float(air[i]), 2), "wind_ms": round(float(wind[i]), 2)},
        )
    inflate_from = ds.days - 14
    copy_day = ds.days - 5
    cleaning = ds.days - 17
    offline = (ds.days - 8, 10.0, 15.0)
    for k, (key, kwp, ac_kw, power) in enumerate(inverters):
        p = power * (1 + 0.01 * rng.normal(size=n))
        if "fabricated_copy" in risks and k == 1:
            src = p[(copy_day - 7) * per_day + 1 : (copy_day - 6) * per_day + 1]
            p[copy_day * per_day : (copy_day + 1) * per_day] = src * (1 + 0.02 * rng.normal(size=per_day))
        if k == 0:  # the operator washes the panels of inverter 0: off 09:00-13:00
            day_hours = (np.arange(n) // per_day == cleaning) & (hour >= 9) & (hour < 13)
            p[day_hours] = 0.0
        if "inflated" in risks and k == 0:
            p[inflate_from * per_day :] *= 1.3
        total = float(rng.integers(200_000, 900_000))
        for i in range(n):
            total += p[i] * step_min / 60
            d = i // per_day
            if rng.random() < 0.01:
                continue
            if "offline" in risks and k == 1 and d == offline[0] and offline[1] <= hour[i] < offline[2]:
                continue
            on = p[i] > 0.5
            values = {
                "ac_power_kw": round(float(p[i]), 3) if on else -0.003,
                "energy_kwh_total": round(total, 2),
                "status": "normal" if on else "standby",
            }
            if on:
                values["dc_voltage_v"] = round(620 + 25 * rng.normal(), 1)
            ds.reading(key, stamps[i] + 5000 + k * 1000, values)
    inv0, inv1 = inverters[0][0], inverters[1][0]
    ds.label(
        fid,
        ["generation_drop", "performance_ratio_out_of_band", "fabricated_data"],
        [inv0],
        ds.at(cleaning, 9),
        ds.at(cleaning, 13),
        "panel washing, inverter off 4 h",
        benign=True,
    )
    if "inflated" in risks:
        ds.label(
            fid,
            ["performance_ratio_out_of_band", "generation_above_physics"],
            [inv0],
            ds.at(inflate_from, 0),
            ds.at(ds.days, 0) - 1,
            "inverter 0 reports x1.3 from this day on",
        )
    if "fabricated_copy" in risks:
        ds.label(
            fid,
            ["fabricated_data"],
            [inv1],
            ds.at(copy_day, 0),
            ds.at(copy_day, 24) - 1,
            "day copied from a week earlier, shifted 10 min, noised 2 %",
        )
    if "offline" in risks:
        ds.label(
            fid,
            ["device_offline"],
            [inv1],
            ds.at(offline[0], offline[1]),
            ds.at(offline[0], offline[2]),
            "inverter silent 5 h at midday",
        )
    if "tamper" in risks:
        t = ds.at(ds.days - 3, 11.2)
        ds.event(station, t, "tamper")
        ds.label(fid, ["device_tamper"], [station], t, t + HOUR_MS, "weather station housing opened")


# ---------------------------------------------------------------- dairy
def dairy(ds: DataSet, fid: str, rng: np.random.Generator, risks: list[str]) -> None:
    ds.firm(fid, f"{fid} 牧业有限公司", "dairy", "内蒙古自治区呼和浩特市")
    step_min = 30
    per_day = 24 * 60 // step_min
    n = ds.days * per_day
    cows = 16
    collars = [ds.device(fid, f"{fid}-col{c:02d}", "dairy.collar", animal_id=f"{fid}-cow{c:02d}") for c in range(cows)]
    calf_day = ds.days - 15  # a heifer calves and joins the milking herd with a new collar
    calf = ds.device(fid, f"{fid}-col{cows:02d}", "dairy.collar", animal_id=f"{fid}-cow{cows:02d}")
    milk = ds.device(fid, f"{fid}-milk", "dairy.milk_meter", parlour_id=f"{fid}-P1")
    env = ds.device(fid, f"{fid}-env", "dairy.env_sensor", barn_id=f"{fid}-B1")
    cull = (ds.days - 20, 3)  # cow 3 culled: collar taken off and kept in the office drawer
    fever = (ds.days - 7, 6.0, 22.0, 5)
    sold = (ds.days - 10, [7, 8, 9, 10])
    padded = (ds.days - 12, [11, 12])  # sold, yet their collars replay two other cows, 1 h later
    heat = (ds.days - 24, 12.0, 19.0)
    stamps = ds.start_ms + np.arange(n) * step_min * MINUTE_MS
    hour = ((stamps + 8 * HOUR_MS) % DAY_MS) / HOUR_MS
    series = {}
    for c in range(cows + 1):
        temp = 38.55 + 0.15 * rng.normal() + 0.25 * np.sin(2 * np.pi * (hour - 10) / 24) + ar1(rng, n, 0.85, 0.07)
        if c == fever[3] and "fever" in risks:
            mask = (np.arange(n) // per_day == fever[0]) & (hour >= fever[1]) & (hour < fever[2])
            temp[mask] += 1.3
        hot = (np.arange(n) // per_day == heat[0]) & (hour >= heat[1]) & (hour < heat[2])
        temp[hot] += 0.55 + 0.1 * rng.random()  # the whole herd sweats
        rum = np.clip(28 + 12 * np.cos(2 * np.pi * (hour - 2) / 24) + ar1(rng, n, 0.6, 4.0), 0, 60)
        milking = np.minimum.reduce([np.abs(hour - h) for h in (5.0, 13.0, 21.0)])
        act = rng.gamma(3.0, (60 + 400 * np.exp(-(milking**2) / 0.5) + 150 * ((hour > 7) & (hour < 19))) / 3.0)
        series[c] = (temp, rum, act)
    for c, key in enumerate(collars + [calf]):
        temp, rum, act = series[c]
        for i in range(n):
            d = i // per_day
            if c == cows and d < calf_day:
                continue
            if c == cull[1] and d >= cull[0]:
                continue
            if "herd_drop" in risks and c in sold[1] and d >= sold[0]:
                continue
            if rng.random() < 0.04:
                continue
            src = c
            ts = stamps[i] + int(rng.integers(0, 120_000))
            if "padded_herd" in risks and c in padded[1] and d >= padded[0]:
                src = {11: 0, 12: 1}[c]
                j = max(0, i - 2)  # one hour behind the cow replayed
                temp_v, rum_v, act_v = (
                    series[src][0][j],
                    series[src][1][j],
                    series[src][2][j] * (1 + 0.03 * rng.normal()),
                )
            else:
                temp_v, rum_v, act_v = temp[i], rum[i], act[i]
            ds.reading(
                key,
                ts,
                {
                    "body_temp_c": round(float(temp_v), 2),
                    "rumination_min": round(float(rum_v), 1),
                    "activity_steps": int(act_v),
                },
            )
    # milkings at 05:00, 13:00, 21:00, cows through the parlour two minutes apart
    for d in range(ds.days):
        for h in (5.0, 13.0, 21.0):
            for c in range(cows + 1):
                if (c == cows and d < calf_day) or (c == cull[1] and d >= cull[0]):
                    continue
                if "herd_drop" in risks and c in sold[1] and d >= sold[0]:
                    continue
                kg = max(2.0, 11.5 - 0.04 * d + 1.2 * rng.normal() + (2.5 if c == cows else 0))
                ds.reading(
                    milk, ds.at(d, h) + c * 2 * MINUTE_MS, {"milk_kg": round(kg, 2), "animal_id": f"{fid}-cow{c:02d}"}
                )
    nh3 = np.clip(9 + ar1(rng, ds.days * 96, 0.97, 0.5), 1, None)
    for i in range(ds.days * 96):
        if rng.random() < 0.01:
            continue
        ts = ds.start_ms + i * 15 * MINUTE_MS + 4000
        h = (i % 96) / 4
        ds.reading(
            env,
            ts,
            {
                "temp_c": round(16 + 6 * math.sin(math.pi * (h - 9) / 12) + 0.3 * rng.normal(), 2),
                "humidity_pct": round(float(np.clip(62 + 8 * rng.normal(), 20, 99)), 1),
                "nh3_ppm": round(float(nh3[i]), 2),
                "co2_ppm": int(900 + 150 * rng.normal()),
            },
        )
    ds.label(
        fid,
        ["device_offline", "herd_drop"],
        [collars[cull[1]]],
        ds.at(cull[0], 0),
        ds.at(ds.days, 0) - 1,
        "cow culled, collar removed",
        benign=True,
    )
    ds.label(
        fid,
        ["fabricated_data", "fever"],
        [calf],
        ds.at(calf_day, 0),
        ds.at(calf_day + 2, 0),
        "calving: a new collar joins",
        benign=True,
    )
    ds.label(
        fid, ["fever"], [], ds.at(heat[0], heat[1]), ds.at(heat[0], heat[2]), "heat stress, whole herd", benign=True
    )
    if "fever" in risks:
        ds.label(
            fid,
            ["fever"],
            [collars[fever[3]]],
            ds.at(fever[0], fever[1]),
            ds.at(fever[0], fever[2]),
            "one cow +1.3 C for 16 h",
        )
    if "herd_drop" in risks:
        gone = [collars[c] for c in sold[1]]
        ds.label(fid, ["herd_drop"], gone, ds.at(sold[0], 0), ds.at(sold[0] + 1, 0), "four cows sold off the books")
        for key in gone:
            ds.label(
                fid, ["device_offline"], [key], ds.at(sold[0], 0), ds.at(sold[0] + 1, 0), "collar gone with its cow"
            )
    if "padded_herd" in risks:
        ds.label(
            fid,
            ["fabricated_data"],
            [collars[c] for c in padded[1]],
            ds.at(padded[0], 0),
            ds.at(ds.days, 0) - 1,
            "herd inflated: sold cows' collars replay other cows 1 h late",
        )
    if "tamper" in risks:
        t = ds.at(ds.days - 3, 2.5)
        ds.event(env, t, "tamper")
        ds.label(fid, ["device_tamper"], [env], t, t + HOUR_MS, "barn sensor opened at night")


# ---------------------------------------------------------------- vehicles
def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lon1, lat1), (lon2, lat2) = a, b
    p = math.radians
    h = math.sin(p(lat2 - lat1) / 2) ** 2 + math.cos(p(lat1)) * math.cos(p(lat2)) * math.sin(p(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def vehicles(ds: DataSet, fid: str, rng: np.random.Generator, risks: list[str]) -> None:
    ds.firm(fid, f"{fid} 物流运输有限公司", "vehicles", "河南省郑州市")
    depot = (113.65 + 0.1 * rng.random(), 34.75 + 0.1 * rng.random())
    area = [
        [depot[0] - 1.5, depot[1] - 1.2],
        [depot[0] + 1.5, depot[1] - 1.2],
        [depot[0] + 1.5, depot[1] + 1.2],
        [depot[0] - 1.5, depot[1] + 1.2],
    ]
    trucks = [
        ds.device(
            fid,
            f"{fid}-gps{t}",
            "vehicles.gps_terminal",
            plate=f"豫A{fid[-1]}{t}88{t}",
            vin=f"LGX{fid}{t:04d}",
            permitted_area=orjson.dumps(area).decode(),
        )
        for t in range(3)
    ]
    plans = {
        "geofence": (ds.days - 6, 0),
        "rollback": (ds.days - 9, 1),
        "gps_jump": (ds.days - 4, 2),
        "offline": (ds.days - 12, 1),
        "clock_skew": (ds.days - 3, 0),
        "tamper": (ds.days - 2, 2),
    }
    for t, key in enumerate(trucks):
        odo = float(rng.integers(40_000, 220_000))
        fuel = 300.0
        pos = depot
        for d in range(ds.days):
            day0 = ds.at(d, 0)
            trip = []
            departure_h = 0.0
            if working(ds, d, sundays_off=True):
                far = plans["geofence"] == (d, t) and "geofence" in risks
                bearing = rng.uniform(0, 2 * math.pi)
                reach_km = rng.uniform(180, 230) if far else rng.uniform(30, 90)
                dest = (
                    depot[0] + reach_km / (111 * math.cos(math.radians(depot[1]))) * math.cos(bearing),
                    depot[1] + reach_km / 111 * math.sin(bearing),
                )
                departure_h = 7.5 + rng.random()
                trip = [(depot, dest), (dest, depot)]
            fixes = []  # (ts, lon, lat, speed, moving)
            clock = day0
            if trip:
                leave = ds.at(d, departure_h)
                clock = day0
                while clock < leave:
                    fixes.append((clock, *pos, 0.0, False))
                    clock += 10 * MINUTE_MS
                for a, b in trip:
                    dist = km_between(a, b) * 1.25  # roads are longer than the crow flies
                    speed = 0.0
                    done = 0.0
                    while done < dist:
                        speed = float(np.clip(0.8 * speed + 0.2 * 70 + 8 * rng.normal(), 20, 105))
                        done = min(dist, done + speed / 60)
                        f = done / dist
                        pos = (
                            a[0] + (b[0] - a[0]) * f + 0.002 * rng.normal(),
                            a[1] + (b[1] - a[1]) * f + 0.002 * rng.normal(),
                        )
                        clock += MINUTE_MS
                        fixes.append((clock, *pos, speed, True))
                    pos = b
                    stop_until = clock + int(rng.uniform(0.7, 1.5) * HOUR_MS)
                    while clock < stop_until:
                        clock += 10 * MINUTE_MS
                        fixes.append((clock, *pos, 0.0, False))
            while clock < day0 + DAY_MS:
                fixes.append((clock, *pos, 0.0, False))
                clock += 10 * MINUTE_MS
            if "rollback" in risks and plans["rollback"] == (d, t):
                odo -= 9000.0  # the odometer is wound back overnight
            prev = None
            for ts, lon, lat, speed, moving in fixes:
                if not day0 <= ts < day0 + DAY_MS:
                    continue
                if prev is not None and moving:
                    step = km_between(prev, (lon, lat))
                    odo += step * 1.02
                    fuel -= step * 0.32
                prev = (lon, lat)
                if fuel < 70 and not moving:  # refuelling at the depot's station
                    fuel = 380.0 + 10 * rng.random()
                    ds.label(
                        fid,
                        ["fabricated_data", "odometer_tamper"],
                        [key],
                        ts,
                        ts + 20 * MINUTE_MS,
                        "refuelling",
                        benign=True,
                    )
                if rng.random() < 0.01:
                    continue
                hour = (ts - day0) / HOUR_MS
                if "offline" in risks and plans["offline"] == (d, t) and 8.0 <= hour < 16.0:
                    continue
                show_lon, show_lat = lon, lat
                if "gps_jump" in risks and plans["gps_jump"] == (d, t) and moving and 9.0 <= hour < 9.05:
                    show_lon, show_lat = lon + 2.5, lat - 1.5  # multipath / spoofed fix far off
                stamp, sent = ts, None
                if "clock_skew" in risks and plans["clock_skew"] == (d, t) and 6.0 <= hour < 18.0:
                    stamp, sent = ts - 4 * HOUR_MS, ts  # terminal clock 4 h behind
                elif moving and rng.random() < 0.05:
                    sent = ts + int(rng.uniform(1, 25) * MINUTE_MS)  # no coverage: delivered late
                ds.reading(
                    key,
                    stamp,
                    {
                        "lat": round(show_lat, 6),
                        "lon": round(show_lon, 6),
                        "speed_kmh": round(speed, 1),
                        "heading_deg": int(rng.integers(0, 360)),
                        "odometer_km": round(odo, 1),
                        "fuel_l": round(fuel, 1),
                        "acc_on": moving,
                    },
                    sent_ms=sent,
                )
    labels = {
        "geofence": (["geofence_exit"], 7.0, 20.0, "truck drove 180-230 km out, beyond its permitted area"),
        "rollback": (["odometer_tamper"], 0.0, 24.0, "odometer wound back 9,000 km overnight"),
        "gps_jump": (["gps_jump"], 9.0, 9.1, "one fix 280 km off"),
        "offline": (["device_offline"], 8.0, 16.0, "terminal silent 8 h on a working day"),
        "clock_skew": (["clock_skew"], 2.0, 18.0, "terminal clock 4 h behind"),
    }
    for kind, (types, from_h, to_h, text) in labels.items():
        if kind in risks:
            d, t = plans[kind]
            ds.label(fid, types, [trucks[t]], ds.at(d, from_h), ds.at(d, to_h), text)
    if "tamper" in risks:
        d, t = plans["tamper"]
        ts = ds.at(d, 23.4)
        ds.event(trucks[t], ts, "tamper")
        ds.label(fid, ["device_tamper"], [trucks[t]], ts, ts + HOUR_MS, "terminal opened at night")
    benign_calendar(ds, fid, ["mileage_drop", "device_offline", "fabricated_data"], sundays_off=True)


# ---------------------------------------------------------------- logistics (pledged warehouse)
def logistics(ds: DataSet, fid: str, rng: np.random.Generator, risks: list[str]) -> None:
    ds.firm(fid, f"{fid} 仓储有限公司", "logistics", "天津市")
    pledge = {"A": 800, "B": 700}
    readers = {
        z: ds.device(
            fid,
            f"{fid}-rfid{z}",
            "logistics.rfid_reader",
            zone_id=f"{fid}-{z}",
            pledged_units=pledge[z],
            lot_id=f"{fid}-LOT1",
            lot_pledged_units=sum(pledge.values()),
        )
        for z in pledge
    }
    gate = ds.device(fid, f"{fid}-gate", "logistics.gate_camera", zone_id=f"{fid}-A")
    scale = ds.device(fid, f"{fid}-wb", "logistics.weighbridge", site_id=f"{fid}-S")
    scanner = ds.device(fid, f"{fid}-lidar", "logistics.volume_scanner", zone_id=f"{fid}-A")
    stock = {"A": 1100.0, "B": 950.0}
    free = {"A": 900.0}  # unpledged goods in zone A that come and go
    steal = (ds.days - 8, 1.0, 3.0)
    transfer = (ds.days - 16, 14.0, 15.0)
    copy_day = ds.days - 5
    history: dict[str, list[int]] = {z: [] for z in pledge}  # per zone: the units seen at each step
    per_day = 96
    for i in range(ds.days * per_day):
        d, slot = divmod(i, per_day)
        hour = slot / 4
        ts = ds.start_ms + i * 15 * MINUTE_MS
        count_in = count_out = 0
        if working(ds, d, sundays_off=False) and 8 <= hour < 17.5 and rng.random() < 0.25:
            units = int(rng.integers(10, 30))
            if rng.random() < float(np.clip(0.5 + (free["A"] - 900.0) / 200.0, 0.05, 0.95)) and free["A"] > units:
                count_out = units
                free["A"] -= units
                ds.event(
                    scale,
                    ts + int(rng.uniform(2, 12) * MINUTE_MS),
                    "weighing",
                    {
                        "gross_kg": 15_000 + 25.0 * units,
                        "tare_kg": 15_000.0,
                        "net_kg": 25.0 * units,
                        "direction": "out",
                        "plate": f"津A{int(rng.integers(10000, 99999))}",
                    },
                )
            else:
                count_in = units
                free["A"] += units
                ds.event(
                    scale,
                    ts - int(rng.uniform(2, 12) * MINUTE_MS),
                    "weighing",
                    {
                        "gross_kg": 15_000 + 25.0 * units,
                        "tare_kg": 15_000.0,
                        "net_kg": 25.0 * units,
                        "direction": "in",
                        "plate": f"津A{int(rng.integers(10000, 99999))}",
                    },
                )
        if "night_drawdown" in risks and d == steal[0] and steal[1] <= hour < steal[2]:
            count_out += 90  # pledged goods trucked out at night, no weighing
            stock["A"] -= 90
        if d == transfer[0] and transfer[1] <= hour < transfer[2]:
            stock["A"] -= 75  # re-stacking: pledged pallets moved to zone B of the same lot
            stock["B"] += 75
        if rng.random() > 0.01:
            ds.reading(gate, ts + 60_000, {"count_in": count_in, "count_out": count_out, "sku": "钢卷"})
        for z, key in readers.items():
            held = stock[z] + (free["A"] - 900.0 if z == "A" else 0.0)
            seen = int(rng.binomial(int(max(held, 0)), 0.996))
            history[z].append(seen)
            if "fabricated_copy" in risks and z == "B" and d == copy_day:
                seen = int(history[z][i - 7 * per_day - 1] + rng.integers(-1, 2))
            if rng.random() > 0.01:
                ds.reading(key, ts + 30_000, {"tag_count": seen})
        if slot % 4 == 0 and rng.random() > 0.01:
            ds.reading(
                scanner,
                ts + 90_000,
                {"volume_m3": round((stock["A"] + free["A"] - 900) * 1.6 * (1 + 0.01 * rng.normal()), 1)},
            )
    ds.label(
        fid,
        ["stock_below_pledge", "count_mismatch"],
        [readers["A"], readers["B"]],
        ds.at(transfer[0], transfer[1]),
        ds.at(transfer[0], transfer[2]),
        "pallets moved between two zones of one pledged lot",
        benign=True,
    )
    if "night_drawdown" in risks:
        ds.label(
            fid,
            ["stock_below_pledge"],
            [readers["A"]],
            ds.at(steal[0], steal[1]),
            ds.at(ds.days, 0) - 1,
            "pledged stock trucked out at night, lot below its pledge",
        )
        ds.label(
            fid,
            ["unauthorised_outbound"],
            [gate],
            ds.at(steal[0], steal[1]),
            ds.at(steal[0], steal[2]),
            "goods counted out at night with no weighing",
        )
    if "fabricated_copy" in risks:
        ds.label(
            fid,
            ["fabricated_data"],
            [readers["B"]],
            ds.at(copy_day, 0),
            ds.at(copy_day, 24) - 1,
            "reader B's day is last week's counts, 15 min shifted, +-1",
        )
    if "tamper" in risks:
        t = ds.at(ds.days - 3, 22.7)
        ds.event(readers["A"], t, "tamper")
        ds.label(fid, ["device_tamper"], [readers["A"]], t, t + HOUR_MS, "RFID reader opened")
    benign_calendar(ds, fid, ["unauthorised_outbound", "count_mismatch"])


ALL_RISKS = {
    "manufacturing": ["machine_idle", "fabricated_copy", "tamper", "offline", "clock_skew"],
    "energy": ["inflated", "fabricated_copy", "tamper", "offline"],
    "dairy": ["fever", "herd_drop", "padded_herd", "tamper"],
    "vehicles": ["geofence", "rollback", "gps_jump", "offline", "clock_skew", "tamper"],
    "logistics": ["night_drawdown", "fabricated_copy", "tamper"],
}


def firms(size: str) -> list[tuple]:
    """(id, industry, risks, options): risky firms and healthy controls; "small" is one risky truck fleet and one
    healthy one (the end-to-end test)."""
    plan = [
        ("M1", "manufacturing", ALL_RISKS["manufacturing"], {}),
        ("M2", "manufacturing", [], {"sundays_off": True}),
        ("M3", "manufacturing", ["meter_claims_idle"], {"two_shifts": True}),
        ("E1", "energy", ALL_RISKS["energy"], {"lat": 38.04, "lon": 114.51}),
        ("E2", "energy", [], {"lat": 33.35, "lon": 120.16}),
        ("D1", "dairy", ALL_RISKS["dairy"], {}),
        ("D2", "dairy", [], {}),
        ("V1", "vehicles", ALL_RISKS["vehicles"], {}),
        ("V2", "vehicles", [], {}),
        ("L1", "logistics", ALL_RISKS["logistics"], {}),
        ("L2", "logistics", [], {}),
    ]
    if size == "small":
        return [p for p in plan if p[0] in ("V1", "V2")]
    return plan


BUILDERS: dict[str, Callable[..., None]] = {  # industry -> builder(ds, fid, rng, risks, **options)
    "manufacturing": manufacturing,
    "energy": energy,
    "dairy": dairy,
    "vehicles": vehicles,
    "logistics": logistics,
}
# days each industry needs: history before its first planned event (a dairy's heat wave 24 days before the end, a
# PV plant's washing day 17; the rules' own baselines need more to judge them, which is the scorer's business)
MIN_DAYS = {"manufacturing": 14, "vehicles": 14, "logistics": 21, "energy": 28, "dairy": 28}


def generate(
    seed: int, start: dt.date = dt.date(2026, 9, 21), days: int = 41, size: str = "full", only: list[str] | None = None
) -> DataSet:
    """The data set: every firm of `firms(size)` (or those named in `only`), each on its own seeded stream."""
    ds = DataSet(start, days)
    for n, (fid, industry, risks, options) in enumerate(firms(size)):
        if only and fid not in only:
            continue
        if days < MIN_DAYS[industry]:
            raise ValueError(
                f"days must be >= {MIN_DAYS[industry]} for {industry} firm {fid} (history before its "
                f"planned events), got {days}"
            )
        rng = np.random.default_rng([seed, n])
        BUILDERS[industry](ds, fid, rng, risks, **options)
    return ds


def write_data_set(
    out: Path, seed: int, start: dt.date, days: int, size: str = "full", only: list[str] | None = None
) -> dict:
    ds = generate(seed, start, days, size, only)
    ds.write(Path(out))
    return {
        "enterprises": len(ds.enterprises),
        "devices": len(ds.devices),
        "lines": len(ds.lines),
        "risk_labels": sum(not l["benign"] for l in ds.labels),
        "benign_labels": sum(l["benign"] for l in ds.labels),
    }
