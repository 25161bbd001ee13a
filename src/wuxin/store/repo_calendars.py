"""Repository of calendars and time zones: firm calendar periods, site zones, device service dates."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select, update

from wuxin.store.repos import _record, _records, _Repo
from wuxin.store.rows import CalendarPeriodRow
from wuxin.store.tables import devices, sites
from wuxin.store.tables_calendars import calendar_periods


class CalendarRepo(_Repo):
    def add_period(self, **values) -> int:
        return self._add(calendar_periods, **values)

    def period(self, period_id: int) -> CalendarPeriodRow | None:
        """A live (not deleted) period."""
        return _record(
            self.conn.execute(
                select(calendar_periods).where(
                    calendar_periods.c.id == period_id, calendar_periods.c.deleted_ms.is_(None)
                )
            ),
            CalendarPeriodRow,
        )

    def periods(
        self, enterprise_ids: Iterable[int], from_ms: int | None = None, to_ms: int | None = None
    ) -> list[CalendarPeriodRow]:
        """Live periods of the enterprises overlapping [from_ms, to_ms) (all when unbounded), by start."""
        query = select(calendar_periods).where(
            calendar_periods.c.enterprise_id.in_(list(enterprise_ids)), calendar_periods.c.deleted_ms.is_(None)
        )
        if from_ms is not None:
            query = query.where(calendar_periods.c.end_ms > from_ms)
        if to_ms is not None:
            query = query.where(calendar_periods.c.start_ms < to_ms)
        return _records(
            self.conn.execute(query.order_by(calendar_periods.c.start_ms, calendar_periods.c.id)), CalendarPeriodRow
        )

    def delete_period(self, period_id: int, deleted_ms: int, deleted_by: int | None = None) -> int:
        """Soft delete: the period stops counting; the row stays, with when and by whom."""
        return self.conn.execute(
            update(calendar_periods)
            .where(calendar_periods.c.id == period_id, calendar_periods.c.deleted_ms.is_(None))
            .values(deleted_ms=deleted_ms, deleted_by=deleted_by)
        ).rowcount

    def with_independent_devices(self, enterprise_ids: Iterable[int]) -> set[int]:
        """The enterprises having a device not enterprise_shared (bank-installed or third-party)."""
        query = (
            select(devices.c.enterprise_id)
            .distinct()
            .where(devices.c.enterprise_id.in_(list(enterprise_ids)), devices.c.source_mode != "enterprise_shared")
        )
        return {r[0] for r in self.conn.execute(query)}

    def set_site_timezone(self, site_id: int, timezone: str | None) -> None:
        self.conn.execute(update(sites).where(sites.c.id == site_id).values(timezone=timezone))

    def zoned_devices(self, default_zone: str) -> dict[int, str]:
        """{device id: zone} of the devices whose site is in another zone than the default (few)."""
        query = (
            select(devices.c.id, sites.c.timezone)
            .join(sites, sites.c.id == devices.c.site_id)
            .where(sites.c.timezone.is_not(None), sites.c.timezone != default_zone)
        )
        return {r[0]: r[1] for r in self.conn.execute(query)}

    def site_zones(self, enterprise_ids: Iterable[int]) -> dict[int, list[str]]:
        """{enterprise id: zones of its sites that name one}."""
        query = select(sites.c.enterprise_id, sites.c.timezone).where(
            sites.c.enterprise_id.in_(list(enterprise_ids)), sites.c.timezone.is_not(None)
        )
        out: dict[int, list[str]] = {}
        for enterprise_id, zone in self.conn.execute(query):
            out.setdefault(enterprise_id, []).append(zone)
        return out

    def set_service_dates(self, device_id: int, installed_ms: int | None, decommissioned_ms: int | None) -> None:
        self.conn.execute(
            update(devices)
            .where(devices.c.id == device_id)
            .values(installed_ms=installed_ms, decommissioned_ms=decommissioned_ms)
        )

    def out_of_service(self, device_ids: Iterable[int], at_ms: int) -> set[int]:
        """Devices not in service at `at_ms`: not installed yet, or decommissioned by then."""
        query = select(devices.c.id).where(
            devices.c.id.in_(list(device_ids)),
            or_(devices.c.installed_ms > at_ms, devices.c.decommissioned_ms <= at_ms),
        )
        return {r[0] for r in self.conn.execute(query)}
