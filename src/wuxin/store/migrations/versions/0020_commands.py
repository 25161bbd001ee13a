"""commands: an index on (state, expires_ms) for the front ends' and gateways' poll of due commands

Every MQTT front end and JT/T 808 gateway asks once per poll which devices have approved, unexpired commands;
without this index that question read the whole device_commands table, finished commands included
(`wuxin bench rpc-poll` prints the figures).

Revision ID: 0020_commands
Revises: 0019_workbench
"""

from alembic import op

revision = "0020_commands"
down_revision = "0019_workbench"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_device_commands_state_expires", "device_commands", ["state", "expires_ms"])


def downgrade() -> None:
    op.drop_index("ix_device_commands_state_expires", table_name="device_commands")
