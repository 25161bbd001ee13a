"""Tables of the monitoring part: rule overrides and state, alarms and their audit, notifications,
loans and their history, the collateral registry, pledge zones and the price index."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from wuxin.store.metadata import metadata

OPEN_ALARM = text("cleared_ms IS NULL")
ACTIVE_PLEDGE = text("released_ms IS NULL")

rule_overrides = Table(  # a bank tunes a rule per product without code
    "rule_overrides",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id"), nullable=False),
    Column("product", String(60), nullable=False),  # a loan product code, or "*" for every product
    Column("rule_id", String(120), nullable=False),
    Column("override", JSON, nullable=False),  # {severity?, enabled?, params?}
    Column("updated_ms", BigInteger, nullable=False),
    Column("updated_by", Integer),
    UniqueConstraint("tenant_id", "product", "rule_id", name="uq_rule_overrides_tenant_product_rule"),
)

rule_states = Table(  # what a rule remembers between batches (threshold start, last fix, inside/outside)
    "rule_states",
    metadata,
    Column("scope", String(60), primary_key=True),
    Column("rule_id", String(120), primary_key=True),
    Column("subject", String(60), primary_key=True),
    Column("state", JSON, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

alarms = Table(
    "alarms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", String(60), nullable=False),  # platform | tenant:<id> (a tenant's tuned rules, its loans)
    Column("tenant_id", Integer),  # set for tenant-scoped alarms
    Column("source", String(60), nullable=False),  # device:<id> | enterprise:<id> | loan:<id> | zone:<...>
    Column("alarm_type", String(60), nullable=False),
    Column("rule_id", String(120), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("status", String(15), nullable=False),  # active | acknowledged | cleared
    Column("enterprise_id", Integer),
    Column("device_id", Integer),
    Column("loan_ids", JSON, nullable=False),  # loans it propagates to
    Column("started_ms", BigInteger, nullable=False),
    Column("last_ms", BigInteger, nullable=False),
    Column("stored_ms", BigInteger, nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("detail", JSON, nullable=False),
    Column("acknowledged_ms", BigInteger),
    Column("acknowledged_by", Integer),
    Column("cleared_ms", BigInteger),
    Column("cleared_by", Integer),  # NULL when the rule cleared it
    Column("escalation_level", Integer, nullable=False),
    Column("escalated_ms", BigInteger),
    # One open alarm per (scope, source, type): two messages milliseconds apart update, never duplicate.
    Index(
        "uq_alarms_open_scope_source_type",
        "scope",
        "source",
        "alarm_type",
        unique=True,
        postgresql_where=OPEN_ALARM,
        sqlite_where=OPEN_ALARM,
    ),
    Index("ix_alarms_enterprise_status", "enterprise_id", "status"),
)

alarm_actions = Table(  # who acknowledged or cleared what, and why
    "alarm_actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alarm_id", Integer, ForeignKey("alarms.id"), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("user_id", Integer),  # NULL: the platform (rule clear, escalation)
    Column("action", String(20), nullable=False),  # raise | acknowledge | clear | escalate
    Column("reason", Text, nullable=False),
    Index("ix_alarm_actions_alarm", "alarm_id"),
)

notification_channels = Table(
    "notification_channels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id"), nullable=False),
    Column("kind", String(10), nullable=False),  # webhook | email
    Column("target", String(300), nullable=False),  # URL or e-mail address
    Column("secret", String(200)),  # webhook HMAC key
    Column("min_severity", String(10), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("disabled_ms", BigInteger),
)

notifications = Table(  # an outbox: delivered with retries and backoff, survives restarts
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel_id", Integer, ForeignKey("notification_channels.id"), nullable=False),
    Column("alarm_id", Integer, ForeignKey("alarms.id"), nullable=False),
    Column("event", String(20), nullable=False),  # raised | escalated | cleared
    Column("payload", JSON, nullable=False),
    Column("status", String(10), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("last_error", Text),
    Column("sent_ms", BigInteger),
    Index("ix_notifications_status_next", "status", "next_attempt_ms"),
)

loans = Table(
    "loans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id"), nullable=False),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), nullable=False),
    Column("product", String(60), nullable=False),
    Column("amount_cny", Numeric(18, 2), nullable=False),
    Column("outstanding_cny", Numeric(18, 2), nullable=False),
    Column("state", String(20), nullable=False),
    Column("risk_class", String(20), nullable=False),
    Column("monitoring_plan", JSON, nullable=False),  # {"devices": [...], "rules": [...]}
    Column("maintenance_ratio", Numeric(8, 4), nullable=False),
    Column("liquidation_ratio", Numeric(8, 4), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_loans_enterprise_state", "enterprise_id", "state"),
)

loan_history = Table(  # every state transition and risk-class change, with who and why
    "loan_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("loan_id", Integer, ForeignKey("loans.id"), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("kind", String(12), nullable=False),  # state | risk_class
    Column("from_value", String(20), nullable=False),
    Column("to_value", String(20), nullable=False),
    Column("action", String(30), nullable=False),
    Column("user_id", Integer),
    Column("role", String(30)),
    Column("reason", Text, nullable=False),
    Column("alarm_id", Integer),
    Index("ix_loan_history_loan", "loan_id"),
)

collateral_items = Table(  # the registry: one active pledge per identity across every tenant (一物一押)
    "collateral_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("identity", String(130), nullable=False),  # rfid:... | serial:... | lot:...
    Column("tenant_id", Integer, ForeignKey("tenants.id"), nullable=False),
    Column("loan_id", Integer, ForeignKey("loans.id"), nullable=False),
    Column("enterprise_id", Integer, nullable=False),
    Column("sku", String(80), nullable=False),
    Column("quantity", Numeric(18, 3), nullable=False),
    Column("unit", String(20), nullable=False),
    Column("zone_id", String(60)),
    Column("haircut", Numeric(6, 4), nullable=False),
    Column("pledged_ms", BigInteger, nullable=False),
    Column("released_ms", BigInteger),
    Column("release_reason", Text),
    Index(
        "uq_collateral_items_active_identity",
        "identity",
        unique=True,
        postgresql_where=ACTIVE_PLEDGE,
        sqlite_where=ACTIVE_PLEDGE,
    ),
    Index("ix_collateral_items_loan", "loan_id"),
)

pledge_zones = Table(  # where pledged goods must stay: a geofence per warehouse zone
    "pledge_zones",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("loan_id", Integer, ForeignKey("loans.id"), nullable=False),
    Column("zone_id", String(60), nullable=False),
    Column("polygon", JSON, nullable=False),  # [[lon, lat], ...]
    Column("created_ms", BigInteger, nullable=False),
    UniqueConstraint("loan_id", "zone_id", name="uq_pledge_zones_loan_zone"),
)

price_index = Table(  # commodity price index (CNY per unit), business data with its source
    "price_index",
    metadata,
    Column("sku", String(80), primary_key=True),
    Column("at_ms", BigInteger, primary_key=True),
    Column("price_cny", Numeric(18, 4), nullable=False),
    Column("source", String(100), nullable=False),
)
