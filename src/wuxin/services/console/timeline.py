"""The console's equipment timeline: a read model written by the indicators' update, read under consent.

The timeline reads devices through data_access (consent checked, the read written to the access log).
The equipment timeline gives, per machine (a device with a `run_threshold_a` attribute and a
`current_a` property) and per 15-minute slot of China local time, one character:
``R`` running, ``S`` stopped, ``-`` unknown (less than half the slot observed). A reading holds
until the next one or for MAX_GAP_MS, as in the indicators' run_hours; running means
current_a >= run_threshold_a for at least half of the observed time of the slot.

Where it comes from: the indicators' incremental update reads each dirty device-day's readings
anyway, so it also writes that day's slot string (`record_run_slots`, table machine_day_slots).
The timeline reads those small rows, and computes from the readings only the days with no row
or with points not yet recomputed (still marked dirty: typically today), keeping those in a
small in-memory cache while the device sends nothing new.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

import numpy as np

from wuxin.bootstrap import Platform
from wuxin.errors import InvalidInput
from wuxin.indicators.days import DAY_MS, day_iso, day_start_ms, day_zone, local_day, parse_day
from wuxin.indicators.series import DeviceDays
from wuxin.security.policy import Principal
from wuxin.services.access import data_access
from wuxin.services.devices.calendars import enterprise_zones

SLOT_MS = 15 * 60_000
SLOTS_PER_DAY = DAY_MS // SLOT_MS
MAX_GAP_MS = 5 * 60_000  # a reading stands for at most this long (bracelets report every minute)
MAX_TIMELINE_DAYS = 366
SETTLE_MS = 2 * DAY_MS  # a day this long past its end is "settled": late data for it is rare
SETTLED_TTL_MS = 30 * 60_000  # settled days are re-read at least this often (late history imports)
CACHE_MAX_ENTRIES = 500_000  # (machine, day) pairs, about 150 bytes each
_STATE_CHARS = np.frombuffer(b"-SR", dtype=np.uint8)


def run_slots(
    ts: np.ndarray,
    current_a: np.ndarray,
    run_threshold_a: float,
    first_day: int,
    n_days: int,
    max_gap_ms: int = MAX_GAP_MS,
) -> str:
    """One state character per 15-minute slot from `first_day` for `n_days` (see the module doc).

    >>> day = 20_000; t0 = day_start_ms(day)
    >>> run_slots(np.array([t0 + 60_000 * i for i in range(15)]), np.full(15, 30.0), 20.0, day, 1)[:2]
    'R-'
    """
    n = n_days * SLOTS_PER_DAY
    ts = np.asarray(ts, dtype=np.int64)
    if len(ts) == 0:
        return "-" * n
    current = np.asarray(current_a, dtype=np.float64)
    nxt = np.empty_like(ts)
    nxt[:-1], nxt[-1] = ts[1:], ts[-1] + max_gap_ms
    end = np.minimum(nxt, ts + max_gap_ms)
    seen = np.isfinite(current)
    running = seen & (current >= run_threshold_a)
    slot = (ts - day_start_ms(first_day)) // SLOT_MS
    boundary = day_start_ms(first_day) + (slot + 1) * SLOT_MS
    first_part = (np.minimum(end, boundary) - ts).astype(np.float64)
    second_part = np.maximum(end - boundary, 0).astype(np.float64)  # max_gap_ms <= SLOT_MS: one boundary at most
    observed = _per_slot(slot, first_part * seen, n) + _per_slot(slot + 1, second_part * seen, n)
    ran = _per_slot(slot, first_part * running, n) + _per_slot(slot + 1, second_part * running, n)
    state = np.where(observed * 2 < SLOT_MS, 0, np.where(ran * 2 >= observed, 2, 1))
    return _STATE_CHARS[state].tobytes().decode("ascii")


def _per_slot(slot: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    inside = (slot >= 0) & (slot < n)
    return np.bincount(slot[inside], weights[inside], minlength=n)[:n]


@dataclass
class _Entry:
    slots: str
    computed_ms: int
    last_seen_ms: int | None


@dataclass
class _TimelineCache:
    """(device_id, day) -> slots; a day is served again while its device has sent nothing newer,
    or, once settled, for SETTLED_TTL_MS (history imported late shows within that time)."""

    entries: dict[tuple[int, int], _Entry] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fresh(self, device_id: int, day: int, last_seen_ms: int | None, now_ms: int) -> str | None:
        entry = self.entries.get((device_id, day))
        if entry is None:
            return None
        settled = day_start_ms(day + 1) + SETTLE_MS <= entry.computed_ms
        if entry.last_seen_ms == last_seen_ms or (settled and now_ms - entry.computed_ms < SETTLED_TTL_MS):
            return entry.slots
        return None

    def put(self, device_id: int, day: int, slots: str, now_ms: int, last_seen_ms: int | None) -> None:
        with self.lock:
            if len(self.entries) >= CACHE_MAX_ENTRIES:
                for key in list(self.entries)[: CACHE_MAX_ENTRIES // 10]:  # oldest first (insertion order)
                    self.entries.pop(key, None)
            self.entries[(device_id, day)] = _Entry(slots, now_ms, last_seen_ms)


_caches: weakref.WeakKeyDictionary[object, _TimelineCache] = weakref.WeakKeyDictionary()


def _cache(platform: Platform) -> _TimelineCache:
    """One cache per database engine (tests build several platforms in one process)."""
    return _caches.setdefault(platform.engine, _TimelineCache())


def clear_timeline_cache(platform: Platform) -> None:
    _caches.pop(platform.engine, None)


def is_machine(platform: Platform, device: dict) -> bool:
    """A device whose run state the timeline shows: a run threshold and a current reading."""
    model = platform.thing_models.get(device["device_type"])
    return "run_threshold_a" in (device["attributes"] or {}) and model is not None and "current_a" in model.properties


def record_run_slots(uow, device: dict, data: DeviceDays, now_ms: int) -> None:
    """Store a machine's slot strings for the device-days the indicators update just read (hook)."""
    threshold = (device["attributes"] or {}).get("run_threshold_a")
    series = data.series.get("current_a")
    if threshold is None or series is None or not len(data.days):
        return
    first, n_days = int(data.days[0]), len(data.days)
    slots = run_slots(series.ts, series.num, float(threshold), first, n_days)
    uow.console.put_run_slots(
        device["id"], [(first + i, slots[i * SLOTS_PER_DAY : (i + 1) * SLOTS_PER_DAY]) for i in range(n_days)], now_ms
    )


