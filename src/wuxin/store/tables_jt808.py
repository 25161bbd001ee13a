"""Tables of JT/T 808 enrolment (same metadata as tables.py; migration 0009).

A provisioned terminal and its auth code: a credential of its own kind, stored as SHA-256 only,
apart from the devices' HTTP/MQTT access tokens (`device_tokens`), so neither is accepted as the other.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table

from wuxin.store.metadata import metadata

jt808_terminals = Table(
    "jt808_terminals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=False, unique=True),
    Column("phone", String(20), nullable=False, unique=True),  # SIM number without leading zeros (BCD[6] = BCD[10])
    Column("terminal_id", String(30), nullable=False),  # 终端ID, as the maker gave it
    Column("manufacturer_id", String(11)),  # checked when set
    Column("terminal_model", String(30)),  # checked when set
    Column("imei", String(15)),  # when set, 0x0102 must carry it (2019 terminals)
    Column("provisioned_ms", BigInteger, nullable=False),
    Column("provisioned_by_user_id", Integer),
    Column("enrol_until_ms", BigInteger),  # end of the enrolment window; NULL: closed
    Column("auth_code_hash", String(64), unique=True),  # SHA-256 of the live auth code; NULL: none
    Column("enrolled_ms", BigInteger),
    Column("header_version", String(4)),  # NULL: auto (bit 14, 2013 fallback); "2013" / "2019": forced (0015)
)
