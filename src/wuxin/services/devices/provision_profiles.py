"""Device self-provisioning, as ThingsBoard's devices do it: a provision profile and the device's request.

A **profile** binds a provisionDeviceKey and a provisionDeviceSecret (generated here; the secret is shown once and
kept as SHA-256, as device tokens are) to one enterprise, one of its sites, one device type and source mode, a
maximum number of devices and an expiry. Whoever may register a device for the enterprise may make one (the same
check as `registry.register_device`: the admin, an integrator of a tenant holding a valid consent, the enterprise's
own user for enterprise_shared devices); a bank user may not.

A **request** (`/provision/request` on the MQTT front end, username `provision`) names the profile's key and secret
and the device's name, which becomes its key. It creates the device under the profile's site with its first access
token, in one transaction with the profile's count, and answers ThingsBoard's
`{"status": "SUCCESS", "credentialsType": "ACCESS_TOKEN", "credentialsValue": token}`. It is refused (`FAILURE`
with an `errorMsg`) for an unknown key or a wrong secret (one message for both), a revoked, expired or exhausted
profile, a key already registered, device-chosen credentials, and when the profile's maker may no longer register
devices for the enterprise (its consent withdrawn or expired, its account disabled): the maker's right is checked
again at every request, not only when the profile was made, and an integrator's profile makes only devices its
tenant's consent covers."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from wuxin.bootstrap import Platform
from wuxin.domain.model import Role, trust_level
from wuxin.errors import Conflict, InvalidInput, NotFound, WuxinError
from wuxin.indicators.days import DAY_MS
from wuxin.security.policy import Principal, consented_device_keys
from wuxin.security.secrets import new_token, token_hash
from wuxin.services.devices.registry import _require_device_manager, _source_mode, consent_views, known_enterprise
from wuxin.store.rows import ProvisionProfileRow
from wuxin.store.uow import UnitOfWork

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{1,99}$")  # a device key, as the API's DeviceIn.key
MAX_DEVICES = 10_000
MAX_VALID_MS = 366 * DAY_MS  # a profile's secret is a shared credential: it lives a year at most
SECRET_PREFIX = "wxs_"  # 256 bits; the log redaction knows wx?_ tokens
KEY_PREFIX = "wxpk_"  # not secret (the secret is): left readable in logs


@dataclass
class ProvisionRefused(Exception):
    """A provision request refused: `reason` for metrics and logs, `message` for the device's errorMsg."""

    reason: str
    message: str
    profile_id: int | None = None  # set once the key and secret were right

    def __str__(self) -> str:
        return self.message


def public(row: ProvisionProfileRow, now_ms: int) -> dict[str, Any]:
    """A profile as the API and CLI show it: never its secret or the secret's hash."""
    state = (
        "revoked"
        if row["revoked_ms"] is not None
        else "expired"
        if row["expires_ms"] <= now_ms
        else "exhausted"
        if row["provisioned"] >= row["max_devices"]
        else "active"
    )
    shown = {k: v for k, v in row.items() if k != "secret_hash"}
    return {**shown, "state": state}


