"""The periodic sweep: connectivity and offline alarms, herd counts and herd-relative outliers, regional excess,
lots, escalation and the daily rules when due; and the daemon thread that runs it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from wuxin.alerts.dust import dust_rule, explanation, hours_in, site_excess
from wuxin.alerts.engine import DeviceInfo, Signal, absence_signal
from wuxin.alerts.herd import herd_count_step, herd_outliers
from wuxin.alerts.rules import Rule
from wuxin.bootstrap import Platform
from wuxin.calendars.periods import binding, period_at
from wuxin.indicators.days import DEFAULT_ZONE, local_day
from wuxin.security.policy import reading_tenants, usable_by_every_reader
from wuxin.services.bootstrap import default_rules
from wuxin.services.devices.calendars import in_service, periods_by_enterprise
from wuxin.services.devices.connectivity import sweep_connectivity
from wuxin.services.devices.registry import consent_views
from wuxin.services.monitoring.alarms import apply_signals, escalate
from wuxin.services.monitoring.daily import day_calendars, run_daily_due
from wuxin.services.monitoring.device_rules import sweep_lots
from wuxin.services.monitoring.notifications import deliver_due
from wuxin.services.monitoring.rule_cache import PLATFORM_SCOPE
from wuxin.store.uow import UnitOfWork

log = logging.getLogger(__name__)

CURSOR = ("cursor", "connectivity", "-")


# ---------------------------------------------------------------- the periodic sweep


def sweep(platform: Platform) -> dict:
    """Connectivity (recorded by the protocols part), offline alarms, herd counts, escalation, the daily rules."""

    def run() -> dict:
        recorded = sweep_connectivity(platform)
        return {
            "transitions": len(recorded),
            "connectivity": sweep_connectivity_alarms(platform),
            "herd": sweep_herds(platform),
            "herd_relative": sweep_herd_relative(platform),
            "regional_excess": sweep_regional_excess(platform),
            "lots": sweep_lots(platform),
            "escalated": escalate(platform),
            "daily": platform.metrics.timed_job("daily", lambda: run_daily_due(platform)),
        }

    return platform.metrics.timed_job("sweep", run)  # duration and last success in /metrics


def has_heartbeat_duty(rule: Rule, device_type: str) -> bool:
    """False for device types the absence rule declares without a heartbeat duty: passive tags read by gates,
    units that speak only when something happens (ADAS, weighbridge, fence alarm, access gate)."""
    return device_type not in rule.params.get("no_heartbeat_device_types", ())


OFFLINE_AFTER_PERIOD = ("cursor", "offline_after_period", "-")  # devices gone quiet inside a declared window


def sweep_connectivity_alarms(platform: Platform, batch: int = 5000) -> int:
    """Absence rules over the transitions recorded since the last sweep (cursor stored in rule_states). A device going
    quiet while out of service raises nothing; one going quiet inside a declared shutdown or maintenance window is
    judged when the window ends: still offline then, it raises, offline since the window's end."""
    now_ms = platform.clock_ms()
    absence = [r for r in default_rules().values() if r.type == "absence" and r.enabled]
    with platform.uow() as uow:
        stored = uow.monitoring.states([CURSOR, OFFLINE_AFTER_PERIOD])
        cursor = stored.get(CURSOR, {}).get("after_id", 0)
        pending = {int(k): v for k, v in stored.get(OFFLINE_AFTER_PERIOD, {}).get("devices", {}).items()}
        before = dict(pending)
        rows = uow.monitoring.transitions_after(cursor, batch)
        signals = []
        offline = [r for r in rows if r["to_state"] == "offline"]
        periods = periods_by_enterprise(
            uow,
            sorted({r["enterprise_id"] for r in offline}),
            min((r["at_ms"] for r in offline), default=0),
            now_ms + 1,
        )
        for row in rows:
            info = DeviceInfo(
                row["device_id"], row["key"], row["device_type"], row["enterprise_id"], row["attributes"] or {}
            )
            pending.pop(info.id, None)
            if row["to_state"] == "offline":
                if not in_service(row, row["at_ms"]):
                    continue
                mine = binding(periods.get(row["enterprise_id"], []), row.get("source_mode") != "enterprise_shared")
                window = period_at(mine, row["at_ms"], info.id, row.get("site_id"), ("shutdown", "maintenance"))
                if window is not None:
                    pending[info.id] = window.end_ms
                    continue
            signals += _absence_signals(absence, info, row["to_state"], row["at_ms"], now_ms)
        signals += _offline_after_periods(uow, absence, pending, now_ms)
        apply_signals(platform, uow, signals, now_ms)
        if rows:
            uow.monitoring.save_states({CURSOR: {"after_id": rows[-1]["id"]}}, now_ms)
        if pending != before:
            uow.monitoring.save_states(
                {OFFLINE_AFTER_PERIOD: {"devices": {str(k): v for k, v in pending.items()}}}, now_ms
            )
        uow.commit()
    return len(signals)


