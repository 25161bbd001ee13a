"""The rule index: which stream rules watch which device and key (pack defaults, a bank's tuned variants,
pledge-zone geofences), cached per process, rebuilt when overrides, loans or zones change here and at least every
`INDEX_TTL_MS` for changes made by other processes."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from wuxin.alerts.engine import DeviceInfo
from wuxin.alerts.rules import STREAM_TYPES, Rule, apply_override, parse_rule
from wuxin.bootstrap import Platform
from wuxin.loans.lifecycle import LIVE_STATES
from wuxin.services.bootstrap import default_rules
from wuxin.store.rows import LoanRow, PledgeZoneRow, RuleOverrideRow
from wuxin.store.uow import UnitOfWork

PLATFORM_SCOPE = "platform"
INDEX_TTL_MS = 30_000


def tenant_scope(tenant_id: int) -> str:
    return f"tenant:{tenant_id}"


# ---------------------------------------------------------------- the rule index


@dataclass
class RuleIndex:
    """Which stream rules apply to which device, and which keys they read; rebuilt when stale."""

    built_ms: int
    version: int
    overrides: list[RuleOverrideRow]
    loans_by_enterprise: dict[int, list[LoanRow]]
    zones_by_loan: dict[int, list[PledgeZoneRow]]
    devices: dict[int, tuple[DeviceInfo, list[tuple[str, Rule]], frozenset[str]]] = field(default_factory=dict)

    def device(self, uow: UnitOfWork, platform: Platform, device_id: int):
        entry = self.devices.get(device_id)
        if entry is None:
            row = uow.devices.get(device_id)
            if row is None:
                return None
            info = DeviceInfo(row["id"], row["key"], row["device_type"], row["enterprise_id"], row["attributes"] or {})
            rules = self.rules_for(platform, info)
            entry = (info, rules, frozenset().union(*(r.watched_keys() for _, r in rules)) if rules else frozenset())
            self.devices[device_id] = entry
        return entry

    def rules_for(self, platform: Platform, device: DeviceInfo) -> list[tuple[str, Rule]]:
        """(scope, rule) pairs: pack defaults for everyone, tuned variants and zone fences per lending tenant."""
        out = [
            (PLATFORM_SCOPE, r)
            for r in default_rules().values()
            if r.type in STREAM_TYPES and r.enabled and r.applies_to(device.device_type)
        ]
        loans = self.loans_by_enterprise.get(device.enterprise_id, [])
        for scope, rule in tenant_variants(self.overrides, loans, [r for _, r in out]):
            out.append((scope, rule))
        model = platform.thing_models.get(device.device_type)
        if model is not None and {"lat", "lon"} <= set(model.properties):
            for loan in loans:
                for zone in self.zones_by_loan.get(loan["id"], []):
                    out.append((tenant_scope(loan["tenant_id"]), zone_rule(loan["id"], zone)))
        return out


def tenant_variants(
    overrides: list[RuleOverrideRow], loans: list[LoanRow], rules: list[Rule]
) -> list[tuple[str, Rule]]:
    """A tenant's tuned copy of each rule it overrides for a product it lends on this enterprise."""
    out, seen = [], set()
    by_id = {r.id: r for r in rules}
    for loan in loans:
        for o in overrides:
            rule = by_id.get(o["rule_id"])
            if rule is None or o["tenant_id"] != loan["tenant_id"] or o["product"] not in ("*", loan["product"]):
                continue
            key = (o["tenant_id"], rule.id)
            if key in seen:
                continue
            seen.add(key)
            tuned = apply_override(rule, o["override"])
            if tuned.enabled:
                out.append((tenant_scope(o["tenant_id"]), tuned))
    return out


def zone_rule(loan_id: int, zone: PledgeZoneRow) -> Rule:
    return parse_rule(
        {
            "id": f"loan.{loan_id}.zone.{zone['zone_id']}",
            "type": "geofence",
            "alarm_type": "zone_exit",
            "severity": "major",
            "params": {"zone": zone["polygon"], "on": "exit", "zone_name": zone["zone_id"]},
            "risk_class_floor": "special_mention",
            "label": {"zh": "质押物/车辆驶出质押区域", "en": "left the pledge zone"},
        }
    )


_INDEXES: dict[int, RuleIndex] = {}
_VERSION = {"n": 0}
_LOCK = threading.Lock()


def invalidate_index() -> None:
    """Overrides, loans or zones changed: rebuild on the next batch."""
    with _LOCK:
        _VERSION["n"] += 1


def rule_index(platform: Platform, uow: UnitOfWork) -> RuleIndex:
    index = _INDEXES.get(id(platform))
    now = time.monotonic_ns() // 1_000_000
    if index is None or index.version != _VERSION["n"] or now - index.built_ms > INDEX_TTL_MS:
        loans = uow.monitoring.live_loans_all(LIVE_STATES)
        by_enterprise: dict[int, list[LoanRow]] = {}
        for loan in loans:
            by_enterprise.setdefault(loan["enterprise_id"], []).append(loan)
        zones: dict[int, list[PledgeZoneRow]] = {}
        for zone in uow.monitoring.zones([l["id"] for l in loans]) if loans else []:
            zones.setdefault(zone["loan_id"], []).append(zone)
        index = RuleIndex(now, _VERSION["n"], uow.monitoring.overrides(), by_enterprise, zones)
        _INDEXES[id(platform)] = index
    return index
