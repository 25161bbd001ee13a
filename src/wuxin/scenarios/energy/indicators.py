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
# PVWatts parameters of the expectation (plant parameters come from the inverters' install attributes:
# capacity_kwp, ac_capacity_kw (default capacity_kwp / DEFAULT_DC_AC_RATIO), system_losses_pct).
GAMMA_PDC_PER_C = -0.0037  # power temperature coefficient of crystalline modules, 1/°C
SAPM_OPEN_RACK = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_polymer"]
INVERTER_EFFICIENCY = 0.96  # PVWatts nominal inverter efficiency
DEFAULT_LOSSES_PCT = float(pvlib.pvsystem.pvwatts_losses())  # PVWatts defaults, 14.08 %
DEFAULT_DC_AC_RATIO = 1.1  # AC rating assumed when the inverters do not declare ac_capacity_kw
DEFAULT_WIND_MS = 1.0  # wind assumed when the station does not measure it
DEFAULT_AIR_C = 20.0  # air temperature assumed when the station measures neither module nor air temperature
MIN_EXPECTED_KWH = 1.0  # below this a performance ratio means nothing (night, snow)


def plant_kwp(data: DeviceDays) -> float:
    """DC capacity of the site's inverters (kWp), from their install attributes."""
    return float(sum(float(a.get("capacity_kwp") or 0.0) for t, a in data.siblings if t == INVERTER))


def plant_ac_kw(data: DeviceDays) -> float:
    """AC rating of the site's inverters (kW): each one's declared ac_capacity_kw, else its kWp / DEFAULT_DC_AC_RATIO."""
    return float(
        sum(
            float(a.get("ac_capacity_kw") or float(a.get("capacity_kwp") or 0.0) / DEFAULT_DC_AC_RATIO)
            for t, a in data.siblings
            if t == INVERTER
        )
    )


def plant_losses_pct(data: DeviceDays) -> float:
    """System losses (%) of the plant: the first inverter declaring system_losses_pct, else PVWatts' default."""
    declared = [
        float(a["system_losses_pct"])
        for t, a in data.siblings
        if t == INVERTER and a.get("system_losses_pct") is not None
    ]
    return declared[0] if declared else DEFAULT_LOSSES_PCT


def _plane(data: DeviceDays) -> tuple[float, float, float, float]:
    """(tilt, azimuth, lat, lon) of the array: the first inverter's attributes, else the station's."""
    attrs = next((a for t, a in data.siblings if t == INVERTER), data.attributes)
    return (
        float(attrs.get("tilt_deg", 30.0)),
        float(attrs.get("azimuth_deg", 180.0)),
        float(attrs.get("lat", data.attributes.get("lat", 0.0))),
        float(attrs.get("lon", data.attributes.get("lon", 0.0))),
    )


def _times(ts: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ts.astype("datetime64[ms]")).tz_localize("UTC")


def poa_from_ghi(ts: np.ndarray, ghi: np.ndarray, tilt: float, azimuth: float, lat: float, lon: float) -> np.ndarray:
    """Plane-of-array irradiance from global horizontal: solar position, Erbs split, isotropic sky."""
    times = _times(ts)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dayofyear.*")
        sp = pvlib.solarposition.get_solarposition(times, lat, lon)
        erbs = pvlib.irradiance.erbs(ghi, sp["zenith"].to_numpy(), times)
        irr = pvlib.irradiance.get_total_irradiance(
            tilt,
            azimuth,
            sp["apparent_zenith"].to_numpy(),
            sp["azimuth"].to_numpy(),
            np.asarray(erbs["dni"]),
            ghi,
            np.asarray(erbs["dhi"]),
            albedo=0.25,
        )
    return np.nan_to_num(np.asarray(irr["poa_global"], dtype=float)).clip(0, None)


def cell_temp_c(
    poa_wm2: np.ndarray,
    module_temp_c: np.ndarray | None = None,
    air_temp_c: np.ndarray | None = None,
    wind_ms: np.ndarray | None = None,
) -> np.ndarray:
    """Cell temperature (pvlib SAPM, open rack): from the measured back-of-module temperature when there is one,
    else from air temperature and wind."""
    if module_temp_c is not None:
        return np.asarray(
            pvlib.temperature.sapm_cell_from_module(module_temp_c, poa_wm2, SAPM_OPEN_RACK["deltaT"]), dtype=float
        )
    air = np.full(len(poa_wm2), DEFAULT_AIR_C) if air_temp_c is None else air_temp_c
    wind = np.full(len(poa_wm2), DEFAULT_WIND_MS) if wind_ms is None else wind_ms
    return np.asarray(pvlib.temperature.sapm_cell(poa_wm2, air, wind, **SAPM_OPEN_RACK), dtype=float)


def expected_ac_kw(
    poa_wm2: np.ndarray,
    module_temp_c: np.ndarray | None,
    kwp: float,
    *,
    air_temp_c: np.ndarray | None = None,
    wind_ms: np.ndarray | None = None,
    losses_pct: float = DEFAULT_LOSSES_PCT,
    ac_kw: float | None = None,
) -> np.ndarray:
    """PVWatts: cell temperature (module's, else air and wind), DC with temperature loss, system losses, inverter
    efficiency and clipping at the AC rating (default kWp / DEFAULT_DC_AC_RATIO)."""
    cell = cell_temp_c(poa_wm2, module_temp_c, air_temp_c, wind_ms)
    dc_w = np.clip(
        np.asarray(pvlib.pvsystem.pvwatts_dc(poa_wm2, cell, kwp * 1000.0, GAMMA_PDC_PER_C), dtype=float), 0, None
    )
    dc_w = dc_w * (1 - losses_pct / 100)
    ac_rating_w = (kwp / DEFAULT_DC_AC_RATIO if ac_kw is None else ac_kw) * 1000.0
    ac_w = pvlib.inverter.pvwatts(dc_w, ac_rating_w / INVERTER_EFFICIENCY, INVERTER_EFFICIENCY)
    return np.clip(np.nan_to_num(np.asarray(ac_w, dtype=float)), 0, None) / 1000.0


