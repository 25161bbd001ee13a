"""Read models for the web console: portfolio summary, map points, bank tenants, equipment timeline.

Every read goes through the same consent checks as the API's own reads (data_access), so the
console shows exactly what the principal may see, and each read is written to the access log.

The equipment timeline gives, per machine (a device with a `run_threshold_a` attribute and a
`current_a` property) and per 15-minute slot of China local time, one character:
``R`` running, ``S`` stopped, ``-`` unknown (less than half the slot observed). A reading holds
until the next one or for MAX_GAP_MS, as in the indicators' run_hours; running means
current_a >= run_threshold_a for at least half of the observed time of the slot.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

import numpy as np

from wuxin.bootstrap import Platform
from wuxin.domain.model import Role, TenantKind
from wuxin.errors import Denied, InvalidInput
from wuxin.indicators.days import DAY_MS, day_iso, day_start_ms, local_day, parse_day
from wuxin.security.policy import Principal, require_role
from wuxin.services import data_access, registry

SLOT_MS = 15 * 60_000
SLOTS_PER_DAY = DAY_MS // SLOT_MS
MAX_GAP_MS = 5 * 60_000  # a reading stands for at most this long (bracelets report every minute)
MAX_TIMELINE_DAYS = 366
SETTLE_MS = 2 * DAY_MS  # a day this long past its end is "settled": late data for it is rare
SETTLED_TTL_MS = 30 * 60_000  # settled days are re-read at least this often (late history imports)
CACHE_MAX_ENTRIES = 500_000  # (machine, day) pairs, about 150 bytes each
_STATE_CHARS = np.frombuffer(b"-SR", dtype=np.uint8)


def run_slots(ts: np.ndarray, current_a: np.ndarray, run_threshold_a: float, first_day: int, n_days: int,
              max_gap_ms: int = MAX_GAP_MS) -> str:
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


_caches: "weakref.WeakKeyDictionary[object, _TimelineCache]" = weakref.WeakKeyDictionary()


def _cache(platform: Platform) -> _TimelineCache:
    """One cache per database engine (tests build several platforms in one process)."""
    return _caches.setdefault(platform.engine, _TimelineCache())


def clear_timeline_cache(platform: Platform) -> None:
    _caches.pop(platform.engine, None)


def is_machine(platform: Platform, device: dict) -> bool:
    """A device whose run state the timeline shows: a run threshold and a current reading."""
    model = platform.thing_models.get(device["device_type"])
    return "run_threshold_a" in (device["attributes"] or {}) and model is not None and "current_a" in model.properties


def equipment_timeline(platform: Platform, principal: Principal, enterprise_id: int, days: int = 30,
                       end_day: str | None = None) -> dict:
    """Per machine of the enterprise, per 15-minute slot of the last `days` local days, R/S/-."""
    if not 1 <= days <= MAX_TIMELINE_DAYS:
        raise InvalidInput(f"timeline days {days} is not between 1 and {MAX_TIMELINE_DAYS}")
    now_ms = platform.clock_ms()
    last_day = _parse_day(end_day) if end_day else local_day(now_ms)
    first_day = last_day - days + 1
    devices = data_access.list_devices(platform, principal, enterprise_id)  # consent checked and logged
    machines = sorted((d for d in devices if is_machine(platform, d)), key=lambda d: _machine_label(d))
    cache, read_points = _cache(platform), 0
    rows = []
    for device in machines:
        slots, points = _machine_slots(platform, cache, device, first_day, days, now_ms)
        read_points += points
        rows.append({"key": device["key"], "machine_id": _machine_label(device),
                     "run_threshold_a": device["attributes"]["run_threshold_a"], "connectivity": device["connectivity"],
                     "source_mode": device["source_mode"], "trust_level": device["trust_level"], "slots": slots})
    if read_points:
        _log_read(platform, principal, enterprise_id, read_points)
    return {"enterprise_id": enterprise_id, "first_day": day_iso(first_day), "last_day": day_iso(last_day), "days": days,
            "slot_minutes": SLOT_MS // 60_000, "timezone": "Asia/Shanghai", "states": {"R": "running", "S": "stopped",
            "-": "unknown"}, "machines": rows}


def _machine_label(device: dict) -> str:
    return str((device["attributes"] or {}).get("machine_id") or device["key"])


def _parse_day(text: str) -> int:
    try:
        return parse_day(text)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _machine_slots(platform: Platform, cache: _TimelineCache, device: dict, first_day: int, days: int,
                   now_ms: int) -> tuple[str, int]:
    """The machine's slot string over the window, reading only the days the cache lacks."""
    parts = [cache.fresh(device["id"], first_day + i, device["last_seen_ms"], now_ms) for i in range(days)]
    missing = [i for i, p in enumerate(parts) if p is None]
    if not missing:
        return "".join(parts), 0
    lo, hi = first_day + missing[0], first_day + missing[-1]
    with platform.uow() as uow:
        series = uow.indicators.numeric_series(device["id"], ["current_a"], day_start_ms(lo) - MAX_GAP_MS, day_start_ms(hi + 1))
    ts, current = series.get("current_a", (np.zeros(0, np.int64), np.zeros(0)))
    fresh = run_slots(ts, current, float(device["attributes"]["run_threshold_a"]), lo, hi - lo + 1)
    for i in missing:
        offset = (first_day + i - lo) * SLOTS_PER_DAY
        parts[i] = fresh[offset: offset + SLOTS_PER_DAY]
        cache.put(device["id"], first_day + i, parts[i], now_ms, device["last_seen_ms"])
    return "".join(parts), len(ts)


