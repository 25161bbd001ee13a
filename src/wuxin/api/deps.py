"""Dependencies shared by the routers: the platform and the authenticated principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from wuxin.bootstrap import Platform
from wuxin.errors import AuthError
from wuxin.security.policy import Principal
from wuxin.services.access.identity import principal_for_token

_bearer = HTTPBearer(auto_error=False)


def get_platform(request: Request) -> Platform:
    return request.app.state.platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def get_principal(
    platform: PlatformDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise AuthError("this endpoint needs 'Authorization: Bearer <token>' (POST /api/v1/auth/login)")
    return principal_for_token(platform, credentials.credentials)


CurrentUser = Annotated[Principal, Depends(get_principal)]


def get_optional_principal(
    platform: PlatformDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal | None:
    """The caller, or None for an anonymous one or a token that is unknown, expired or revoked (for endpoints that
    answer everyone, and more to some)."""
    if credentials is None:
        return None
    try:
        return principal_for_token(platform, credentials.credentials)
    except AuthError:
        return None


OptionalUser = Annotated[Principal | None, Depends(get_optional_principal)]