def _absence_signals(
    absence: list[Rule], info: DeviceInfo, to_state: str, at_ms: int, now_ms: int, **detail
) -> list[Signal]:
    out = []
    for rule in absence:
        if not rule.applies_to(info.device_type) or not has_heartbeat_duty(rule, info.device_type):
            continue
        offline_since = at_ms if to_state == "offline" else None
        signal = absence_signal(info, PLATFORM_SCOPE, rule, to_state, at_ms, offline_since, now_ms)
        if signal:
            out.append(
                Signal(
                    signal.action,
                    signal.scope,
                    signal.rule,
                    signal.source,
                    signal.enterprise_id,
                    signal.at_ms,
                    {**signal.detail, **detail},
                    signal.device_id,
                )
                if detail
                else signal
            )
    return out


def _offline_after_periods(uow: UnitOfWork, absence: list[Rule], pending: dict[int, int], now_ms: int) -> list[Signal]:
    """Devices that went quiet inside a declared window now over: still offline and in service, they raise."""
    due = [d for d, end in pending.items() if end <= now_ms]
    states = uow.monitoring.device_states(due) if due else {}
    signals = []
    for device_id in due:
        end = pending.pop(device_id)
        row = uow.devices.get(device_id)
        if row is None or states.get(device_id) != "offline" or not in_service(row, end):
            continue
        info = DeviceInfo(row["id"], row["key"], row["device_type"], row["enterprise_id"], row["attributes"] or {})
        signals += _absence_signals(absence, info, "offline", end, now_ms, after_declared_period_ms=end)
    return signals


def sweep_herds(platform: Platform) -> int:
    """Herd-count rules: the share of a device type reporting in the window, per enterprise."""
    now_ms = platform.clock_ms()
    rules = [r for r in default_rules().values() if r.type == "herd_drop" and r.enabled]
    signals = []
    with platform.uow() as uow:
        for enterprise in uow.enterprises.list():
            for rule in (r for r in rules if r.scenario == enterprise["industry"]):
                signal = herd_signal(uow, enterprise["id"], rule, now_ms)
                if signal:
                    signals.append(signal)
        apply_signals(platform, uow, signals, now_ms)
        uow.commit()
    return len(signals)


def herd_signal(uow: UnitOfWork, enterprise_id: int, rule: Rule, now_ms: int) -> Signal | None:
    """The herd's share reporting in the window against its own usual share (alerts/herd.py herd_count_step), counted
    over the devices in service (a culled cow's tag is not missing) registered at least one window ago; not judged
    while the enterprise declared a shutdown or maintenance window."""
    periods = binding(
        periods_by_enterprise(uow, [enterprise_id], now_ms, now_ms + 1)[enterprise_id],
        bool(uow.calendars.with_independent_devices([enterprise_id])),
    )
    if period_at(periods, now_ms, kinds=("shutdown", "maintenance")) is not None:
        return None
    window_ms = int(rule.params["window_s"] * 1000)
    ids = [
        d["id"]
        for d in uow.devices.list(enterprise_id)
        if rule.applies_to(d["device_type"]) and in_service(d, now_ms) and d["created_ms"] <= now_ms - window_ms
    ]
    reporting = uow.monitoring.reporting_devices(ids, now_ms - window_ms, now_ms + 1) if ids else set()
    source = f"enterprise:{enterprise_id}"
    key = (PLATFORM_SCOPE, rule.id, source)
    state = uow.monitoring.states([key]).get(key) or {}
    before = orjson.dumps(state)
    action, detail = herd_count_step(len(reporting), len(ids), state, now_ms, window_ms, rule.params)
    if orjson.dumps(state) != before:
        uow.monitoring.save_states({key: state}, now_ms)
    return Signal(action, PLATFORM_SCOPE, rule, source, enterprise_id, now_ms, detail) if action else None


def sweep_herd_relative(platform: Platform, limit: int = 1_000_000) -> int:
    """Herd-relative rules: each device of the rule's type against its herd over the last `duration_s` (and two
    buckets more); the devices raised are kept in the rule's state per enterprise, so each is raised once and
    cleared when its latest reading is back within the herd."""
    now_ms = platform.clock_ms()
    rules = [r for r in default_rules().values() if r.type == "herd_relative" and r.enabled]
    signals = []
    with platform.uow() as uow:
        for enterprise in uow.enterprises.list() if rules else []:
            devices = uow.devices.list(enterprise["id"])
            for rule in (r for r in rules if r.scenario == enterprise["industry"]):
                mine = {d["id"]: d for d in devices if rule.applies_to(d["device_type"])}
                if mine:
                    signals += herd_relative_signals(uow, enterprise["id"], rule, mine, now_ms, limit)
        apply_signals(platform, uow, signals, now_ms)
        uow.commit()
    return len(signals)


