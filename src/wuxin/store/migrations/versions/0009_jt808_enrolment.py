"""jt808: provisioned terminals and their auth codes (jt808_terminals)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jt808_terminals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("terminal_id", sa.String(length=30), nullable=False),
        sa.Column("manufacturer_id", sa.String(length=11), nullable=True),
        sa.Column("terminal_model", sa.String(length=30), nullable=True),
        sa.Column("imei", sa.String(length=15), nullable=True),
        sa.Column("provisioned_ms", sa.BigInteger(), nullable=False),
        sa.Column("provisioned_by_user_id", sa.Integer(), nullable=True),
        sa.Column("enrol_until_ms", sa.BigInteger(), nullable=True),
        sa.Column("auth_code_hash", sa.String(length=64), nullable=True),
        sa.Column("enrolled_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_jt808_terminals_device_id_devices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jt808_terminals")),
        sa.UniqueConstraint("device_id", name=op.f("uq_jt808_terminals_device_id")),
        sa.UniqueConstraint("phone", name=op.f("uq_jt808_terminals_phone")),
        sa.UniqueConstraint("auth_code_hash", name=op.f("uq_jt808_terminals_auth_code_hash")),
    )


def downgrade() -> None:
    op.drop_table("jt808_terminals")