def _log_read(platform: Platform, principal: Principal, enterprise_id: int, rows: int) -> None:
    with platform.uow() as uow:
        uow.logs.access(at_ms=platform.clock_ms(), user_id=principal.user_id, tenant_id=principal.tenant_id,
                        enterprise_id=enterprise_id, device_id=None, action="console.timeline", consent_id=None, rows=rows)
        uow.commit()


# ---------------------------------------------------------------- portfolio, map, tenants

def portfolio(platform: Platform, principal: Principal) -> dict:
    """The visible enterprises with their device counts by connectivity, and the sites."""
    rows = []
    for enterprise in registry.visible_enterprises(platform, principal):
        devices = _devices_or_none(platform, principal, enterprise["id"])
        counts = {"online": 0, "offline": 0, "unknown": 0}
        for d in devices or []:
            counts[d["connectivity"]] += 1
        rows.append({k: enterprise[k] for k in ("id", "name", "uscc", "industry", "region")} |
                    {"devices": None if devices is None else len(devices), "connectivity": counts,
                     "machines": sum(1 for d in devices or [] if is_machine(platform, d))})
    return {"enterprises": rows, "as_of_ms": platform.clock_ms()}


def _devices_or_none(platform: Platform, principal: Principal, enterprise_id: int) -> list[dict] | None:
    try:
        return data_access.list_devices(platform, principal, enterprise_id)
    except Denied:  # the admin sees every enterprise but reads devices only under consent
        return None


def map_points(platform: Platform, principal: Principal) -> dict:
    """Sites of the visible enterprises, and each readable vehicle's last reported position."""
    sites, vehicles = [], []
    for enterprise in registry.visible_enterprises(platform, principal):
        profile = registry.enterprise_profile(platform, principal, enterprise["id"])
        sites += [{"enterprise_id": enterprise["id"], "enterprise": enterprise["name"], "industry": enterprise["industry"],
                   "name": s["name"], "region": s["region"], "lat": s["lat"], "lon": s["lon"]}
                  for s in profile["sites"] if s["lat"] is not None and s["lon"] is not None]
        vehicles += _vehicles(platform, principal, enterprise)
    return {"sites": sites, "vehicles": vehicles}


def _vehicles(platform: Platform, principal: Principal, enterprise: dict) -> list[dict]:
    out = []
    for device in _devices_or_none(platform, principal, enterprise["id"]) or []:
        model = platform.thing_models.get(device["device_type"])
        if model is None or not {"lat", "lon"} <= set(model.properties) or device["last_seen_ms"] is None:
            continue
        seen = device["last_seen_ms"]
        data = data_access.read_telemetry(platform, principal, enterprise["id"], device["key"], None, seen - 600_000, seen + 1, 10_000)
        position = _last_position(data["readings"])
        if position:
            out.append({"enterprise_id": enterprise["id"], "enterprise": enterprise["name"], "key": device["key"],
                        "plate": (device["attributes"] or {}).get("plate"), "connectivity": device["connectivity"], **position})
    return out


def _last_position(readings: list[dict]) -> dict | None:
    latest: dict[str, tuple[int, float]] = {}
    for r in readings:
        if r["key"] in ("lat", "lon", "speed_kmh") and (r["key"] not in latest or r["ts"] >= latest[r["key"]][0]):
            latest[r["key"]] = (r["ts"], r["value"])
    if "lat" not in latest or "lon" not in latest:
        return None
    return {"lat": latest["lat"][1], "lon": latest["lon"][1], "ts": latest["lat"][0],
            "speed_kmh": latest.get("speed_kmh", (None, None))[1]}


def consent_tenants(platform: Platform, principal: Principal) -> list[dict]:
    """Tenants that can receive a consent (banks and operators), for an enterprise's grant form."""
    require_role(principal, Role.ENTERPRISE_USER, Role.PLATFORM_ADMIN)
    with platform.uow() as uow:
        return [{"id": t["id"], "name": t["name"], "kind": t["kind"]} for t in uow.identity.list_tenants()
                if t["kind"] != TenantKind.REGULATOR]