def herd_relative_signals(
    uow: UnitOfWork, enterprise_id: int, rule: Rule, devices: Mapping[int, Mapping[str, Any]], now_ms: int, limit: int
) -> list[Signal]:
    p = rule.params
    duration_ms, bucket_ms = int(p["duration_s"] * 1000), int(p.get("bucket_s", 3600) * 1000)
    series: dict[int, list[tuple[int, float]]] = {}
    for r in uow.telemetry.readings(list(devices), p["key"], now_ms - duration_ms - 2 * bucket_ms, now_ms + 1, limit):
        if r["num"] is not None:
            series.setdefault(r["device_id"], []).append((r["ts_ms"], r["num"]))
    outliers, calm = herd_outliers(series, float(p["min_excess"]), duration_ms, bucket_ms, int(p.get("min_herd", 10)))
    state_key = (PLATFORM_SCOPE, rule.id, f"enterprise:{enterprise_id}")
    raised = set(uow.monitoring.states([state_key]).get(state_key, {}).get("raised", []))
    signals = []
    for device_id, o in outliers.items():
        if device_id not in raised:
            signals.append(
                Signal(
                    "raise",
                    PLATFORM_SCOPE,
                    rule,
                    f"device:{device_id}",
                    enterprise_id,
                    o.at_ms,
                    {
                        "device": devices[device_id]["key"],
                        "key": p["key"],
                        "value": o.value,
                        "herd_median": round(o.herd_median, 4),
                        "excess": round(o.value - o.herd_median, 4),
                        "min_excess": p["min_excess"],
                        "since_ms": o.since_ms,
                    },
                    device_id,
                )
            )
    for device_id in raised & calm:
        signals.append(
            Signal(
                "clear",
                PLATFORM_SCOPE,
                rule,
                f"device:{device_id}",
                enterprise_id,
                now_ms,
                {"device": devices[device_id]["key"], "key": p["key"]},
                device_id,
            )
        )
    now_raised = sorted((raised - calm) | set(outliers))
    if now_raised != sorted(raised):
        uow.monitoring.save_states({state_key: {"raised": now_raised}}, now_ms)
    return signals


def sweep_regional_excess(platform: Platform, limit: int = 1_000_000) -> int:
    """Regional-excess rules (a site's dust): each enterprise's devices of the rule's type against the same type's
    devices of the other enterprises in its region that consented to every bank reading its alarms
    (`consented_peers`), over the last `duration_s` (and two buckets more), up to the
    current bucket, left until it is complete (peers report at their own moments): up to one bucket of delay. See
    alerts/dust.py. Only the background's median and its number of peers reach the alarm, never a peer's name."""
    now_ms = platform.clock_ms()
    rules = [r for r in default_rules().values() if r.type == "regional_excess" and r.enabled]
    signals = []
    with platform.uow() as uow:
        enterprises = uow.enterprises.list() if rules else []
        devices = [d for e in enterprises for d in uow.devices.list(e["id"])] if rules else []
        for rule in rules:
            mine = [d for d in devices if rule.applies_to(d["device_type"])]
            for region in {e["region"] for e in enterprises if e["industry"] == rule.scenario}:
                signals += regional_excess_signals(uow, rule, enterprises, region, mine, now_ms, limit)
        apply_signals(platform, uow, signals, now_ms)
        uow.commit()
    return len(signals)


