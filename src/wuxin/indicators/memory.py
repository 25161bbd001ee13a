"""Bulk-import lines to DeviceDays without a database (benchmarks, tests, offline checks)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from wuxin.indicators.days import local_day
from wuxin.indicators.series import DeviceDays, Events, Series


def collect(lines: Iterable[dict]) -> tuple[dict[str, dict[str, list]], dict[str, dict[str, list]]]:
    """{device: {property: [(ts, value)]}} and {device: {event: [(ts, params)]}} from lines with
    integer ts (as the simulators write them)."""
    values: dict[str, dict[str, list]] = {}
    events: dict[str, dict[str, list]] = {}
    for line in lines:
        if "values" in line:
            mine = values.setdefault(line["device"], {})
            for k, v in line["values"].items():
                mine.setdefault(k, []).append((line["ts"], v))
        else:
            events.setdefault(line["device"], {}).setdefault(line["event"], []).append(
                (line["ts"], line.get("params") or {})
            )
    return values, events


def series_of(points: list[tuple[int, object]]) -> Series:
    """Numbers (bools as 0/1) go to num, anything else to txt; sorted, duplicates dropped."""
    ts = [p[0] for p in points]
    numeric = [float(v) if isinstance(v, (int, float)) else np.nan for _, v in points]
    text = [v if isinstance(v, str) else None for _, v in points]
    return Series.of(ts, numeric, text)


def device_days(
    key: str,
    device_type: str,
    attributes: dict,
    values: dict[str, list],
    events: dict[str, list],
    days: np.ndarray | None = None,
    siblings=(),
    now_ms: int = 2**62,
) -> DeviceDays:
    """A DeviceDays over the given days (default: every day with a point)."""
    series = {k: series_of(v) for k, v in values.items()}
    evs = {n: Events.of(p) for n, p in events.items()}
    if days is None:
        stamps = np.concatenate(
            [s.ts for s in series.values()] + [e.ts for e in evs.values()] + [np.zeros(0, np.int64)]
        )
        days = np.unique(local_day(stamps)) if len(stamps) else np.zeros(0, dtype=np.int64)
    return DeviceDays(
        key, device_type, attributes, np.asarray(days, dtype=np.int64), series, evs, tuple(siblings), now_ms
    )
