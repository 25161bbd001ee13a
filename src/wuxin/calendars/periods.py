"""Which days and moments a firm's calendar takes out of judgement; pure.

A declared period (shutdown, maintenance, holiday_extra) covers the whole enterprise, one site or one device, over
[start_ms, end_ms). A day is excluded from a baseline, and not judged, when such a period overlaps the local day; with
the official calendar on (rules on work that follows it: mileage, utilisation), PRC statutory holidays and days off in
lieu are excluded too, and a make-up working Saturday is judged as a workday even where the firm usually rests on
Saturdays (ordinary weekends are left to the firm's own rest pattern, learnt from its data: many work them). Each
exclusion carries its reason, for the alarm's explanation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from wuxin.calendars.official import CalendarNotCovered, official_day_number
from wuxin.indicators.days import day_start_ms

PERIOD_KINDS = ("shutdown", "maintenance", "holiday_extra")


@dataclass(frozen=True)
class Period:
    kind: str
    start_ms: int
    end_ms: int
    note: str = ""
    site_id: int | None = None
    device_id: int | None = None
    by_enterprise: bool = False  # declared by the enterprise itself: never binds a device it does not control

    @staticmethod
    def of(row: Mapping) -> Period:
        return Period(
            row["kind"],
            int(row["start_ms"]),
            int(row["end_ms"]),
            row.get("note") or "",
            row.get("site_id"),
            row.get("device_id"),
            bool(row.get("declared_by_enterprise")),
        )

    def covers(self, device_id: int | None = None, site_id: int | None = None) -> bool:
        """Does the period apply to this device (or site; both None: the enterprise as a whole)?"""
        if self.device_id is not None:
            return self.device_id == device_id
        if self.site_id is not None:
            return site_id is None and device_id is None or self.site_id == site_id
        return True


def binding(periods: Iterable[Period], independent: bool) -> list[Period]:
    """The periods that may take data out of judgement: all for an enterprise_shared device (or an enterprise-level
    rule over such devices only); for a bank-installed or third-party device (or a rule over any such device) only
    those the bank side declared (admin, integrator, operator), never the borrower's own."""
    return [p for p in periods if not (independent and p.by_enterprise)]


def period_at(
    periods: Iterable[Period],
    ts_ms: int,
    device_id: int | None = None,
    site_id: int | None = None,
    kinds: Sequence[str] = PERIOD_KINDS,
) -> Period | None:
    """The declared period in force at `ts_ms` for the device, if any."""
    for p in periods:
        if p.kind in kinds and p.start_ms <= ts_ms < p.end_ms and p.covers(device_id, site_id):
            return p
    return None


def day_exclusion(
    day: int,
    zone: str,
    periods: Iterable[Period],
    official: bool,
    device_id: int | None = None,
    site_id: int | None = None,
) -> dict | None:
    """Why `day` (local in `zone`) is out of judgement, or None for an ordinary working day."""
    start, end = day_start_ms(day, zone), day_start_ms(day + 1, zone)
    for p in periods:
        if p.start_ms < end and p.end_ms > start and p.covers(device_id, site_id):
            return {"day": int(day), "reason": p.kind, "note": p.note}
    if not official:
        return None
    try:
        kind = official_day_number(day)
    except CalendarNotCovered:
        return (
            None  # no holiday known for the year: judged as an ordinary day (the firm's own rest pattern still holds)
        )
    if kind.kind != "holiday":
        return None
    return {"day": int(day), "reason": "holiday", "holiday": {"en": kind.holiday_en, "zh": kind.holiday_zh}}


def makeup_workdays(days: Iterable[int]) -> frozenset[int]:
    """The days among `days` that are official make-up working days (a Saturday worked for the Spring Festival)."""
    out = set()
    for day in days:
        try:
            if official_day_number(day).makeup:
                out.add(int(day))
        except CalendarNotCovered:
            continue
    return frozenset(out)


def excluded_days(
    days: Iterable[int],
    zone: str,
    periods: Sequence[Period],
    official: bool,
    device_id: int | None = None,
    site_id: int | None = None,
) -> dict[int, dict]:
    """{day: its exclusion} for the days out of judgement."""
    out = {}
    for day in days:
        why = day_exclusion(day, zone, periods, official, device_id, site_id)
        if why:
            out[int(day)] = why
    return out
