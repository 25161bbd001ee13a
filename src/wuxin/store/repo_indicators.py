"""Repository of the indicators part: its SQL lives here (dirty marks, values, indexes, and the
fast read of one device's readings as arrays)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from sqlalchemy import and_, bindparam, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from wuxin.store.db import driver_connection
from wuxin.store.repos import Row, _records, _Repo
from wuxin.store.rows import (
    DeviceDayIndicatorRow,
    DeviceDayValueRow,
    DeviceValueRow,
    EnterpriseDayIndicatorRow,
    EnterpriseMonthIndicatorRow,
    IndicatorDeviceRow,
    IndustryIndexRow,
    PeerValueRow,
)
from wuxin.store.tables import devices, enterprises, events, readings
from wuxin.store.tables_indicators import (
    device_day_indicators,
    enterprise_day_indicators,
    enterprise_month_indicators,
    indicator_dirty,
    industry_index,
)

# PostgreSQL binary COPY of (key index int2, ts_ms int8, num float8): one fixed-width record a row.
_PG_ROW = np.dtype(
    [("n", ">i2"), ("l0", ">i4"), ("k", ">i2"), ("l1", ">i4"), ("ts", ">i8"), ("l2", ">i4"), ("v", ">f8")]
)
_PG_HEADER = 19  # signature (11), flags (4), header extension length (4, zero)


class IndicatorsRepo(_Repo):
    # ------------------------------------------------------------ dirty (device, day) pairs

    def mark_dirty(self, pairs: Iterable[tuple[int, int]], now_ms: int) -> None:
        """Mark pairs stale in the caller's transaction; a pair already marked gets a new version."""
        rows = [{"device_id": d, "day": int(day), "version": 1, "marked_ms": now_ms} for d, day in pairs]
        if not rows:
            return
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(indicator_dirty)
        stmt = stmt.on_conflict_do_update(
            index_elements=["device_id", "day"],
            set_={"version": indicator_dirty.c.version + 1, "marked_ms": stmt.excluded.marked_ms},
        )
        self.conn.execute(stmt, rows)

    def dirty(self, limit: int) -> list[tuple[int, int, int]]:
        """(device_id, day, version) in device and day order."""
        query = (
            select(indicator_dirty.c.device_id, indicator_dirty.c.day, indicator_dirty.c.version)
            .order_by(indicator_dirty.c.device_id, indicator_dirty.c.day)
            .limit(limit)
        )
        return [tuple(r) for r in self.conn.execute(query)]

    def count_dirty(self) -> int:
        return self.conn.execute(select(func.count()).select_from(indicator_dirty)).scalar_one()

    def clear_dirty(self, seen: Sequence[tuple[int, int, int]]) -> None:
        """Delete the marks computed, unless a newer mark (higher version) arrived meanwhile."""
        if not seen:
            return
        stmt = delete(indicator_dirty).where(
            and_(
                indicator_dirty.c.device_id == bindparam("d"),
                indicator_dirty.c.day == bindparam("dy"),
                indicator_dirty.c.version == bindparam("v"),
            )
        )
        self.conn.execute(stmt, [{"d": d, "dy": day, "v": v} for d, day, v in seen])

    # ------------------------------------------------------------ devices and enterprises

    def devices(self, device_ids: Iterable[int]) -> list[IndicatorDeviceRow]:
        query = select(
            devices.c.id,
            devices.c.key,
            devices.c.enterprise_id,
            devices.c.device_type,
            devices.c.attributes,
            devices.c.site_id,
        ).where(devices.c.id.in_(list(device_ids)))
        return _records(self.conn.execute(query), IndicatorDeviceRow)

    def enterprise_devices(self, enterprise_ids: Iterable[int]) -> list[IndicatorDeviceRow]:
        query = (
            select(
                devices.c.id,
                devices.c.key,
                devices.c.enterprise_id,
                devices.c.device_type,
                devices.c.attributes,
                devices.c.site_id,
            )
            .where(devices.c.enterprise_id.in_(list(enterprise_ids)))
            .order_by(devices.c.id)
        )
        return _records(self.conn.execute(query), IndicatorDeviceRow)

    def peer_groups(self, enterprise_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        query = select(enterprises.c.id, enterprises.c.industry, enterprises.c.region).where(
            enterprises.c.id.in_(list(enterprise_ids))
        )
        return {r.id: (r.industry, r.region) for r in self.conn.execute(query)}

    # ------------------------------------------------------------ inputs

    def numeric_series(
        self, device_id: int, keys: Sequence[str], from_ms: int, to_ms: int
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """{key: (ts_ms int64, num float64)} ascending by time, straight into arrays."""
        keys = sorted(keys)
        if not keys:
            return {}
        if self.conn.dialect.name == "postgresql":
            k, ts, num = self._pg_series(device_id, keys, from_ms, to_ms)
        else:
            k, ts, num = self._sqlite_series(device_id, keys, from_ms, to_ms)
        bounds = np.searchsorted(k, np.arange(len(keys) + 1))
        return {
            key: (ts[bounds[i] : bounds[i + 1]], num[bounds[i] : bounds[i + 1]])
            for i, key in enumerate(keys)
            if bounds[i + 1] > bounds[i]
        }

    def _pg_series(self, device_id: int, keys: list[str], from_ms: int, to_ms: int):
        cases = " ".join(f"WHEN %s THEN {i}" for i in range(len(keys)))
        sql = (
            f"COPY (SELECT (CASE key {cases} END)::int2, ts_ms, coalesce(num, 'NaN'::float8) FROM readings "
            f"WHERE device_id = %s AND key IN ({', '.join(['%s'] * len(keys))}) AND ts_ms >= %s AND ts_ms < %s "
            f"ORDER BY key, ts_ms) TO STDOUT (FORMAT BINARY)"
        )
        raw = driver_connection(self.conn)
        with raw.cursor() as cursor:
            with cursor.copy(sql, (*keys, device_id, *keys, from_ms, to_ms)) as copy:
                data = b"".join(bytes(block) for block in copy)
        body = np.frombuffer(
            data, dtype=_PG_ROW, offset=_PG_HEADER, count=(len(data) - _PG_HEADER - 2) // _PG_ROW.itemsize
        )
        return body["k"].astype(np.int64), body["ts"].astype(np.int64), body["v"].astype(np.float64)

    def _sqlite_series(self, device_id: int, keys: list[str], from_ms: int, to_ms: int):
        cursor = driver_connection(self.conn).cursor()
        parts = []
        try:
            for i, key in enumerate(keys):  # one ordered range scan of the primary key per property
                cursor.execute(
                    "SELECT ts_ms, num FROM readings WHERE device_id = ? AND key = ? AND ts_ms >= ? AND ts_ms < ? "
                    "ORDER BY ts_ms",
                    (device_id, key, from_ms, to_ms),
                )
                rows = np.array(cursor.fetchall(), dtype=np.float64).reshape(
                    -1, 2
                )  # NULL -> NaN; ms times are exact in float64
                parts.append((np.full(len(rows), i, dtype=np.int64), rows[:, 0].astype(np.int64), rows[:, 1]))
        finally:
            cursor.close()
        return tuple(np.concatenate([p[j] for p in parts]) for j in range(3))

    def text_series(self, device_id: int, keys: Sequence[str], from_ms: int, to_ms: int) -> dict[str, list[tuple]]:
        """{key: [(ts_ms, num, txt)]} ascending by time."""
        if not keys:
            return {}
        query = (
            select(readings.c.key, readings.c.ts_ms, readings.c.num, readings.c.txt)
            .where(
                readings.c.device_id == device_id,
                readings.c.key.in_(list(keys)),
                readings.c.ts_ms >= from_ms,
                readings.c.ts_ms < to_ms,
            )
            .order_by(readings.c.key, readings.c.ts_ms)
        )
        out: dict[str, list[tuple]] = {}
        for key, ts, num, txt in self.conn.execute(query):
            out.setdefault(key, []).append((ts, num, txt))
        return out

    def events(self, device_id: int, names: Sequence[str], from_ms: int, to_ms: int) -> list[tuple[str, int, str]]:
        if not names:
            return []
        query = (
            select(events.c.name, events.c.ts_ms, events.c.params)
            .where(
                events.c.device_id == device_id,
                events.c.name.in_(list(names)),
                events.c.ts_ms >= from_ms,
                events.c.ts_ms < to_ms,
            )
            .order_by(events.c.ts_ms)
        )
        return [tuple(r) for r in self.conn.execute(query)]

    # ------------------------------------------------------------ values

    def put_device_days(self, device_id: int, enterprise_id: int, rows: Sequence, now_ms: int) -> None:
        """Replace the device's values for the days in `rows` (DayRow-like objects)."""
        days = sorted({r.day for r in rows})
        if not days:
            return
        self.conn.execute(
            delete(device_day_indicators).where(
                device_day_indicators.c.device_id == device_id, device_day_indicators.c.day.in_(days)
            )
        )
        self.conn.execute(
            insert(device_day_indicators),
            [
                dict(
                    device_id=device_id,
                    day=r.day,
                    indicator=r.name,
                    enterprise_id=enterprise_id,
                    value=r.value,
                    quality=r.quality,
                    points=r.points,
                    computed_ms=now_ms,
                )
                for r in rows
            ],
        )

    def device_values_of_day(self, enterprise_id: int, day: int) -> list[DeviceDayValueRow]:
        query = (
            select(device_day_indicators, devices.c.device_type, devices.c.key)
            .join(devices, devices.c.id == device_day_indicators.c.device_id)
            .where(device_day_indicators.c.enterprise_id == enterprise_id, device_day_indicators.c.day == day)
        )
        return _records(self.conn.execute(query), DeviceDayValueRow)

    def device_days(
        self, device_id: int, from_day: int, to_day: int, names: Sequence[str] | None = None
    ) -> list[DeviceDayIndicatorRow]:
        query = select(device_day_indicators).where(
            device_day_indicators.c.device_id == device_id,
            device_day_indicators.c.day >= from_day,
            device_day_indicators.c.day <= to_day,
        )
        if names:
            query = query.where(device_day_indicators.c.indicator.in_(list(names)))
        return _records(
            self.conn.execute(query.order_by(device_day_indicators.c.day, device_day_indicators.c.indicator)),
            DeviceDayIndicatorRow,
        )

    def enterprise_device_values(
        self, enterprise_id: int, from_day: int, to_day: int, names: Sequence[str]
    ) -> list[DeviceValueRow]:
        """Known device-day values of the enterprise's devices for the named indicators (the lineage of its aggregates)."""
        t = device_day_indicators
        query = select(t.c.device_id, t.c.day, t.c.indicator, t.c.value).where(
            t.c.enterprise_id == enterprise_id,
            t.c.day >= from_day,
            t.c.day <= to_day,
            t.c.indicator.in_(list(names)),
            t.c.value.is_not(None),
        )
        return _records(self.conn.execute(query.order_by(t.c.indicator, t.c.day, t.c.device_id)), DeviceValueRow)

    def put_enterprise_day(self, enterprise_id: int, day: int, rows: Sequence, now_ms: int) -> None:
        self.conn.execute(
            delete(enterprise_day_indicators).where(
                enterprise_day_indicators.c.enterprise_id == enterprise_id, enterprise_day_indicators.c.day == day
            )
        )
        if rows:
            self.conn.execute(
                insert(enterprise_day_indicators),
                [
                    dict(
                        enterprise_id=enterprise_id,
                        day=day,
                        indicator=r.name,
                        value=r.value,
                        quality=r.quality,
                        devices=r.devices,
                        computed_ms=now_ms,
                    )
                    for r in rows
                ],
            )

    def enterprise_days(
        self, enterprise_id: int, from_day: int, to_day: int, names: Sequence[str] | None = None
    ) -> list[EnterpriseDayIndicatorRow]:
        t = enterprise_day_indicators
        query = select(t).where(t.c.enterprise_id == enterprise_id, t.c.day >= from_day, t.c.day <= to_day)
        if names:
            query = query.where(t.c.indicator.in_(list(names)))
        return _records(self.conn.execute(query.order_by(t.c.day, t.c.indicator)), EnterpriseDayIndicatorRow)

    def put_enterprise_month(self, enterprise_id: int, month: int, rows: Sequence, now_ms: int) -> None:
        t = enterprise_month_indicators
        self.conn.execute(delete(t).where(t.c.enterprise_id == enterprise_id, t.c.month == month))
        if rows:
            self.conn.execute(
                insert(t),
                [
                    dict(
                        enterprise_id=enterprise_id,
                        month=month,
                        indicator=r.name,
                        value=r.value,
                        quality=r.quality,
                        days=r.devices,
                        computed_ms=now_ms,
                    )
                    for r in rows
                ],
            )

    def enterprise_months(
        self, enterprise_id: int, from_month: int, to_month: int, names: Sequence[str] | None = None
    ) -> list[EnterpriseMonthIndicatorRow]:
        t = enterprise_month_indicators
        query = select(t).where(t.c.enterprise_id == enterprise_id, t.c.month >= from_month, t.c.month <= to_month)
        if names:
            query = query.where(t.c.indicator.in_(list(names)))
        return _records(self.conn.execute(query.order_by(t.c.month, t.c.indicator)), EnterpriseMonthIndicatorRow)

    # ------------------------------------------------------------ peers and indexes

    def peer_values(
        self, scenario: str, region: str, day: int, indicator: str, quality: str = "complete"
    ) -> list[PeerValueRow]:
        """Each enterprise of the group with a value of the indicator that day."""
        t = enterprise_day_indicators
        query = (
            select(t.c.enterprise_id, t.c.value)
            .join(enterprises, enterprises.c.id == t.c.enterprise_id)
            .where(
                enterprises.c.industry == scenario,
                enterprises.c.region == region,
                t.c.day == day,
                t.c.indicator == indicator,
                t.c.value.is_not(None),
                t.c.quality == quality,
            )
        )
        return _records(self.conn.execute(query), PeerValueRow)

    def put_index(self, scenario: str, region: str, day: int, rows: Sequence[Row], now_ms: int) -> None:
        t = industry_index
        self.conn.execute(delete(t).where(t.c.scenario == scenario, t.c.region == region, t.c.day == day))
        if rows:
            self.conn.execute(
                insert(t), [dict(scenario=scenario, region=region, day=day, computed_ms=now_ms, **r) for r in rows]
            )

    def index(
        self, scenario: str | None, region: str | None, indicator: str | None, from_day: int, to_day: int
    ) -> list[IndustryIndexRow]:
        t = industry_index
        query = select(t).where(t.c.day >= from_day, t.c.day <= to_day)
        for column, value in ((t.c.scenario, scenario), (t.c.region, region), (t.c.indicator, indicator)):
            if value is not None:
                query = query.where(column == value)
        return _records(
            self.conn.execute(query.order_by(t.c.scenario, t.c.region, t.c.indicator, t.c.day)), IndustryIndexRow
        )
