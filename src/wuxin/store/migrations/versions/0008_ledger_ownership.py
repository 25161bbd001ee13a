"""ledger: owner tenant and data class of each entry

Revision ID: 0008
Revises: 0007

Entries already written are backfilled from the tables of what they prove: a credit decision's
bank (credit_decisions.ledger_leaf), a loan's bank for pledge changes (subject loan:N), a tenant's
alarm (subject alarm:N), the bank that alone reads an import's records (business_records.ledger_leaf).
An entry whose thing cannot be found keeps owner NULL; its reader rule (wuxin.services.evidence.ledger_access)
then finds no such thing and answers as if absent, so an old entry never becomes readable by more
people than before. Kinds the platform does not know get the class "platform" (the admin's).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

DATA_CLASSES = {  # as wuxin.services.evidence.ledger.DATA_CLASSES when this revision was written
    "telemetry_batch": "device_data",
    "credit_decision": "credit",
    "pledge_change": "pledge",
    "alarm_action": "alarm",
    "business_import": "business",
    "epcis_event": "trace",
    "product_batch": "trace",
    "identity_issuance": "trace",
}

OWNERS = {  # kind -> the owner's tenant, read from the table of the thing the entry proves
    "credit_decision": "SELECT d.tenant_id FROM credit_decisions d WHERE d.ledger_leaf = ledger_entries.leaf_index",
    "pledge_change": "SELECT l.tenant_id FROM loans l WHERE ledger_entries.subject LIKE 'loan:%' "
    "AND l.id = CAST(SUBSTR(ledger_entries.subject, 6) AS INTEGER)",
    "alarm_action": "SELECT a.tenant_id FROM alarms a WHERE ledger_entries.subject LIKE 'alarm:%' "
    "AND a.id = CAST(SUBSTR(ledger_entries.subject, 7) AS INTEGER)",
    "business_import": "SELECT MAX(r.tenant_id) FROM business_records r WHERE r.ledger_leaf = ledger_entries.leaf_index",
}


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("owner_tenant_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("data_class", sa.String(length=20), nullable=False, server_default="platform"))
    for kind, data_class in DATA_CLASSES.items():
        op.execute(
            sa.text("UPDATE ledger_entries SET data_class = :data_class WHERE kind = :kind").bindparams(
                data_class=data_class, kind=kind
            )
        )
    for kind, owner in OWNERS.items():
        op.execute(
            sa.text(f"UPDATE ledger_entries SET owner_tenant_id = ({owner}) WHERE kind = :kind").bindparams(kind=kind)
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("data_class")
        batch.drop_column("owner_tenant_id")
