"""device protocols and connectivity

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_children",
        sa.Column("child_device_id", sa.Integer(), nullable=False),
        sa.Column("gateway_device_id", sa.Integer(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_device_id"], ["devices.id"], name=op.f("fk_gateway_children_child_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["gateway_device_id"], ["devices.id"], name=op.f("fk_gateway_children_gateway_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("child_device_id", name=op.f("pk_gateway_children")),
    )
    op.create_index("ix_gateway_children_gateway", "gateway_children", ["gateway_device_id"])
    op.create_table(
        "push_platforms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("disabled_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_platforms")),
        sa.UniqueConstraint("name", name=op.f("uq_push_platforms_name")),
    )
    op.create_table(
        "push_platform_enterprises",
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("added_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["push_platforms.id"], name=op.f("fk_push_platform_enterprises_platform_id_push_platforms")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_push_platform_enterprises_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("platform_id", "enterprise_id", name=op.f("pk_push_platform_enterprises")),
    )
    op.create_table(
        "push_nonces",
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("platform_id", "nonce", name=op.f("pk_push_nonces")),
    )
    op.create_index("ix_push_nonces_expires", "push_nonces", ["expires_ms"])
    op.create_table(
        "device_connectivity",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("since_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_device_connectivity_device_id_devices")),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_connectivity")),
    )
    op.create_table(
        "connectivity_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=10), nullable=False),
        sa.Column("to_state", sa.String(length=10), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("cause", sa.String(length=30), nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_connectivity_transitions_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connectivity_transitions")),
    )
    op.create_index("ix_connectivity_transitions_enterprise_at", "connectivity_transitions", ["enterprise_id", "at_ms"])


def downgrade() -> None:
    op.drop_index("ix_connectivity_transitions_enterprise_at", table_name="connectivity_transitions")
    op.drop_table("connectivity_transitions")
    op.drop_table("device_connectivity")
    op.drop_index("ix_push_nonces_expires", table_name="push_nonces")
    op.drop_table("push_nonces")
    op.drop_table("push_platform_enterprises")
    op.drop_table("push_platforms")
    op.drop_index("ix_gateway_children_gateway", table_name="gateway_children")
    op.drop_table("gateway_children")
