"""PV physics and performance-ratio rules on real measured data that pvanalytics ships (BSD-3, copied unchanged
into bench/data/pvanalytics/ with the PSM3 file cut to the columns used).

  serf_east_15min_ac_power.csv  NREL SERF East inverter, measured AC power (W), 15 min, 2016-07-01..2016-10-13
  serf_east_psm3_ghi_temp.csv   NSRDB PSM3 GHI and air temperature for the same site and stamps: satellite-derived,
                                not an on-site sensor, so the expectation is coarser than a station's would be

The array's orientation is not shipped: SERF East is taken at NREL Golden (39.742 N, 105.179 W), tilt 40°, south;
these only move the plant's baseline PR, which every rule is judged against. Capacity is declared from the measured
peak (peak / 0.92: an inverter at DC/AC 1.0 reaching 92 % of kWp, the case a fixed 88 % cap flags).

Run: python -m wuxin.bench.pv_real   (prints every figure in docs/benchmarks.md's PV section)
"""

from __future__ import annotations

import warnings
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd
import pvlib

from wuxin.alerts import performance as PR
from wuxin.alerts import pv_sky as SKY
from wuxin.scenarios.energy import indicators as E

DATA = files("wuxin.bench") / "data" / "pvanalytics"
SERF = dict(lat=39.742, lon=-105.179, tilt=40.0, azimuth=180.0)
# ratio_check's parameters of the rules energy.pv_above_physics and energy.pv_performance_ratio
ABOVE_PHYSICS: dict[str, Any] = dict(window_days=1, baseline_days=30, quantile=0.95, margin=0.25)
PR_BAND: dict[str, Any] = dict(window_days=7, baseline_days=14, max_rise=0.20, max_drop=0.25)
OLD_CAP_SHARE = 0.88  # the former rule: AC power above 88 % of kWp


def serf_intervals() -> pd.DataFrame:
    """Measured AC (kW) with the PSM3 GHI and air temperature, on the 15-minute stamps both share (UTC)."""
    ac = pd.read_csv(DATA / "serf_east_15min_ac_power.csv", index_col=0)
    wx = pd.read_csv(DATA / "serf_east_psm3_ghi_temp.csv", index_col=0)
    df = ac.join(wx, how="inner")
    df.index = pd.to_datetime(df.index, utc=True)
    df["ac_kw"] = df["ac_power"].clip(lower=0) / 1000.0
    return df.dropna()


def serf_plant(peak_share: float = 0.92) -> tuple[pd.DataFrame, float]:
    """The SERF intervals with expected AC (kW) from wuxin's PVWatts chain, for a plant declared at
    kWp = measured peak / peak_share and an AC rating equal to it (DC/AC 1.0)."""
    df = serf_intervals()
    kwp = float(df["ac_kw"].max()) / peak_share
    ts = df.index.as_unit("ms").asi8.astype(np.int64)
    poa = E.poa_from_ghi(ts, df["ghi"].to_numpy(float), SERF["tilt"], SERF["azimuth"], SERF["lat"], SERF["lon"])
    df["expected_kw"] = E.expected_ac_kw(poa, None, kwp, air_temp_c=df["temp_air"].to_numpy(float), ac_kw=kwp)
    df["poa"] = poa
    return df, kwp


