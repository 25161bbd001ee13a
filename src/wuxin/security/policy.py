"""Who may do what: roles, tenants and consent. Every function raises Denied with the reason."""
from __future__ import annotations

from dataclasses import dataclass

from wuxin.domain.model import BANK_ROLES, ConsentView, Role
from wuxin.errors import Denied


@dataclass(frozen=True)
class Principal:
    """The authenticated person behind a request."""

    user_id: int
    username: str
    role: Role
    tenant_id: int | None
    enterprise_id: int | None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.PLATFORM_ADMIN


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Denied(f"role {principal.role.value} may not do this (allowed: {allowed})")


def require_own_enterprise(principal: Principal, enterprise_id: int) -> None:
    """Enterprise users act only for their own enterprise."""
    if principal.role is not Role.ENTERPRISE_USER or principal.enterprise_id != enterprise_id:
        raise Denied(f"user {principal.username} does not act for enterprise {enterprise_id}")


def valid_consents(consents: list[ConsentView], tenant_id: int | None, now_ms: int) -> list[ConsentView]:
    return [c for c in consents if c.tenant_id == tenant_id and c.is_valid(now_ms)]


def readable_device_keys(
    principal: Principal,
    enterprise_id: int,
    devices: list[tuple[str, str]],
    consents: list[ConsentView],
    now_ms: int,
) -> tuple[set[str], int | None]:
    """Device keys of an enterprise this principal may read, and the consent that allows it.

    The enterprise itself reads all its devices; bank and operator roles read only what a
    valid (unexpired, unrevoked) consent to their tenant covers; nobody else reads anything.
    """
    if principal.role is Role.ENTERPRISE_USER:
        require_own_enterprise(principal, enterprise_id)
        return {key for key, _ in devices}, None
    if principal.role not in BANK_ROLES | {Role.INTEGRATOR, Role.REGULATOR}:
        raise Denied(f"role {principal.role.value} does not read enterprise telemetry")
    live = valid_consents(consents, principal.tenant_id, now_ms)
    if not live:
        raise Denied(f"tenant {principal.tenant_id} holds no valid consent from enterprise {enterprise_id}")
    keys = {key for key, device_type in devices if any(c.covers(key, device_type) for c in live)}
    return keys, live[0].id


def require_can_see_enterprise(principal: Principal, enterprise_id: int, consents: list[ConsentView], now_ms: int) -> None:
    """Profile access: the enterprise itself, the admin, or a tenant holding a valid consent."""
    if principal.is_admin:
        return
    if principal.role is Role.ENTERPRISE_USER:
        require_own_enterprise(principal, enterprise_id)
        return
    if not valid_consents(consents, principal.tenant_id, now_ms):
        raise Denied(f"tenant {principal.tenant_id} holds no valid consent from enterprise {enterprise_id}")
