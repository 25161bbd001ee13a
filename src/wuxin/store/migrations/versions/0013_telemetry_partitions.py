"""telemetry lifecycle: readings partitioned by month on PostgreSQL, hourly aggregates, retention policies

PostgreSQL: the plain `readings` table is rebuilt as a table range-partitioned on ts_ms (one partition per UTC
month that holds rows, the current month and 3 ahead, a DEFAULT partition) and its rows copied over; the primary
key (device_id, key, ts_ms) is kept. SQLite: nothing structural changes on `readings`.
Both: readings_hourly, retention_policies, retention_marks, pruned_batches, maintenance_state.

Revision ID: 0013_telemetry_partitions
Revises: 0010
"""

import time

import sqlalchemy as sa
from alembic import op

from wuxin.store import partitions

revision = "0013_telemetry_partitions"
down_revision = "0012_model_governance"
branch_labels = None
depends_on = None

MONTHS_AHEAD = 3


def upgrade() -> None:
    op.create_table(
        "readings_hourly",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("hour_ms", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("n_num", sa.Integer(), nullable=False),
        sa.Column("num_min", sa.Float(), nullable=True),
        sa.Column("num_max", sa.Float(), nullable=True),
        sa.Column("num_sum", sa.Float(), nullable=True),
        sa.Column("last_ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_num", sa.Float(), nullable=True),
        sa.Column("last_txt", sa.Text(), nullable=True),
        sa.Column("raw_deleted", sa.Boolean(), nullable=False),
        sa.Column("computed_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "key", "hour_ms", name=op.f("pk_readings_hourly")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "retention_policies",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("raw_days", sa.Integer(), nullable=False),
        sa.Column("hourly_days", sa.Integer(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_retention_policies_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_retention_policies")),
    )
    op.create_table(
        "retention_marks",
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("raw_before_ms", sa.BigInteger(), nullable=False),
        sa.Column("raw_days", sa.Integer(), nullable=False),
        sa.Column("hourly_before_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_retention_marks_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("enterprise_id", name=op.f("pk_retention_marks")),
    )
    op.create_table(
        "pruned_batches",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("pruned_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_pruned_batches")),
    )
    op.create_table(
        "maintenance_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_maintenance_state")),
    )
    conn = op.get_bind()
    if conn.dialect.name == "postgresql" and not partitions.is_partitioned(conn):
        partitions.convert_to_partitioned(conn, time.time_ns() // 1_000_000, MONTHS_AHEAD)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql" and partitions.is_partitioned(conn):
        partitions.convert_to_plain(conn)
    for table in ("maintenance_state", "pruned_batches", "retention_marks", "retention_policies", "readings_hourly"):
        op.drop_table(table)
