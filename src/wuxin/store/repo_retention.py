"""Repository of data lifecycle: hourly downsampling, retention policies and marks, deleting raw readings,
and the PostgreSQL partitions of `readings` (store/partitions.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, case, delete, func, literal, literal_column, select, true
from sqlalchemy.dialects import postgresql, sqlite

from wuxin.indicators.days import HOUR_MS
from wuxin.store import partitions
from wuxin.store.partitions import Partition
from wuxin.store.repos import _record, _records, _Repo
from wuxin.store.rows import HourlyReadingRow, PrunedBatchRow, RetentionMarkRow, RetentionPolicyRow
from wuxin.store.tables import consents, devices, enterprises, readings
from wuxin.store.tables_retention import (
    maintenance_state,
    pruned_batches,
    readings_hourly,
    retention_marks,
    retention_policies,
)

_HOUR: ColumnElement[int] = literal_column(str(HOUR_MS))
_COUNTED = {"preserve_rowcount": True}  # INSERT ... SELECT: SQLAlchemy keeps the driver's rowcount only when asked
_AGGREGATE_COLUMNS = (
    "device_id",
    "key",
    "hour_ms",
    "n",
    "n_num",
    "num_min",
    "num_max",
    "num_sum",
    "last_ts_ms",
    "last_num",
    "last_txt",
    "raw_deleted",
    "computed_ms",
)


class RetentionRepo(_Repo):
    # ---- policies and marks -----------------------------------------------------------------------

    def policies(self) -> list[RetentionPolicyRow]:
        query = select(retention_policies).order_by(retention_policies.c.tenant_id)
        return _records(self.conn.execute(query), RetentionPolicyRow)

    def set_policy(self, tenant_id: int, raw_days: int, hourly_days: int, now_ms: int) -> None:
        stmt = self._insert(retention_policies).values(
            tenant_id=tenant_id, raw_days=raw_days, hourly_days=hourly_days, updated_ms=now_ms
        )
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id"],
                set_={"raw_days": raw_days, "hourly_days": hourly_days, "updated_ms": now_ms},
            )
        )

    def delete_policy(self, tenant_id: int) -> int:
        return self.conn.execute(delete(retention_policies).where(retention_policies.c.tenant_id == tenant_id)).rowcount

    def enterprise_ids(self) -> list[int]:
        return list(self.conn.execute(select(enterprises.c.id).order_by(enterprises.c.id)).scalars())

    def live_consent_tenants(self, now_ms: int) -> list[tuple[int, int]]:
        """(enterprise_id, tenant_id) of every consent neither revoked nor expired."""
        query = (
            select(consents.c.enterprise_id, consents.c.tenant_id)
            .distinct()
            .where(consents.c.revoked_ms.is_(None), consents.c.expires_ms > now_ms)
        )
        return [tuple(r) for r in self.conn.execute(query)]

    def marks(self) -> dict[int, RetentionMarkRow]:
        return {r["enterprise_id"]: r for r in _records(self.conn.execute(select(retention_marks)), RetentionMarkRow)}

    def mark(self, enterprise_id: int) -> RetentionMarkRow | None:
        query = select(retention_marks).where(retention_marks.c.enterprise_id == enterprise_id)
        return _record(self.conn.execute(query), RetentionMarkRow)

    def move_marks(
        self, enterprise_ids: Sequence[int], raw_before_ms: int, raw_days: int, hourly_before_ms: int, now_ms: int
    ) -> None:
        """Raise the enterprises' marks to these times (a mark never goes back)."""
        if not enterprise_ids:
            return
        stmt = self._insert(retention_marks).values(
            [
                dict(
                    enterprise_id=e,
                    raw_before_ms=raw_before_ms,
                    raw_days=raw_days,
                    hourly_before_ms=hourly_before_ms,
                    updated_ms=now_ms,
                )
                for e in enterprise_ids
            ]
        )
        old, new = retention_marks.c, stmt.excluded
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["enterprise_id"],
                set_={
                    "raw_before_ms": case(
                        (new.raw_before_ms > old.raw_before_ms, new.raw_before_ms), else_=old.raw_before_ms
                    ),
                    "hourly_before_ms": case(
                        (new.hourly_before_ms > old.hourly_before_ms, new.hourly_before_ms), else_=old.hourly_before_ms
                    ),
                    "raw_days": new.raw_days,
                    "updated_ms": new.updated_ms,
                },
            )
        )

    def pruned_batch(self, batch_id: int) -> PrunedBatchRow | None:
        query = select(pruned_batches).where(pruned_batches.c.batch_id == batch_id)
        return _record(self.conn.execute(query), PrunedBatchRow)

    # ---- job state ------------------------------------------------------------------------------------

    def state(self, name: str) -> int | None:
        return self.conn.execute(select(maintenance_state.c.value_ms).where(maintenance_state.c.name == name)).scalar()

    def set_state(self, name: str, value_ms: int) -> None:
        stmt = self._insert(maintenance_state).values(name=name, value_ms=value_ms)
        self.conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={"value_ms": value_ms}))

    def oldest_reading_ms(self) -> int | None:
        return self.conn.execute(select(func.min(readings.c.ts_ms))).scalar()

    # ---- downsampling ---------------------------------------------------------------------------------

    def downsample(
        self, from_ms: int, to_ms: int, now_ms: int, enterprise_ids: Sequence[int] | None = None, sealing: bool = False
    ) -> int:
        """Hourly aggregates of the readings in [from_ms, to_ms) (hour-aligned), of the enterprises' devices or all.

        Not sealing (the regular pass): an hour's row is replaced by the recomputation, so running it again
        changes nothing; hours whose raw readings were deleted are left alone. Sealing (just before those
        readings are deleted, same transaction): the row is replaced too unless its hour was sealed already,
        in which case the readings (late arrivals) are merged in; the row is then marked raw_deleted.
        Returns the hourly rows written."""
        where = [readings.c.ts_ms >= from_ms, readings.c.ts_ms < to_ms, *self._of(enterprise_ids)]
        hour = (readings.c.ts_ms - readings.c.ts_ms.op("%")(_HOUR)).label("hour_ms")
        groups = (
            select(
                readings.c.device_id,
                readings.c.key,
                hour,
                func.count().label("n"),
                func.count(readings.c.num).label("n_num"),
                func.min(readings.c.num).label("num_min"),
                func.max(readings.c.num).label("num_max"),
                func.sum(readings.c.num).label("num_sum"),
                func.max(readings.c.ts_ms).label("last_ts_ms"),
            )
            .where(*where)
            .group_by(readings.c.device_id, readings.c.key, hour)
            .subquery("g")
        )
        last = readings.alias("last")
        source = (
            select(
                groups.c.device_id,
                groups.c.key,
                groups.c.hour_ms,
                groups.c.n,
                groups.c.n_num,
                groups.c.num_min,
                groups.c.num_max,
                groups.c.num_sum,
                groups.c.last_ts_ms,
                last.c.num,
                last.c.txt,
                literal(sealing),
                literal(now_ms),
            )
            .join_from(
                groups,
                last,
                and_(
                    last.c.device_id == groups.c.device_id,
                    last.c.key == groups.c.key,
                    last.c.ts_ms == groups.c.last_ts_ms,
                ),
            )
            .where(last.c.ts_ms >= from_ms, last.c.ts_ms < to_ms, true())
        )
        stmt = self._insert(readings_hourly).from_select(_AGGREGATE_COLUMNS, source)
        return self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["device_id", "key", "hour_ms"],
                set_=_merge(stmt.excluded, sealing),
                where=None if sealing else readings_hourly.c.raw_deleted.is_(False),
            ),
            execution_options=_COUNTED,
        ).rowcount

    def hourly(self, device_ids: Sequence[int], from_ms: int, to_ms: int) -> list[HourlyReadingRow]:
        h = readings_hourly.c
        query = (
            select(readings_hourly)
            .where(h.device_id.in_(list(device_ids)), h.hour_ms >= from_ms, h.hour_ms < to_ms)
            .order_by(h.device_id, h.key, h.hour_ms)
        )
        return _records(self.conn.execute(query), HourlyReadingRow)

    # ---- deleting -------------------------------------------------------------------------------------

    def note_pruned_batches(
        self, from_ms: int | None, to_ms: int, now_ms: int, enterprise_ids: Sequence[int] | None = None
    ) -> int:
        """Record the batches that lose readings of [from_ms, to_ms) (of the enterprises' devices, or all)."""
        where = [readings.c.ts_ms < to_ms, *self._of(enterprise_ids)]
        if from_ms is not None:
            where.append(readings.c.ts_ms >= from_ms)
        source = select(readings.c.batch_id, literal(now_ms)).where(*where).distinct()
        stmt = self._insert(pruned_batches).from_select(["batch_id", "pruned_ms"], source)
        return self.conn.execute(stmt.on_conflict_do_nothing(), execution_options=_COUNTED).rowcount

    def delete_readings(self, before_ms: int, enterprise_ids: Sequence[int]) -> int:
        return self.conn.execute(
            delete(readings).where(readings.c.ts_ms < before_ms, *self._of(enterprise_ids))
        ).rowcount

    def delete_hourly(self, before_ms: int, enterprise_ids: Sequence[int]) -> int:
        of = devices.c.enterprise_id.in_(list(enterprise_ids))
        return self.conn.execute(
            delete(readings_hourly).where(
                readings_hourly.c.hour_ms < before_ms, readings_hourly.c.device_id.in_(select(devices.c.id).where(of))
            )
        ).rowcount

    # ---- PostgreSQL partitions ------------------------------------------------------------------------

    def partitioned(self) -> bool:
        return partitions.is_partitioned(self.conn)

    def partitions(self) -> list[partitions.Partition]:
        return partitions.partitions(self.conn) if self.partitioned() else []

    def lock_partitions(self) -> None:
        partitions.lock(self.conn)

    def ensure_month(self, year: int, month: int) -> str | None:
        return partitions.ensure_month(self.conn, year, month)

    def months_in_default(self) -> list[tuple[int, int]]:
        return partitions.months_with_rows(self.conn, partitions.DEFAULT)

    def drop_partition(self, partition: Partition) -> None:
        partitions.drop(self.conn, partition)

    # ---- helpers ----------------------------------------------------------------------------------------

    @staticmethod
    def _of(enterprise_ids: Sequence[int] | None) -> list:
        if enterprise_ids is None:
            return []
        return [readings.c.device_id.in_(select(devices.c.id).where(devices.c.enterprise_id.in_(list(enterprise_ids))))]

    def _insert(self, table):
        return (postgresql if self.conn.dialect.name == "postgresql" else sqlite).insert(table)


