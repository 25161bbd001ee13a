"""Commands to devices (migration 0017): who asked what of which device, why, who approved, what it answered."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Table

from wuxin.store.metadata import metadata

device_commands = Table(
    "device_commands",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=False),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), nullable=False),
    Column("tenant_id", Integer),  # the requester's tenant (the lending bank, the integrator's firm); NULL: platform
    Column("channel", String(20), nullable=False),  # jt808 (thingsboard_rpc, alink_service later)
    Column("operation", String(40), nullable=False),
    Column("params", JSON, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("loan_id", Integer),  # the loan whose collateral it acts on, when there is one
    Column("alarm_id", Integer),  # the alarm that prompted it, when there is one
    Column(
        "state", String(15), nullable=False
    ),  # requested approved sent acknowledged failed expired refused cancelled
    Column("four_eyes", Integer, nullable=False),  # 1: a second person of the same bank must approve
    Column("requested_by", Integer, nullable=False),
    Column("requested_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),  # not sent by then: expired
    Column("decided_by", Integer),  # who approved, refused or cancelled
    Column("decided_ms", BigInteger),
    Column("decision_reason", String(500)),
    Column("msg_id", Integer),  # the message it was sent as (0x8500 ...)
    Column("serial", Integer),  # the 808 serial it was sent with: the answer names it
    Column("sent_ms", BigInteger),
    Column("answered_ms", BigInteger),
    Column("answer", JSON),  # what the device said (result, parameters, vehicle state)
    Column("failure", String(500)),  # why it failed or expired
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_device_commands_device_state", "device_id", "state"),
    Index("ix_device_commands_loan", "loan_id"),
    Index("ix_device_commands_alarm", "alarm_id"),
    Index("ix_device_commands_state_expires", "state", "expires_ms"),  # the poll of due commands (0020_commands)
)
