"""owner access: an index for the enterprise's own access-log view; a JT/T 808 terminal's forced header version;
Alibaba productKey -> device type mappings of imported thing models

Revision ID: 0015_owner_access
Revises: 0014_calendars
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_owner_access"
down_revision = "0014_calendars"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_access_log_enterprise_id", "access_log", ["enterprise_id", "id"])
    with op.batch_alter_table("jt808_terminals") as batch:
        batch.add_column(sa.Column("header_version", sa.String(length=4), nullable=True))
    op.create_table(
        "thing_model_products",
        sa.Column("product_key", sa.String(length=64), nullable=False),
        sa.Column("device_type", sa.String(length=80), nullable=False),
        sa.Column("mapped_ms", sa.BigInteger(), nullable=False),
        sa.Column("mapped_by_user_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("product_key", name=op.f("pk_thing_model_products")),
    )


def downgrade() -> None:
    op.drop_table("thing_model_products")
    with op.batch_alter_table("jt808_terminals") as batch:
        batch.drop_column("header_version")
    op.drop_index("ix_access_log_enterprise_id", table_name="access_log")