def equipment_timeline(
    platform: Platform, principal: Principal, enterprise_id: int, days: int = 30, end_day: str | None = None
) -> dict:
    """Per machine of the enterprise, per 15-minute slot of the last `days` local days, R/S/-."""
    if not 1 <= days <= MAX_TIMELINE_DAYS:
        raise InvalidInput(f"timeline days {days} is not between 1 and {MAX_TIMELINE_DAYS}")
    now_ms = platform.clock_ms()
    last_day = _parse_day(end_day) if end_day else local_day(now_ms)
    first_day = last_day - days + 1
    devices = data_access.list_devices(platform, principal, enterprise_id)  # consent checked and logged
    machines = sorted((d for d in devices if is_machine(platform, d)), key=lambda d: _machine_label(d))
    with platform.uow() as uow:
        stored = uow.console.run_slots([d["id"] for d in machines], first_day, last_day)
        stale = uow.console.stale_days([d["id"] for d in machines], first_day, last_day)
        zone = enterprise_zones(uow, [enterprise_id])[enterprise_id]
    with day_zone(zone):
        today = local_day(now_ms)
    partial_day = today if first_day <= today <= last_day else None  # the site's day still open
    cache, read_points, from_store, rows = _cache(platform), 0, 0, []
    for device in machines:
        with day_zone(zone):  # the site's local days (slots run on from local midnight of the first day)
            slots, points, stored_days = _machine_slots(platform, cache, device, first_day, days, now_ms, stored, stale)
        read_points, from_store = read_points + points, from_store + stored_days
        rows.append(
            {
                "key": device["key"],
                "machine_id": _machine_label(device),
                "run_threshold_a": device["attributes"]["run_threshold_a"],
                "connectivity": device["connectivity"],
                "source_mode": device["source_mode"],
                "trust_level": device["trust_level"],
                "slots": slots,
                "summary": run_summary(slots, first_day, partial_day),
            }
        )
    _log_read(platform, principal, enterprise_id, read_points + from_store)
    seen = [r["summary"]["first_day_with_data"] for r in rows if r["summary"]["first_day_with_data"]]
    return {
        "partial_day": None if partial_day is None else day_iso(partial_day),
        "now_ms": now_ms,
        "first_day_with_data": min(seen) if seen else None,
        "enterprise_id": enterprise_id,
        "first_day": day_iso(first_day),
        "last_day": day_iso(last_day),
        "days": days,
        "slot_minutes": SLOT_MS // 60_000,
        "timezone": zone,
        "states": {"R": "running", "S": "stopped", "-": "unknown"},
        "machines": rows,
        "machine_days_from_read_model": from_store,
    }


