"""Construction indicators: crane working hours, lifts, overloads; dust and noise exceedances
against declared limits; headcount through the gates."""

from __future__ import annotations

import numpy as np

from wuxin.indicators.common import MINUTE_MS, DayValues, coverage, daily, event_count, held_hours, presence_quality
from wuxin.indicators.days import local_hour
from wuxin.indicators.declare import GroupIndicator, Indicator, label
from wuxin.indicators.kernels import (
    Q_UNKNOWN,
    count_per_day,
    day_index,
    episode_starts,
    merged_count_per_day,
    quality,
    worst,
)
from wuxin.indicators.series import DeviceDays

CRANE, ENV, GATE = "construction.tower_crane", "construction.env_monitor", "construction.access_gate"
CRANE_MAX_GAP_MS = 2 * MINUTE_MS  # working cranes report every minute
CRANE_IDLE_GAP_MS = 15 * MINUTE_MS  # idle cranes every 10 minutes
ENV_MAX_GAP_MS = 20 * MINUTE_MS
HOOK_LOADED_T = 0.2  # a load above this on the hook means a lift is under way
OVERLOAD_MOMENT_PCT = 100.0
OVERLOAD_MERGE_MS = 10 * MINUTE_MS
# Limits (declared as data): PM10 24-hour grade II (GB 3095-2012), construction-site noise
# (GB 12523-2011): 70 dB(A) by day (06:00-22:00 local), 55 dB(A) at night.
PM10_LIMIT_UGM3 = 150.0
NOISE_DAY_LIMIT_DB = 70.0
NOISE_NIGHT_LIMIT_DB = 55.0
DAY_HOURS = (6, 22)


def crane_working_hours(data: DeviceDays) -> DayValues:
    return held_hours(data, "load_t", lambda t: t >= HOOK_LOADED_T, CRANE_MAX_GAP_MS, coverage_gap_ms=CRANE_IDLE_GAP_MS)


def lifts(data: DeviceDays) -> DayValues:
    """Lifts started: the hook becomes loaded after being empty (or after a silence)."""
    s = data.s("load_t")
    starts = episode_starts(s.ts, s.num >= HOOK_LOADED_T, CRANE_MAX_GAP_MS)
    cover, has = coverage(data, "load_t", CRANE_IDLE_GAP_MS)
    return DayValues(np.where(has, count_per_day(starts, data.days), np.nan), quality(cover, has))


def overloads(data: DeviceDays) -> DayValues:
    """Overload incidents: limiter events and moment over 100 %, merged within 10 minutes."""
    s = data.s("moment_pct")
    over = episode_starts(s.ts, s.num > OVERLOAD_MOMENT_PCT, CRANE_MAX_GAP_MS)
    counts = merged_count_per_day(np.concatenate([over, data.e("overload").ts]), data.days, OVERLOAD_MERGE_MS)
    cover, has = coverage(data, "moment_pct", CRANE_IDLE_GAP_MS)
    has = has | (count_per_day(data.e("overload").ts, data.days) > 0)
    return DayValues(np.where(has, counts, np.nan), quality(cover, has))


def pm10_exceedance_hours(data: DeviceDays) -> DayValues:
    return held_hours(data, "pm10_ugm3", lambda v: v > PM10_LIMIT_UGM3, ENV_MAX_GAP_MS)


def pm10_mean_ugm3(data: DeviceDays) -> DayValues:
    return daily(data, "pm10_ugm3", "mean", ENV_MAX_GAP_MS)


def noise_exceedance_hours(data: DeviceDays) -> DayValues:
    """Hours above the day limit (06-22 local) or the night limit (otherwise)."""
    s = data.s("noise_db")
    hour = local_hour(s.ts)
    limit = np.where((hour >= DAY_HOURS[0]) & (hour < DAY_HOURS[1]), NOISE_DAY_LIMIT_DB, NOISE_NIGHT_LIMIT_DB)
    over = s.num > limit
    return held_hours(data, "noise_db", lambda v: over, ENV_MAX_GAP_MS)


def unauthorised_entries(data: DeviceDays) -> DayValues:
    entries = data.e("entry")
    bad = (
        np.array([not p.get("authorised", True) for p in entries.params], dtype=bool)
        if len(entries)
        else np.zeros(0, bool)
    )
    counts = count_per_day(entries.ts[bad], data.days)
    base = event_count(data, ("entry", "exit"), "rssi_dbm")
    return DayValues(np.where(np.isfinite(base.value), counts, np.nan), base.quality)


def headcount(gates: list[DeviceDays]) -> DayValues:
    """Distinct registered people entering through any gate of the site."""
    days = gates[0].days
    people: list[set] = [set() for _ in days]
    qualities = []
    for gate in gates:
        entries = gate.e("entry")
        for i, params in zip(day_index(entries.ts, days).tolist(), entries.params):
            if i >= 0 and params.get("authorised", True):
                people[i].add(params.get("person_hash"))
        has = count_per_day(entries.ts, days) > 0
        qualities.append(presence_quality(gate, has, "rssi_dbm"))
    counts = np.array([len(p) for p in people], dtype=float)
    q = np.array(
        [worst([qs[i] for qs in qualities if qs[i] != Q_UNKNOWN] or [Q_UNKNOWN]) for i in range(len(days))],
        dtype=object,
    )
    return DayValues(np.where(counts > 0, counts, np.nan), q)


INDICATORS = (
    Indicator(
        "crane_working_hours",
        "h",
        label("塔吊工作时长(每台)", "Crane working hours per crane"),
        CRANE,
        ("load_t",),
        crane_working_hours,
        "mean",
    ),
    Indicator(
        "crane_hours",
        "h",
        label("塔吊作业总台时", "Crane working hours, all cranes"),
        CRANE,
        ("load_t",),
        crane_working_hours,
        "sum",
    ),
    Indicator("lifts", "lifts", label("吊次", "Lifts"), CRANE, ("load_t",), lifts, "sum"),
    Indicator(
        "overloads",
        "incidents",
        label("超载次数", "Overloads"),
        CRANE,
        ("moment_pct",),
        overloads,
        "sum",
        events=("overload",),
    ),
    Indicator(
        "pm10_exceedance_hours",
        "h",
        label("PM10超标时长", "Hours over the PM10 limit"),
        ENV,
        ("pm10_ugm3",),
        pm10_exceedance_hours,
        "max",
    ),
    Indicator(
        "pm10_mean_ugm3", "ug/m3", label("PM10日均值", "PM10 daily mean"), ENV, ("pm10_ugm3",), pm10_mean_ugm3, "mean"
    ),
    Indicator(
        "noise_exceedance_hours",
        "h",
        label("噪声超标时长", "Hours over the noise limit"),
        ENV,
        ("noise_db",),
        noise_exceedance_hours,
        "max",
    ),
    Indicator(
        "unauthorised_entries",
        "entries",
        label("未登记人员进场", "Unregistered entries"),
        GATE,
        ("rssi_dbm",),
        unauthorised_entries,
        "sum",
        events=("entry", "exit"),
    ),
)
GROUPS = (
    GroupIndicator(
        "headcount", "persons", label("出勤人数", "Headcount"), GATE, ("rssi_dbm",), headcount, events=("entry",)
    ),
)
INDEX = ("crane_working_hours", "headcount")
