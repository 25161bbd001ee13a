"""monitoring: warning rules, alarms, notifications, loans, pledges

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=60), nullable=False),
        sa.Column("rule_id", sa.String(length=120), nullable=False),
        sa.Column("override", sa.JSON(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_rule_overrides_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_overrides")),
        sa.UniqueConstraint("tenant_id", "product", "rule_id", name="uq_rule_overrides_tenant_product_rule"),
    )
    op.create_table(
        "rule_states",
        sa.Column("scope", sa.String(length=60), nullable=False),
        sa.Column("rule_id", sa.String(length=120), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "rule_id", "subject", name=op.f("pk_rule_states")),
    )
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=60), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("alarm_type", sa.String(length=60), nullable=False),
        sa.Column("rule_id", sa.String(length=120), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=15), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("loan_ids", sa.JSON(), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_ms", sa.BigInteger(), nullable=False),
        sa.Column("stored_ms", sa.BigInteger(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("acknowledged_ms", sa.BigInteger(), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("cleared_ms", sa.BigInteger(), nullable=True),
        sa.Column("cleared_by", sa.Integer(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
    )
    op.create_index("ix_alarms_enterprise_status", "alarms", ["enterprise_id", "status"], unique=False)
    op.create_index(
        "uq_alarms_open_scope_source_type",
        "alarms",
        ["scope", "source", "alarm_type"],
        unique=True,
        postgresql_where=sa.text("cleared_ms IS NULL"),
        sqlite_where=sa.text("cleared_ms IS NULL"),
    )
    op.create_table(
        "alarm_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarms.id"], name=op.f("fk_alarm_actions_alarm_id_alarms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_actions")),
    )
    op.create_index("ix_alarm_actions_alarm", "alarm_actions", ["alarm_id"], unique=False)
    op.create_table(
        "notification_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("min_severity", sa.String(length=10), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("disabled_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_notification_channels_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_channels")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarms.id"], name=op.f("fk_notifications_alarm_id_alarms")),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["notification_channels.id"], name=op.f("fk_notifications_channel_id_notification_channels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_status_next", "notifications", ["status", "next_attempt_ms"], unique=False)
    op.create_table(
        "loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=60), nullable=False),
        sa.Column("amount_cny", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("outstanding_cny", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("risk_class", sa.String(length=20), nullable=False),
        sa.Column("monitoring_plan", sa.JSON(), nullable=False),
        sa.Column("maintenance_ratio", sa.Numeric(precision=8, scale=4), nullable=False),
        sa.Column("liquidation_ratio", sa.Numeric(precision=8, scale=4), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"], name=op.f("fk_loans_enterprise_id_enterprises")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_loans_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
    )
    op.create_index("ix_loans_enterprise_state", "loans", ["enterprise_id", "state"], unique=False)
    op.create_table(
        "loan_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("from_value", sa.String(length=20), nullable=False),
        sa.Column("to_value", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=30), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_loan_history_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_history")),
    )
    op.create_index("ix_loan_history_loan", "loan_history", ["loan_id"], unique=False)
    op.create_table(
        "collateral_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=130), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=80), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("zone_id", sa.String(length=60), nullable=True),
        sa.Column("haircut", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("pledged_ms", sa.BigInteger(), nullable=False),
        sa.Column("released_ms", sa.BigInteger(), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_collateral_items_loan_id_loans")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_collateral_items_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collateral_items")),
    )
    op.create_index("ix_collateral_items_loan", "collateral_items", ["loan_id"], unique=False)
    op.create_index(
        "uq_collateral_items_active_identity",
        "collateral_items",
        ["identity"],
        unique=True,
        postgresql_where=sa.text("released_ms IS NULL"),
        sqlite_where=sa.text("released_ms IS NULL"),
    )
    op.create_table(
        "pledge_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.String(length=60), nullable=False),
        sa.Column("polygon", sa.JSON(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_pledge_zones_loan_id_loans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pledge_zones")),
        sa.UniqueConstraint("loan_id", "zone_id", name="uq_pledge_zones_loan_zone"),
    )
    op.create_table(
        "price_index",
        sa.Column("sku", sa.String(length=80), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("price_cny", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("sku", "at_ms", name=op.f("pk_price_index")),
    )


def downgrade() -> None:
    op.drop_table("price_index")
    op.drop_table("pledge_zones")
    op.drop_index("uq_collateral_items_active_identity", table_name="collateral_items")
    op.drop_index("ix_collateral_items_loan", table_name="collateral_items")
    op.drop_table("collateral_items")
    op.drop_index("ix_loan_history_loan", table_name="loan_history")
    op.drop_table("loan_history")
    op.drop_index("ix_loans_enterprise_state", table_name="loans")
    op.drop_table("loans")
    op.drop_index("ix_notifications_status_next", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("notification_channels")
    op.drop_index("ix_alarm_actions_alarm", table_name="alarm_actions")
    op.drop_table("alarm_actions")
    op.drop_index("uq_alarms_open_scope_source_type", table_name="alarms")
    op.drop_index("ix_alarms_enterprise_status", table_name="alarms")
    op.drop_table("alarms")
    op.drop_table("rule_states")
    op.drop_table("rule_overrides")
