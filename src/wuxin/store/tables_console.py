"""Tables of the web console (same metadata as tables.py; migration 0007).

`machine_day_slots` is the equipment timeline's read model: per machine and China local day, one
character per 15-minute slot (R running, S stopped, - unknown), written by the indicators'
incremental update whenever that device-day is recomputed, so the console reads machines x days
small rows instead of every reading.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table

from wuxin.store.metadata import metadata

machine_day_slots = Table(
    "machine_day_slots",
    metadata,
    Column("device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("day", Integer, primary_key=True),  # China local day number (days since 1970-01-01 at UTC+8)
    Column("slots", String(96), nullable=False),  # 96 characters: R / S / - per 15 minutes
    Column("computed_ms", BigInteger, nullable=False),
)
