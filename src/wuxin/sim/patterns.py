"""Shared building blocks for the scenario simulators: calendars, daily rhythms, names, lines.

Everything here is pure and deterministic: randomness comes from generators built by
`rng_for(seed, *parts)`, so the same seed and device key always give the same stream.
Times are UTC epoch milliseconds; China local time is UTC+8 (no daylight saving).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import math
import random
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.signal import lfilter

from wuxin.indicators.days import CHINA_TZ, CN_OFFSET_MS, DAY_MS, HOUR_MS, local_day
from wuxin.sim.spec import HEALTHS, DeviceSpec, EnterpriseSpec

MINUTE_MS = 60_000
MAX_MS = 2**62  # later than any simulated time

# Lunar New Year's day (正月初一); factories close around it for two to four weeks.
SPRING_FESTIVAL = {
    2019: (2, 5),
    2020: (1, 25),
    2021: (2, 12),
    2022: (2, 1),
    2023: (1, 22),
    2024: (2, 10),
    2025: (1, 29),
    2026: (2, 17),
    2027: (2, 6),
    2028: (1, 26),
    2029: (2, 13),
    2030: (2, 3),
}
# Fixed-date statutory holidays (month, first day, days). Qingming, Dragon Boat and
# Mid-Autumn move with the lunar calendar; these approximations are close enough for a sim.
FIXED_HOLIDAYS = ((1, 1, 1), (4, 4, 3), (5, 1, 5), (6, 10, 1), (9, 15, 1), (10, 1, 7))

SOURCE_MODES = ("bank_installed", "third_party_platform", "enterprise_shared")
SOURCE_WEIGHTS = (0.7, 0.18, 0.12)
HEALTH_WEIGHTS = (0.25, 0.45, 0.18, 0.12)


# ---------------------------------------------------------------- randomness


def rng_for(seed: int, *parts: object) -> np.random.Generator:
    """A numpy generator keyed by the seed and any labels (stable across runs and platforms)."""
    words = [seed & 0xFFFFFFFF] + [zlib.crc32(str(p).encode()) for p in parts]
    return np.random.default_rng(words)


def py_rng_for(seed: int, *parts: object) -> random.Random:
    return random.Random(f"{seed}|" + "|".join(str(p) for p in parts))


def choose_health(rng: random.Random) -> str:
    return rng.choices(HEALTHS, weights=HEALTH_WEIGHTS)[0]


def choose_source_mode(rng: random.Random) -> str:
    return rng.choices(SOURCE_MODES, weights=SOURCE_WEIGHTS)[0]


def person_hash(*parts: object) -> str:
    """A salted, irreversible identifier for a person (never the raw ID number)."""
    return hashlib.sha256("wuxin|".join(str(p) for p in parts).encode()).hexdigest()[:32]


# ---------------------------------------------------------------- time grids and calendars


def grid(start_ms: int, end_ms: int, step_ms: int) -> np.ndarray:
    """Timestamps aligned to multiples of step (as real devices report), start <= t < end."""
    first = -(-start_ms // step_ms) * step_ms
    return np.arange(first, end_ms, step_ms, dtype=np.int64)


def local_hour(ts: np.ndarray) -> np.ndarray:
    """China local hour of day as a float 0..24."""
    return ((ts + CN_OFFSET_MS) % DAY_MS) / HOUR_MS


def weekday_of_day(day: np.ndarray) -> np.ndarray:
    """0 = Monday for a local day number (1970-01-01 was a Thursday)."""
    return (day + 3) % 7


def date_of_day(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


def day_ms(day: int) -> int:
    """UTC epoch ms of local midnight of a local day number."""
    return int(day) * DAY_MS - CN_OFFSET_MS


def days_from_spring_festival(date: dt.date) -> int:
    """Signed days from the nearest Lunar New Year's day (negative before it)."""
    best = 10_000
    for year in (date.year - 1, date.year, date.year + 1):
        if year in SPRING_FESTIVAL:
            delta = (date - dt.date(year, *SPRING_FESTIVAL[year])).days
            if abs(delta) < abs(best):
                best = delta
    return best


def _official(date: dt.date):
    """The official PRC calendar's day (wuxin.calendars.official), or None for a year it does not cover."""
    from wuxin.calendars.official import CalendarNotCovered, official_day

    try:
        return official_day(date)
    except CalendarNotCovered:
        return None