def run_summary(slots: str, first_day: int, partial_day: int | None) -> dict:
    """The machine's run hours per day, averaged over the complete days that have data (a slot not
    unknown): days without data are left out, never counted as 0, and the still open day
    (`partial_day`, today) is reported on its own, since a day half over would drag the average down.

    >>> run_summary("R" * 40 + "-" * 56 + "-" * 96 + "R" * 8 + "-" * 88, 100, 102)
    {'run_hours_per_day': 10.0, 'days_with_data': 1, 'run_hours': 10.0, 'first_day_with_data': '1970-04-11', 'partial_day': {'day': '1970-04-13', 'run_hours': 2.0, 'observed_hours': 2.0}}
    """
    days = len(slots) // SLOTS_PER_DAY
    hours, counted, first_seen, partial = 0.0, 0, None, None
    for i in range(days):
        day_slots = slots[i * SLOTS_PER_DAY : (i + 1) * SLOTS_PER_DAY]
        observed = SLOTS_PER_DAY - day_slots.count("-")
        if observed and first_seen is None:
            first_seen = first_day + i
        ran = day_slots.count("R") * SLOT_MS / 3_600_000
        if first_day + i == partial_day:
            partial = {"day": day_iso(partial_day), "run_hours": ran, "observed_hours": observed * SLOT_MS / 3_600_000}
        elif observed:
            hours, counted = hours + ran, counted + 1
    return {
        "run_hours_per_day": round(hours / counted, 4) if counted else None,
        "days_with_data": counted,
        "run_hours": hours,
        "first_day_with_data": None if first_seen is None else day_iso(first_seen),
        "partial_day": partial,
    }


def _machine_label(device: dict) -> str:
    return str((device["attributes"] or {}).get("machine_id") or device["key"])


def _parse_day(text: str) -> int:
    try:
        return parse_day(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _machine_slots(
    platform: Platform,
    cache: _TimelineCache,
    device: dict,
    first_day: int,
    days: int,
    now_ms: int,
    stored: dict[tuple[int, int], str],
    stale: set[tuple[int, int]],
) -> tuple[str, int, int]:
    """The machine's slot string over the window, the readings read and the days taken from the
    read model: stored days that are not stale, then the cache, and only the rest from readings."""
    parts: list[str | None] = []
    from_store = points = 0
    for day in range(first_day, first_day + days):
        key = (device["id"], day)
        if key in stored and key not in stale:
            parts.append(stored[key])
            from_store += 1
        else:
            parts.append(cache.fresh(device["id"], day, device["last_seen_ms"], now_ms))
    for lo, hi in _runs([first_day + i for i, p in enumerate(parts) if p is None]):
        fresh, n = _slots_from_readings(platform, device, lo, hi)
        points += n
        for day in range(lo, hi + 1):
            slots = fresh[(day - lo) * SLOTS_PER_DAY : (day - lo + 1) * SLOTS_PER_DAY]
            parts[day - first_day] = slots
            cache.put(device["id"], day, slots, now_ms, device["last_seen_ms"])
    return "".join(p or "" for p in parts), points, from_store  # every day is filled by now


def _runs(days: list[int]) -> list[tuple[int, int]]:
    """Consecutive days as (first, last) runs: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for day in days:
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _slots_from_readings(platform: Platform, device: dict, lo: int, hi: int) -> tuple[str, int]:
    with platform.uow() as uow:
        series = uow.indicators.numeric_series(
            device["id"], ["current_a"], day_start_ms(lo) - MAX_GAP_MS, day_start_ms(hi + 1)
        )
    ts, current = series.get("current_a", (np.zeros(0, np.int64), np.zeros(0)))
    return run_slots(ts, current, float(device["attributes"]["run_threshold_a"]), lo, hi - lo + 1), len(ts)


def _log_read(platform: Platform, principal: Principal, enterprise_id: int, rows: int) -> None:
    with platform.uow() as uow:
        uow.logs.access(
            at_ms=platform.clock_ms(),
            user_id=principal.user_id,
            tenant_id=principal.tenant_id,
            enterprise_id=enterprise_id,
            device_id=None,
            action="console.timeline",
            consent_id=None,
            rows=rows,
        )
        uow.commit()
