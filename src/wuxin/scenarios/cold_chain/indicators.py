"""Cold-chain indicators: whether the goods stayed in their temperature range, how long doors stood open, how full
the cold rooms are, what the refrigeration spends per tonne held, and whether the reefers ran for the whole trip.
The goods' range is each logger's install attributes (`temp_min_c`, `temp_max_c`, from goods.json)."""

from __future__ import annotations

import numpy as np

from wuxin.indicators.common import MINUTE_MS, DayValues, attribute, counter_delta, daily, held_hours, held_share
from wuxin.indicators.declare import Derived, Indicator, label
from wuxin.indicators.series import DeviceDays

LOGGER, DOOR, METER = "cold_chain.temp_logger", "cold_chain.door_sensor", "cold_chain.refrigeration_meter"
RFID, SCALE, REEFER = "cold_chain.rfid_reader", "cold_chain.scale", "cold_chain.reefer_unit"
LOGGER_MAX_GAP_MS = 20 * MINUTE_MS  # loggers record every 5 minutes
DOOR_MAX_GAP_MS = 30 * MINUTE_MS  # door sensors send each change and their state every 15 minutes
METER_MAX_GAP_MS = 30 * MINUTE_MS
STOCK_MAX_GAP_MS = 60 * MINUTE_MS
REEFER_MAX_GAP_MS = 40 * MINUTE_MS  # telematics every 5 min on the road, every 30 min parked
MOVING_KMH = 3.0  # above GPS drift at a standstill


def in_range_share(data: DeviceDays) -> DayValues:
    """Share of the observed minutes the air was within the goods' range."""
    low, high = attribute(data, "temp_min_c"), attribute(data, "temp_max_c")
    low = -np.inf if np.isnan(low) else low
    high = np.inf if np.isnan(high) else high
    return held_share(data, "temp_c", lambda t: (t >= low) & (t <= high), LOGGER_MAX_GAP_MS)


def out_of_range_h(data: DeviceDays) -> DayValues:
    low, high = attribute(data, "temp_min_c"), attribute(data, "temp_max_c")
    low = -np.inf if np.isnan(low) else low
    high = np.inf if np.isnan(high) else high
    return held_hours(data, "temp_c", lambda t: (t < low) | (t > high), LOGGER_MAX_GAP_MS)


def door_open_min(data: DeviceDays) -> DayValues:
    hours = held_hours(data, "door_open", lambda v: v >= 1, DOOR_MAX_GAP_MS)
    return DayValues(hours.value * 60.0, hours.quality)


def refrigeration_kwh(data: DeviceDays) -> DayValues:
    return counter_delta(data, "energy_kwh_total", METER_MAX_GAP_MS)


def stock_pallets(data: DeviceDays) -> DayValues:
    """Pallets present, on average over the day (a day's storage is what the refrigeration kept cold)."""
    return daily(data, "tag_count", "mean", STOCK_MAX_GAP_MS)


def stock_t(data: DeviceDays) -> DayValues:
    """Tonnes held: the day's mean pallet count times the goods' net kg per pallet."""
    pallets = stock_pallets(data)
    return DayValues(pallets.value * attribute(data, "pallet_kg") / 1000.0, pallets.quality)


def utilisation(data: DeviceDays) -> DayValues:
    """Mean pallets over the room's pallet positions."""
    pallets = stock_pallets(data)
    return DayValues(pallets.value / attribute(data, "capacity_pallets"), pallets.quality)


def pledged_stack_kg(data: DeviceDays) -> DayValues:
    return daily(data, "weight_kg", "last", STOCK_MAX_GAP_MS)


def reefer_on_h(data: DeviceDays) -> DayValues:
    return held_hours(data, "unit_on", lambda v: v >= 1, REEFER_MAX_GAP_MS)


def trip_h(data: DeviceDays) -> DayValues:
    return held_hours(data, "speed_kmh", lambda v: v > MOVING_KMH, REEFER_MAX_GAP_MS)


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


INDICATORS = (
    Indicator(
        "temp_in_range_ratio",
        "1",
        label("温度达标时间占比", "Share of time in the goods' range"),
        LOGGER,
        ("temp_c",),
        in_range_share,
        "mean",
    ),
    Indicator(
        "temp_out_of_range_h",
        "h",
        label("温度超标时长", "Hours out of the goods' range"),
        LOGGER,
        ("temp_c",),
        out_of_range_h,
        "sum",
    ),
    Indicator(
        "door_open_min", "min", label("开门时长", "Door-open minutes"), DOOR, ("door_open",), door_open_min, "sum"
    ),
    Indicator(
        "refrigeration_kwh",
        "kWh",
        label("制冷用电量", "Refrigeration energy"),
        METER,
        ("energy_kwh_total",),
        refrigeration_kwh,
        "sum",
    ),
    Indicator(
        "stock_pallets",
        "units",
        label("在库托盘数(RFID)", "Pallets in store (RFID)"),
        RFID,
        ("tag_count",),
        stock_pallets,
        "sum",
        month="mean",
    ),
    Indicator("stock_t", "t", label("在库货量", "Tonnes in store"), RFID, ("tag_count",), stock_t, "sum", month="mean"),
    Indicator(
        "room_utilisation_ratio",
        "1",
        label("冷库利用率", "Cold-room utilisation"),
        RFID,
        ("tag_count",),
        utilisation,
        "mean",
    ),
    Indicator(
        "pledged_stack_kg",
        "kg",
        label("质押货垛称重", "Pledged stack weight"),
        SCALE,
        ("weight_kg",),
        pledged_stack_kg,
        "sum",
        month="mean",
    ),
    Indicator("reefer_on_h", "h", label("冷机运行时长", "Reefer-on hours"), REEFER, ("unit_on",), reefer_on_h, "sum"),
    Indicator("trip_h", "h", label("行驶时长", "Hours driving"), REEFER, ("speed_kmh",), trip_h, "sum"),
)
DERIVED = (
    Derived(
        "refrigeration_kwh_per_t",
        "kWh/t",
        label("每吨日制冷电耗", "Refrigeration kWh per tonne held"),
        ("refrigeration_kwh", "stock_t"),
        _ratio,
    ),
    Derived(
        "reefer_on_trip_ratio",
        "1",
        label("冷机运行/行驶时长比", "Reefer-on hours over hours driving"),
        ("reefer_on_h", "trip_h"),
        _ratio,
    ),
)
INDEX = ("stock_t", "temp_in_range_ratio")
