"""Vehicle indicators: distance by GPS track and by odometer, driving hours, active days, ADAS."""

from __future__ import annotations

import numpy as np

from wuxin.indicators.common import MINUTE_MS, DayValues, counter_delta, coverage, event_count, held_hours
from wuxin.indicators.declare import Derived, Indicator, label
from wuxin.indicators.kernels import QUALITY_ORDER, quality, track_km
from wuxin.indicators.series import DeviceDays

GPS = "vehicles.gps_terminal"
ADAS = "vehicles.adas_unit"
GPS_MAX_GAP_MS = 20 * MINUTE_MS  # parked terminals report every 15 minutes
DRIVING_MAX_GAP_MS = 3 * MINUTE_MS  # moving terminals report every minute
MAX_SPEED_KMH = 180.0  # a fix implying more than this is a GPS jump, not a drive
DRIVING_SPEED_KMH = 5.0
ACTIVE_DAY_KM = 1.0
ADAS_EVENTS = ("fatigue", "phone_use", "smoking", "distraction", "forward_collision", "lane_departure", "collision")


def distance_gps_km(data: DeviceDays) -> DayValues:
    """Sum of haversine segments between consecutive fixes (lone jumps dropped)."""
    lat, lon = data.s("lat"), data.s("lon")
    common, i, j = np.intersect1d(lat.ts, lon.ts, assume_unique=True, return_indices=True)
    km = track_km(common, lat.num[i], lon.num[j], data.days, MAX_SPEED_KMH)
    cover, has = coverage(data, "lat", GPS_MAX_GAP_MS)
    return DayValues(km, quality(cover, has & np.isfinite(km)))


def distance_odometer_km(data: DeviceDays) -> DayValues:
    return counter_delta(data, "odometer_km", GPS_MAX_GAP_MS)


def distance_disagreement_rate(data: DeviceDays) -> DayValues:
    """|track - odometer| / odometer (odometer under 1 km counts as 1 km)."""
    gps, odo = distance_gps_km(data), distance_odometer_km(data)
    rate = np.abs(gps.value - odo.value) / np.maximum(odo.value, 1.0)
    worse = np.where(
        [QUALITY_ORDER[a] <= QUALITY_ORDER[b] for a, b in zip(gps.quality, odo.quality)], gps.quality, odo.quality
    )
    return DayValues(rate, np.asarray(worse, dtype=object))


def driving_hours(data: DeviceDays) -> DayValues:
    return held_hours(
        data, "speed_kmh", lambda v: v > DRIVING_SPEED_KMH, DRIVING_MAX_GAP_MS, coverage_gap_ms=GPS_MAX_GAP_MS
    )


def active_days(data: DeviceDays) -> DayValues:
    """1 on a day the vehicle covered at least ACTIVE_DAY_KM by its track, else 0."""
    gps = distance_gps_km(data)
    return DayValues(np.where(np.isfinite(gps.value), (gps.value >= ACTIVE_DAY_KM).astype(float), np.nan), gps.quality)


def adas_events(data: DeviceDays) -> DayValues:
    return event_count(data, ADAS_EVENTS, "rssi_dbm")


def _per_100km(events: float, km: float) -> float | None:
    return events / km * 100.0 if km > 0 else None


def _per_device(total: float, devices: float) -> float | None:
    return total / devices if devices else None


GPS_IN = ("lat", "lon", "odometer_km", "speed_kmh")
INDICATORS = (
    Indicator(
        "distance_gps_km", "km", label("轨迹里程", "Distance by GPS track"), GPS, ("lat", "lon"), distance_gps_km, "sum"
    ),
    Indicator(
        "distance_odometer_km",
        "km",
        label("里程表里程", "Distance by odometer"),
        GPS,
        ("odometer_km",),
        distance_odometer_km,
        "sum",
    ),
    Indicator(
        "distance_disagreement_rate",
        "1",
        label("里程差异率", "Track vs odometer disagreement"),
        GPS,
        ("lat", "lon", "odometer_km"),
        distance_disagreement_rate,
        "max",
    ),
    Indicator("driving_hours", "h", label("行驶时长", "Driving hours"), GPS, ("speed_kmh",), driving_hours, "sum"),
    Indicator("active_days", "d", label("出车天数", "Active vehicle-days"), GPS, ("lat", "lon"), active_days, "sum"),
    Indicator(
        "adas_events",
        "events",
        label("驾驶行为事件", "ADAS events"),
        ADAS,
        ("rssi_dbm",),
        adas_events,
        "sum",
        events=ADAS_EVENTS,
    ),
)
DERIVED = (
    Derived(
        "adas_events_per_100km",
        "events/100 km",
        label("百公里驾驶行为事件", "ADAS events per 100 km"),
        ("adas_events", "distance_gps_km"),
        _per_100km,
    ),
    Derived(
        "distance_per_vehicle_km",
        "km",
        label("单车日均里程", "Distance per vehicle"),
        ("distance_gps_km", "devices:distance_gps_km"),
        _per_device,
    ),
    Derived(
        "active_vehicle_rate",
        "1",
        label("出车率", "Share of vehicles active"),
        ("active_days", "devices:active_days"),
        _per_device,
    ),
)
INDEX = ("distance_per_vehicle_km", "active_vehicle_rate")
