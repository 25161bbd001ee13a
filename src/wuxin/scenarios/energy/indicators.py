"""Energy indicators: PV generation against pvlib's expectation from the measured irradiance,
availability; charging sessions, energy, utilization and revenue at the pile's tariff."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pvlib

from wuxin.indicators.common import MINUTE_MS, DayValues, attribute, counter_delta, event_count, held_share, scaled
from wuxin.indicators.declare import Derived, Indicator, label
from wuxin.indicators.kernels import count_per_day, held_integral, held_seconds, quality
from wuxin.indicators.series import DeviceDays

INVERTER, WEATHER, PILE = "energy.pv_inverter", "energy.weather_station", "energy.charging_pile"
PV_MAX_GAP_MS = 35 * MINUTE_MS  # inverters report every 5 min in daylight, every 30 min at night
WEATHER_MAX_GAP_MS = 15 * MINUTE_MS
PILE_MAX_GAP_MS = 20 * MINUTE_MS  # piles report every 2 min while charging, every 15 min idle
# PVWatts parameters of the expectation (plant parameters come from the inverters' attributes).
GAMMA_PDC_PER_C = -0.0037  # power temperature coefficient of crystalline modules, 1/°C
SAPM_DELTA_T_C = 3.0  # cell above back-of-module temperature at 1000 W/m2 (open rack)
INVERTER_EFFICIENCY = 0.96
LOSSES = dict(soiling=2, shading=0, snow=0, mismatch=2, wiring=2, connections=0.5, lid=1.5, nameplate_rating=1, age=0,
              availability=0)  # availability is measured, not assumed
MIN_EXPECTED_KWH = 1.0  # below this a performance ratio means nothing (night, snow)


def plant_kwp(data: DeviceDays) -> float:
    """DC capacity of the site's inverters (kWp), from their install attributes."""
    return float(sum(float(a.get("capacity_kwp") or 0.0) for t, a in data.siblings if t == INVERTER))


def _plane(data: DeviceDays) -> tuple[float, float, float, float]:
    """(tilt, azimuth, lat, lon) of the array: the first inverter's attributes, else the station's."""
    attrs = next((a for t, a in data.siblings if t == INVERTER), data.attributes)
    return (float(attrs.get("tilt_deg", 30.0)), float(attrs.get("azimuth_deg", 180.0)),
            float(attrs.get("lat", data.attributes.get("lat", 0.0))), float(attrs.get("lon", data.attributes.get("lon", 0.0))))


def _times(ts: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ts.astype("datetime64[ms]")).tz_localize("UTC")


def poa_from_ghi(ts: np.ndarray, ghi: np.ndarray, tilt: float, azimuth: float, lat: float, lon: float) -> np.ndarray:
    """Plane-of-array irradiance from global horizontal: solar position, Erbs split, isotropic sky."""
    times = _times(ts)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dayofyear.*")
        sp = pvlib.solarposition.get_solarposition(times, lat, lon)
        erbs = pvlib.irradiance.erbs(ghi, sp["zenith"].to_numpy(), times)
        irr = pvlib.irradiance.get_total_irradiance(tilt, azimuth, sp["apparent_zenith"].to_numpy(), sp["azimuth"].to_numpy(),
                                                    np.asarray(erbs["dni"]), ghi, np.asarray(erbs["dhi"]), albedo=0.25)
    return np.nan_to_num(np.asarray(irr["poa_global"], dtype=float)).clip(0, None)


def expected_ac_kw(poa_wm2: np.ndarray, module_temp_c: np.ndarray, kwp: float) -> np.ndarray:
    """PVWatts: cell temperature from the module's (SAPM), DC with temperature loss, system losses, inverter."""
    cell = pvlib.temperature.sapm_cell_from_module(module_temp_c, poa_wm2, SAPM_DELTA_T_C)
    dc_w = pvlib.pvsystem.pvwatts_dc(poa_wm2, cell, kwp * 1000.0, GAMMA_PDC_PER_C)
    return np.clip(np.asarray(dc_w, dtype=float), 0, None) * (1 - pvlib.pvsystem.pvwatts_losses(**LOSSES) / 100) * INVERTER_EFFICIENCY / 1000.0


