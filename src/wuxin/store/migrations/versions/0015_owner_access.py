"""owner access: an index for the enterprise's own access-log view; a JT/T 808 terminal's forced header version

Revision ID: 0015_owner_access
Revises: 0014_calendars
"""
from alembic import op
import sqlalchemy as sa

revision = "0015_owner_access"
down_revision = "0014_calendars"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_access_log_enterprise_id", "access_log", ["enterprise_id", "id"])
    with op.batch_alter_table("jt808_terminals") as batch:
        batch.add_column(sa.Column("header_version", sa.String(length=4), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jt808_terminals") as batch:
        batch.drop_column("header_version")
    op.drop_index("ix_access_log_enterprise_id", table_name="access_log")
