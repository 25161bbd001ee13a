"""calendars: site time zones, device service dates, firm calendar periods (shutdown, maintenance, extra rest)

Revision ID: 0014_calendars
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_calendars"
down_revision = "0013_telemetry_partitions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("installed_ms", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("decommissioned_ms", sa.BigInteger(), nullable=True))
    op.create_table(
        "calendar_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_ms", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_calendar_periods_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_calendar_periods_site_id_sites")),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_calendar_periods_device_id_devices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_periods")),
    )
    op.create_index("ix_calendar_periods_enterprise_end", "calendar_periods", ["enterprise_id", "end_ms"])


def downgrade() -> None:
    op.drop_index("ix_calendar_periods_enterprise_end", table_name="calendar_periods")
    op.drop_table("calendar_periods")
    # plain DROP COLUMN (SQLite >= 3.35): a batch copy of devices/sites breaks the foreign keys that point at them
    op.drop_column("devices", "decommissioned_ms")
    op.drop_column("devices", "installed_ms")
    op.drop_column("sites", "timezone")
