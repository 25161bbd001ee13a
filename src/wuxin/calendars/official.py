"""The official PRC holiday calendar with its make-up working days (调休), from the maintained `chinesecalendar`
package (pinned; its data follow the State Council's yearly notice). One question: what kind of day is a date?

  workday   an ordinary Monday-Friday, or a make-up working Saturday/Sunday (`makeup`: True)
  holiday   a statutory holiday or a day off in lieu (Spring Festival, National Day ...), named in zh and en
  rest_day  an ordinary weekend day

A year the package does not cover (the notice for the next year comes out in November) raises CalendarNotCovered:
the caller decides (the rules fall back to weekdays and say so) rather than guessing a holiday.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar

from wuxin.errors import InvalidInput

ZH_NAMES = {h.value: h.chinese for h in chinese_calendar.Holiday}


class CalendarNotCovered(InvalidInput):
    """The official calendar has no data for the year asked."""


@dataclass(frozen=True)
class OfficialDay:
    date: dt.date
    kind: str  # workday | holiday | rest_day
    holiday_en: str | None = None
    holiday_zh: str | None = None
    makeup: bool = False  # a weekend day worked in exchange for a holiday

    @property
    def working(self) -> bool:
        return self.kind == "workday"

    def public(self) -> dict:
        return {
            "date": self.date.isoformat(),
            "kind": self.kind,
            "holiday": {"en": self.holiday_en, "zh": self.holiday_zh} if self.holiday_en else None,
            "makeup_workday": self.makeup,
        }


def covered_years() -> tuple[int, int]:
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


@lru_cache(maxsize=8192)
def official_day(date: dt.date) -> OfficialDay:
    """The kind of `date` in the PRC calendar; CalendarNotCovered for a year outside the package's data."""
    first, last = covered_years()
    if not first <= date.year <= last:
        raise CalendarNotCovered(
            f"the official PRC holiday calendar (chinesecalendar {chinese_calendar.__version__}) "
            f"covers {first}-{last}, not {date.isoformat()}; update the package when the State "
            "Council publishes the year's notice"
        )
    weekend = date.weekday() >= 5
    if date in chinese_calendar.workdays:
        name = chinese_calendar.workdays[date]
        return OfficialDay(date, "workday", name, ZH_NAMES.get(name), makeup=weekend)
    if date in chinese_calendar.holidays:
        name = chinese_calendar.holidays[date]
        return OfficialDay(date, "holiday", name, ZH_NAMES.get(name))
    return OfficialDay(date, "rest_day" if weekend else "workday")


def official_day_number(day: int) -> OfficialDay:
    """The same for a local day number (days since 1970-01-01)."""
    return official_day(dt.date(1970, 1, 1) + dt.timedelta(days=int(day)))
