"""Enterprises, sites, devices, device tokens and thing models."""

from __future__ import annotations

from collections.abc import Iterable

from wuxin.bootstrap import Platform
from wuxin.domain.model import ConsentScope, ConsentView, Role, SourceMode, trust_level
from wuxin.domain.thing_model import DEVICE_TYPE_RE, PRODUCT_KEY_RE, compile_thing_model, parse_thing_model
from wuxin.errors import Conflict, Denied, InvalidInput, NotFound, ThingModelError
from wuxin.indicators.days import DEFAULT_ZONE, check_zone
from wuxin.scenarios import scenario_packs
from wuxin.security.policy import (
    Principal,
    consented_device_keys,
    device_not_found,
    enterprise_not_found,
    may_know_enterprise,
    require_role,
    valid_consents,
)
from wuxin.security.secrets import new_token, token_hash
from wuxin.services.devices import broker_sync
from wuxin.sim.spec import is_valid_uscc
from wuxin.store.rows import ConsentRow, DeviceRow, EnterpriseRow
from wuxin.store.uow import UnitOfWork


def consent_views(rows: Iterable[ConsentRow]) -> list[ConsentView]:
    return [
        ConsentView(
            r["id"],
            r["enterprise_id"],
            r["tenant_id"],
            ConsentScope(r["scope"]),
            tuple(r["scope_items"]),
            r["expires_ms"],
            r["revoked_ms"],
        )
        for r in rows
    ]


def sync_builtin_thing_models(platform: Platform) -> int:
    """Add the scenario packs' thing models that the database lacks; imported versions are kept."""
    added = 0
    with platform.uow() as uow:
        for pack in scenario_packs().values():
            for doc in pack.thing_model_docs:
                model = compile_thing_model(doc)
                if uow.devices.thing_model(model.device_type) is None:
                    uow.devices.upsert_thing_model(
                        model.device_type, model.scenario, model.version, doc, platform.clock_ms()
                    )
                    added += 1
        uow.commit()
    platform.thing_models.reload()
    return added


def import_thing_model(
    platform: Platform, raw: bytes | str, principal: Principal | None = None, device_type: str | None = None
) -> str:
    """Validate a TSL file and add or replace its device type.

    A Wuxin file names its device type in profile.productKey ('<scenario>.<type>'). An Alibaba Cloud export
    carries Alibaba's own productKey ('a1Bc2De3F4g') and is imported as exported: the device type is given
    here (and the productKey -> device type mapping kept), or found in a mapping kept by an earlier import.
    The scenario must be one the platform knows (its scenario packs). Only the platform admin imports
    (docs/security.md): a thing model and a productKey mapping serve every tenant."""
    if principal is not None:
        require_role(principal, Role.PLATFORM_ADMIN)
    doc = parse_thing_model(raw)
    product_key = (doc.get("profile") or {}).get("productKey")
    if not isinstance(product_key, str) or not PRODUCT_KEY_RE.match(product_key):
        raise ThingModelError(
            f"profile.productKey must be a product key (1-64 letters, digits, . _ -), got {product_key!r}"
        )
    alibaba_key = not DEVICE_TYPE_RE.match(product_key)
    with platform.uow() as uow:
        if device_type is None and alibaba_key:
            device_type = uow.devices.product_device_type(product_key)
            if device_type is None:
                raise ThingModelError(
                    f"profile.productKey {product_key!r} is an Alibaba product key with no device type mapped yet: "
                    f"import it with a device type '<scenario>.<type>' (API ?device_type=, CLI --device-type); "
                    f"known scenarios: {', '.join(sorted(scenario_packs()))}"
                )
        model = compile_thing_model(doc, device_type)
        _require_known_scenario(model.device_type)
        now_ms, user_id = platform.clock_ms(), principal.user_id if principal else None
        uow.devices.upsert_thing_model(model.device_type, model.scenario, model.version, doc, now_ms)
        details = {"version": model.version, "product_key": product_key}
        if alibaba_key:
            previous = uow.devices.product_device_type(product_key)
            if previous not in (None, model.device_type):
                details["replaced_mapping"] = previous  # re-pointed by the admin: the audit keeps the old type
            uow.devices.map_product(product_key, model.device_type, now_ms, user_id)
        uow.logs.audit(now_ms, user_id, "thing_model.import", model.device_type, details)
        uow.commit()
    platform.thing_models.reload()
    return model.device_type


def _require_known_scenario(device_type: str) -> None:
    scenario = device_type.split(".")[0]
    known = sorted(scenario_packs())
    if scenario not in known:
        raise ThingModelError(
            f"thing model {device_type}: scenario {scenario!r} is not a known scenario (known: {', '.join(known)})"
        )


