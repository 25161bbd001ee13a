"""Connectivity: online/offline per device from last-seen time and the thing model's heartbeat timeout.

Transitions are recorded (table `connectivity_transitions`) for the warning rules; a periodic
sweep (`wuxin ingest mqtt`, `wuxin serve`) records timeouts, gateway connect/disconnect
messages record what a gateway says about its sub-devices, and a JT/T 808 terminal's own
connection (login, heartbeat, logout, lost socket) records its presence.
"""

from __future__ import annotations

import logging
import threading

from wuxin.bootstrap import Platform
from wuxin.errors import Denied
from wuxin.security.policy import Principal, enterprise_not_found, readable_device_keys
from wuxin.services.devices.registry import consent_views
from wuxin.store.rows import SweepDeviceRow

log = logging.getLogger(__name__)
DEFAULT_HEARTBEAT_TIMEOUT_S = 900
MAX_TRANSITIONS = 10_000


def next_transition(
    recorded_state: str | None, recorded_since_ms: int | None, last_seen_ms: int | None, timeout_ms: int, now_ms: int
) -> tuple[str, int, str] | None:
    """(new state, at_ms, cause) when the recorded state is stale, else None. Pure.

    Online needs data newer than the recorded state (an explicit disconnect is not undone by
    older data); offline comes heartbeat-timeout after the last data.
    """
    if last_seen_ms is None:
        return None
    fresh = now_ms - last_seen_ms <= timeout_ms
    if fresh and recorded_state != "online" and (recorded_since_ms is None or last_seen_ms > recorded_since_ms):
        return "online", last_seen_ms, "data"
    if not fresh and recorded_state != "offline":
        return "offline", max(last_seen_ms + timeout_ms, recorded_since_ms or 0), "heartbeat_timeout"
    return None


def heartbeat_timeout_ms(platform: Platform, device_type: str) -> int:
    model = platform.thing_models.get(device_type)
    return (model.heartbeat_timeout_s if model else DEFAULT_HEARTBEAT_TIMEOUT_S) * 1000


def sweep_connectivity(platform: Platform) -> list[dict]:
    """Record every device whose state changed since the last sweep; returns the transitions."""
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        transitions = []
        for row in uow.protocols.devices_for_sweep():
            change = next_transition(
                row["state"],
                row["since_ms"],
                row["last_seen_ms"],
                heartbeat_timeout_ms(platform, row["device_type"]),
                now_ms,
            )
            if change:
                transitions.append(_transition(row, row["state"], *change))
        uow.protocols.record_transitions(transitions)
        uow.commit()
    return transitions


def record_presence(platform: Platform, uow, changes: list[tuple[int, str, str]], now_ms: int) -> list[dict]:
    """Explicit presence (device id, online|offline, cause), e.g. a gateway's connect; caller commits."""
    rows = {row["id"]: row for row in uow.protocols.devices_for_sweep({device_id for device_id, _, _ in changes})}
    transitions = []
    for device_id, state, cause in changes:
        row = rows.get(device_id)
        if row is not None and row["state"] != state:
            transitions.append(_transition(row, row["state"], state, now_ms, cause))
            row["state"] = state
    uow.protocols.record_transitions(transitions)
    return transitions


def record_device_presence(platform: Platform, device_key: str, state: str, cause: str) -> list[dict]:
    """What a device's own connection says (a JT/T 808 login, heartbeat, logout or lost socket).

    Online also counts as seen now, so the heartbeat-timeout sweep measures from the last sign of
    life, not only from the last reading. Returns the transition recorded, if the state changed.
    """
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        device = uow.devices.by_key(device_key)
        if device is None:
            return []
        if state == "online":
            uow.devices.mark_seen({device["id"]: now_ms})
        transitions = record_presence(platform, uow, [(device["id"], state, cause)], now_ms)
        uow.commit()
    return transitions


def _transition(row: SweepDeviceRow, from_state: str | None, to_state: str, at_ms: int, cause: str) -> dict:
    return {
        "device_id": row["id"],
        "enterprise_id": row["enterprise_id"],
        "from_state": from_state or "unknown",
        "to_state": to_state,
        "at_ms": at_ms,
        "cause": cause,
        "last_seen_ms": row["last_seen_ms"],
    }


def read_transitions(
    platform: Platform, principal: Principal, enterprise_id: int, from_ms: int, to_ms: int, limit: int = 1000
) -> list[dict]:
    """Transitions of the devices a consent lets this principal read; the read is logged."""
    limit = max(1, min(limit, MAX_TRANSITIONS))
    with platform.uow() as uow:
        if uow.enterprises.get(enterprise_id) is None:
            raise enterprise_not_found(enterprise_id)
        devices = uow.devices.list(enterprise_id)
        consents = consent_views(uow.consents.for_enterprise(enterprise_id))
        readable, consent_id = readable_device_keys(
            principal, enterprise_id, [(d["key"], d["device_type"]) for d in devices], consents, platform.clock_ms()
        )
        if not readable:
            raise Denied(f"no valid consent covers any device of enterprise {enterprise_id}")
        rows = uow.protocols.transitions([d["id"] for d in devices if d["key"] in readable], from_ms, to_ms, limit)
        uow.logs.access(
            at_ms=platform.clock_ms(),
            user_id=principal.user_id,
            tenant_id=principal.tenant_id,
            enterprise_id=enterprise_id,
            device_id=None,
            action="connectivity.read",
            consent_id=consent_id,
            rows=len(rows),
        )
        uow.commit()
    return [
        {
            "device": r["device_key"],
            "from": r["from_state"],
            "to": r["to_state"],
            "at_ms": r["at_ms"],
            "cause": r["cause"],
            "last_seen_ms": r["last_seen_ms"],
        }
        for r in rows
    ]


class ConnectivitySweeper:
    """A daemon thread sweeping every `interval_s`; errors are logged and the next sweep retries."""

    def __init__(self, platform: Platform, interval_s: float = 30.0):
        self.platform, self.interval_s = platform, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wuxin-connectivity", daemon=True)

    def start(self) -> ConnectivitySweeper:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                changed = sweep_connectivity(self.platform)
                if changed:
                    log.info("connectivity: %d transition(s) recorded", len(changed))
            except Exception as exc:  # the database may be down: try again next time
                log.warning("connectivity sweep failed: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
