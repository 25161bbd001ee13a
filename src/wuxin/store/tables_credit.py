"""Tables of the credit part (same metadata as tables.py; migration 0006): business data with its
source and trust, what was refused, versioned scorecards and persisted credit decisions.

Days are China local day numbers; money is kept as decimal strings inside JSON, never floats.
"""

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
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from wuxin.store.metadata import metadata

business_imports = Table(  # one upload or file of business data
    "business_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("source", String(30), nullable=False),  # enterprise_reported | bank | third_party
    Column("trust_level", Float, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("user_id", Integer),
    Column("tenant_id", Integer),
    Column("rows_total", Integer, nullable=False),
    Column("rows_accepted", Integer, nullable=False),
    Column("rows_duplicate", Integer, nullable=False),
    Column("rows_rejected", Integer, nullable=False),
    Column("payload_sha256", String(64)),
)

business_records = Table(  # one accepted row; tenant_id set: only that bank (and the enterprise) reads it
    "business_records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("import_id", Integer, ForeignKey("business_imports.id"), nullable=False),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id")),  # NULL for market data (price index)
    Column("tenant_id", Integer),
    Column("kind", String(30), nullable=False),
    Column("record_key", String(200), nullable=False),  # period, invoice number, sku|date ...
    Column("dedupe_key", String(400), nullable=False, unique=True),
    Column("first_day", Integer, nullable=False),
    Column("last_day", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    Column("source", String(30), nullable=False),
    Column("trust_level", Float, nullable=False),
    Column("ledger_leaf", BigInteger),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_business_records_enterprise_kind_day", "enterprise_id", "kind", "last_day"),
)

business_rejections = Table(  # a refused row: which field, which value, why; the row kept as sent
    "business_rejections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("import_id", Integer, ForeignKey("business_imports.id"), nullable=False),
    Column("row_index", Integer, nullable=False),
    Column("field", String(60)),
    Column("value", Text),
    Column("message", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
)

credit_models = Table(  # the model registry: a scorecard by its content-hash version
    "credit_models",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("body", JSON, nullable=False),  # wuxin.risk.scorecard.model_to_dict
    Column("tenant_id", Integer),  # NULL: a platform model any bank may use
    Column("trained_ms", BigInteger, nullable=False),
    Column("trained_by", Integer),
    Column("metrics", JSON, nullable=False),
    Column("training", JSON, nullable=False),  # what it was trained on
)

credit_decisions = Table(
    "credit_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), nullable=False),
    Column("tenant_id", Integer, nullable=False),
    Column("user_id", Integer),
    Column("product_code", String(40), nullable=False),
    Column("model_version", String(64), ForeignKey("credit_models.version"), nullable=False),
    Column("as_of_day", Integer, nullable=False),
    Column("features", JSON, nullable=False),  # the inputs as scored, and the rest computed
    Column("cross_checks", JSON, nullable=False),
    Column("decision", JSON, nullable=False),  # wuxin.risk.decisions.CreditDecision.to_dict
    Column("score", Float, nullable=False),
    Column("pd", Float, nullable=False),
    Column("grade", String(8), nullable=False),
    Column("approved", Boolean, nullable=False),
    Column("limit_cny", String(30)),
    Column("expected_loss_cny", String(30), nullable=False),
    Column("ledger_leaf", BigInteger),
    Column("decided_ms", BigInteger, nullable=False),
    Index("ix_credit_decisions_enterprise_tenant", "enterprise_id", "tenant_id", "id"),
)


credit_model_states = Table(  # model governance (0011): one lifecycle per tenant and model version
    "credit_model_states",
    metadata,
    Column("tenant_id", Integer, ForeignKey("tenants.id"), nullable=False),
    Column("version", String(64), ForeignKey("credit_models.version"), nullable=False),
    Column("state", String(12), nullable=False),  # draft | validated | approved | active | retired
    Column("validation", JSON),  # wuxin.risk.governance.validate_scorecard (the last one run)
    Column("validated_by", Integer),
    Column("validated_ms", BigInteger),
    Column("approved_by", Integer),
    Column("approved_ms", BigInteger),
    Column("activated_by", Integer),
    Column("activated_ms", BigInteger),
    Column("retired_by", Integer),
    Column("retired_ms", BigInteger),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "version"),
    Index("ix_credit_model_states_tenant_state", "tenant_id", "state"),
)

model_stability = Table(  # daily PSI of an active model: training scores against the day's assessments
    "model_stability",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", Integer, nullable=False),
    Column("version", String(64), nullable=False),
    Column("day", Integer, nullable=False),
    Column("score_psi", Float, nullable=False),
    Column("band", String(10), nullable=False),  # stable | watch | shifted
    Column("rows", Integer, nullable=False),
    Column("detail", JSON, nullable=False),  # per-feature PSI, reference rows
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_model_stability_tenant_day", "tenant_id", "version", "day", unique=True),
)
