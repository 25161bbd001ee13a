"""Tables of the indicators part (same metadata as tables.py; migration 0004).

Days are China local day numbers (days since 1970-01-01 at UTC+8), months are YYYYMM;
an unknown value is NULL with quality "unknown", never 0.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, ForeignKey, Index, Integer, String, Table

from wuxin.store.metadata import metadata

indicator_dirty = Table(  # (device, day) pairs whose indicators are stale; written with the points
    "indicator_dirty",
    metadata,
    Column("device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("version", Integer, nullable=False),  # bumped on every new mark: a recompute clears only what it saw
    Column("marked_ms", BigInteger, nullable=False),
)

device_day_indicators = Table(
    "device_day_indicators",
    metadata,
    Column("device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("indicator", String(60), primary_key=True),
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), nullable=False),
    Column("value", Float),
    Column("quality", String(10), nullable=False),  # complete | partial | unknown
    Column("points", Integer, nullable=False),  # readings and events behind the value
    Column("computed_ms", BigInteger, nullable=False),
    Index("ix_device_day_indicators_enterprise_day", "enterprise_id", "day"),
)

enterprise_day_indicators = Table(
    "enterprise_day_indicators",
    metadata,
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("indicator", String(60), primary_key=True),
    Column("value", Float),
    Column("quality", String(10), nullable=False),
    Column("devices", Integer, nullable=False),  # devices with a value behind the aggregate
    Column("computed_ms", BigInteger, nullable=False),
    Index("ix_enterprise_day_indicators_day_indicator", "day", "indicator"),
)

enterprise_month_indicators = Table(
    "enterprise_month_indicators",
    metadata,
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), primary_key=True),
    Column("month", Integer, primary_key=True),  # YYYYMM
    Column("indicator", String(60), primary_key=True),
    Column("value", Float),
    Column("quality", String(10), nullable=False),
    Column("days", Integer, nullable=False),  # days with a value behind the month
    Column("computed_ms", BigInteger, nullable=False),
)

industry_index = Table(  # only groups of at least MIN_PEERS enterprises are written
    "industry_index",
    metadata,
    Column("scenario", String(40), primary_key=True),
    Column("region", String(200), primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("indicator", String(60), primary_key=True),
    Column("enterprises", Integer, nullable=False),
    Column("p25", Float, nullable=False),
    Column("median", Float, nullable=False),
    Column("p75", Float, nullable=False),
    Column("mean", Float, nullable=False),
    Column("computed_ms", BigInteger, nullable=False),
)
