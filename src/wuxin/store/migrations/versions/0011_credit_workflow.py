"""credit workflow: where each decision stands (credit_workflows) and overrides / limits awaiting four eyes
(credit_reviews)

Revision ID: 0011_credit_workflow
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_credit_workflow"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_workflows",
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("limit_cny", sa.String(length=30), nullable=True),
        sa.Column("four_eyes_limit_cny", sa.String(length=30), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["credit_decisions.id"], name=op.f("fk_credit_workflows_decision_id_credit_decisions")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_credit_workflows_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_credit_workflows_loan_id_loans")),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_credit_workflows")),
    )
    op.create_index("ix_credit_workflows_tenant_state", "credit_workflows", ["tenant_id", "state"])
    op.create_table(
        "credit_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_role", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("prior_outcome", sa.String(length=10), nullable=False),
        sa.Column("prior_limit_cny", sa.String(length=30), nullable=True),
        sa.Column("new_outcome", sa.String(length=10), nullable=False),
        sa.Column("new_limit_cny", sa.String(length=30), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("reviewed_ms", sa.BigInteger(), nullable=True),
        sa.Column("ledger_leaf", sa.BigInteger(), nullable=True),
        sa.Column("review_ledger_leaf", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["credit_decisions.id"], name=op.f("fk_credit_reviews_decision_id_credit_decisions")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_credit_reviews_enterprise_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_reviews")),
    )
    op.create_index("ix_credit_reviews_tenant_state", "credit_reviews", ["tenant_id", "state", "id"])
    op.create_index("ix_credit_reviews_decision", "credit_reviews", ["decision_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_credit_reviews_decision", table_name="credit_reviews")
    op.drop_index("ix_credit_reviews_tenant_state", table_name="credit_reviews")
    op.drop_table("credit_reviews")
    op.drop_index("ix_credit_workflows_tenant_state", table_name="credit_workflows")
    op.drop_table("credit_workflows")
