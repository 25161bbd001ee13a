"""Manufacturing indicators: machine run hours and utilization (开工率), energy, output."""

from __future__ import annotations

import numpy as np

from wuxin.indicators.common import MINUTE_MS, DayValues, attribute, counter_delta, held_hours, held_share, scaled
from wuxin.indicators.declare import Indicator, label
from wuxin.indicators.series import DeviceDays

BRACELET = "manufacturing.current_bracelet"
METER = "manufacturing.energy_meter"
COUNTER = "manufacturing.output_counter"
# A bracelet reports every minute; a reading stands for at most this long, then time is unobserved.
BRACELET_MAX_GAP_MS = 5 * MINUTE_MS
COUNTER_MAX_GAP_MS = 60 * MINUTE_MS


def _running(data: DeviceDays):
    threshold = attribute(data, "run_threshold_a")  # NaN without the install attribute: nothing counts as running
    return lambda current: current >= threshold


def run_hours(data: DeviceDays) -> DayValues:
    """Hours the machine drew at least its run threshold (time-weighted)."""
    result = held_hours(data, "current_a", _running(data), BRACELET_MAX_GAP_MS)
    if np.isnan(attribute(data, "run_threshold_a")):
        return DayValues(np.full(len(data.days), np.nan), result.quality)
    return result


def utilization_rate(data: DeviceDays) -> DayValues:
    """Share of the observed time the machine ran (开工率)."""
    result = held_share(data, "current_a", _running(data), BRACELET_MAX_GAP_MS)
    if np.isnan(attribute(data, "run_threshold_a")):
        return DayValues(np.full(len(data.days), np.nan), result.quality)
    return result


def energy_kwh(data: DeviceDays) -> DayValues:
    return counter_delta(data, "energy_kwh_total", COUNTER_MAX_GAP_MS)


def output_units(data: DeviceDays) -> DayValues:
    return counter_delta(data, "output_count_total", COUNTER_MAX_GAP_MS)


def output_value_cny(data: DeviceDays) -> DayValues:
    return scaled(output_units(data), attribute(data, "unit_price_cny"))


INDICATORS = (
    Indicator(
        "run_hours",
        "h",
        label("日运行时长(每台)", "Run hours per machine"),
        BRACELET,
        ("current_a",),
        run_hours,
        "mean",
    ),
    Indicator(
        "utilization_rate", "1", label("开工率", "Utilization"), BRACELET, ("current_a",), utilization_rate, "mean"
    ),
    Indicator("energy_kwh", "kWh", label("用电量", "Energy"), METER, ("energy_kwh_total",), energy_kwh, "sum"),
    Indicator("output_units", "units", label("产量", "Output"), COUNTER, ("output_count_total",), output_units, "sum"),
    Indicator(
        "output_value_cny",
        "CNY",
        label("产值", "Output value"),
        COUNTER,
        ("output_count_total",),
        output_value_cny,
        "sum",
    ),
)
INDEX = ("run_hours", "utilization_rate")
