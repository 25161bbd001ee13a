"""Roles, data-source modes, trust levels and reading provenance."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    CREDIT_OFFICER = "credit_officer"
    RISK_MANAGER = "risk_manager"
    ENTERPRISE_USER = "enterprise_user"
    INTEGRATOR = "integrator"
    REGULATOR = "regulator"


BANK_ROLES = frozenset({Role.CREDIT_OFFICER, Role.RISK_MANAGER})


class TenantKind(StrEnum):
    BANK = "bank"
    OPERATOR = "operator"  # platform operator or third-party monitoring firm
    REGULATOR = "regulator"


class SourceMode(StrEnum):
    """How data reaches the platform (seed 002)."""

    BANK_INSTALLED = "bank_installed"  # the bank installs and runs the devices: most trusted
    THIRD_PARTY_PLATFORM = "third_party_platform"  # an IoT / industrial-internet platform pushes it
    ENTERPRISE_SHARED = "enterprise_shared"  # the firm shares its own devices: least trusted


TRUST_LEVEL = {  # 0-1; enterprise-shared data needs cross-verification before it counts fully
    SourceMode.BANK_INSTALLED: 0.9,
    SourceMode.THIRD_PARTY_PLATFORM: 0.7,
    SourceMode.ENTERPRISE_SHARED: 0.4,
}


def trust_level(mode: SourceMode | str) -> float:
    return TRUST_LEVEL[SourceMode(mode)]


class ConsentScope(StrEnum):
    ALL = "all"  # every device of the enterprise
    SCENARIOS = "scenarios"  # devices whose type belongs to the listed scenarios
    DEVICES = "devices"  # the listed device keys


@dataclass(frozen=True)
class ConsentView:
    """What a policy check needs to know of one consent."""

    id: int
    enterprise_id: int
    tenant_id: int
    scope: ConsentScope
    scope_items: tuple[str, ...]
    expires_ms: int
    revoked_ms: int | None

    def is_valid(self, now_ms: int) -> bool:
        return self.revoked_ms is None and now_ms < self.expires_ms

    def covers(self, device_key: str, device_type: str) -> bool:
        if self.scope is ConsentScope.ALL:
            return True
        if self.scope is ConsentScope.DEVICES:
            return device_key in self.scope_items
        return device_type.split(".", 1)[0] in self.scope_items
