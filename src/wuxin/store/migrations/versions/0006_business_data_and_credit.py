"""credit: business data (imports, records, rejections), model registry, credit decisions

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "business_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("trust_level", sa.Float(), nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_duplicate", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_imports")),
    )
    op.create_table(
        "business_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("record_key", sa.String(length=200), nullable=False),
        sa.Column("dedupe_key", sa.String(length=400), nullable=False),
        sa.Column("first_day", sa.Integer(), nullable=False),
        sa.Column("last_day", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("trust_level", sa.Float(), nullable=False),
        sa.Column("ledger_leaf", sa.BigInteger(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["business_imports.id"], name=op.f("fk_business_records_import_id_business_imports")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_business_records_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_records")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_business_records_dedupe_key")),
    )
    op.create_index(
        "ix_business_records_enterprise_kind_day", "business_records", ["enterprise_id", "kind", "last_day"]
    )
    op.create_table(
        "business_rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row_index", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=True),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["business_imports.id"], name=op.f("fk_business_rejections_import_id_business_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_rejections")),
    )
    op.create_table(
        "credit_models",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("trained_ms", sa.BigInteger(), nullable=False),
        sa.Column("trained_by", sa.Integer(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("training", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_credit_models")),
    )
    op.create_table(
        "credit_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("as_of_day", sa.Integer(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("cross_checks", sa.JSON(), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("pd", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("limit_cny", sa.String(length=30), nullable=True),
        sa.Column("expected_loss_cny", sa.String(length=30), nullable=False),
        sa.Column("ledger_leaf", sa.BigInteger(), nullable=True),
        sa.Column("decided_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_credit_decisions_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["model_version"], ["credit_models.version"], name=op.f("fk_credit_decisions_model_version_credit_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_decisions")),
    )
    op.create_index("ix_credit_decisions_enterprise_tenant", "credit_decisions", ["enterprise_id", "tenant_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_credit_decisions_enterprise_tenant", table_name="credit_decisions")
    op.drop_table("credit_decisions")
    op.drop_table("credit_models")
    op.drop_table("business_rejections")
    op.drop_index("ix_business_records_enterprise_kind_day", table_name="business_records")
    op.drop_table("business_records")
    op.drop_table("business_imports")
