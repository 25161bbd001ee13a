"""People: tenants, users, login, bearer tokens -> Principal."""

from __future__ import annotations

import logging

from wuxin.bootstrap import Platform
from wuxin.domain.model import Role, TenantKind
from wuxin.errors import AuthError, Conflict, InvalidInput, NotFound
from wuxin.security.login_guard import LoginGuard
from wuxin.security.policy import Principal
from wuxin.security.secrets import hash_password, new_token, token_hash, verify_password
from wuxin.store.rows import UserRow

MIN_PASSWORD_CHARS = 10
log = logging.getLogger(__name__)


def create_tenant(platform: Platform, name: str, kind: str) -> int:
    try:
        kind = TenantKind(kind).value
    except ValueError:
        raise InvalidInput(f"tenant kind {kind!r} is not one of {[k.value for k in TenantKind]}") from None
    with platform.uow() as uow:
        if uow.identity.tenant_by_name(name):
            raise Conflict(f"tenant {name!r} already exists")
        tenant_id = uow.identity.add_tenant(name, kind, platform.clock_ms())
        uow.commit()
    return tenant_id


def create_user(
    platform: Platform,
    username: str,
    password: str,
    role: str,
    tenant_id: int | None = None,
    enterprise_id: int | None = None,
    display_name: str | None = None,
) -> int:
    role = _role(role)
    _check_membership(role, tenant_id, enterprise_id)
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(
            f"password for {username!r} has {len(password)} characters; at least {MIN_PASSWORD_CHARS} are needed"
        )
    with platform.uow() as uow:
        if uow.identity.user_by_username(username):
            raise Conflict(f"user {username!r} already exists")
        if tenant_id is not None and not uow.identity.tenant(tenant_id):
            raise NotFound(f"tenant {tenant_id} does not exist")
        if enterprise_id is not None and not uow.enterprises.get(enterprise_id):
            raise NotFound(f"enterprise {enterprise_id} does not exist")
        user_id = uow.identity.add_user(
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password),
            role=role.value,
            tenant_id=tenant_id,
            enterprise_id=enterprise_id,
            disabled=False,
            created_ms=platform.clock_ms(),
        )
        uow.commit()
    return user_id


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(f"role {role!r} is not one of {[r.value for r in Role]}") from None


def _check_membership(role: Role, tenant_id: int | None, enterprise_id: int | None) -> None:
    if role is Role.ENTERPRISE_USER and (enterprise_id is None or tenant_id is not None):
        raise InvalidInput("an enterprise user belongs to one enterprise and no tenant")
    if role not in (Role.ENTERPRISE_USER, Role.PLATFORM_ADMIN) and (tenant_id is None or enterprise_id is not None):
        raise InvalidInput(f"a {role.value} belongs to one tenant and no enterprise")


def login(platform: Platform, username: str, password: str, source: str = "local") -> str:
    """A new bearer token for a correct password; the same error for any failure.

    `source` is the client's address. A locked account or source is refused before any database or
    password work (429); an unknown user costs one Argon2 verification like a known one (dummy hash),
    so neither the answer nor its time says whether the account exists."""
    guard = _guard(platform)
    guard.check(username, source, platform.clock_ms())
    with platform.uow() as uow:
        user = uow.identity.user_by_username(username)
    with guard.hashing_slot():
        correct = verify_password(user["password_hash"] if user else None, password)
    now_ms = platform.clock_ms()
    if user is None or user["disabled"] or not correct:
        _login_failed(platform, username, source, user, now_ms)
        raise AuthError("wrong username or password")
    guard.succeeded(username)
    token = new_token("wxu_")
    with platform.uow() as uow:
        uow.identity.add_api_token(
            user["id"], token_hash(token), now_ms, now_ms + platform.settings.access_token_ttl_s * 1000
        )
        uow.commit()
    return token


def _guard(platform: Platform) -> LoginGuard:
    """The platform's login throttle (bootstrap builds one when none is given)."""
    if platform.login_guard is None:
        raise RuntimeError("the platform has no login guard")
    return platform.login_guard


def _login_failed(platform: Platform, username: str, source: str, user: UserRow | None, now_ms: int) -> None:
    """Count the failure and audit it (never the password)."""
    reason = "unknown_user" if user is None else "disabled" if user["disabled"] else "wrong_password"
    locked = _guard(platform).failed(username, source, now_ms)
    with platform.uow() as uow:
        uow.logs.audit(
            now_ms,
            user["id"] if user else None,
            "auth.login_failed",
            username[:200],
            {"source": source, "reason": reason, "locked": locked},
        )
        uow.commit()
    if locked:
        log.warning("login locked after failures: account %r or source %s", username, source)


def logout(platform: Platform, token: str) -> None:
    with platform.uow() as uow:
        uow.identity.revoke_api_token(token_hash(token), platform.clock_ms())
        uow.commit()


def principal_for_token(platform: Platform, token: str) -> Principal:
    with platform.uow() as uow:
        user = uow.identity.user_by_token_hash(token_hash(token), platform.clock_ms())
    if user is None:
        raise AuthError("bearer token is unknown, expired or revoked")
    return Principal(user["id"], user["username"], Role(user["role"]), user["tenant_id"], user["enterprise_id"])
