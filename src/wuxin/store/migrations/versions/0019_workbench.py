"""workbench: the risk workbench's watch-list, one row per user and borrower followed

Revision ID: 0019_workbench
Revises: 0018_sdk
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_workbench"
down_revision = "0018_sdk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watchlist",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("added_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_watchlist_user_id_users")),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_watchlist_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("user_id", "enterprise_id", name=op.f("pk_watchlist")),
    )


def downgrade() -> None:
    op.drop_table("watchlist")
