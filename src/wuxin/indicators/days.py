"""China local days (UTC+8, no daylight saving) and the windows an indicator day reads."""
from __future__ import annotations

import datetime as dt
from operator import itemgetter
from typing import Iterable

import numpy as np

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
CN_OFFSET_MS = 8 * HOUR_MS
# A day's computation also reads this much before local midnight: the held state at 00:00,
# the counter baseline and the first track segment. A point this close to the next midnight
# therefore also touches the next day.
LOOKBACK_MS = HOUR_MS


def local_day(ts_ms):
    """Local day number (days since 1970-01-01 in China) of epoch-ms time(s)."""
    if isinstance(ts_ms, (int, np.integer)):
        return (int(ts_ms) + CN_OFFSET_MS) // DAY_MS
    return (np.asarray(ts_ms, dtype=np.int64) + CN_OFFSET_MS) // DAY_MS


def day_start_ms(day: int) -> int:
    """UTC epoch ms of local midnight starting `day`."""
    return int(day) * DAY_MS - CN_OFFSET_MS


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
    own = (ts_ms + CN_OFFSET_MS) // DAY_MS
    nxt = (ts_ms + CN_OFFSET_MS + LOOKBACK_MS) // DAY_MS
    return (own,) if nxt == own else (own, nxt)


DAY_KEY_SPAN = 1 << 24  # days since 1970 stay far below this: (device, day) packs into one int64


def dirty_device_days(readings: Iterable[tuple], events: Iterable[tuple]) -> set[tuple[int, int]]:
    """(device_id, day) pairs touched by stored rows (device_id first, ts_ms third).

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
    keys = np.unique(np.concatenate([device_ids * DAY_KEY_SPAN + own, device_ids * DAY_KEY_SPAN + ahead]))
    return {(int(k // DAY_KEY_SPAN), int(k % DAY_KEY_SPAN)) for k in keys}