def _merge(new, sealing: bool) -> dict:
    """ON CONFLICT assignments: replace, or (sealing an hour already sealed) merge the late readings in."""
    old = readings_hourly.c
    if not sealing:
        return {c: getattr(new, c) for c in _AGGREGATE_COLUMNS[3:]}
    merged = old.raw_deleted.is_(True)
    later = and_(merged, old.last_ts_ms > new.last_ts_ms)

    def either(a, b, combine):
        return case((a.is_(None), b), (b.is_(None), a), else_=combine)

    return {
        "n": case((merged, old.n + new.n), else_=new.n),
        "n_num": case((merged, old.n_num + new.n_num), else_=new.n_num),
        "num_min": case(
            (
                merged,
                either(old.num_min, new.num_min, case((new.num_min < old.num_min, new.num_min), else_=old.num_min)),
            ),
            else_=new.num_min,
        ),
        "num_max": case(
            (
                merged,
                either(old.num_max, new.num_max, case((new.num_max > old.num_max, new.num_max), else_=old.num_max)),
            ),
            else_=new.num_max,
        ),
        "num_sum": case((merged, either(old.num_sum, new.num_sum, old.num_sum + new.num_sum)), else_=new.num_sum),
        "last_ts_ms": case((later, old.last_ts_ms), else_=new.last_ts_ms),
        "last_num": case((later, old.last_num), else_=new.last_num),
        "last_txt": case((later, old.last_txt), else_=new.last_txt),
        "raw_deleted": new.raw_deleted,
        "computed_ms": new.computed_ms,
    }