def create_enterprise(
    platform: Platform, principal: Principal | None, name: str, uscc: str, industry: str, region: str
) -> int:
    """Onboard a borrower (platform admin). Only the admin registers enterprises: the refusal of a USCC
    already on the platform would otherwise tell a bank that another bank's borrower is here."""
    if principal is not None:
        require_role(principal, Role.PLATFORM_ADMIN)
    if not is_valid_uscc(uscc):
        raise InvalidInput(f"unified social credit code {uscc!r} is not valid (18 characters, GB 32100 check digit)")
    if industry not in scenario_packs():
        raise InvalidInput(f"industry {industry!r} is not one of {sorted(scenario_packs())}")
    with platform.uow() as uow:
        if uow.enterprises.by_uscc(uscc):
            raise Conflict(f"an enterprise with USCC {uscc} is already registered")
        tenant_id = principal.tenant_id if principal else None
        enterprise_id = uow.enterprises.add(
            name=name,
            uscc=uscc,
            industry=industry,
            region=region,
            onboarded_by_tenant_id=tenant_id,
            created_ms=platform.clock_ms(),
        )
        uow.commit()
    return enterprise_id


def site_zone(timezone: str | None) -> str:
    """The IANA zone a site's days are cut in (None: Asia/Shanghai); a bad name is InvalidInput naming it."""
    try:
        return check_zone(timezone)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def add_site(
    platform: Platform,
    principal: Principal | None,
    enterprise_id: int,
    name: str,
    region: str,
    lat: float | None = None,
    lon: float | None = None,
    timezone: str | None = None,
) -> int:
    """A site of the enterprise; `timezone` (an IANA name, default Asia/Shanghai) cuts its devices' days."""
    zone = site_zone(timezone)
    with platform.uow() as uow:
        _require_device_manager(platform, uow, principal, enterprise_id)
        same = [site["id"] for site in uow.enterprises.sites(enterprise_id) if site["name"] == name]
        if same:
            raise Conflict(f"enterprise {enterprise_id} already has a site named {name!r} (site {same[0]})")
        site_id = uow.enterprises.add_site(
            enterprise_id=enterprise_id,
            name=name,
            region=region,
            lat=lat,
            lon=lon,
            timezone=None if zone == DEFAULT_ZONE else zone,
        )
        uow.commit()
    return site_id


def visible_enterprises(platform: Platform, principal: Principal) -> list[EnterpriseRow]:
    with platform.uow() as uow:
        if principal.is_admin:
            return uow.enterprises.list()
        if principal.role is Role.ENTERPRISE_USER:
            return uow.enterprises.list([] if principal.enterprise_id is None else [principal.enterprise_id])
        if principal.tenant_id is None:  # every other role belongs to a tenant (identity._check_membership)
            return []
        live = valid_consents(
            consent_views(uow.consents.for_tenant(principal.tenant_id)), principal.tenant_id, platform.clock_ms()
        )
        return uow.enterprises.list({c.enterprise_id for c in live})


def enterprise_profile(platform: Platform, principal: Principal, enterprise_id: int) -> dict:
    with platform.uow() as uow:
        enterprise = known_enterprise(platform, uow, principal, enterprise_id)
        return {**enterprise, "sites": uow.enterprises.sites(enterprise_id)}


def known_enterprise(
    platform: Platform, uow: UnitOfWork, principal: Principal | None, enterprise_id: int
) -> EnterpriseRow:
    """The enterprise, if it exists and the principal may know it (None: the platform itself); otherwise
    the very NotFound of a missing one. Call it before any check that depends on the enterprise."""
    enterprise = uow.enterprises.get(enterprise_id)
    if enterprise is None or (
        principal is not None
        and not may_know_enterprise(
            principal, enterprise_id, consent_views(uow.consents.for_enterprise(enterprise_id)), platform.clock_ms()
        )
    ):
        raise enterprise_not_found(enterprise_id)
    return enterprise


def known_device(platform: Platform, uow: UnitOfWork, principal: Principal | None, device_key: str) -> DeviceRow:
    """A device by key if its enterprise is known to the principal; otherwise the NotFound of an unknown key
    (which never names the enterprise that holds the key)."""
    device = uow.devices.by_key(device_key)
    if device is None:
        raise device_not_found(device_key)
    try:
        known_enterprise(platform, uow, principal, device["enterprise_id"])
    except NotFound:
        raise device_not_found(device_key) from None
    return device


def _require_device_manager(
    platform: Platform, uow: UnitOfWork, principal: Principal | None, enterprise_id: int
) -> None:
    """Admins; integrators of a tenant holding a valid consent; the enterprise itself (who may not know it: NotFound)."""
    known_enterprise(platform, uow, principal, enterprise_id)
    if principal is None or principal.is_admin:
        return
    if principal.role is Role.ENTERPRISE_USER and principal.enterprise_id == enterprise_id:
        return
    if principal.role is Role.INTEGRATOR:
        consents = consent_views(uow.consents.for_enterprise(enterprise_id))
        if valid_consents(consents, principal.tenant_id, platform.clock_ms()):
            return
    raise Denied(f"user {principal.username} may not manage devices of enterprise {enterprise_id}")


