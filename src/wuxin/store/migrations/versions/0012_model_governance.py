"""model governance: per-tenant model lifecycle (credit_model_states), daily model stability, demo tenants

Revision ID: 0012_model_governance
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_model_governance"
down_revision = "0011_credit_workflow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("demo", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "credit_model_states",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("validation", sa.JSON(), nullable=True),
        sa.Column("validated_by", sa.Integer(), nullable=True),
        sa.Column("validated_ms", sa.BigInteger(), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_ms", sa.BigInteger(), nullable=True),
        sa.Column("activated_by", sa.Integer(), nullable=True),
        sa.Column("activated_ms", sa.BigInteger(), nullable=True),
        sa.Column("retired_by", sa.Integer(), nullable=True),
        sa.Column("retired_ms", sa.BigInteger(), nullable=True),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_credit_model_states_tenant_id_tenants")),
        sa.ForeignKeyConstraint(
            ["version"], ["credit_models.version"], name=op.f("fk_credit_model_states_version_credit_models")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "version", name=op.f("pk_credit_model_states")),
    )
    op.create_index("ix_credit_model_states_tenant_state", "credit_model_states", ["tenant_id", "state"])
    op.create_table(
        "model_stability",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("score_psi", sa.Float(), nullable=False),
        sa.Column("band", sa.String(length=10), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_stability")),
    )
    op.create_index("ix_model_stability_tenant_day", "model_stability", ["tenant_id", "version", "day"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_model_stability_tenant_day", table_name="model_stability")
    op.drop_table("model_stability")
    op.drop_index("ix_credit_model_states_tenant_state", table_name="credit_model_states")
    op.drop_table("credit_model_states")
    # natively (SQLite >= 3.35 too): a batch copy of `tenants` would break the foreign keys pointing at it
    op.execute("ALTER TABLE tenants DROP COLUMN demo")
