"""calendar audit: who declared a period (the enterprise itself or the bank side) and soft deletion

Revision ID: 0016_calendar_audit
Revises: 0015_owner_access
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_calendar_audit"
down_revision = "0015_owner_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_periods") as batch:
        batch.add_column(sa.Column("declared_by_enterprise", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("deleted_ms", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("deleted_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calendar_periods") as batch:
        batch.drop_column("deleted_by")
        batch.drop_column("deleted_ms")
        batch.drop_column("declared_by_enterprise")