def is_statutory_holiday(date: dt.date) -> bool:
    """A statutory holiday or day off in lieu by the official calendar (the State Council's notice); for a year the
    calendar does not cover, the fixed approximations below."""
    official = _official(date)
    if official is not None:
        return official.kind == "holiday"
    if -1 <= days_from_spring_festival(date) <= 6:
        return True
    for month, first, length in FIXED_HOLIDAYS:
        start = dt.date(date.year, month, first)
        if 0 <= (date - start).days < length:
            return True
    return False


def is_makeup_workday(date: dt.date) -> bool:
    """A Saturday or Sunday worked in exchange for a holiday (调休), by the official calendar."""
    official = _official(date)
    return bool(official is not None and official.makeup)


def work_weekday(day: np.ndarray | int) -> np.ndarray:
    """The weekday a firm works a local day as: its own (0 = Monday), except a make-up working weekend day, which is
    worked as a Monday (plants on a Monday-Saturday week work a make-up Sunday too)."""
    days = np.atleast_1d(np.asarray(day, dtype=np.int64))
    unique, back = np.unique(days, return_inverse=True)
    makeup = np.array([is_makeup_workday(date_of_day(int(d))) for d in unique], dtype=bool)[back]
    out = np.where(makeup, 0, weekday_of_day(days))
    return out if np.ndim(day) else out[0]


def work_factor(date: dt.date) -> float:
    """Share of normal activity for factories and sites on a date: Spring Festival shutdown
    (workers leave a week before, return over the two weeks after), statutory holidays."""
    d = days_from_spring_festival(date)
    if -12 <= d < -7:
        return 1.0 - 0.15 * (d + 12)  # winding down
    if -7 <= d <= 7:
        return 0.05
    if 7 < d <= 21:
        return 0.05 + 0.95 * (d - 7) / 14  # migrant workers trickle back
    return 0.15 if is_statutory_holiday(date) else 1.0


def seasonal_orders(date: dt.date, profile: str = "textile") -> float:
    """Order-book factor by month: textiles peak 金九银十 and spring, sag in the summer heat."""
    tables = {
        "textile": (0.9, 0.7, 1.0, 1.05, 1.0, 0.9, 0.8, 0.85, 1.1, 1.15, 1.1, 1.0),
        "machinery": (0.9, 0.75, 1.05, 1.05, 1.0, 1.0, 0.95, 0.95, 1.05, 1.05, 1.05, 1.1),
        "flat": (1.0,) * 12,
    }
    return tables.get(profile, tables["flat"])[date.month - 1]


def day_factors(days: Sequence[int], fn) -> dict[int, float]:
    return {int(d): fn(date_of_day(int(d))) for d in days}


# ---------------------------------------------------------------- latent health


