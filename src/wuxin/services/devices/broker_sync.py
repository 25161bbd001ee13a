"""Keep the MQTT broker's device accounts in step with device tokens, when a broker admin is set."""

from __future__ import annotations

import logging

from wuxin.bootstrap import Platform
from wuxin.errors import Unavailable

log = logging.getLogger(__name__)


def set_broker_password(platform: Platform, device_key: str, device_type: str, token: str) -> None:
    """Make `token` the device's MQTT password before the database commits it (refuse if unreachable)."""
    if not platform.settings.mqtt_admin_url:
        _say_not_synced(platform, device_key, "new token")
        return
    from wuxin.ingest.mqtt.broker import BrokerError, DynsecAccounts, DynsecAdmin

    try:
        admin = DynsecAdmin(platform.settings.mqtt_admin_url)
    except BrokerError as exc:
        raise Unavailable(f"MQTT broker unreachable, token of {device_key} not rotated: {exc}") from None
    try:
        DynsecAccounts(admin).provision_device(device_key, device_type, token)
    finally:
        admin.close()


def disable_broker_account(platform: Platform, device_key: str) -> None:
    """Refuse the device at the broker now; if the broker is down the periodic reconcile does it."""
    if not platform.settings.mqtt_admin_url:
        _say_not_synced(platform, device_key, "revocation")
        return
    from wuxin.ingest.mqtt.broker import BrokerError, DynsecAccounts, DynsecAdmin

    try:
        admin = DynsecAdmin(platform.settings.mqtt_admin_url)
        try:
            DynsecAccounts(admin).disable_device(device_key)
        finally:
            admin.close()
    except BrokerError as exc:
        log.warning("broker account of %s not disabled now (reconcile will): %s", device_key, exc)


def _say_not_synced(platform: Platform, device_key: str, what: str) -> None:
    """An MQTT broker is in use but the platform cannot reach its accounts: say so, every time."""
    if platform.settings.mqtt_url:
        log.warning(
            "the %s of %s does not reach the MQTT broker: WUXIN_MQTT_ADMIN_URL is not set "
            "(the broker keeps the old credentials until its accounts are reconciled)",
            what,
            device_key,
        )