def regional_excess_signals(
    uow: UnitOfWork,
    rule: Rule,
    enterprises: Sequence[Mapping[str, Any]],
    region: str,
    devices: Sequence[Mapping[str, Any]],
    now_ms: int,
    limit: int,
) -> list[Signal]:
    judged = dust_rule(rule.params)
    in_region = {e["id"]: e for e in enterprises if e["region"] == region}
    here = {d["id"]: d for d in devices if d["enterprise_id"] in in_region}
    if not here:
        return []
    series: dict[int, list[tuple[int, float]]] = {}
    since_ms = now_ms - judged.duration_ms - 2 * judged.bucket_ms
    complete_ms = now_ms // judged.bucket_ms * judged.bucket_ms  # the current bucket waits for its peers' readings
    for r in uow.telemetry.readings(list(here), rule.params["key"], since_ms, complete_ms, limit):
        if r["num"] is not None:
            series.setdefault(r["device_id"], []).append((r["ts_ms"], r["num"]))
    signals = []
    consents = {e: consent_views(uow.consents.for_enterprise(e)) for e in {d["enterprise_id"] for d in here.values()}}
    for enterprise_id in {d["enterprise_id"] for d in here.values()}:
        if in_region[enterprise_id]["industry"] != rule.scenario:
            continue  # judged only in the rule's own scenario; other industries' monitors serve as peers
        usable = consented_peers(enterprise_id, here, consents, now_ms)
        peers = {i: s for i, s in series.items() if i in usable}
        own = {i: s for i, s in series.items() if here[i]["enterprise_id"] == enterprise_id}
        calendar = day_calendars(uow, [in_region[enterprise_id]], local_day(since_ms), local_day(now_ms))[enterprise_id]
        days = range(int(local_day(since_ms, calendar.zone)), int(local_day(now_ms, calendar.zone)) + 1)
        off = set(calendar.excluded(days, official=calendar.zone == DEFAULT_ZONE))
        signals += _site_signals(
            uow, rule, judged, enterprise_id, own, peers, here, now_ms, hours_in(calendar.zone, off)
        )
    return signals


def consented_peers(
    enterprise_id: int, devices: Mapping[int, Mapping[str, Any]], consents: dict[int, list], now_ms: int
) -> set[int]:
    """The other enterprises' devices whose readings may enter `enterprise_id`'s background: a platform alarm is read
    by every bank holding a valid consent from the enterprise, so a peer counts only when each of those banks also
    holds a valid consent from the peer's enterprise covering that device. A firm no bank watches gets no peers (its
    own users would read a figure made of firms that never consented to them): judged by the fallback alone."""
    readers = reading_tenants(consents.get(enterprise_id, []), now_ms)
    return {
        i
        for i, d in devices.items()
        if d["enterprise_id"] != enterprise_id
        and usable_by_every_reader(readers, consents.get(d["enterprise_id"], []), d["key"], d["device_type"], now_ms)
    }


def _site_signals(
    uow: UnitOfWork, rule: Rule, judged, enterprise_id: int, own: dict, peers: dict, devices: dict, now_ms: int, hour_of
) -> list[Signal]:
    state_key = (PLATFORM_SCOPE, rule.id, f"enterprise:{enterprise_id}")
    raised = set(uow.monitoring.states([state_key]).get(state_key, {}).get("raised", []))
    signals, now_raised = [], set(raised)
    for device_id, points in own.items():
        excess, calm = site_excess(points, peers, judged, hour_of)
        if excess and device_id not in raised:
            j = excess.latest
            now_raised.add(device_id)
            signals.append(
                Signal(
                    "raise",
                    PLATFORM_SCOPE,
                    rule,
                    f"device:{device_id}",
                    enterprise_id,
                    excess.at_ms,
                    {
                        "device": devices[device_id]["key"],
                        "key": rule.params["key"],
                        "value": j.value,
                        "background": None if j.background is None else round(j.background, 1),
                        "peers": j.peers,
                        "margin": judged.margin,
                        "limit": round(j.limit, 1),
                        "since_ms": excess.since_ms,
                        "judged_by": "regional_background" if j.background is not None else "fallback_working_hours",
                        "threshold_from": explanation(j, judged),
                    },
                    device_id,
                )
            )
        elif calm and device_id in raised:
            now_raised.discard(device_id)
            signals.append(
                Signal(
                    "clear",
                    PLATFORM_SCOPE,
                    rule,
                    f"device:{device_id}",
                    enterprise_id,
                    now_ms,
                    {"device": devices[device_id]["key"], "key": rule.params["key"]},
                    device_id,
                )
            )
    if now_raised != raised:
        uow.monitoring.save_states({state_key: {"raised": sorted(now_raised)}}, now_ms)
    return signals


class MonitoringSweeper:
    """A daemon thread: sweep and deliver notifications every `interval_s`; errors are logged and retried.

    `swept` is set after each finished round (tests wait on it instead of sleeping)."""

    def __init__(self, platform: Platform, interval_s: float = 30.0):
        self.platform, self.interval_s = platform, interval_s
        self.swept = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wuxin-monitoring", daemon=True)

    def start(self) -> MonitoringSweeper:
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                sweep(self.platform)
                self.platform.metrics.timed_job("notifications", lambda: deliver_due(self.platform))
                self.swept.set()
            except Exception as exc:  # the database may be down: try again next time
                log.warning("monitoring sweep failed: %s", exc)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the thread to stop and wait for the round in progress (a daily update may take a while)."""
        self._stop.set()
        self._thread.join(timeout=timeout_s)
