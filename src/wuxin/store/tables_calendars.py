"""Firm calendars: shutdowns, maintenance windows and extra rest days an enterprise declares, for itself, one site or
one device (the official PRC holiday calendar comes from a maintained package, not from here)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, false

from wuxin.store.metadata import metadata

calendar_periods = Table(
    "calendar_periods",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), nullable=False),
    Column("site_id", Integer, ForeignKey("sites.id")),  # NULL with device_id NULL: the whole enterprise
    Column("device_id", Integer, ForeignKey("devices.id")),
    Column("kind", String(20), nullable=False),  # shutdown | maintenance | holiday_extra
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger, nullable=False),  # exclusive
    Column("note", String(500), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("created_by", Integer),
    # declared by the enterprise itself (its own user): binds only its enterprise_shared devices (design.md, Calendars)
    Column("declared_by_enterprise", Boolean, nullable=False, server_default=false()),
    Column("deleted_ms", BigInteger),  # soft deletion: a deleted period no longer counts but stays for the record
    Column("deleted_by", Integer),
    Index("ix_calendar_periods_enterprise_end", "enterprise_id", "end_ms"),
)