def health_level(health: str, days_to_end: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Activity multiplier driven by the enterprise's latent health, by days before the window end
    ("now"). Growing firms rise towards now, declining ones sag, failing ones collapse in the
    last few days (the collapse day is drawn once per enterprise)."""
    d = np.asarray(days_to_end, dtype=float)
    if health == "growing":
        return np.clip(1.0 - 0.006 * d, 0.6, 1.0)
    if health == "declining":
        return np.clip(0.72 + 0.008 * d, 0.72, 0.95)
    if health == "failing":
        collapse = 2.0 + (rng.random() * 3.0 if rng is not None else 1.5)
        return np.where(d > collapse, np.clip(0.6 + 0.01 * d, 0.6, 0.85), 0.12)
    return np.full_like(d, 0.9)


def days_to_end(ts: np.ndarray | int, end_ms: int) -> np.ndarray:
    return (end_ms - np.asarray(ts, dtype=np.int64)) / DAY_MS


# ---------------------------------------------------------------- weather and climate

_CLIMATE_LAT = (18.0, 23.0, 31.0, 36.0, 40.0, 46.0)
_CLIMATE_MEAN = (25.0, 22.0, 17.0, 14.0, 9.0, 4.0)
_CLIMATE_AMP = (4.0, 7.0, 11.5, 13.5, 15.0, 18.0)


def climate_temp_c(lat: float, altitude_m: float, ts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Air temperature: climatological mean by latitude and altitude, seasonal cycle (coldest
    around 20 January), diurnal cycle (minimum near 05:00, maximum near 14:00 local), and
    day-to-day weather noise that persists for a few days."""
    mean = np.interp(lat, _CLIMATE_LAT, _CLIMATE_MEAN) - 0.0065 * max(altitude_m - 50.0, 0.0)
    amp = np.interp(lat, _CLIMATE_LAT, _CLIMATE_AMP)
    day = local_day(ts)
    doy = (day - 20) % 365.25
    seasonal = mean - amp * np.cos(2 * np.pi * doy / 365.25)
    hour = local_hour(ts)
    diurnal = 4.5 * np.cos(2 * np.pi * (hour - 14.0) / 24.0)
    return seasonal + diurnal + daily_walk(day, rng, scale=2.5)


def daily_walk(day: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    """A smooth AR(1) anomaly per local day, interpolated onto the samples' days."""
    d0, d1 = int(day.min()) if len(day) else 0, int(day.max()) + 1 if len(day) else 1
    steps = rng.normal(0, scale * 0.6, d1 - d0 + 1)
    walk = np.empty_like(steps)
    acc = rng.normal(0, scale)
    for i, s in enumerate(steps):
        acc = 0.7 * acc + s
        walk[i] = acc
    return walk[(day - d0).astype(int)]


def wind_ms(ts: np.ndarray, rng: np.random.Generator, mean: float = 3.0) -> np.ndarray:
    """Wind speed: Weibull-distributed daily mean, windier in the afternoon, gusty."""
    day = local_day(ts)
    d0 = int(day.min()) if len(day) else 0
    daily = mean * rng.weibull(2.0, int(day.max()) - d0 + 2 if len(day) else 1) / 0.886
    base = daily[(day - d0).astype(int)]
    diurnal = 1.0 + 0.35 * np.cos(2 * np.pi * (local_hour(ts) - 15.0) / 24.0)
    gust = np.exp(rng.normal(0, 0.25, len(ts)))
    return np.clip(base * diurnal * gust, 0.0, 60.0)


def smooth_noise(rng: np.random.Generator, n: int, scale: float, corr: float = 0.9) -> np.ndarray:
    """AR(1) noise with standard deviation `scale`: x[i] = corr * x[i-1] + e[i]."""
    if n == 0:
        return np.zeros(0)
    e = rng.normal(0, scale * math.sqrt(1 - corr * corr), n)
    e[0] = rng.normal(0, scale)
    return lfilter([1.0], [1.0, -corr], e)


def segments_mask(rng: np.random.Generator, n: int, rate: float, mean_len: float) -> np.ndarray:
    """Boolean mask of random episodes: each sample starts one with probability `rate`,
    lasting a geometric number of samples with mean `mean_len` (vectorised)."""
    idx = np.arange(n)
    starts = rng.random(n) < rate
    lengths = rng.geometric(1.0 / max(mean_len, 1.0), n)
    ends = np.where(starts, idx + lengths, 0)
    return idx < np.maximum.accumulate(ends) if n else np.zeros(0, dtype=bool)


# ---------------------------------------------------------------- device housekeeping


def status_columns(
    rng: np.random.Generator, ts: np.ndarray, every_ms: int = HOUR_MS, mains: bool = False
) -> dict[str, np.ndarray]:
    """battery_pct and rssi_dbm on the first sample of each `every_ms` period, NaN elsewhere.
    Battery devices drain slowly and are swapped at 10 %; mains devices keep a full backup cell."""
    n = len(ts)
    bucket = ts // every_ms
    first = np.ones(n, dtype=bool)
    first[1:] = bucket[1:] != bucket[:-1]
    if mains:
        battery = np.full(n, 100.0)
    else:
        level0 = rng.uniform(30, 100)
        drain = rng.uniform(0.02, 0.08) * (ts - (ts[0] if n else 0)) / HOUR_MS
        battery = 10.0 + np.mod(level0 - 10.0 - drain, 90.0)
    rssi = np.clip(np.round(rng.uniform(-95, -60) + rng.normal(0, 4, n)), -150, 0)
    return {
        "battery_pct": np.where(first, np.round(battery, 1), np.nan),
        "rssi_dbm": np.where(first, rssi, np.nan),
    }


def housekeeping_events(rng: np.random.Generator, start_ms: int, end_ms: int, health: str) -> list[tuple[int, str]]:
    """Occasional reboots and power cuts; failing firms cut power and tamper more often."""
    weeks = max((end_ms - start_ms) / (7 * DAY_MS), 0.0)
    rates = {"reboot": 0.2, "power_lost": 0.05, "tamper": 0.005}
    if health == "failing":
        rates = {"reboot": 0.3, "power_lost": 0.4, "tamper": 0.05}
    elif health == "declining":
        rates["power_lost"] = 0.12
    out = []
    for name, rate in rates.items():
        for _ in range(rng.poisson(rate * weeks)):
            out.append((int(rng.integers(start_ms, max(end_ms, start_ms + 1))), name))
    return sorted(out)


# ---------------------------------------------------------------- lines


def lines_from_arrays(
    device: str, ts: np.ndarray, columns: Mapping[str, object], decimals: Mapping[str, int] | None = None
) -> Iterator[dict]:
    """Bulk-import value lines from column arrays. NaN means "not reported" (never zero) and
    is left out; rows with nothing reported are skipped. Integer-valued columns (decimals 0)
    become Python ints, bool arrays become bools, object arrays pass through (text, enums)."""
    names, cols, nan_cols = [], [], []
    decimals = decimals or {}
    for name, col in columns.items():
        arr = col if isinstance(col, np.ndarray) else np.asarray(col)
        if arr.ndim == 0:
            arr = np.full(len(ts), arr.item(), dtype=arr.dtype if arr.dtype.kind != "U" else object)
        if arr.dtype.kind == "f":
            places = decimals.get(name, 2)
            arr = np.round(arr, places)
            has_nan = bool(np.isnan(arr).any())
            values = arr.tolist()
            if places == 0:
                values = [v if v != v else int(v) for v in values]
            cols.append(values)
            nan_cols.append(has_nan)
        else:
            cols.append(arr.tolist())
            nan_cols.append(False)
        names.append(name)
    tlist = ts.tolist()
    if not any(nan_cols):
        if len(names) == 1:
            (k,) = names
            for t, v in zip(tlist, cols[0]):
                yield {"device": device, "ts": t, "values": {k: v}}
            return
        for t, *row in zip(tlist, *cols):
            yield {"device": device, "ts": t, "values": dict(zip(names, row))}
        return
    for t, *row in zip(tlist, *cols):
        values = {k: v for k, v in zip(names, row) if v == v and v is not None}
        if values:
            yield {"device": device, "ts": t, "values": values}


def event_lines(device: str, events: Iterable[tuple[int, str, dict]]) -> list[dict]:
    return [
        {"device": device, "ts": int(t), "event": name, "params": params}
        for t, name, params in sorted(events, key=lambda e: e[0])
    ]


def merge_lines(*streams: Iterable[dict]) -> Iterator[dict]:
    """Merge time-ordered line streams of one device, keeping the order by ts."""
    live = [s for s in streams if s]
    if len(live) == 1:
        yield from live[0]
        return
    yield from heapq.merge(*live, key=lambda line: line["ts"])


def device_stream(
    device: str,
    rng: np.random.Generator,
    start_ms: int,
    end_ms: int,
    health: str,
    values: Iterable[dict],
    events: Iterable[tuple[int, str, dict]] = (),
) -> Iterator[dict]:
    """One device's lines: its values, its own events and housekeeping events, in time order."""
    own: list[tuple[int, str, dict]] = [(t, name, {}) for t, name in housekeeping_events(rng, start_ms, end_ms, health)]
    yield from merge_lines(values, event_lines(device, list(events) + own))


# ---------------------------------------------------------------- places and names


@dataclass(frozen=True)
class Place:
    region: str  # 省市区
    short: str  # the name a company would carry, e.g. 吴江盛泽
    lat: float
    lon: float
    code: str  # GB/T 2260 administrative division code, used in the USCC
    altitude_m: float = 20.0


def company_name(
    rng: random.Random, place: Place, trades: Sequence[str], suffixes: Sequence[str] = ("有限公司",)
) -> str:
    first = rng.choice(BRANDS)
    brand = first + rng.choice([c for c in BRANDS_2 if c != first])
    return f"{place.short}{brand}{rng.choice(trades)}{rng.choice(suffixes)}"


BRANDS = "恒盛永鑫华宏金德丰顺泰瑞兴隆昌和嘉新源富达晟祥锦远鸿佳"
BRANDS_2 = "达丰源盛泰兴昌隆鑫发利通诚益润辉安"


def jitter(rng: random.Random, lat: float, lon: float, km: float = 3.0) -> tuple[float, float]:
    """A point within about `km` of (lat, lon), so sites of one cluster do not coincide."""
    dlat = rng.uniform(-km, km) / 111.0
    dlon = rng.uniform(-km, km) / (111.0 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def key_prefix(scenario_short: str, index: int, rng: random.Random) -> str:
    """Device key prefix: unique per enterprise index and draw (e.g. mfg-0003-7f2a)."""
    return f"{scenario_short}-{index:04d}-{rng.getrandbits(16):04x}"


def check_fleet_unique(enterprises: Sequence[EnterpriseSpec]) -> None:
    keys = [d.key for e in enterprises for d in e.devices]
    if len(keys) != len(set(keys)):
        dup = sorted({k for k in keys if keys.count(k) > 1})[:5]
        raise ValueError(f"duplicate device keys in fleet: {dup}")


# ---------------------------------------------------------------- labelled anomalies


@dataclass(frozen=True)
class AnomalySpec:
    """A kind of anomaly a pack can inject (data; `wuxin.sim.fleet` plans and applies it). `effect` is one of:
    "silence" - the devices stop reporting (a `tamper` event marks the start when `tamper`),
    "set"     - the listed properties take the given values (from `values(device)`),
    "offset"  - the listed properties are shifted by the given amounts (one line when duration is 0),
    "curve"   - the listed properties follow a noiseless curve ({prop: curve}, see `curve_value`),
    "skew"    - the device stamps its lines `facts["skew_ms"]` off the true time (lines stay in sending order; each
                skewed line keeps its true time as `sent_ms`, when it reaches the platform),
    "rewrite" - `rewrite(lines, record)` rewrites each affected device's whole line list (copies, detours),
    "sim"     - the pack's simulator applies it (`telemetry(..., anomalies=records)`), e.g. extra truck movements.
    `share` is the fraction of the enterprise's devices of that type affected (at least one); `widen(enterprise,
    chosen)` adds the other devices whose data the anomaly changes; `facts(rng, enterprise, chosen, start_ms, end_ms)` draws
    the ground-truth facts at planning; `history_s` is the simulated time the anomaly needs before its start;
    `expect` says what a detector should see."""

    device_type: str  # "*" for any device type
    effect: str
    duration_s: tuple[int, int]
    values: Callable[[DeviceSpec], dict] | None = None
    share: float = 0.0
    tamper: bool = False
    expect: str = ""
    facts: Callable[[random.Random, EnterpriseSpec, list[DeviceSpec], int, int], dict] | None = None
    widen: Callable[[EnterpriseSpec, list[DeviceSpec]], list[DeviceSpec]] | None = None
    rewrite: Callable[[list[dict], AnomalyRecord], list[dict]] | None = None
    history_s: int = 0


@dataclass(frozen=True)
class AnomalyRecord:
    """Ground truth of one injected anomaly: which kind, where, when (true time), how, and what shows. Effect
    "natural": an episode the simulator makes on its own (a cow falling sick), named so it can be scored too."""

    kind: str
    enterprise_uscc: str
    devices: tuple[str, ...]
    start_ms: int
    end_ms: int
    effect: str
    values: dict
    tamper: bool = False
    facts: dict = field(default_factory=dict)
    expect: str = ""

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "enterprise_uscc": self.enterprise_uscc,
            "devices": list(self.devices),
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "start": local_iso(self.start_ms),
            "end": local_iso(self.end_ms),
            "effect": self.effect,
            "values": dict(self.values),
            "tamper": self.tamper,
            "facts": dict(self.facts),
            "expect": self.expect,
        }


def local_iso(ts_ms: int) -> str:
    """China local time of an epoch ms, ISO 8601 with its offset (for people reading the ground truth)."""
    return dt.datetime.fromtimestamp(ts_ms / 1000, CHINA_TZ).isoformat(timespec="seconds")


def curve_value(curve: Mapping, ts: int, last: float | None = None) -> float | int:
    """A noiseless reading: mean + amplitude * cos(2 pi (local hour - peak_hour) / period_h), clipped to
    [floor, ceiling] and rounded to `decimals` (0 gives an int). `mean` "hold" freezes the last real value."""
    mean = last if curve.get("mean") == "hold" else curve.get("mean", 0.0)
    if mean is None:
        mean = 0.0
    hour = ((ts + CN_OFFSET_MS) % DAY_MS) / HOUR_MS
    value = mean + curve.get("amplitude", 0.0) * math.cos(
        2 * math.pi * (hour - curve.get("peak_hour", 12.0)) / curve.get("period_h", 24.0)
    )
    value = min(max(value, curve.get("floor", -math.inf)), curve.get("ceiling", math.inf))
    places = curve.get("decimals", 2)
    return int(round(value)) if places == 0 else round(value, places)


def replay_earlier_day(lines: list[dict], record: AnomalyRecord) -> list[dict]:
    """Fabricated copy: the device's value lines from start to end are replaced by the `period_ms` before the
    start, replayed again and again with their stamps shifted (never past the device's last real line)."""
    period = record.facts["period_ms"]
    source = [l for l in lines if "values" in l and record.start_ms - period <= l["ts"] < record.start_ms]
    until = min(record.end_ms, max((l["ts"] for l in lines), default=0) + 1)
    copies = [
        {**l, "ts": l["ts"] + k * period, "values": dict(l["values"])}
        for k in range(1, -(-(record.end_ms - record.start_ms) // period) + 1)
        for l in source
        if l["ts"] + k * period < until
    ]
    kept = [l for l in lines if not ("values" in l and record.start_ms <= l["ts"] < record.end_ms)]
    return sorted(kept + copies, key=lambda l: l["ts"])


def fabricated_copy(device_type: str, expect: str = "") -> AnomalySpec:
    """Fabricated data copied from an earlier day: one device replays the day before the start, 1-3 days long."""
    return AnomalySpec(
        device_type,
        "rewrite",
        (86400, 3 * 86400),
        rewrite=replay_earlier_day,
        history_s=86400,
        facts=lambda rng, enterprise, devices, start_ms, end_ms: {"period_ms": DAY_MS},
        expect=expect
        or "every value line from start to end equals the line exactly one day (period_ms) "
        "earlier, stamps shifted by whole days: no day-to-day variation at all "
        "(cumulative counters step back at start)",
    )


def fabricated_smooth(device_type: str, curves: Callable[[DeviceSpec], dict], expect: str = "") -> AnomalySpec:
    """Fabricated data too smooth to be real: one device's readings follow `curves(device)` (constants or
    perfect daily sines, no noise) for 1-3 days."""
    return AnomalySpec(
        device_type,
        "curve",
        (86400, 3 * 86400),
        values=curves,
        expect=expect
        or "the listed properties follow the declared noiseless curve from start to end "
        "(zero variance around a constant or a perfect sine), unlike any real sensor",
    )


def _skew(rng: random.Random, enterprise: EnterpriseSpec, devices: list, start_ms: int, end_ms: int) -> dict:
    """A clock a few hours off: a time zone mistake (+-8 h, local time sent as UTC) or a drifted RTC, always
    less than the 24 h the platform accepts ahead of its own clock."""
    hours = rng.choice([8, -8, rng.randint(2, 20) * rng.choice([1, -1])])
    return {"skew_ms": hours * HOUR_MS}


COMMON_ANOMALIES = {
    "device_off": AnomalySpec(
        "*",
        "silence",
        (6 * 3600, 48 * 3600),
        tamper=True,
        expect="a tamper event at start, then no line from the device until end",
    ),
    "clock_skew": AnomalySpec(
        "*",
        "skew",
        (86400, 3 * 86400),
        facts=_skew,
        expect="lines sent from start to end (true time) carry stamps skew_ms off: they jump ahead "
        "(or back) at start and back at end, so stamps overlap (duplicates) or leave a gap, "
        "and daily rhythms shift by skew_ms; sending order stays the true order",
    ),
}
