"""Consent: an enterprise grants a tenant access to its data, narrows it, revokes it."""

from __future__ import annotations

from typing import Any

from wuxin.bootstrap import Platform
from wuxin.domain.model import ConsentScope, TenantKind
from wuxin.errors import Denied, InvalidInput, NotFound
from wuxin.scenarios import scenario_packs
from wuxin.security.policy import Principal, require_own_enterprise
from wuxin.store.rows import ConsentRow
from wuxin.store.uow import UnitOfWork


def grant(
    platform: Platform,
    principal: Principal | None,
    enterprise_id: int,
    tenant_id: int,
    scope: str,
    scope_items: list[str],
    purpose: str,
    expires_ms: int,
) -> int:
    """Only the enterprise itself grants (principal None is the system, e.g. the demo loader)."""
    scope_kind = _scope(scope)
    now_ms = platform.clock_ms()
    if expires_ms <= now_ms:
        raise InvalidInput(f"consent expiry {expires_ms} is not in the future")
    if not purpose.strip():
        raise InvalidInput("a consent needs a purpose (e.g. 'credit assessment and post-loan monitoring')")
    with platform.uow() as uow:
        if principal is not None:
            require_own_enterprise(principal, enterprise_id)
        tenant = uow.identity.tenant(tenant_id)
        if tenant is None or tenant["kind"] == TenantKind.REGULATOR:
            raise NotFound(f"tenant {tenant_id} does not exist or cannot receive consents")
        _check_items(uow, enterprise_id, scope_kind, scope_items)
        consent_id = uow.consents.add(
            enterprise_id=enterprise_id,
            tenant_id=tenant_id,
            scope=scope_kind.value,
            scope_items=sorted(set(scope_items)),
            purpose=purpose,
            granted_by_user_id=principal.user_id if principal else None,
            granted_ms=now_ms,
            expires_ms=expires_ms,
        )
        _audit(platform, uow, principal, "consent.grant", consent_id, {"tenant_id": tenant_id, "scope": scope})
        uow.commit()
    return consent_id


def narrow(
    platform: Platform,
    principal: Principal,
    consent_id: int,
    scope_items: list[str] | None = None,
    expires_ms: int | None = None,
) -> ConsentRow:
    """Keep fewer devices/scenarios or an earlier expiry; widening needs a new grant."""
    with platform.uow() as uow:
        consent = _own_consent(uow, principal, consent_id)
        changes: dict[str, Any] = {}
        if scope_items is not None:
            if consent["scope"] == ConsentScope.ALL or not set(scope_items) <= set(consent["scope_items"]):
                raise InvalidInput(
                    f"consent {consent_id}: narrowing keeps a subset of {consent['scope_items']}; "
                    f"got {scope_items} (grant a new consent to widen)"
                )
            changes["scope_items"] = sorted(set(scope_items))
        if expires_ms is not None:
            if expires_ms > consent["expires_ms"]:
                raise InvalidInput(
                    f"consent {consent_id}: new expiry {expires_ms} is later than {consent['expires_ms']}"
                )
            changes["expires_ms"] = expires_ms
        if not changes:
            raise InvalidInput(f"consent {consent_id}: a narrowing gives scope_items, expires_ms or both; got neither")
        uow.consents.update(consent_id, **changes)
        _audit(platform, uow, principal, "consent.narrow", consent_id, changes)
        uow.commit()
        return _reread(uow, consent_id)


def revoke(platform: Platform, principal: Principal, consent_id: int) -> ConsentRow:
    with platform.uow() as uow:
        consent = _own_consent(uow, principal, consent_id)
        if consent["revoked_ms"] is None:
            uow.consents.update(consent_id, revoked_ms=platform.clock_ms(), revoked_by_user_id=principal.user_id)
            _audit(platform, uow, principal, "consent.revoke", consent_id, {})
        uow.commit()
        return _reread(uow, consent_id)


def list_for(platform: Platform, principal: Principal, enterprise_id: int | None = None) -> list[ConsentRow]:
    """An enterprise sees the consents it gave; a tenant sees those it holds."""
    with platform.uow() as uow:
        if principal.is_admin:
            return uow.consents.for_enterprise(enterprise_id) if enterprise_id else []
        if principal.enterprise_id is not None:
            return uow.consents.for_enterprise(principal.enterprise_id)
        if principal.tenant_id is None:  # every other role belongs to a tenant (identity._check_membership)
            return []
        return uow.consents.for_tenant(principal.tenant_id, enterprise_id)


def _reread(uow: UnitOfWork, consent_id: int) -> ConsentRow:
    """The consent as stored now (it exists: the caller found it in this unit of work)."""
    consent = uow.consents.get(consent_id)
    if consent is None:
        raise NotFound(f"consent {consent_id} does not exist")
    return consent


def _own_consent(uow: UnitOfWork, principal: Principal, consent_id: int) -> ConsentRow:
    """A consent its enterprise changes; the tenant holding it is told it may not, anyone else that it does not exist."""
    consent = uow.consents.get(consent_id)
    if consent is None or (
        principal.enterprise_id != consent["enterprise_id"]
        and (principal.tenant_id is None or principal.tenant_id != consent["tenant_id"])
    ):
        raise NotFound(f"consent {consent_id} does not exist")
    if principal.enterprise_id != consent["enterprise_id"]:
        raise Denied(f"consent {consent_id} was not granted by {principal.username}'s enterprise")
    return consent


def _scope(scope: str) -> ConsentScope:
    try:
        return ConsentScope(scope)
    except ValueError:
        raise InvalidInput(f"consent scope {scope!r} is not one of {[s.value for s in ConsentScope]}") from None


def _check_items(uow: UnitOfWork, enterprise_id: int, scope: ConsentScope, items: list[str]) -> None:
    if scope is ConsentScope.ALL:
        if items:
            raise InvalidInput("scope 'all' takes no items")
        return
    if not items:
        raise InvalidInput(f"scope {scope.value!r} needs at least one item")
    known = (
        set(scenario_packs())
        if scope is ConsentScope.SCENARIOS
        else {d["key"] for d in uow.devices.list(enterprise_id)}
    )
    unknown = sorted(set(items) - known)
    if unknown:
        raise InvalidInput(
            f"consent scope {scope.value}: {unknown} are not {scope.value} of enterprise {enterprise_id}"
        )


def _audit(
    platform: Platform, uow: UnitOfWork, principal: Principal | None, action: str, consent_id: int, detail: dict
) -> None:
    uow.logs.audit(
        platform.clock_ms(), principal.user_id if principal else None, action, f"consent:{consent_id}", detail
    )