def require_device_manager_of(
    platform: Platform, uow: UnitOfWork, principal: Principal | None, device: DeviceRow
) -> None:
    """Who may manage this device's credentials, terminal and gateway ties. An enterprise user manages only its
    own enterprise_shared devices: a bank-installed or third-party device's credential in the borrower's hands
    would let it send readings the bank trusts as such; those are the admin's and a consented integrator's."""
    _require_device_manager(platform, uow, principal, device["enterprise_id"])
    if principal is not None and principal.role is Role.INTEGRATOR:
        _require_consent_covers_device(platform, uow, principal, device)
    if (
        principal is not None
        and principal.role is Role.ENTERPRISE_USER
        and device["source_mode"] != SourceMode.ENTERPRISE_SHARED.value
    ):
        raise Denied(
            f"device {device['key']!r} is {device['source_mode']}: the platform admin or the integrator "
            "manages it, an enterprise manages only its enterprise_shared devices"
        )


def _require_consent_covers_device(
    platform: Platform, uow: UnitOfWork, principal: Principal, device: DeviceRow
) -> None:
    """An integrator manages a device only under a valid consent that covers it: a consent for one meter is no
    key to the enterprise's other devices (their credentials, secrets and commands)."""
    consents = consent_views(uow.consents.for_enterprise(device["enterprise_id"]))
    covered, _ = consented_device_keys(
        principal.tenant_id, [(device["key"], device["device_type"])], consents, platform.clock_ms()
    )
    if device["key"] not in covered:
        raise Denied(
            f"user {principal.username} may not manage device {device['key']!r}: no valid consent of enterprise "
            f"{device['enterprise_id']} to its tenant covers it"
        )


def register_device(
    platform: Platform,
    principal: Principal | None,
    enterprise_id: int,
    key: str,
    device_type: str,
    source_mode: str,
    site_id: int | None = None,
    attributes: dict | None = None,
) -> tuple[int, str]:
    """Register a device and issue its first access token (shown once, stored hashed)."""
    mode = _source_mode(source_mode, principal)
    model = platform.thing_models.get(device_type)
    if model is None:
        raise InvalidInput(f"device type {device_type!r} has no thing model; import one first")
    attributes = model.check_attributes(attributes or {})
    token = new_token("wxd_")
    with platform.uow() as uow:
        _require_device_manager(platform, uow, principal, enterprise_id)
        if uow.devices.by_key(key):
            raise Conflict(f"device key {key!r} is already registered")
        site = uow.enterprises.site(site_id) if site_id is not None else None
        if site_id is not None and (site is None or site["enterprise_id"] != enterprise_id):
            raise InvalidInput(f"site {site_id} is not a site of enterprise {enterprise_id}")
        now_ms = platform.clock_ms()
        device_id = uow.devices.add(
            key=key,
            enterprise_id=enterprise_id,
            site_id=site_id,
            device_type=device_type,
            attributes=attributes,
            source_mode=mode.value,
            trust_level=trust_level(mode),
            created_ms=now_ms,
        )
        uow.devices.add_token(device_id, token_hash(token), now_ms)
        uow.commit()
    return device_id, token


def _source_mode(source_mode: str, principal: Principal | None) -> SourceMode:
    try:
        mode = SourceMode(source_mode)
    except ValueError:
        raise InvalidInput(f"source mode {source_mode!r} is not one of {[m.value for m in SourceMode]}") from None
    if principal is not None and principal.role is Role.ENTERPRISE_USER and mode is not SourceMode.ENTERPRISE_SHARED:
        raise Denied(f"an enterprise registers its own devices as enterprise_shared, not {mode.value}")
    return mode


def rotate_device_token(platform: Platform, principal: Principal | None, device_key: str) -> str:
    """Revoke every live token of the device and issue a new one."""
    token = new_token("wxd_")
    with platform.uow() as uow:
        device = known_device(platform, uow, principal, device_key)
        require_device_manager_of(platform, uow, principal, device)
        now_ms = platform.clock_ms()
        uow.devices.revoke_tokens(device["id"], now_ms)
        uow.devices.add_token(device["id"], token_hash(token), now_ms)
        uow.logs.audit(now_ms, principal.user_id if principal else None, "device_token.rotate", device_key, {})
        broker_sync.set_broker_password(platform, device_key, device["device_type"], token)
        uow.commit()
    return token


def revoke_device_tokens(platform: Platform, principal: Principal | None, device_key: str) -> int:
    """Revoke every credential of the device: its access tokens and its JT/T 808 auth code."""
    with platform.uow() as uow:
        device = known_device(platform, uow, principal, device_key)
        require_device_manager_of(platform, uow, principal, device)
        revoked = uow.devices.revoke_tokens(device["id"], platform.clock_ms())
        revoked += uow.jt808.revoke(device["id"])  # a JT/T 808 auth code too; enrolling again needs a new window
        uow.logs.audit(
            platform.clock_ms(), principal.user_id if principal else None, "device_token.revoke", device_key, {}
        )
        uow.commit()
    broker_sync.disable_broker_account(platform, device_key)
    return revoked
