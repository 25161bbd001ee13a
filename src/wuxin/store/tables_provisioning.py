"""Device self-provisioning (migration 0021): profiles under which a device may register itself over MQTT."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table

from wuxin.store.metadata import metadata

device_provision_profiles = Table(  # ThingsBoard's provisionDeviceKey/Secret, bound to one enterprise and site
    "device_provision_profiles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("provision_key", String(64), nullable=False, unique=True),  # what the device sends as provisionDeviceKey
    Column("secret_hash", String(64), nullable=False),  # SHA-256 of provisionDeviceSecret (shown once)
    Column("name", String(200), nullable=False),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), nullable=False),
    Column("site_id", Integer, ForeignKey("sites.id"), nullable=False),
    Column("device_type", String(80), ForeignKey("thing_models.device_type"), nullable=False),
    Column("source_mode", String(30), nullable=False),
    Column("max_devices", Integer, nullable=False),
    Column("provisioned", Integer, nullable=False),  # devices created under it so far
    Column("expires_ms", BigInteger, nullable=False),
    Column("created_by", Integer, ForeignKey("users.id")),  # NULL: the platform itself; else re-checked at each use
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger),
    Column("revoked_by", Integer),
    Index("ix_device_provision_profiles_enterprise", "enterprise_id"),
)