def create_profile(
    platform: Platform,
    principal: Principal | None,
    enterprise_id: int,
    site_id: int,
    device_type: str,
    source_mode: str,
    max_devices: int,
    expires_ms: int,
    name: str = "",
) -> dict[str, Any]:
    """A new profile and its secret (in the answer only, once)."""
    if platform.thing_models.get(device_type) is None:
        raise InvalidInput(f"device type {device_type!r} has no thing model; import one first")
    if not 1 <= max_devices <= MAX_DEVICES:
        raise InvalidInput(f"max_devices {max_devices} is not between 1 and {MAX_DEVICES}")
    now_ms = platform.clock_ms()
    if not now_ms < expires_ms <= now_ms + MAX_VALID_MS:
        raise InvalidInput(
            f"expires_ms {expires_ms} is not in the next 366 days (now {now_ms}): a provision secret must expire"
        )
    if len(name) > 200:
        raise InvalidInput(f"profile name of {len(name)} characters is over 200")
    secret = new_token(SECRET_PREFIX)
    with platform.uow() as uow:
        _require_device_manager(platform, uow, principal, enterprise_id)  # first: who may not know it gets its 404
        mode = _source_mode(source_mode, principal)
        site = uow.enterprises.site(site_id)
        if site is None or site["enterprise_id"] != enterprise_id:
            raise InvalidInput(f"site {site_id} is not a site of enterprise {enterprise_id}")
        user_id = principal.user_id if principal else None
        profile_id = uow.provisioning.add(
            provision_key=KEY_PREFIX + secrets.token_urlsafe(12),
            secret_hash=token_hash(secret),
            name=name,
            enterprise_id=enterprise_id,
            site_id=site_id,
            device_type=device_type,
            source_mode=mode.value,
            max_devices=max_devices,
            provisioned=0,
            expires_ms=expires_ms,
            created_by=user_id,
            created_ms=now_ms,
        )
        uow.logs.audit(
            now_ms,
            user_id,
            "device_provision_profile.add",
            f"enterprise:{enterprise_id}",
            {"profile_id": profile_id, "site_id": site_id, "device_type": device_type, "max_devices": max_devices},
        )
        row = uow.provisioning.get(profile_id)
        uow.commit()
    assert row is not None
    return {
        **public(row, now_ms),
        "provision_secret": secret,
        "note": "the secret is shown once; only its SHA-256 is stored",
    }


def list_profiles(platform: Platform, principal: Principal | None, enterprise_id: int) -> list[dict[str, Any]]:
    """The enterprise's profiles, newest first, for whoever may register its devices."""
    with platform.uow() as uow:
        _require_device_manager(platform, uow, principal, enterprise_id)
        rows = [row for row in uow.provisioning.of_enterprise(enterprise_id) if _visible(uow, principal, row)]
    now_ms = platform.clock_ms()
    return [public(row, now_ms) for row in rows]


def revoke_profile(platform: Platform, principal: Principal | None, profile_id: int) -> dict[str, Any]:
    """Revoke a profile: no device is provisioned under it any more (devices already made keep their tokens)."""
    with platform.uow() as uow:
        row = _known_profile(platform, uow, principal, profile_id)
        _require_device_manager(platform, uow, principal, row["enterprise_id"])
        now_ms = platform.clock_ms()
        user_id = principal.user_id if principal else None
        if uow.provisioning.revoke(profile_id, now_ms, user_id):
            uow.logs.audit(
                now_ms,
                user_id,
                "device_provision_profile.revoke",
                f"enterprise:{row['enterprise_id']}",
                {"profile_id": profile_id},
            )
        revoked = uow.provisioning.get(profile_id)
        uow.commit()
    assert revoked is not None
    return public(revoked, now_ms)


def _visible(uow: UnitOfWork, principal: Principal | None, row: ProvisionProfileRow) -> bool:
    """An integrator sees (and revokes) the profiles its own tenant made, not another installer's that the same
    enterprise consented to; the admin and the enterprise see them all."""
    if principal is None or principal.role is not Role.INTEGRATOR:
        return True
    maker = uow.identity.user(row["created_by"]) if row["created_by"] is not None else None
    return maker is not None and maker["tenant_id"] == principal.tenant_id


def _known_profile(
    platform: Platform, uow: UnitOfWork, principal: Principal | None, profile_id: int
) -> ProvisionProfileRow:
    """The profile if its enterprise is known to the principal; otherwise the NotFound of a missing one."""
    row = uow.provisioning.get(profile_id)
    missing = NotFound(f"provision profile {profile_id} does not exist")
    if row is None or not _visible(uow, principal, row):
        raise missing
    try:
        known_enterprise(platform, uow, principal, row["enterprise_id"])
    except NotFound:
        raise missing from None
    return row


# ---------------------------------------------------------------- the device's request