def expected_kwh(data: DeviceDays) -> DayValues:
    """What the plant should have made from the irradiance this station measured (pvlib PVWatts)."""
    poa_s, ghi_s, tmod = data.s("poa_wm2"), data.s("ghi_wm2"), data.s("module_temp_c")
    kwp = plant_kwp(data)
    if len(poa_s):
        ts, poa = poa_s.ts, poa_s.num
    elif len(ghi_s):
        ts, poa = ghi_s.ts, poa_from_ghi(ghi_s.ts, ghi_s.num, *_plane(data))
    else:
        return DayValues(np.full(len(data.days), np.nan), quality(np.zeros(len(data.days)), np.zeros(len(data.days), bool)))
    temp = np.interp(ts, tmod.ts, tmod.num) if len(tmod) else np.full(len(ts), 25.0)
    kw = expected_ac_kw(np.nan_to_num(poa), temp, kwp) if kwp > 0 else np.full(len(ts), np.nan)
    kws, covered = held_integral(ts, kw, data.days, WEATHER_MAX_GAP_MS)
    has = count_per_day(ts, data.days) > 0
    return DayValues(np.where(has & (kwp > 0), kws / 3600.0, np.nan), quality(covered / 86_400.0, has))


def irradiation_kwh_m2(data: DeviceDays) -> DayValues:
    s = data.s("poa_wm2")
    wh, covered = held_integral(s.ts, s.num, data.days, WEATHER_MAX_GAP_MS)
    has = count_per_day(s.ts, data.days) > 0
    return DayValues(np.where(has, wh / 3600.0 / 1000.0, np.nan), quality(covered / 86_400.0, has))


def generation_kwh(data: DeviceDays) -> DayValues:
    return counter_delta(data, "energy_kwh_total", PV_MAX_GAP_MS)


def availability_rate(data: DeviceDays) -> DayValues:
    """Share of daylight (sun above the horizon at the plant) the inverter was not in fault."""
    s = data.s("status")
    if not len(s):
        return DayValues(np.full(len(data.days), np.nan), quality(np.zeros(len(data.days)), np.zeros(len(data.days), bool)))
    _, _, lat, lon = _plane(data)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dayofyear.*")
        elevation = pvlib.solarposition.get_solarposition(_times(s.ts), lat, lon)["elevation"].to_numpy()
    daylight = elevation > 0
    up, _ = held_seconds(s.ts, daylight & (s.txt != "fault"), data.days, PV_MAX_GAP_MS)
    light, _ = held_seconds(s.ts, daylight, data.days, PV_MAX_GAP_MS)
    _, covered = held_seconds(s.ts, np.ones(len(s), dtype=bool), data.days, PV_MAX_GAP_MS)
    has = (count_per_day(s.ts, data.days) > 0) & (light > 0)
    return DayValues(np.where(has, up / np.where(light > 0, light, 1.0), np.nan), quality(covered / 86_400.0, has))


def charging_sessions(data: DeviceDays) -> DayValues:
    return event_count(data, ("session_end",), "power_kw", PILE_MAX_GAP_MS)


def charged_kwh(data: DeviceDays) -> DayValues:
    return counter_delta(data, "energy_kwh_total", PILE_MAX_GAP_MS)


def pile_utilization_rate(data: DeviceDays) -> DayValues:
    """Share of the observed time the pile was charging."""
    return held_share(data, "status", lambda status: status == "charging", PILE_MAX_GAP_MS, numeric=False)


def revenue_cny(data: DeviceDays) -> DayValues:
    return scaled(charged_kwh(data), attribute(data, "tariff_cny_per_kwh"))


def _ratio(actual: float, expected: float) -> float | None:
    return actual / expected if expected >= MIN_EXPECTED_KWH else None


INDICATORS = (
    Indicator("generation_kwh", "kWh", label("发电量", "Generation"), INVERTER, ("energy_kwh_total",), generation_kwh, "sum"),
    Indicator("availability_rate", "1", label("可用率", "Availability"), INVERTER, ("status",), availability_rate, "mean",
              text_properties=("status",)),
    Indicator("expected_kwh", "kWh", label("理论发电量", "Expected generation (pvlib)"), WEATHER,
              ("poa_wm2", "ghi_wm2", "module_temp_c"), expected_kwh, "sum"),
    Indicator("irradiation_kwh_m2", "kWh/m2", label("斜面辐照量", "Plane-of-array irradiation"), WEATHER, ("poa_wm2",),
              irradiation_kwh_m2, "mean"),
    Indicator("charging_sessions", "sessions", label("充电次数", "Charging sessions"), PILE, ("power_kw",), charging_sessions, "sum",
              events=("session_end",)),
    Indicator("charged_kwh", "kWh", label("充电量", "Energy charged"), PILE, ("energy_kwh_total",), charged_kwh, "sum"),
    Indicator("pile_utilization_rate", "1", label("充电桩利用率", "Pile utilization"), PILE, ("status",), pile_utilization_rate, "mean",
              text_properties=("status",)),
    Indicator("revenue_cny", "CNY", label("充电收入", "Charging revenue"), PILE, ("energy_kwh_total",), revenue_cny, "sum"),
)
DERIVED = (
    Derived("performance_ratio", "1", label("系统效率(PR)", "Performance ratio"), ("generation_kwh", "expected_kwh"), _ratio),
)
INDEX = ("performance_ratio", "pile_utilization_rate")
