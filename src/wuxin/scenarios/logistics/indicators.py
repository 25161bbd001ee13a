"""Warehouse indicators: flows by AI camera and weighbridge, stock by RFID and lidar, and the
reconciliation of pledged stock with the WMS and the price index (business data, passed in)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wuxin.indicators.common import MINUTE_MS, DayValues, coverage, daily, event_param_sum
from wuxin.indicators.days import LOOKBACK_MS
from wuxin.indicators.declare import Derived, Indicator, label
from wuxin.indicators.kernels import quality, reduce_per_day
from wuxin.indicators.series import DeviceDays

CAMERA, RFID, LIDAR, BRIDGE = (
    "logistics.gate_camera",
    "logistics.rfid_reader",
    "logistics.volume_scanner",
    "logistics.weighbridge",
)
CAMERA_MAX_GAP_MS = 30 * MINUTE_MS  # cameras report counts every 15 minutes
RFID_MAX_GAP_MS = 30 * MINUTE_MS
LIDAR_MAX_GAP_MS = 2 * 3_600_000


def units_in(data: DeviceDays) -> DayValues:
    return daily(data, "count_in", "sum", CAMERA_MAX_GAP_MS)


def units_out(data: DeviceDays) -> DayValues:
    return daily(data, "count_out", "sum", CAMERA_MAX_GAP_MS)


def flow_units(data: DeviceDays) -> DayValues:
    a, b = units_in(data), units_out(data)
    return DayValues(a.value + b.value, a.quality)


def net_flow_units(data: DeviceDays) -> DayValues:
    a, b = units_in(data), units_out(data)
    return DayValues(a.value - b.value, a.quality)


def stock_units_rfid(data: DeviceDays) -> DayValues:
    """Tags present at the day's last read."""
    return daily(data, "tag_count", "last", RFID_MAX_GAP_MS)


def stock_change_units_rfid(data: DeviceDays) -> DayValues:
    """Last read of the day minus the last read before midnight (the first of the day when the
    look-back hour has none: then partial)."""
    s = data.s("tag_count")
    last = reduce_per_day(s.ts, s.num, data.days, "last")
    first = reduce_per_day(s.ts, s.num, data.days, "first")
    starts = data.day_starts()
    before = np.searchsorted(s.ts, starts) - 1
    has_base = (before >= 0) & (s.ts[before.clip(0)] >= starts - LOOKBACK_MS) if len(s) else np.zeros(len(starts), bool)
    base = np.where(has_base, s.num[before.clip(0)] if len(s) else np.nan, first)
    cover, has = coverage(data, "tag_count", RFID_MAX_GAP_MS)
    return DayValues(last - base, quality(np.where(has_base, cover, 0.0), has))


def stock_volume_m3(data: DeviceDays) -> DayValues:
    return daily(data, "volume_m3", "last", LIDAR_MAX_GAP_MS)


def weighed_in_kg(data: DeviceDays) -> DayValues:
    return event_param_sum(data, "weighing", "net_kg", "rssi_dbm", lambda p: p.get("direction") == "in")


def weighed_out_kg(data: DeviceDays) -> DayValues:
    return event_param_sum(data, "weighing", "net_kg", "rssi_dbm", lambda p: p.get("direction") == "out")


def _difference(a: float, b: float) -> float:
    return a - b


INDICATORS = (
    Indicator(
        "units_in", "units", label("入库件数(视频)", "Units in (camera)"), CAMERA, ("count_in",), units_in, "sum"
    ),
    Indicator(
        "units_out", "units", label("出库件数(视频)", "Units out (camera)"), CAMERA, ("count_out",), units_out, "sum"
    ),
    Indicator(
        "flow_units",
        "units",
        label("吞吐件数", "Units moved (camera)"),
        CAMERA,
        ("count_in", "count_out"),
        flow_units,
        "sum",
    ),
    Indicator(
        "net_flow_units",
        "units",
        label("净入库件数", "Net inflow (camera)"),
        CAMERA,
        ("count_in", "count_out"),
        net_flow_units,
        "sum",
    ),
    Indicator(
        "stock_units_rfid",
        "units",
        label("库存件数(RFID)", "Stock (RFID)"),
        RFID,
        ("tag_count",),
        stock_units_rfid,
        "sum",
        month="mean",
    ),
    Indicator(
        "stock_change_units_rfid",
        "units",
        label("库存变化(RFID)", "Stock change (RFID)"),
        RFID,
        ("tag_count",),
        stock_change_units_rfid,
        "sum",
    ),
    Indicator(
        "stock_volume_m3",
        "m3",
        label("库存体积(激光)", "Stock volume (lidar)"),
        LIDAR,
        ("volume_m3",),
        stock_volume_m3,
        "sum",
        month="mean",
    ),
    Indicator(
        "weighed_in_kg",
        "kg",
        label("过磅入库净重", "Net weight in (weighbridge)"),
        BRIDGE,
        ("rssi_dbm",),
        weighed_in_kg,
        "sum",
        events=("weighing",),
    ),
    Indicator(
        "weighed_out_kg",
        "kg",
        label("过磅出库净重", "Net weight out (weighbridge)"),
        BRIDGE,
        ("rssi_dbm",),
        weighed_out_kg,
        "sum",
        events=("weighing",),
    ),
)
DERIVED = (
    Derived(
        "flow_mismatch_units",
        "units",
        label("视频与RFID差异", "Camera net flow minus RFID stock change"),
        ("net_flow_units", "stock_change_units_rfid"),
        _difference,
        month="sum",
    ),
)
INDEX = ("flow_units",)


# ---------------------------------------------------------------- business data (not telemetry yet)


@dataclass(frozen=True)
class StockReconciliation:
    """One zone-day of pledged stock seen from every side, in units, and its value."""

    stock_by_wms: float
    stock_by_camera: float
    stock_by_rfid: float | None
    stock_by_weighbridge: float | None
    max_gap_units: float  # largest disagreement between any two known sources
    max_gap_rate: float  # that gap over the WMS stock
    pledged_units: float  # the most conservative known stock
    pledged_value_cny: float  # pledged units at the price index


def reconcile_pledged_stock(
    opening_units: float,
    wms_movements: list[dict],
    camera_net_units: float,
    rfid_stock_units: float | None,
    weighed_in_kg: float | None,
    weighed_out_kg: float | None,
    unit_kg: float,
    price_cny_per_unit: float,
) -> StockReconciliation:
    """Reconcile a zone's day: WMS movements ({"quantity", "direction": in|out}) and the opening
    stock give the books; the camera's net flow, the RFID count and the weighbridge's net weight
    (over the SKU's unit weight) give the sensors. WMS rows and the price index are business data
    that have no tables yet, so callers pass them in. The pledged value takes the smallest stock."""
    booked = sum(m["quantity"] if m["direction"] == "in" else -m["quantity"] for m in wms_movements)
    wms = opening_units + booked
    camera = opening_units + camera_net_units
    bridge = None
    if weighed_in_kg is not None and weighed_out_kg is not None and unit_kg > 0:
        bridge = opening_units + (weighed_in_kg - weighed_out_kg) / unit_kg
    known = [v for v in (wms, camera, rfid_stock_units, bridge) if v is not None]
    gap = max(known) - min(known)
    pledged = max(min(known), 0.0)
    return StockReconciliation(
        wms,
        camera,
        rfid_stock_units,
        bridge,
        gap,
        gap / wms if wms else float("inf"),
        pledged,
        pledged * price_cny_per_unit,
    )
