"""quarantine: index on (reason, id) for listing by reason and capping unauthenticated entries

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_quarantine_reason_id", "quarantine", ["reason", "id"])


def downgrade() -> None:
    op.drop_index("ix_quarantine_reason_id", table_name="quarantine")
