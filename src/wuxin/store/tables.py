"""Table definitions. Times are UTC epoch milliseconds (BigInteger); absent is NULL, never 0."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from wuxin.store.metadata import metadata

tenants = Table(
    "tenants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),  # bank | operator | regulator
    Column("created_ms", BigInteger, nullable=False),
    Column("demo", Boolean, nullable=False, server_default=false()),  # may activate simulated-data models (0011)
)

enterprises = Table(
    "enterprises",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("uscc", String(18), nullable=False, unique=True),  # unified social credit code
    Column("industry", String(40), nullable=False),
    Column("region", String(200), nullable=False),
    Column("onboarded_by_tenant_id", Integer, ForeignKey("tenants.id")),
    Column("created_ms", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(30), nullable=False),
    Column("tenant_id", Integer, ForeignKey("tenants.id")),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id")),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_ms", BigInteger, nullable=False),
)

api_tokens = Table(  # bearer tokens for people; only the SHA-256 of the token is kept
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger),
)

sites = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("region", String(200), nullable=False),
    Column("lat", Float),
    Column("lon", Float),
    Column("timezone", String(64)),  # IANA name cutting the site's days; NULL = Asia/Shanghai
    UniqueConstraint("enterprise_id", "name"),
)

thing_models = Table(
    "thing_models",
    metadata,
    Column("device_type", String(80), primary_key=True),
    Column("scenario", String(40), nullable=False),
    Column("version", String(20), nullable=False),
    Column("tsl", JSON, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

thing_model_products = Table(  # an Alibaba productKey (as exported) -> the Wuxin device type it was imported as (0015)
    "thing_model_products",
    metadata,
    Column("product_key", String(64), primary_key=True),
    Column("device_type", String(80), nullable=False),
    Column("mapped_ms", BigInteger, nullable=False),
    Column("mapped_by_user_id", Integer),
)

devices = Table(
    "devices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(100), nullable=False, unique=True),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), nullable=False),
    Column("site_id", Integer, ForeignKey("sites.id")),
    Column("device_type", String(80), ForeignKey("thing_models.device_type"), nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("source_mode", String(30), nullable=False),
    Column("trust_level", Float, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger),
    Column("installed_ms", BigInteger),  # in service from (no outage before); NULL = since registered
    Column("decommissioned_ms", BigInteger),  # out of service from (a culled cow's tag, a replaced meter)
)

device_tokens = Table(  # per-device access tokens (ThingsBoard style); only the SHA-256 is kept
    "device_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger),
)

consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), nullable=False),
    Column("tenant_id", Integer, ForeignKey("tenants.id"), nullable=False),
    Column("scope", String(20), nullable=False),  # all | scenarios | devices
    Column("scope_items", JSON, nullable=False),
    Column("purpose", String(200), nullable=False),
    Column("granted_by_user_id", Integer, ForeignKey("users.id")),
    Column("granted_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger),
    Column("revoked_by_user_id", Integer, ForeignKey("users.id")),
)

batches = Table(  # provenance of every accepted point: which channel, when, how many
    "batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(30), nullable=False),  # http | bulk | mqtt | jt808 | platform | replay
    Column("source_mode", String(30)),
    Column("received_ms", BigInteger, nullable=False),
    Column("points_accepted", Integer, nullable=False, default=0),
    Column("points_rejected", Integer, nullable=False, default=0),
    Column("payload_sha256", String(64)),
)

readings = Table(
    "readings",
    metadata,
    Column("device_id", Integer, primary_key=True),
    Column("key", String(50), primary_key=True),
    Column("ts_ms", BigInteger, primary_key=True),  # device time
    Column("num", Float),  # numbers, bools (0/1), enum codes
    Column("txt", Text),  # text, enum labels, JSON of struct/array
    Column("batch_id", Integer, nullable=False),
    Column("received_ms", BigInteger, nullable=False),  # platform time, kept apart
    sqlite_with_rowid=False,
)

events = Table(
    "events",
    metadata,
    Column("device_id", Integer, primary_key=True),
    Column("name", String(50), primary_key=True),
    Column("ts_ms", BigInteger, primary_key=True),
    Column("params", Text, nullable=False),  # JSON object
    Column("batch_id", Integer, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

quarantine = Table(  # everything rejected, kept for inspection and replay
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("received_ms", BigInteger, nullable=False),
    Column("channel", String(30), nullable=False),
    Column("device_key", String(100)),
    Column("reason", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Column("payload", Text, nullable=False),  # one bulk-import line, or the raw body
    Column("status", String(20), nullable=False, default="open"),  # open | replayed | discarded
    Column("resolved_ms", BigInteger),
    Index("ix_quarantine_status_id", "status", "id"),
    Index("ix_quarantine_reason_id", "reason", "id"),  # filters by reason; the cap on unauthenticated entries
)

access_log = Table(  # every read of an enterprise's data
    "access_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("tenant_id", Integer),
    Column("enterprise_id", Integer, nullable=False),
    Column("device_id", Integer),
    Column("action", String(40), nullable=False),
    Column("consent_id", Integer),
    Column("rows", Integer, nullable=False, default=0),
    Index("ix_access_log_enterprise_id", "enterprise_id", "id"),  # the owner's view, newest first (0015)
)

audit_log = Table(  # who changed what: consents, tokens, thing models, replays
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("user_id", Integer),
    Column("action", String(60), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("detail", JSON, nullable=False),
)

# The parts' own tables register on the same metadata (imported here so that importing this module defines them all).
from wuxin.store import (  # noqa: E402,F401
    tables_calendars,  # noqa: E402,F401
    tables_commands,  # noqa: E402,F401
    tables_console,  # noqa: E402,F401
    tables_credit,  # noqa: E402,F401
    tables_credit_workflow,  # noqa: E402,F401
    tables_indicators,
    tables_jt808,  # noqa: E402,F401
    tables_ledger,
    tables_monitoring,
    tables_portfolio,  # noqa: E402,F401
    tables_protocols,
    tables_provisioning,  # noqa: E402,F401
    tables_retention,  # noqa: E402,F401
)
