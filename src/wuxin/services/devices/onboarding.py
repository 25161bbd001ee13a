"""Onboarding a described enterprise (e.g. a simulated one): the firm, its sites, its devices
and the consents it grants, through the registry and consent use cases."""

from __future__ import annotations

from wuxin.bootstrap import Platform
from wuxin.indicators.days import DAY_MS
from wuxin.services.access import consent
from wuxin.services.devices import registry

YEAR_MS = 365 * DAY_MS


def onboard_enterprise(platform: Platform, spec, grants: list[tuple[int, str]], consent_ms: int = YEAR_MS) -> int:
    """Register an EnterpriseSpec (sites, devices with their attributes) and grant each
    (tenant, purpose) an all-device consent for `consent_ms`; returns the enterprise id."""
    enterprise_id = registry.create_enterprise(platform, None, spec.name, spec.uscc, spec.industry, spec.region)
    site_ids = {
        s.name: registry.add_site(platform, None, enterprise_id, s.name, s.region, s.lat, s.lon) for s in spec.sites
    }
    for device in spec.devices:
        registry.register_device(
            platform,
            None,
            enterprise_id,
            device.key,
            device.device_type,
            device.source_mode,
            site_ids.get(device.site),
            device.attributes,
        )
    expires = platform.clock_ms() + consent_ms
    for tenant_id, purpose in grants:
        consent.grant(platform, None, enterprise_id, tenant_id, "all", [], purpose, expires)
    return enterprise_id
