"""A firm's own working weekdays, learnt from its machines' history; pure.

A firm that never works Sundays must raise nothing on a Sunday, whatever one always-on machine (a compressor, a
boiler) does. A past day counts as worked by the firm when at least `quorum` of its machines with a value that day
ran at least `rest_share` of their own usual high (the 90th percentile of their own days; a machine silent that day
votes "not worked"); a weekday is one of the
firm's rest weekdays when it was not worked on more than half of its past occurrences, given at least `min_weeks` of
them. Official make-up working days (调休) are judged whatever the weekday; holidays and declared periods are taken
out by the caller (calendars/periods.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from wuxin.alerts.change import weekday

WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def worked_days(
    series: Mapping[int, Sequence[tuple[int, float]]], before_day: int, rest_share: float, quorum: float = 0.5
) -> dict[int, bool]:
    """{past day: did the firm work} over the days before `before_day` since its machines' first values. A machine
    silent on a day inside its own span votes "not worked" (a bracelet switched off with its machine every Sunday
    is a rest pattern; one outage among the weeks is outvoted), a machine that never ran does not vote."""
    votes: dict[int, list[bool]] = {}
    for points in series.values():
        past = {d: v for d, v in points if d < before_day}
        high = float(np.quantile(list(past.values()), 0.9)) if past else 0.0
        if high <= 0:
            continue
        for d in range(min(past), before_day):
            votes.setdefault(d, []).append(d in past and past[d] >= rest_share * high)
    return {d: sum(v) >= quorum * len(v) for d, v in votes.items()}


def rest_weekdays(
    series: Mapping[int, Sequence[tuple[int, float]]],
    before_day: int,
    rest_share: float,
    min_weeks: int = 3,
    quorum: float = 0.5,
) -> frozenset[int]:
    """The weekdays (0 = Monday) the firm mostly rests on, from its machines' days before `before_day`."""
    by_weekday: dict[int, list[bool]] = {}
    for d, worked in worked_days(series, before_day, rest_share, quorum).items():
        by_weekday.setdefault(weekday(d), []).append(worked)
    return frozenset(w for w, days in by_weekday.items() if len(days) >= min_weeks and sum(days) * 2 < len(days))


def weekday_names(days: frozenset[int]) -> dict[str, str]:
    ordered = sorted(days)
    return {
        "en": ", ".join(WEEKDAYS_EN[w] for w in ordered) or "none",
        "zh": "、".join(WEEKDAYS_ZH[w] for w in ordered) or "无",
    }
