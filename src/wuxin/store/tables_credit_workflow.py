"""Tables of the officer's workflow on credit decisions (migration 0011_credit_workflow): where each decision
stands (and the loan application it moves on), and every override or limit that waits for a second person.

Money is kept as decimal strings, as in credit_decisions.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from wuxin.store.metadata import metadata

credit_workflows = Table(  # one per decision: its standing now
    "credit_workflows",
    metadata,
    Column("decision_id", Integer, ForeignKey("credit_decisions.id"), primary_key=True),
    Column("tenant_id", Integer, nullable=False),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), nullable=False),
    Column("loan_id", Integer, ForeignKey("loans.id")),  # the loan application it moves on, if any
    Column("state", String(20), nullable=False),  # referred | pending_approval | approved | declined
    Column("outcome", String(10), nullable=False),  # approve | refer | decline: the outcome standing now
    Column("limit_cny", String(30)),
    Column("four_eyes_limit_cny", String(30)),  # the product's threshold when the decision was made
    Column("requested_by", Integer),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_credit_workflows_tenant_state", "tenant_id", "state"),
)

credit_reviews = Table(  # an override (a person changes the outcome) or a limit above the threshold, for four eyes
    "credit_reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("decision_id", Integer, ForeignKey("credit_decisions.id"), nullable=False),
    Column("tenant_id", Integer, nullable=False),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), nullable=False),
    Column("kind", String(10), nullable=False),  # override | limit
    Column("requested_by", Integer, nullable=False),
    Column("requested_role", String(30), nullable=False),
    Column("reason", Text, nullable=False),
    Column("prior_outcome", String(10), nullable=False),
    Column("prior_limit_cny", String(30)),
    Column("new_outcome", String(10), nullable=False),
    Column("new_limit_cny", String(30)),
    Column("state", String(10), nullable=False),  # pending | approved | rejected
    Column("created_ms", BigInteger, nullable=False),
    Column("reviewed_by", Integer),
    Column("review_reason", Text),
    Column("reviewed_ms", BigInteger),
    Column("ledger_leaf", BigInteger),
    Column("review_ledger_leaf", BigInteger),
    Index("ix_credit_reviews_tenant_state", "tenant_id", "state", "id"),
    Index("ix_credit_reviews_decision", "decision_id", "id"),
)
