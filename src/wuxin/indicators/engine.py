"""Device-days to values, and the enterprise aggregates of a day and of a month (pure)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from wuxin.indicators.days import day_start_ms, month_days
from wuxin.indicators.declare import DEVICES_PREFIX, DayValues, Derived, GroupIndicator, Indicator, IndicatorPack
from wuxin.indicators.kernels import Q_COMPLETE, Q_PARTIAL, Q_UNKNOWN, count_per_day, worst
from wuxin.indicators.series import DeviceDays


@dataclass(frozen=True)
class DayRow:
    """One indicator value of one day: None is unknown (never 0)."""

    day: int
    name: str
    value: float | None
    quality: str
    points: int  # input readings and events behind the value


@dataclass(frozen=True)
class AggregateRow:
    name: str
    value: float | None
    quality: str
    devices: int  # devices (or days, for a month) behind the value


def input_points(data: DeviceDays) -> np.ndarray:
    """Readings and events of the device's inputs in each day."""
    total = np.zeros(len(data.days))
    for series in data.series.values():
        total += count_per_day(series.ts, data.days)
    for events in data.events.values():
        total += count_per_day(events.ts, data.days)
    return total


def compute_device_days(decls: Iterable[Indicator], data: DeviceDays) -> list[DayRow]:
    """Run each declaration's function over the device's days; a value with no input is unknown."""
    points = input_points(data)
    rows = []
    for decl in decls:
        result = _checked(decl.name, decl.compute(data), len(data.days))
        rows += _rows(decl.name, data.days, result, points)
    return rows


def compute_group_days(decl: GroupIndicator, members: list[DeviceDays]) -> list[DayRow]:
    """A group declaration over all devices of its type in one enterprise (same days each)."""
    days = members[0].days
    points = sum((input_points(m) for m in members), np.zeros(len(days)))
    return _rows(decl.name, days, _checked(decl.name, decl.compute(members), len(days)), points)


def _checked(name: str, result: DayValues, n: int) -> DayValues:
    if len(result.value) != n or len(result.quality) != n:
        raise ValueError(f"indicator {name} returned {len(result.value)} values for {n} days")
    return result


def _rows(name: str, days: np.ndarray, result: DayValues, points: np.ndarray) -> list[DayRow]:
    rows = []
    for day, value, q, p in zip(days.tolist(), result.value.tolist(), result.quality.tolist(), points.tolist()):
        known = value is not None and math.isfinite(value)
        rows.append(DayRow(day, name, float(value) if known else None, q if known else Q_UNKNOWN, int(p)))
    return rows


def aggregate_enterprise_day(
    pack: IndicatorPack,
    device_values: list[tuple[str, str, float | None, str]],
    devices_per_type: dict[str, int],
    group_values: dict[str, tuple[float | None, str]],
) -> list[AggregateRow]:
    """Combine device values (device_type, name, value, quality) of one enterprise and day;
    fewer devices than installed, or a partial device, make the aggregate partial."""
    by_name: dict[str, list[tuple[float | None, str]]] = {}
    for _, name, value, q in device_values:
        by_name.setdefault(name, []).append((value, q))
    out: dict[str, AggregateRow] = {}
    for decl in pack.indicators:
        expected = devices_per_type.get(decl.device_type, 0)
        if expected:
            out[decl.name] = _aggregate(decl, by_name.get(decl.name, []), expected)
    for group in pack.groups:
        if devices_per_type.get(group.device_type, 0):
            value, q = group_values.get(group.name, (None, Q_UNKNOWN))
            out[group.name] = AggregateRow(
                group.name, value, q if value is not None else Q_UNKNOWN, devices_per_type[group.device_type]
            )
    for derived in pack.derived:
        row = _derived(derived, out)
        if row is not None:
            out[derived.name] = row
    return list(out.values())


def _aggregate(decl: Indicator, values: list[tuple[float | None, str]], expected: int) -> AggregateRow:
    known = [(v, q) for v, q in values if v is not None]
    if not known:
        return AggregateRow(decl.name, None, Q_UNKNOWN, 0)
    numbers = [v for v, _ in known]
    value = (
        sum(numbers)
        if decl.aggregation == "sum"
        else max(numbers)
        if decl.aggregation == "max"
        else sum(numbers) / len(numbers)
    )
    complete = len(known) >= expected and all(q == Q_COMPLETE for _, q in known)
    return AggregateRow(decl.name, value, Q_COMPLETE if complete else Q_PARTIAL, len(known))


def _derived(decl: Derived, rows: dict[str, AggregateRow]) -> AggregateRow | None:
    args, qualities = [], []
    for name in decl.inputs:
        row = rows.get(name.removeprefix(DEVICES_PREFIX))
        if row is None:
            return None  # the enterprise has no device feeding this input at all
        args.append(float(row.devices) if name.startswith(DEVICES_PREFIX) else row.value)
        qualities.append(row.quality)
    value = None if any(a is None for a in args) else decl.compute(*args)
    if value is None or not math.isfinite(value):
        return AggregateRow(decl.name, None, Q_UNKNOWN, 0)
    return AggregateRow(decl.name, float(value), worst(qualities), 0)


def aggregate_month(
    pack: IndicatorPack, month: int, day_rows: dict[str, list[tuple[int, float | None, str]]], now_ms: int
) -> list[AggregateRow]:
    """Month values from the enterprise's day values: complete only for a finished month whose
    every day is complete; `devices` holds the number of days with a value."""
    days = month_days(month)
    finished = now_ms >= day_start_ms(days.stop)
    out = []
    for decl in pack.all():
        rows = day_rows.get(decl.name)
        if not rows:
            continue
        known = [(d, v, q) for d, v, q in rows if v is not None and d in days]
        if not known:
            out.append(AggregateRow(decl.name, None, Q_UNKNOWN, 0))
            continue
        values = [v for _, v, _ in known]
        how = decl.month_method
        value = sum(values) if how == "sum" else max(values) if how == "max" else sum(values) / len(values)
        complete = finished and len(known) == len(days) and all(q == Q_COMPLETE for *_, q in known)
        out.append(AggregateRow(decl.name, value, Q_COMPLETE if complete else Q_PARTIAL, len(known)))
    return out
