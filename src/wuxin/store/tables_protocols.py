"""Tables of the protocols part (same metadata as tables.py; migrations under migrations/versions).

Device protocols (MQTT gateways, third-party platform push) and connectivity (online/offline).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from wuxin.store.metadata import metadata

gateway_children = Table(  # a sub-device (工业网关 child) may be published for only by its gateway
    "gateway_children",
    metadata,
    Column("child_device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("gateway_device_id", Integer, ForeignKey("devices.id"), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_gateway_children_gateway", "gateway_device_id"),
)

push_platforms = Table(  # third-party IoT platforms pushing signed telemetry batches
    "push_platforms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(60), nullable=False, unique=True),
    Column("secret_ciphertext", Text, nullable=False),  # Fernet, key derived from settings.secret_key
    Column("created_ms", BigInteger, nullable=False),
    Column("disabled_ms", BigInteger),
)

push_platform_enterprises = Table(  # the enterprises whose devices a platform may push for
    "push_platform_enterprises",
    metadata,
    Column("platform_id", Integer, ForeignKey("push_platforms.id"), primary_key=True),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), primary_key=True),
    Column("added_ms", BigInteger, nullable=False),
)

push_nonces = Table(  # nonces seen inside the timestamp window: a replay is refused across restarts
    "push_nonces",
    metadata,
    Column("platform_id", Integer, primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("expires_ms", BigInteger, nullable=False),
    Index("ix_push_nonces_expires", "expires_ms"),
)

device_connectivity = Table(  # the last recorded state per device, so a sweep records only changes
    "device_connectivity",
    metadata,
    Column("device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("state", String(10), nullable=False),  # online | offline
    Column("since_ms", BigInteger, nullable=False),
)

connectivity_transitions = Table(  # online <-> offline changes, for warning rules
    "connectivity_transitions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=False),
    Column("enterprise_id", Integer, nullable=False),
    Column("from_state", String(10), nullable=False),  # unknown | online | offline
    Column("to_state", String(10), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("cause", String(30), nullable=False),  # heartbeat_timeout | data | gateway_connect | ...
    Column("last_seen_ms", BigInteger),
    Index("ix_connectivity_transitions_enterprise_at", "enterprise_id", "at_ms"),
)

alink_identities = Table(  # a device as Alibaba LinkKit names it: the vendor's productKey and deviceName
    "alink_identities",
    metadata,
    Column("device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("product_key", String(64), nullable=False),
    Column("device_name", String(64), nullable=False),
    Column("secret_ciphertext", Text, nullable=False),  # the DeviceSecret, Fernet (HKDF of settings.secret_key)
    Column("created_ms", BigInteger, nullable=False),
    Index("ux_alink_identities_name", "product_key", "device_name", unique=True),
)

device_attributes = Table(  # client attributes the device's thing model does not declare (ThingsBoard attributes)
    "device_attributes",
    metadata,
    Column("device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value_json", Text, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)
