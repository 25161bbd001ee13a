"""Streaming evaluation of rules over a validated telemetry batch; pure (state in, signals out).

State per (scope, rule, device) is a small dict the caller loads and stores; `Evaluation.changed`
names the states to write back, so a restart continues where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from wuxin.alerts.geofence import Zone, haversine_km, parse_zone
from wuxin.alerts.rules import OPS, Rule
from wuxin.errors import InvalidInput
from wuxin.indicators.days import HOUR_MS

log = logging.getLogger(__name__)
StateKey = tuple[str, str, int]  # (scope, rule id, device id)


@dataclass(frozen=True)
class DeviceInfo:
    id: int
    key: str
    device_type: str
    enterprise_id: int
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class Signal:
    """Raise or clear one alarm: `source` is what it is about (e.g. "device:12")."""

    action: str  # raise | clear
    scope: str  # "platform" or "tenant:<id>"
    rule: Rule
    source: str
    enterprise_id: int | None
    at_ms: int
    detail: Mapping[str, Any] = field(default_factory=dict)
    device_id: int | None = None
    loan_id: int | None = None


@dataclass
class Evaluation:
    signals: list[Signal] = field(default_factory=list)
    changed: set[StateKey] = field(default_factory=set)


def points_by_device(
    readings: Iterable[tuple], events: Iterable[tuple], watched: Mapping[int, frozenset[str]]
) -> dict[int, list[tuple]]:
    """(ts, key, num, txt|params) per watched device, time-ordered; the cheap filter in front of the rules."""
    out: dict[int, list[tuple]] = {}
    if not watched:
        return out
    mine = [r for r in readings if r[0] in watched]  # most points of a bulk batch are nobody's concern
    for device_id, key, ts, num, txt in mine:
        if key in watched[device_id]:
            out.setdefault(device_id, []).append((ts, key, num, txt))
    for device_id, name, ts, params in events:
        keys = watched.get(device_id)
        if keys is not None and name in keys:
            out.setdefault(device_id, []).append((ts, name, None, params))
    for points in out.values():
        points.sort(key=lambda p: p[0])
    return out


def evaluate_device(
    device: DeviceInfo,
    rules: list[tuple[str, Rule]],
    points: list[tuple],
    states: dict[StateKey, dict],
    out: Evaluation,
) -> None:
    """Run each stream rule over one device's time-ordered points."""
    for scope, rule in rules:
        keys = rule.watched_keys()
        mine = [p for p in points if p[1] in keys]
        if not mine:
            continue
        state_key = (scope, rule.id, device.id)
        state = states.setdefault(state_key, {})
        before = dict(state)
        EVALUATORS[rule.type](device, scope, rule, mine, state, out)
        if state != before:
            out.changed.add(state_key)


def _signal(action: str, device: DeviceInfo, scope: str, rule: Rule, ts: int, **detail) -> Signal:
    return Signal(
        action,
        scope,
        rule,
        f"device:{device.id}",
        device.enterprise_id,
        ts,
        {"device": device.key, **detail},
        device.id,
    )


def threshold_limit(rule: Rule, attributes: Mapping[str, Any]) -> float | None:
    """The rule's limit for a device: a number, or an install attribute x factor (None when absent)."""
    if "value" in rule.params:
        return float(rule.params["value"])
    base = attributes.get(rule.params["value_attr"])
    if not isinstance(base, (int, float)) or isinstance(base, bool):
        return None
    return float(base) * float(rule.params.get("factor", 1.0))


def threshold_duration_ms(rule: Rule, attributes: Mapping[str, Any]) -> int:
    """How long the condition must hold: the device's own install attribute named by `duration_min_attr` (minutes,
    e.g. the excursion its goods tolerate) when it has one, else the rule's `duration_s`."""
    own = attributes.get(rule.params.get("duration_min_attr", ""))
    if isinstance(own, (int, float)) and not isinstance(own, bool) and own >= 0:
        return int(own * 60_000)
    return int(rule.params.get("duration_s", 0) * 1000)


