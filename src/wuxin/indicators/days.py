"""Local days of a site's time zone and the windows an indicator day reads: the one definition of the day cut.

A day number counts local dates since 1970-01-01. Which zone cuts the days is the site's (`sites.timezone`, an IANA
name, default Asia/Shanghai); the computation of one device runs inside `day_zone(name)`, and every helper here
(and the kernels built on them) cuts days in that zone, DST-correct through zoneinfo (a spring-forward day lasts 23 h).
China (no daylight saving since 1991) takes a fixed-offset fast path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from operator import itemgetter
from zoneinfo import ZoneInfo, available_timezones

import numpy as np

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
CN_OFFSET_MS = 8 * HOUR_MS
CHINA_TZ = dt.timezone(dt.timedelta(milliseconds=CN_OFFSET_MS))  # fixed UTC+8: no daylight saving since 1991
DEFAULT_ZONE = "Asia/Shanghai"
_EPOCH = dt.date(1970, 1, 1)
_ZONE: ContextVar[str] = ContextVar("wuxin_day_zone", default=DEFAULT_ZONE)


def check_zone(name: str | None) -> str:
    """An IANA time zone name (None or empty: the default); raises ValueError naming a zone zoneinfo does not know."""
    if name is None or name == "":
        return DEFAULT_ZONE
    if not isinstance(name, str) or name not in _known_zones():
        raise ValueError(f"time zone {str(name)[:80]!r} is not an IANA name like Asia/Shanghai or Europe/Berlin")
    return name


NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})  # the host's zone, a tzcode default, a placeholder


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    """IANA names zoneinfo knows, less the host-dependent or placeholder files that a system tz database also holds."""
    return frozenset(available_timezones()) - NOT_ZONES


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def active_zone() -> str:
    """The zone days are cut in here (the site's, inside `day_zone`)."""
    return _ZONE.get()


@contextmanager
def day_zone(name: str | None) -> Iterator[str]:
    """Cut days in the zone `name` (None: the default) inside the block."""
    token = _ZONE.set(check_zone(name))
    try:
        yield _ZONE.get()
    finally:
        _ZONE.reset(token)


@lru_cache(maxsize=200_000)
def _zone_day_start(day: int, zone: str) -> int:
    midnight = dt.datetime.combine(_EPOCH + dt.timedelta(days=day), dt.time(0), tzinfo=_zone(zone))
    return int(midnight.timestamp() * 1000)


def _zone_days(ts: np.ndarray, zone: str) -> np.ndarray:
    """Local day numbers of many times in a zone with daylight saving: searchsorted over that span's midnights."""
    if len(ts) == 0:
        return np.zeros(0, dtype=np.int64)
    first, last = int(ts.min()) // DAY_MS - 2, int(ts.max()) // DAY_MS + 2  # every zone is within +-14 h of UTC
    starts = np.array([_zone_day_start(d, zone) for d in range(first, last + 1)], dtype=np.int64)
    return first + np.searchsorted(starts, ts, side="right") - 1


# A day's computation also reads this much before local midnight: the held state at 00:00,
# the counter baseline and the first track segment. A point this close to the next midnight
# therefore also touches the next day.
LOOKBACK_MS = HOUR_MS


def local_day(ts_ms, zone: str | None = None):
    """Local day number (local dates since 1970-01-01) of epoch-ms time(s) in `zone` (default: the active zone)."""
    zone = zone or _ZONE.get()
    if isinstance(ts_ms, (int, np.integer)):
        if zone == DEFAULT_ZONE:
            return (int(ts_ms) + CN_OFFSET_MS) // DAY_MS
        return int(_zone_days(np.array([ts_ms], dtype=np.int64), zone)[0])
    ts = np.asarray(ts_ms, dtype=np.int64)
    return (ts + CN_OFFSET_MS) // DAY_MS if zone == DEFAULT_ZONE else _zone_days(ts, zone)


def day_start_ms(day: int, zone: str | None = None) -> int:
    """UTC epoch ms of local midnight starting `day` in `zone` (default: the active zone)."""
    zone = zone or _ZONE.get()
    return int(day) * DAY_MS - CN_OFFSET_MS if zone == DEFAULT_ZONE else _zone_day_start(int(day), zone)


def local_hour(ts_ms: np.ndarray) -> np.ndarray:
    """Hours since local midnight (0-25, float) of epoch-ms times, in the active zone."""
    ts = np.asarray(ts_ms, dtype=np.int64)
    if _ZONE.get() == DEFAULT_ZONE:
        return ((ts + CN_OFFSET_MS) % DAY_MS) / HOUR_MS
    days = local_day(ts)
    unique, inverse = np.unique(days, return_inverse=True)
    starts = np.array([day_start_ms(int(d)) for d in unique], dtype=np.int64)[inverse].reshape(ts.shape)
    return (ts - starts) / HOUR_MS


def day_length_ms(day: int, zone: str | None = None) -> int:
    """How long the local day lasts: 24 h, or 23 h / 25 h on a daylight-saving change."""
    return day_start_ms(int(day) + 1, zone) - day_start_ms(day, zone)


def day_window(first_day: int, last_day: int) -> tuple[int, int]:
    """[from, to) in epoch ms to read for computing days first..last."""
    return day_start_ms(first_day) - LOOKBACK_MS, day_start_ms(last_day + 1)


def day_iso(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day))).isoformat()


FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)  # days outside are refused (date arithmetic
# on year 1 or 9999 leaves Python's date range)


def parse_day(text: str) -> int:
    """'2025-11-10' -> local day number; raises ValueError naming the text."""
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"day {text!r} is not an ISO date like 2025-11-10") from None
    if not FIRST_DAY <= date <= LAST_DAY:
        raise ValueError(f"day {text!r} is not between {FIRST_DAY} and {LAST_DAY}")
    return (date - dt.date(1970, 1, 1)).days


def month_of_day(day: int) -> int:
    """202511 for any day of November 2025."""
    date = dt.date(1970, 1, 1) + dt.timedelta(days=int(day))
    return date.year * 100 + date.month


def month_days(month: int) -> range:
    """The local day numbers of a month given as YYYYMM."""
    year, mon = divmod(int(month), 100)
    if not 1 <= mon <= 12:
        raise ValueError(f"month {month} is not YYYYMM")
    first = (dt.date(year, mon, 1) - dt.date(1970, 1, 1)).days
    nxt = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    return range(first, (nxt - dt.date(1970, 1, 1)).days)


def parse_month(text: str) -> int:
    """'2025-11' -> 202511."""
    try:
        year, mon = text.split("-")
        month = int(year) * 100 + int(mon)
        month_days(month)
        return month
    except ValueError:
        raise ValueError(f"month {text!r} is not like 2025-11") from None


def month_iso(month: int) -> str:
    return f"{month // 100:04d}-{month % 100:02d}"


def touched_days(ts_ms: int) -> tuple[int, ...]:
    """The days whose computation reads a point at ts: its own, and the next when it lies in
    that day's look-back window."""
    own, nxt = local_day(int(ts_ms)), local_day(int(ts_ms) + LOOKBACK_MS)
    return (own,) if nxt == own else (own, nxt)


DAY_KEY_SPAN = 1 << 24  # days since 1970 stay far below this: (device, day) packs into one int64


def dirty_device_days(
    readings: Sequence[tuple], events: Sequence[tuple], zones: Mapping[int, str] | None = None
) -> set[tuple[int, int]]:
    """(device_id, day) pairs touched by stored rows (device_id first, ts_ms third); `zones` names the devices whose
    site is not in the default zone (their days are cut in their own).

    Vectorised: on the bulk path this runs over every stored point.
    """
    rows = [*readings, *events] if events else readings
    if not rows:
        return set()
    count = len(rows)
    device_ids = np.fromiter(map(itemgetter(0), rows), dtype=np.int64, count=count)
    ts_ms = np.fromiter(map(itemgetter(2), rows), dtype=np.int64, count=count)
    own = (ts_ms + CN_OFFSET_MS) // DAY_MS
    ahead = (ts_ms + CN_OFFSET_MS + LOOKBACK_MS) // DAY_MS
    for device_id, zone in (zones or {}).items():
        if zone == DEFAULT_ZONE:
            continue
        mine = device_ids == device_id
        if mine.any():
            own[mine] = local_day(ts_ms[mine], zone)
            ahead[mine] = local_day(ts_ms[mine] + LOOKBACK_MS, zone)
    keys = np.unique(np.concatenate([device_ids * DAY_KEY_SPAN + own, device_ids * DAY_KEY_SPAN + ahead]))
    return {(int(k // DAY_KEY_SPAN), int(k % DAY_KEY_SPAN)) for k in keys}
