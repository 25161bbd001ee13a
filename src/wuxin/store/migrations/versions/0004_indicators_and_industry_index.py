"""indicators and industry index

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicator_dirty",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("marked_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_indicator_dirty_device_id_devices")),
        sa.PrimaryKeyConstraint("device_id", "day", name=op.f("pk_indicator_dirty")),
    )
    op.create_table(
        "device_day_indicators",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=60), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("quality", sa.String(length=10), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("computed_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_device_day_indicators_device_id_devices")),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_device_day_indicators_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("device_id", "day", "indicator", name=op.f("pk_device_day_indicators")),
    )
    op.create_index("ix_device_day_indicators_enterprise_day", "device_day_indicators", ["enterprise_id", "day"])
    op.create_table(
        "enterprise_day_indicators",
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("quality", sa.String(length=10), nullable=False),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("computed_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_enterprise_day_indicators_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("enterprise_id", "day", "indicator", name=op.f("pk_enterprise_day_indicators")),
    )
    op.create_index("ix_enterprise_day_indicators_day_indicator", "enterprise_day_indicators", ["day", "indicator"])
    op.create_table(
        "enterprise_month_indicators",
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("quality", sa.String(length=10), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("computed_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_enterprise_month_indicators_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("enterprise_id", "month", "indicator", name=op.f("pk_enterprise_month_indicators")),
    )
    op.create_table(
        "industry_index",
        sa.Column("scenario", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=60), nullable=False),
        sa.Column("enterprises", sa.Integer(), nullable=False),
        sa.Column("p25", sa.Float(), nullable=False),
        sa.Column("median", sa.Float(), nullable=False),
        sa.Column("p75", sa.Float(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("computed_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scenario", "region", "day", "indicator", name=op.f("pk_industry_index")),
    )


def downgrade() -> None:
    op.drop_table("industry_index")
    op.drop_table("enterprise_month_indicators")
    op.drop_index("ix_enterprise_day_indicators_day_indicator", table_name="enterprise_day_indicators")
    op.drop_table("enterprise_day_indicators")
    op.drop_index("ix_device_day_indicators_enterprise_day", table_name="device_day_indicators")
    op.drop_table("device_day_indicators")
    op.drop_table("indicator_dirty")
