"""vendor SDKs: Alink identities (productKey, deviceName, encrypted DeviceSecret) and client attributes

Revision ID: 0018_sdk
Revises: 0017_commands
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_sdk"
down_revision = "0017_commands"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alink_identities",
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("devices.id"), primary_key=True),
        sa.Column("product_key", sa.String(64), nullable=False),
        sa.Column("device_name", sa.String(64), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index("ux_alink_identities_name", "alink_identities", ["product_key", "device_name"], unique=True)
    op.create_table(
        "device_attributes",
        sa.Column("device_id", sa.Integer(), sa.ForeignKey("devices.id"), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value_json", sa.Text(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("device_attributes")
    op.drop_index("ux_alink_identities_name", table_name="alink_identities")
    op.drop_table("alink_identities")
