"""console: machine_day_slots (the equipment timeline's read model)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "machine_day_slots",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("slots", sa.String(length=96), nullable=False),
        sa.Column("computed_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_machine_day_slots_device_id_devices")),
        sa.PrimaryKeyConstraint("device_id", "day", name=op.f("pk_machine_day_slots")),
    )


def downgrade() -> None:
    op.drop_table("machine_day_slots")