def _threshold(device, scope, rule, points, state, out) -> None:
    limit = threshold_limit(rule, device.attributes)
    if limit is None:
        return
    compare, duration_ms = OPS[rule.params["op"]], threshold_duration_ms(rule, device.attributes)
    for ts, key, num, _ in points:
        if num is None:
            continue
        if compare(num, limit):
            since = state.setdefault("since", ts)
            if not state.get("raised") and ts - since >= duration_ms:
                state["raised"] = True
                out.signals.append(
                    _signal("raise", device, scope, rule, ts, key=key, value=num, limit=limit, since_ms=since)
                )
        else:
            state.pop("since", None)
            if state.pop("raised", False):
                out.signals.append(_signal("clear", device, scope, rule, ts, key=key, value=num, limit=limit))


def _positions(points: list[tuple]) -> list[tuple[int, float, float]]:
    """(ts, lat, lon) where a fix has both coordinates."""
    fixes: dict[int, dict] = {}
    for ts, key, num, _ in points:
        if num is not None:
            fixes.setdefault(ts, {})[key] = num
    return [(ts, f["lat"], f["lon"]) for ts, f in sorted(fixes.items()) if "lat" in f and "lon" in f]


def _rate_of_change(device, scope, rule, points, state, out) -> None:
    position = rule.params["key"] == "position"
    samples: Sequence[tuple[float, ...]]  # (ts, lat, lon) or (ts, value)
    samples = _positions(points) if position else [(ts, num) for ts, _, num, _ in points if num is not None]
    limit = float(rule.params["max_per_hour"])
    min_gap_ms = int(rule.params.get("min_gap_s", 1) * 1000)
    for sample in samples:
        ts = int(sample[0])
        last = state.get("last")
        if last is not None and ts - last[0] >= min_gap_ms:
            change = haversine_km(last[1], last[2], sample[1], sample[2]) if position else abs(sample[1] - last[1])
            rate = change / ((ts - last[0]) / HOUR_MS)
            if rate > limit and not state.get("raised"):
                state["raised"] = True
                out.signals.append(_signal("raise", device, scope, rule, ts, rate_per_hour=round(rate, 3), limit=limit))
            elif rate <= limit and state.pop("raised", False):
                out.signals.append(_signal("clear", device, scope, rule, ts, rate_per_hour=round(rate, 3), limit=limit))
        if last is None or ts >= last[0]:
            state["last"] = list(sample)


def _event(device, scope, rule, points, state, out) -> None:
    match = rule.params.get("match")
    for ts, name, _, params in points:
        if isinstance(params, str):
            params = orjson.loads(params)
        if match and any(params.get(k) != v for k, v in match.items()):
            continue
        if ts > state.get("last_ms", -1):
            state["last_ms"] = ts
            out.signals.append(_signal("raise", device, scope, rule, ts, event=name, params=params))


def rule_zone(rule: Rule, attributes: Mapping[str, Any]) -> Zone | None:
    """The rule's polygon, or the device's own from its install attribute (a list or its JSON text); None when the
    device has none or a broken one (a fence nobody can read must not stop the device's data being stored)."""
    if "zone" in rule.params:
        return parse_zone(rule.id, rule.params["zone"])
    area = attributes.get(rule.params["zone_attr"])
    if not area:
        return None
    try:
        return _attribute_zone(
            f"{rule.id}:{rule.params['zone_attr']}", area if isinstance(area, str) else orjson.dumps(area).decode()
        )
    except InvalidInput as exc:
        log.warning("device fence unusable, not fenced: %s", exc)
        return None


@lru_cache(maxsize=4096)
def _attribute_zone(name: str, text: str) -> Zone:
    try:
        vertices = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise InvalidInput(f"zone {name!r} is not a JSON list of [lon, lat]: {text[:80]!r}") from None
    if not isinstance(vertices, list) or not all(isinstance(v, list) for v in vertices):
        raise InvalidInput(f"zone {name!r} is not a JSON list of [lon, lat]: {text[:80]!r}")
    return parse_zone(name, vertices)


def _geofence(device, scope, rule, points, state, out) -> None:
    zone = rule_zone(rule, device.attributes)
    if zone is None:
        return
    alarm_when_inside = rule.params["on"] == "enter"
    needed = int(rule.params.get("min_fixes", 1))  # consecutive violating fixes: one displaced fix is a GPS jump
    for ts, lat, lon in _positions(points):
        inside = zone.contains(lon, lat)
        violating = inside == alarm_when_inside
        if violating:
            state["run"] = state.get("run", 0) + 1
        else:
            state.pop("run", None)
        if violating and not state.get("raised") and state["run"] >= needed:
            state["raised"] = True
            out.signals.append(
                _signal("raise", device, scope, rule, ts, lat=lat, lon=lon, zone=rule.params.get("zone_name"))
            )
        elif not violating and state.pop("raised", False):
            out.signals.append(_signal("clear", device, scope, rule, ts, lat=lat, lon=lon))