def _on(ts: np.ndarray, series) -> np.ndarray | None:
    return np.interp(ts, series.ts, series.num) if len(series) else None


def expected_kwh(data: DeviceDays) -> DayValues:
    """What the plant should have made from the irradiance and temperature this station measured (pvlib PVWatts).
    A station measuring only GHI gets plane-of-array irradiance by transposition (Erbs, isotropic sky)."""
    poa_s, ghi_s = data.s("poa_wm2"), data.s("ghi_wm2")
    kwp = plant_kwp(data)
    if len(poa_s):
        ts, poa = poa_s.ts, poa_s.num
    elif len(ghi_s):
        ts, poa = ghi_s.ts, poa_from_ghi(ghi_s.ts, ghi_s.num, *_plane(data))
    else:
        return DayValues(
            np.full(len(data.days), np.nan), quality(np.zeros(len(data.days)), np.zeros(len(data.days), bool))
        )
    kw = (
        expected_ac_kw(
            np.nan_to_num(poa).clip(0, None),
            _on(ts, data.s("module_temp_c")),
            kwp,
            air_temp_c=_on(ts, data.s("air_temp_c")),
            wind_ms=_on(ts, data.s("wind_ms")),
            losses_pct=plant_losses_pct(data),
            ac_kw=plant_ac_kw(data),
        )
        if kwp > 0
        else np.full(len(ts), np.nan)
    )
    kws, covered = held_integral(ts, kw, data.days, WEATHER_MAX_GAP_MS)
    has = count_per_day(ts, data.days) > 0
    return DayValues(np.where(has & (kwp > 0), kws / 3600.0, np.nan), quality(covered / data.day_seconds(), has))


def irradiation_kwh_m2(data: DeviceDays) -> DayValues:
    s = data.s("poa_wm2")
    wh, covered = held_integral(s.ts, s.num, data.days, WEATHER_MAX_GAP_MS)
    has = count_per_day(s.ts, data.days) > 0
    return DayValues(np.where(has, wh / 3600.0 / 1000.0, np.nan), quality(covered / data.day_seconds(), has))


def generation_kwh(data: DeviceDays) -> DayValues:
    return counter_delta(data, "energy_kwh_total", PV_MAX_GAP_MS)


def availability_rate(data: DeviceDays) -> DayValues:
    """Share of daylight (sun above the horizon at the plant) the inverter was not in fault."""
    s = data.s("status")
    if not len(s):
        return DayValues(
            np.full(len(data.days), np.nan), quality(np.zeros(len(data.days)), np.zeros(len(data.days), bool))
        )
    _, _, lat, lon = _plane(data)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dayofyear.*")
        elevation = pvlib.solarposition.get_solarposition(_times(s.ts), lat, lon)["elevation"].to_numpy()
    daylight = elevation > 0
    up, _ = held_seconds(s.ts, daylight & (s.txt != "fault"), data.days, PV_MAX_GAP_MS)
    light, _ = held_seconds(s.ts, daylight, data.days, PV_MAX_GAP_MS)
    _, covered = held_seconds(s.ts, np.ones(len(s), dtype=bool), data.days, PV_MAX_GAP_MS)
    has = (count_per_day(s.ts, data.days) > 0) & (light > 0)
    return DayValues(
        np.where(has, up / np.where(light > 0, light, 1.0), np.nan), quality(covered / data.day_seconds(), has)
    )


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
    Indicator(
        "generation_kwh", "kWh", label("发电量", "Generation"), INVERTER, ("energy_kwh_total",), generation_kwh, "sum"
    ),
    Indicator(
        "availability_rate",
        "1",
        label("可用率", "Availability"),
        INVERTER,
        ("status",),
        availability_rate,
        "mean",
        text_properties=("status",),
    ),
    Indicator(
        "expected_kwh",
        "kWh",
        label("理论发电量", "Expected generation (pvlib)"),
        WEATHER,
        ("poa_wm2", "ghi_wm2", "module_temp_c", "air_temp_c", "wind_ms"),
        expected_kwh,
        "sum",
    ),
    Indicator(
        "irradiation_kwh_m2",
        "kWh/m2",
        label("斜面辐照量", "Plane-of-array irradiation"),
        WEATHER,
        ("poa_wm2",),
        irradiation_kwh_m2,
        "mean",
    ),
    Indicator(
        "charging_sessions",
        "sessions",
        label("充电次数", "Charging sessions"),
        PILE,
        ("power_kw",),
        charging_sessions,
        "sum",
        events=("session_end",),
    ),
    Indicator("charged_kwh", "kWh", label("充电量", "Energy charged"), PILE, ("energy_kwh_total",), charged_kwh, "sum"),
    Indicator(
        "pile_utilization_rate",
        "1",
        label("充电桩利用率", "Pile utilization"),
        PILE,
        ("status",),
        pile_utilization_rate,
        "mean",
        text_properties=("status",),
    ),
    Indicator(
        "revenue_cny", "CNY", label("充电收入", "Charging revenue"), PILE, ("energy_kwh_total",), revenue_cny, "sum"
    ),
)
DERIVED = (
    Derived(
        "performance_ratio", "1", label("系统效率(PR)", "Performance ratio"), ("generation_kwh", "expected_kwh"), _ratio
    ),
)
INDEX = ("performance_ratio", "pile_utilization_rate")
