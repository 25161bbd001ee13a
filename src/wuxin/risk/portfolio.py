"""The risk workbench's table, pure: one row per borrower, then search, filter, sort and pages.

A row is a plain dict built by `services/credit/portfolio.py` from stored data; a figure that cannot be computed is None
(shown as "—"), never 0. Sorting puts None last in both directions, so a missing figure never passes for the best
or the worst. Column codes are the API's sort keys and the labels' kind `portfolio_column` (zh-CN and en headers of
the console and of the exports come from one place).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wuxin.alerts.rules import SEVERITIES
from wuxin.errors import InvalidInput
from wuxin.risk.products import GRADES, OUTCOMES

# Sortable columns, in the order the console and the exports show them.
COLUMNS = (
    "watched",
    "name",
    "industry",
    "outcome",
    "grade",
    "score",
    "score_change",
    "exposure_cny",
    "limit_use_ratio",
    "activity_trend_ratio",
    "alarms_critical",
    "alarms_open",
    "evidence_coverage_ratio",
    "online_share_ratio",
    "pledge_coverage_ratio",
)
# Further export-only columns (the page shows these inside the cells above).
EXPORT_ONLY = (
    "region",
    "previous_grade",
    "limit_cny",
    "alarms_major",
    "alarms_minor",
    "alarms_warning",
    "devices_online",
    "devices",
    "pledged_value_cny",
    "decided_day",
)
PAGE_SIZE_MAX = 200
TREND_RECENT_DAYS = 7  # activity trend: the mean of the last 7 days with data over the window's mean
TREND_MIN_DAYS = 3  # fewer known days than this on either side: no trend (None)
OUTCOME_ORDER = {o: i for i, o in enumerate(OUTCOMES)}  # approve < refer < decline
GRADE_ORDER = {g: i for i, g in enumerate(GRADES)}  # AAA first (best)


@dataclass(frozen=True)
class Query:
    """What the officer asked for: search text, filters, sort column and direction, page."""

    q: str | None = None
    industry: str | None = None
    outcome: str | None = None
    critical_only: bool = False
    watched_only: bool = False
    sort: str = "exposure_cny"
    order: str = "desc"
    page: int = 1
    page_size: int = 50


def check_query(query: Query) -> Query:
    """The query if every part is one the table knows; InvalidInput naming the part and the value otherwise."""
    if query.sort not in COLUMNS:
        raise InvalidInput(f"sort {query.sort!r} is not one of {list(COLUMNS)}")
    if query.order not in ("asc", "desc"):
        raise InvalidInput(f"order {query.order!r} is not asc or desc")
    if query.outcome is not None and query.outcome not in (*OUTCOMES, "none"):
        raise InvalidInput(f"outcome {query.outcome!r} is not one of {[*OUTCOMES, 'none']}")
    if not 1 <= query.page_size <= PAGE_SIZE_MAX:
        raise InvalidInput(f"page_size {query.page_size} is not between 1 and {PAGE_SIZE_MAX}")
    if query.page < 1:
        raise InvalidInput(f"page {query.page} is below 1")
    return query


def matches(row: dict, query: Query) -> bool:
    """Whether the row passes the search text (name, case-folded) and every filter asked."""
    if query.q and query.q.strip().casefold() not in row["name"].casefold():
        return False
    if query.industry and row["industry"] != query.industry:
        return False
    if query.outcome and (row["decision"] or {}).get("outcome", "none") != query.outcome:
        return False
    if query.critical_only and not row["alarms_open"]["critical"]:
        return False
    return not (query.watched_only and not row["watched"])


def sort_key(column: str) -> Callable[[dict], Any]:
    """The comparable value of a column (None where the figure is missing)."""
    return SORT_VALUES[column]


def _decision(field: str) -> Callable[[dict], Any]:
    return lambda row: (row["decision"] or {}).get(field)


def _number(field: str) -> Callable[[dict], Any]:
    return lambda row: None if row[field] is None else Decimal(str(row[field]))


SORT_VALUES: dict[str, Callable[[dict], Any]] = {
    "watched": lambda row: row["watched"],
    "name": lambda row: row["name"].casefold(),
    "industry": lambda row: row["industry"],
    "outcome": lambda row: OUTCOME_ORDER.get(_decision("outcome")(row)),
    # better grades sort as larger: "desc" puts AAA first, like scores
    "grade": lambda row: (
        None if _decision("grade")(row) is None else -GRADE_ORDER.get(_decision("grade")(row), len(GRADES))
    ),
    "score": _decision("score"),
    "score_change": _decision("score_change"),
    "exposure_cny": _number("exposure_cny"),
    "limit_use_ratio": _number("limit_use_ratio"),
    "activity_trend_ratio": lambda row: row["activity"]["trend_ratio"],
    "alarms_critical": lambda row: row["alarms_open"]["critical"],
    "alarms_open": lambda row: row["alarms_open"]["total"],
    "evidence_coverage_ratio": _number("evidence_coverage_ratio"),
    "online_share_ratio": _number("online_share_ratio"),
    "pledge_coverage_ratio": _number("pledge_coverage_ratio"),
}


def sorted_rows(rows: list[dict], column: str, order: str) -> list[dict]:
    """Rows by the column, missing figures last whichever the direction; ties by name, then id."""
    key = sort_key(column)
    known = [r for r in rows if key(r) is not None]
    missing = [r for r in rows if key(r) is None]
    by_name = sorted(known, key=lambda r: (r["name"], r["enterprise_id"]))
    ranked = sorted(by_name, key=key, reverse=order == "desc")
    return ranked + sorted(missing, key=lambda r: (r["name"], r["enterprise_id"]))


def select(rows: list[dict], query: Query) -> list[dict]:
    """Every row the query matches, in its order (what a page is cut from and what an export writes)."""
    return sorted_rows([r for r in rows if matches(r, query)], query.sort, query.order)


def page_of(rows: list[dict], query: Query) -> dict:
    """One page of the selected rows, with the total count and the number of pages."""
    chosen = select(rows, query)
    start = (query.page - 1) * query.page_size
    return {
        "items": chosen[start : start + query.page_size],
        "total": len(chosen),
        "page": query.page,
        "page_size": query.page_size,
        "pages": max(1, -(-len(chosen) // query.page_size)),
        "sort": query.sort,
        "order": query.order,
    }


# ---------------------------------------------------------------- figures of one row


def ratio(part: Decimal | float | int | None, whole: Decimal | float | int | None, places: int = 4) -> float | None:
    """part / whole rounded, None when either is missing or the whole is not above 0."""
    if part is None or whole is None or Decimal(str(whole)) <= 0:
        return None
    return round(float(Decimal(str(part)) / Decimal(str(whole))), places)


def activity_trend_ratio(values: list[float | None]) -> float | None:
    """The mean of the window's last TREND_RECENT_DAYS days (those with data) over the mean of every day with data in
    the window (1.0: steady; 0.5: half the usual activity lately). None with too few known days, recent or in all, or
    a window mean of 0: a firm gone quiet shows no trend and a low evidence coverage, never a steady 1.0."""
    known = [v for v in values if v is not None]
    recent = [v for v in values[-TREND_RECENT_DAYS:] if v is not None]
    if len(known) < TREND_MIN_DAYS + TREND_RECENT_DAYS or len(recent) < TREND_MIN_DAYS:
        return None
    return ratio(sum(recent) / len(recent), sum(known) / len(known), 3)


def grade_change(previous: str | None, latest: str | None) -> int | None:
    """Notches moved from the previous decision's grade: negative a downgrade, positive an upgrade, None if either
    is missing. `grade_change('BBB', 'BB') == -1`."""
    if previous not in GRADE_ORDER or latest not in GRADE_ORDER:
        return None
    return GRADE_ORDER[previous] - GRADE_ORDER[latest]


def open_alarm_counts(severities: list[str]) -> dict[str, int]:
    """Counts of open alarms by severity (every severity present, 0 when none: an alarm count is known) and total."""
    counts = {s: 0 for s in SEVERITIES}
    for s in severities:
        counts[s] = counts.get(s, 0) + 1
    return counts | {"total": len(severities)}
