"""The workbench table's pure parts: missing figures sort last both ways, the activity trend, grade notches, queries."""

from __future__ import annotations

import pytest

from wuxin.errors import InvalidInput
from wuxin.risk.portfolio import Query, activity_trend_ratio, check_query, grade_change, page_of, ratio, select


def _row(
    eid: int, name: str, exposure: str | None, grade: str | None = None, critical: int = 0, watched: bool = False
) -> dict:
    return {
        "enterprise_id": eid,
        "name": name,
        "industry": "dairy",
        "watched": watched,
        "exposure_cny": exposure,
        "decision": None
        if grade is None
        else {"grade": grade, "outcome": "approve", "score": 600.0, "score_change": None},
        "alarms_open": {"critical": critical, "total": critical},
        "activity": {"trend_ratio": None},
    }


ROWS = [_row(1, "乙", "100.00", "BB"), _row(2, "甲", None), _row(3, "丙", "300.00", "AAA", critical=1, watched=True)]


def test_missing_figures_sort_last_in_both_directions():
    assert [r["enterprise_id"] for r in select(ROWS, Query(sort="exposure_cny", order="desc"))] == [3, 1, 2]
    assert [r["enterprise_id"] for r in select(ROWS, Query(sort="exposure_cny", order="asc"))] == [1, 3, 2]
    assert [r["enterprise_id"] for r in select(ROWS, Query(sort="grade", order="desc"))] == [3, 1, 2]  # AAA first
    assert [r["enterprise_id"] for r in select(ROWS, Query(sort="grade", order="asc"))] == [1, 3, 2]


def test_filters_and_pages():
    assert [r["enterprise_id"] for r in select(ROWS, Query(critical_only=True))] == [3]
    assert [r["enterprise_id"] for r in select(ROWS, Query(outcome="none"))] == [2]
    assert [r["enterprise_id"] for r in select(ROWS, Query(q="甲"))] == [2]
    assert [r["enterprise_id"] for r in select(ROWS, Query(watched_only=True))] == [3]
    page = page_of(ROWS, Query(sort="name", order="asc", page=2, page_size=2))
    assert (page["total"], page["pages"], [r["enterprise_id"] for r in page["items"]]) == (3, 2, [2])  # 丙 乙 | 甲


def test_the_activity_trend_needs_enough_days_and_never_reads_a_gap_as_zero():
    assert activity_trend_ratio([10.0] * 30) == 1.0
    assert activity_trend_ratio([10.0] * 23 + [5.0] * 7) == pytest.approx(5 / ((23 * 10 + 35) / 30), abs=1e-3)
    assert activity_trend_ratio([None] * 25 + [10.0] * 5) is None  # too few days for a baseline
    assert activity_trend_ratio([10.0] * 20 + [None] * 10) is None  # gone quiet: no trend, not a steady 1.0
    assert activity_trend_ratio([10.0] * 25 + [None, 5.0, None, 5.0, 5.0]) == pytest.approx(
        7 / (265 / 28), abs=1e-3
    )  # last 7 days: 10 10 - 5 - 5 5
    assert activity_trend_ratio([0.0] * 30) is None


def test_grade_notches_ratios_and_bad_queries():
    assert (grade_change("BBB", "BB"), grade_change("B", "A"), grade_change(None, "A")) == (-1, 3, None)
    assert (ratio(1, 3), ratio(1, 0), ratio(None, 3)) == (0.3333, None, None)
    for bad, word in (
        (Query(sort="password"), "sort 'password'"),
        (Query(order="up"), "order 'up'"),
        (Query(page_size=201), "page_size 201"),
        (Query(outcome="maybe"), "outcome 'maybe'"),
    ):
        with pytest.raises(InvalidInput, match=word):
            check_query(bad)
