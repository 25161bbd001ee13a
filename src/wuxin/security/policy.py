"""Who may do what: roles, tenants and consent.

Two answers, never mixed up: an enterprise the caller may not know exists (another enterprise's
user, a tenant holding no valid consent from it) gets NotFound, word for word the answer of an
enterprise that does not exist, so no status, message or body tells the two apart; a caller who
may know it but may not do this (a role, a device outside the consent) gets Denied with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from wuxin.domain.model import BANK_ROLES, ConsentView, Role
from wuxin.errors import Denied, NotFound


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


def enterprise_not_found(enterprise_id: int) -> NotFound:
    """The one answer for an enterprise that does not exist or that the caller may not know exists."""
    return NotFound(f"enterprise {enterprise_id} does not exist")


def device_not_found(device_key: str) -> NotFound:
    """The one answer for a device key that is not registered or whose enterprise the caller may not know."""
    return NotFound(f"device {device_key!r} is not registered")


def may_know_enterprise(principal: Principal, enterprise_id: int, consents: list[ConsentView], now_ms: int) -> bool:
    """The admin, the enterprise's own users, and the users of a tenant holding a valid consent from it."""
    if principal.is_admin:
        return True
    if principal.role is Role.ENTERPRISE_USER:
        return principal.enterprise_id == enterprise_id
    return bool(valid_consents(consents, principal.tenant_id, now_ms))


def require_known_enterprise(
    principal: Principal, enterprise_id: int, consents: list[ConsentView], now_ms: int
) -> None:
    if not may_know_enterprise(principal, enterprise_id, consents, now_ms):
        raise enterprise_not_found(enterprise_id)


def require_own_enterprise(principal: Principal, enterprise_id: int) -> None:
    """Enterprise users act only for their own enterprise (another one does not exist for them)."""
    if principal.role is Role.ENTERPRISE_USER and principal.enterprise_id != enterprise_id:
        raise enterprise_not_found(enterprise_id)
    if principal.role is not Role.ENTERPRISE_USER:
        raise Denied(f"user {principal.username} does not act for enterprise {enterprise_id}")


def valid_consents(consents: list[ConsentView], tenant_id: int | None, now_ms: int) -> list[ConsentView]:
    return [c for c in consents if c.tenant_id == tenant_id and c.is_valid(now_ms)]


def reading_tenants(consents: list[ConsentView], now_ms: int) -> set[int]:
    """The tenants that read an enterprise's alarms now: each holding a valid consent from it (any scope: a consent
    scoped to some devices still shows all the borrower's alarms)."""
    return {c.tenant_id for c in consents if c.is_valid(now_ms)}


def usable_by_every_reader(
    readers: set[int], consents: list[ConsentView], device_key: str, device_type: str, now_ms: int
) -> bool:
    """Whether another enterprise's device (its `consents`) may feed a figure that `readers` will read: each reader
    holds a valid consent from that enterprise covering the device. No reader: False (nobody's consent to rely on)."""
    return bool(readers) and all(
        any(c.tenant_id == t and c.is_valid(now_ms) and c.covers(device_key, device_type) for c in consents)
        for t in readers
    )


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
    keys, consent_id = consented_device_keys(principal.tenant_id, devices, consents, now_ms)
    if consent_id is None:
        raise enterprise_not_found(enterprise_id)
    return keys, consent_id


def consented_device_keys(
    tenant_id: int | None, devices: list[tuple[str, str]], consents: list[ConsentView], now_ms: int
) -> tuple[set[str], int | None]:
    """Device keys a valid consent to the tenant covers now, and that consent (none: nothing, None)."""
    live = valid_consents(consents, tenant_id, now_ms)
    keys = {key for key, device_type in devices if any(c.covers(key, device_type) for c in live)}
    return keys, (live[0].id if live else None)


def require_can_see_enterprise(
    principal: Principal, enterprise_id: int, consents: list[ConsentView], now_ms: int
) -> None:
    """Profile access: whoever may know the enterprise exists (the enterprise itself, the admin, a consented tenant)."""
    require_known_enterprise(principal, enterprise_id, consents, now_ms)
