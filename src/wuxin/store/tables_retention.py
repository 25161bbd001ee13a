"""Tables of data lifecycle (migration 0013): hourly aggregates of readings, retention policies and what
retention has done. On PostgreSQL `readings` itself is range-partitioned by month on ts_ms (store/partitions.py);
the table definition in tables.py stays the same on both databases.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, ForeignKey, Integer, String, Table, Text

from wuxin.store.metadata import metadata

readings_hourly = Table(  # one row per device, key and UTC hour: kept longer than the raw readings
    "readings_hourly",
    metadata,
    Column("device_id", Integer, primary_key=True),
    Column("key", String(50), primary_key=True),
    Column("hour_ms", BigInteger, primary_key=True),  # start of the hour (device time), UTC epoch ms
    Column("n", Integer, nullable=False),  # readings in the hour (numbers and text)
    Column("n_num", Integer, nullable=False),  # of which numbers: mean = num_sum / n_num
    Column("num_min", Float),
    Column("num_max", Float),
    Column("num_sum", Float),
    Column("last_ts_ms", BigInteger, nullable=False),
    Column("last_num", Float),
    Column("last_txt", Text),
    # True once the hour's raw readings were deleted: later (late) readings of that hour are merged in, never replace it
    Column("raw_deleted", Boolean, nullable=False, default=False),
    Column("computed_ms", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

retention_policies = Table(  # a tenant's own retention; tenants without a row use the settings' defaults
    "retention_policies",
    metadata,
    Column("tenant_id", Integer, ForeignKey("tenants.id"), primary_key=True),
    Column("raw_days", Integer, nullable=False),
    Column("hourly_days", Integer, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

retention_marks = Table(  # per enterprise: raw readings (hourly aggregates) before this time were deleted
    "retention_marks",
    metadata,
    Column("enterprise_id", Integer, ForeignKey("enterprises.id"), primary_key=True),
    Column("raw_before_ms", BigInteger, nullable=False),
    Column("raw_days", Integer, nullable=False),  # the policy in force when it last moved
    Column("hourly_before_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

pruned_batches = Table(  # batches some of whose readings retention deleted: their points cannot be recomputed
    "pruned_batches",
    metadata,
    Column("batch_id", Integer, primary_key=True),
    Column("pruned_ms", BigInteger, nullable=False),
)

maintenance_state = Table(  # small named values of the maintenance job (downsampled_until_ms, last_success_ms)
    "maintenance_state",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value_ms", BigInteger, nullable=False),
)