def pvlib_reference_kw(df: pd.DataFrame, kwp: float) -> np.ndarray:
    """pvlib's own ModelChain (PVWatts DC, SAPM open-rack cell temperature, PVWatts losses and inverter), isotropic
    transposition of the Erbs split, no AOI or spectral loss: the reference wuxin's chain must reproduce."""
    location = pvlib.location.Location(SERF["lat"], SERF["lon"])
    system = pvlib.pvsystem.PVSystem(
        surface_tilt=SERF["tilt"],
        surface_azimuth=SERF["azimuth"],
        albedo=0.25,
        module_parameters={"pdc0": kwp * 1000.0, "gamma_pdc": E.GAMMA_PDC_PER_C},
        inverter_parameters={"pdc0": kwp * 1000.0 / E.INVERTER_EFFICIENCY, "eta_inv_nom": E.INVERTER_EFFICIENCY},
        temperature_model_parameters=E.SAPM_OPEN_RACK,
        losses_parameters={},
    )
    chain = pvlib.modelchain.ModelChain(
        system,
        location,
        transposition_model="isotropic",
        aoi_model="no_loss",
        spectral_model="no_loss",
        losses_model="pvwatts",
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dayofyear.*")
        solar = location.get_solarposition(df.index)
        erbs = pvlib.irradiance.erbs(df["ghi"], solar["zenith"], df.index)
        weather = pd.DataFrame(
            {
                "ghi": df["ghi"],
                "dni": erbs["dni"],
                "dhi": erbs["dhi"],
                "temp_air": df["temp_air"],
                "wind_speed": E.DEFAULT_WIND_MS,
            },
            index=df.index,
        )
        chain.run_model(weather)
    return np.clip(np.nan_to_num(np.asarray(chain.results.ac, dtype=float)), 0, None) / 1000.0


def daily(df: pd.DataFrame, column: str) -> pd.Series:
    """kWh per local day (the plant's UTC-7 clock) from 15-minute kW."""
    return (df[column] * 0.25).groupby(df.index.tz_convert("Etc/GMT+7").date).sum()


def plant_days(
    df: pd.DataFrame, inflate: float = 1.0, from_index: int | None = None, cloudy_only: bool = False
) -> list[tuple[int, float, float]]:
    """(day number, measured kWh, expected kWh); measured x `inflate` from the `from_index`-th day on (cloudy days
    only: those under half the median expectation)."""
    measured, expected = daily(df, "ac_kw"), daily(df, "expected_kw")
    dull = expected < 0.5 * expected.median()
    out = []
    for i, (day, m) in enumerate(measured.items()):
        factor = inflate if from_index is not None and i >= from_index and (not cloudy_only or dull[day]) else 1.0
        out.append((pd.Timestamp(day).toordinal(), float(m) * factor, float(expected[day])))
    return out


def old_cap_days(df: pd.DataFrame, kwp: float, inflate: float = 1.0) -> int:
    """Days the former fixed cap (AC > 88 % of kWp) fires on."""
    over = df["ac_kw"] * inflate > OLD_CAP_SHARE * kwp
    return int(over.groupby(df.index.tz_convert("Etc/GMT+7").date).any().sum())


def figures() -> dict:
    df, kwp = serf_plant(0.92)
    ref = pd.Series(pvlib_reference_kw(df, kwp), index=df.index)
    mine, theirs = daily(df, "expected_kw"), (ref * 0.25).groupby(df.index.tz_convert("Etc/GMT+7").date).sum()
    sunny = theirs > 1.0
    err = ((mine[sunny] - theirs[sunny]).abs() / theirs[sunny]).to_numpy()
    honest = plant_days(df)
    start = 30  # inflation from the 31st day
    days = [d for d, _, _ in honest]
    out = {
        "days": len(honest),
        "kwp": round(kwp, 3),
        "reference_error_median": float(np.median(err)),
        "reference_error_max": float(err.max()),
        "measured_over_expected_total": sum(m for _, m, _ in honest) / sum(e for _, _, e in honest),
        "honest_above_physics": [
            c.day for d in days if (c := PR.ratio_check(honest, d, **ABOVE_PHYSICS)) and c.direction
        ],
        "honest_pr_band": [c.day for d in days if (c := PR.ratio_check(honest, d, **PR_BAND)) and c.direction],
        "old_cap_honest_days": old_cap_days(df, kwp),
    }
    for name, share, factor, cloudy in (
        ("x1.3 at 0.92", 0.92, 1.3, False),
        ("x1.27 at 0.92", 0.92, 1.27, False),
        ("x1.3 at 0.60", 0.60, 1.3, False),
        ("x5 cloudy days", 0.92, 5.0, True),
    ):
        plant, cap = serf_plant(share) if share != 0.92 else (df, kwp)
        series = plant_days(plant, factor, start, cloudy)
        pr = PR.first_alarm(series, "above", **PR_BAND)
        above = PR.first_alarm(series, "above", **ABOVE_PHYSICS)
        flagged = [
            d for d in days[start:] if (c := PR.ratio_check(series, d, **ABOVE_PHYSICS)) and c.direction == "above"
        ]
        changed = sum(1 for (_, m, _), (_, m0, _) in zip(series[start:], honest[start:]) if m != m0)
        out[name] = {
            "pr_high_delay_days": None if pr is None else pr - days[start],
            "above_physics_days": f"{len(flagged)}/{changed} inflated days",
            "above_physics_delay_days": None if above is None else above - days[start],
            "old_cap_days_after": old_cap_days(
                plant.iloc[
                    int(
                        np.searchsorted(
                            plant.index.tz_convert("Etc/GMT+7").date, pd.Timestamp.fromordinal(days[start]).date()
                        )
                    ) :
                ],
                cap,
                factor,
            )
            if not cloudy
            else None,
        }
    return out


def day_profiles(df: pd.DataFrame, column: str) -> dict[int, np.ndarray]:
    """{local day number: 96 quarter-hour values} of a 15-minute column (the plant's UTC-7 clock)."""
    local = df.index.tz_convert("Etc/GMT+7")
    out: dict[int, np.ndarray] = {}
    for day, rows in df[column].groupby(local.date):
        profile = np.full(96, np.nan)
        stamps = rows.index.tz_convert("Etc/GMT+7")
        profile[(stamps.hour * 4 + stamps.minute // 15).to_numpy()] = rows.to_numpy(float)
        out[pd.Timestamp(day).toordinal()] = profile
    return out


def sky_figures(seed: int = 15) -> dict:
    """The sky-tracking test (alerts/pv_sky.py, energy.pv_sky_tracking's parameters) on SERF East against its PSM3
    GHI: the honest plant's days raised, and two plants fabricated from the 31st day on, every day: a copy of the
    honest day a week earlier with 2 % noise, and a smooth bell (a sine from the first to the last producing quarter
    hour, scaled to the day's honest kWh). The history holds the fabricated days too, as the platform would see them."""
    df, _ = serf_plant(0.92)
    power, sky = day_profiles(df, "ac_kw"), day_profiles(df, "ghi")
    days = sorted(power)
    rng = np.random.default_rng(seed)

    def check(plant: dict, day: int):  # as the rule reads them: its history_days (28) before the day
        window = range(day - 28, day + 1)
        return SKY.sky_tracking(
            {d: plant[d] for d in window if d in plant}, {d: sky[d] for d in window if d in sky}, day
        )

    checks = {d: check(power, d) for d in days}
    judged = [d for d, c in checks.items() if c is not None]
    honest = [d for d in judged if checks[d].fabricated]
    copied, bell = dict(power), dict(power)
    for d in days[30:]:
        if d - 7 in power:
            copied[d] = power[d - 7] * (1 + 0.02 * rng.normal(size=96))
        on = np.flatnonzero(np.nan_to_num(power[d]) > 0)
        if len(on) > 1:
            shape = np.zeros(96)
            shape[on[0] : on[-1] + 1] = np.sin(np.linspace(0, np.pi, on[-1] - on[0] + 3)[1:-1])
            bell[d] = shape * np.nansum(power[d]) / shape.sum()
    out = {
        "sky_days_judged": len(judged),
        "sky_honest_raised": len(honest),
        "sky_honest_score_max": round(max(checks[d].score for d in judged), 3),
        "sky_threshold_range": (
            round(min(checks[d].threshold for d in judged), 3),
            round(max(checks[d].threshold for d in judged), 3),
        ),
    }
    for name, plant in (("copy of a week earlier", copied), ("smooth bell", bell)):
        raised = [d for d in days[30:] if (c := check(plant, d)) is not None and c.fabricated]
        out[f"sky_{name}"] = {
            "raised": f"{len(raised)}/{len(days[30:])} fabricated days",
            "first_raised_after_days": None if not raised else raised[0] - days[30],
        }
    return out


def main() -> None:
    for key, value in {**figures(), **sky_figures()}.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