EVALUATORS = {"threshold": _threshold, "rate_of_change": _rate_of_change, "event": _event, "geofence": _geofence}


def evaluate_clock(
    device: DeviceInfo,
    rules: list[tuple[str, Rule]],
    newest_ms: int,
    received_ms: int,
    states: dict[StateKey, dict],
    out: Evaluation,
) -> None:
    """Run each clock-skew rule on one batch of the device: its newest stamp against the platform's receive time."""
    skew_ms = newest_ms - received_ms
    for scope, rule in rules:
        state_key = (scope, rule.id, device.id)
        state = states.setdefault(state_key, {})
        before = dict(state)
        action = clock_skew_step(rule, skew_ms, received_ms, state)
        if action:
            out.signals.append(
                _signal(
                    action,
                    device,
                    scope,
                    rule,
                    received_ms,
                    skew_s=skew_ms // 1000,
                    limit_s=rule.params["max_skew_s"],
                    since_ms=state.get("since", before.get("since")),
                )
            )
        if state != before:
            out.changed.add(state_key)


def clock_skew_step(rule: Rule, skew_ms: int, received_ms: int, state: dict) -> str | None:
    """Skewed: the stamp more than `max_skew_s` ahead of (or behind) the receive time. "raise" once the device stayed
    skewed the same way for `min_batches` batches spanning `min_duration_s` of receive time; "clear" on a batch on time.
    Behind is judged only on a device once seen on time: data that always arrive late (a daily import, a relay) are
    a delivery path, not a clock; nothing arrives stamped ahead but through a wrong clock."""
    limit_ms = int(rule.params["max_skew_s"] * 1000)
    direction = "ahead" if skew_ms > limit_ms else "behind" if skew_ms < -limit_ms else None
    if direction is None:
        raised = state.get("raised", False)
        state.clear()
        state["on_time"] = True
        return "clear" if raised else None
    if direction == "behind" and not state.get("on_time"):
        return None
    if state.get("direction") != direction:
        state.update(direction=direction, since=received_ms, batches=0)
    needed = int(rule.params.get("min_batches", 1))
    state["batches"] = min(state["batches"] + 1, needed)  # counted no further: a skewed device's state stops changing
    lasted = received_ms - state["since"] >= int(rule.params.get("min_duration_s", 0) * 1000)
    if state.get("raised") or state["batches"] < needed or not lasted:
        return None
    state["raised"] = True
    return "raise"


# ---------------------------------------------------------------- periodic rules (not per point)


def absence_signal(
    device: DeviceInfo, scope: str, rule: Rule, to_state: str, at_ms: int, offline_since_ms: int | None, now_ms: int
) -> Signal | None:
    """Offline long enough raises; back online clears."""
    if to_state == "online":
        return _signal("clear", device, scope, rule, at_ms, state="online")
    if offline_since_ms is not None and now_ms - offline_since_ms >= rule.params.get("min_offline_s", 0) * 1000:
        return _signal("raise", device, scope, rule, offline_since_ms, state="offline")
    return None


def herd_share(reporting: int, registered: int) -> float | None:
    """Share of registered devices reporting; None for an empty herd."""
    return reporting / registered if registered else None


def mismatch(values: Mapping[str, float | None], tolerance: float, relative: bool = True) -> dict | None:
    """The largest gap between sources when it exceeds the tolerance (relative to the largest value), else None.

    A source with no value is unknown, never zero: it is left out.
    """
    known = {k: v for k, v in values.items() if v is not None}
    if len(known) < 2:
        return None
    hi, lo = max(known, key=known.__getitem__), min(known, key=known.__getitem__)
    gap = known[hi] - known[lo]
    scale = max(abs(known[hi]), abs(known[lo]), 1e-9) if relative else 1.0
    return {"high": hi, "low": lo, "gap": gap, "values": known} if gap / scale > tolerance else None