def _shown(value: Any) -> str:
    """A value of the request as a refusal names it: its repr, cut at 120 characters (the answer and the log line
    are not to carry a 256 KiB name back)."""
    text = repr(value)
    return text if len(text) <= 120 else f"{text[:120]}… ({len(text)} characters)"


def _text(body: dict, field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise ProvisionRefused("bad_request", f"{field} is missing or not a string (got {type(value).__name__})")
    if len(value) > 200 or "\x00" in value:
        raise ProvisionRefused("bad_request", f"{field} of {len(value)} characters is not a provision key or secret")
    return value


def provision_device(platform: Platform, body: Any, source: str) -> tuple[str, str, int]:
    """Check a provision request and create its device: (device key, access token, profile id); else
    ProvisionRefused. `source` (the peer address) goes to the audit log."""
    if not isinstance(body, dict):
        raise ProvisionRefused("bad_request", f"the provision request is {type(body).__name__}, expected an object")
    key, secret = _text(body, "provisionDeviceKey"), _text(body, "provisionDeviceSecret")
    try:
        return _provision(platform, key, secret, body, source)
    except Conflict:  # the key was registered by someone else between the check and the insert (store.errors)
        raise ProvisionRefused(
            "key_taken", f"device key {_shown(body.get('deviceName'))} is already registered"
        ) from None
    except InvalidInput as exc:  # a value the database cannot hold (store.errors)
        raise ProvisionRefused("bad_request", str(exc)) from None


def _device_chosen(body: dict) -> ProvisionRefused | None:
    """ThingsBoard lets a device bring its own credentials; here the platform issues every token (256 bits)."""
    if "token" in body:
        return ProvisionRefused(
            "device_credentials",
            "the platform issues the device's access token: a token chosen by the device is not accepted",
        )
    if body.get("credentialsType") not in (None, "ACCESS_TOKEN"):
        return ProvisionRefused(
            "device_credentials",
            f"the platform issues the device's access token: credentialsType {_shown(body.get('credentialsType'))} is not "
            "accepted (leave it out, or ACCESS_TOKEN without a token)",
        )
    if body.get("gateway"):
        return ProvisionRefused("gateway", "a gateway does not provision itself: register it and tie its sub-devices")
    return None


def _provision(platform: Platform, key: str, secret: str, body: dict, source: str) -> tuple[str, str, int]:
    device_key = body.get("deviceName")
    with platform.uow() as uow:
        profile = uow.provisioning.by_key(key)
        # one answer for an unknown key and a wrong secret: the key alone says nothing of the profile
        if profile is None or not hmac.compare_digest(profile["secret_hash"], token_hash(secret)):
            raise ProvisionRefused("bad_provision_secret", "provisionDeviceKey or provisionDeviceSecret is wrong")
        profile_id = profile["id"]
        now_ms = platform.clock_ms()
        try:
            maker = _check_profile(platform, uow, profile, now_ms)  # before the name: a dead profile learns no key
            chosen = _device_chosen(body)
            if chosen is not None:
                raise chosen
            if not isinstance(device_key, str) or not KEY_PATTERN.match(device_key):
                raise ProvisionRefused(
                    "bad_device_name",
                    f"deviceName {_shown(device_key)} is not a device key (2-100 letters, digits, _ . : -, starting with a "
                    "letter or digit); the platform does not make up names",
                )
            _require_consent_covers(platform, uow, maker, profile, device_key, now_ms)
            if uow.devices.by_key(device_key):
                raise ProvisionRefused("key_taken", f"device key {device_key!r} is already registered", profile_id)
            if not uow.provisioning.take_slot(profile_id, now_ms):  # taken by a concurrent request since the check
                raise ProvisionRefused("profile_exhausted", f"provision profile {profile_id} has no devices left")
            token = new_token("wxd_")
            device_id = uow.devices.add(
                key=device_key,
                enterprise_id=profile["enterprise_id"],
                site_id=profile["site_id"],
                device_type=profile["device_type"],
                attributes={},
                source_mode=profile["source_mode"],
                trust_level=trust_level(_source_mode(profile["source_mode"], None)),
                created_ms=now_ms,
            )
            uow.devices.add_token(device_id, token_hash(token), now_ms)
            uow.logs.audit(
                now_ms,
                None,  # the device did it, under the profile its maker made
                "device.provision",
                device_key,
                {
                    "profile_id": profile_id,
                    "profile_created_by": profile["created_by"],
                    "enterprise_id": profile["enterprise_id"],
                    "site_id": profile["site_id"],
                    "source": source,
                },
            )
            uow.commit()
        except ProvisionRefused as refused:
            refused.profile_id = profile_id
            uow.rollback()
            _audit_refusal(uow, now_ms, profile, device_key, refused, source)
            raise
    return device_key, token, profile_id


def _check_profile(platform: Platform, uow: UnitOfWork, profile: ProvisionProfileRow, now_ms: int) -> Principal | None:
    """The profile is live and its maker may still register devices for its enterprise: the maker (None: the
    platform itself)."""
    profile_id = profile["id"]
    if profile["revoked_ms"] is not None:
        raise ProvisionRefused("profile_revoked", f"provision profile {profile_id} was revoked")
    if profile["expires_ms"] <= now_ms:
        raise ProvisionRefused("profile_expired", f"provision profile {profile_id} expired")
    if profile["provisioned"] >= profile["max_devices"]:
        raise ProvisionRefused(
            "profile_exhausted",
            f"provision profile {profile_id} has no devices left (all {profile['max_devices']} provisioned)",
        )
    if profile["created_by"] is None:
        return None  # made by the platform itself (its operator at the shell)
    user = uow.identity.user(profile["created_by"])
    maker_gone = ProvisionRefused(
        "maker_not_allowed",
        f"the maker of provision profile {profile_id} may no longer register devices of its enterprise "
        "(consent withdrawn or expired, or account disabled)",
    )
    if user is None or user["disabled"]:
        raise maker_gone
    maker = Principal(user["id"], user["username"], Role(user["role"]), user["tenant_id"], user["enterprise_id"])
    try:
        _require_device_manager(platform, uow, maker, profile["enterprise_id"])
        _source_mode(profile["source_mode"], maker)
    except WuxinError:
        raise maker_gone from None
    return maker


def _require_consent_covers(
    platform: Platform,
    uow: UnitOfWork,
    maker: Principal | None,
    profile: ProvisionProfileRow,
    device_key: str,
    now_ms: int,
) -> None:
    """An integrator's profile makes only devices its tenant's consent covers: a consent for some devices or one
    industry is no key to create others, which it could not manage afterwards (registry.require_device_manager_of)."""
    if maker is None or maker.role is not Role.INTEGRATOR:
        return
    consents = consent_views(uow.consents.for_enterprise(profile["enterprise_id"]))
    covered, _ = consented_device_keys(maker.tenant_id, [(device_key, profile["device_type"])], consents, now_ms)
    if device_key not in covered:
        raise ProvisionRefused(
            "not_consented",
            f"device {device_key!r} of type {profile['device_type']} is not covered by the consent under which "
            f"provision profile {profile['id']} was made",
        )


def _audit_refusal(
    uow: UnitOfWork,
    now_ms: int,
    profile: ProvisionProfileRow,
    device_key: Any,
    refused: ProvisionRefused,
    source: str,
) -> None:
    """A refusal after the right key and secret is the profile maker's business: it goes to the audit log (a wrong
    key or secret is counted and logged only, like a failed device CONNECT)."""
    uow.logs.audit(
        now_ms,
        None,
        "device.provision_refused",
        f"enterprise:{profile['enterprise_id']}",
        {
            "profile_id": profile["id"],
            "device_key": str(device_key)[:100],
            "reason": refused.reason,
            "source": source,
        },
    )
    uow.commit()
