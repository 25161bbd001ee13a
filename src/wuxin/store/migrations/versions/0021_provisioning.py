"""provisioning: device provision profiles (ThingsBoard's provisionDeviceKey / provisionDeviceSecret)

A profile lets devices register themselves over MQTT (username `provision`, topic /provision/request) under one
enterprise, site and device type, up to a number of devices and until it expires; its secret is kept as SHA-256.

Revision ID: 0021_provisioning
Revises: 0020_commands
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_provisioning"
down_revision = "0020_commands"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_provision_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provision_key", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("device_type", sa.String(length=80), nullable=False),
        sa.Column("source_mode", sa.String(length=30), nullable=False),
        sa.Column("max_devices", sa.Integer(), nullable=False),
        sa.Column("provisioned", sa.Integer(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked_ms", sa.BigInteger(), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_provision_profiles")),
        sa.UniqueConstraint("provision_key", name=op.f("uq_device_provision_profiles_provision_key")),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_device_provision_profiles_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_device_provision_profiles_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["device_type"],
            ["thing_models.device_type"],
            name=op.f("fk_device_provision_profiles_device_type_thing_models"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_device_provision_profiles_created_by_users")
        ),
    )
    op.create_index("ix_device_provision_profiles_enterprise", "device_provision_profiles", ["enterprise_id"])


def downgrade() -> None:
    op.drop_index("ix_device_provision_profiles_enterprise", table_name="device_provision_profiles")
    op.drop_table("device_provision_profiles")
