"""The incremental plan: from dirty (device, day) pairs to the work of one update, and no more."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wuxin.indicators.days import month_of_day


@dataclass(frozen=True)
class Plan:
    device_runs: dict[int, list[tuple[int, int]]]  # device -> contiguous (first_day, last_day) runs
    enterprise_days: frozenset[tuple[int, int]]
    enterprise_months: frozenset[tuple[int, int]]


def runs(days: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted contiguous runs: [3, 4, 5, 9] -> [(3, 5), (9, 9)]."""
    out: list[list[int]] = []
    for day in sorted(set(days)):
        if out and day == out[-1][1] + 1:
            out[-1][1] = day
        else:
            out.append([day, day])
    return [(a, b) for a, b in out]


def plan_update(dirty: Iterable[tuple[int, int]], enterprise_of: dict[int, int]) -> Plan:
    """Device runs to recompute, then the enterprise days and months they touch."""
    by_device: dict[int, set[int]] = {}
    for device_id, day in dirty:
        by_device.setdefault(device_id, set()).add(day)
    enterprise_days = {(enterprise_of[d], day) for d, days in by_device.items() for day in days if d in enterprise_of}
    months = {(e, month_of_day(day)) for e, day in enterprise_days}
    return Plan({d: runs(days) for d, days in by_device.items()}, frozenset(enterprise_days), frozenset(months))


def index_groups(
    enterprise_days: Iterable[tuple[int, int]], peer_group_of: dict[int, tuple[str, str]]
) -> set[tuple[str, str, int]]:
    """(scenario, region, day) groups whose industry index an update must refresh."""
    return {(*peer_group_of[e], day) for e, day in enterprise_days if e in peer_group_of}
