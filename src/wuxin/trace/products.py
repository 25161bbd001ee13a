"""Product identities and consumer scans, pure: measured output (产量锁定) and scan plausibility.

>>> counter_increase([100, 130, 5, 20])   # the counter reset to 0 after 130
50
>>> round(distance_km(31.23, 121.47, 39.90, 116.40))   # Shanghai -> Beijing
1067
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_PLAUSIBLE_SPEED_KMH = 250.0  # faster than a car or high-speed train between two scans: a copied code
MIN_DISTANCE_FOR_SPEED_CHECK_KM = 50.0  # below this, phone location noise and reused apps explain jumps
MAX_SCANS_PER_UNIT = 20  # one unit is scanned a few times (shop, buyer, gift); many more means a cloned code
EARTH_RADIUS_KM = 6371.0


def counter_increase(values: Iterable[float]) -> int:
    """Units counted by a cumulative counter across readings in time order; a drop is a reset to 0."""
    total, previous = 0.0, None
    for value in values:
        if previous is not None:
            total += value - previous if value >= previous else value
        previous = value
    return int(total)


def measured_output(rows: Sequence[Mapping[str, Any]]) -> int:
    """Sum of counter_increase per device over rows {device_id, ts_ms, num} sorted by device then time."""
    by_device: dict[int, list[float]] = {}
    for row in rows:
        if row["num"] is not None:
            by_device.setdefault(row["device_id"], []).append(row["num"])
    return sum(counter_increase(values) for values in by_device.values())


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in km."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class Scan:
    scanned_ms: int
    lat: float | None
    lon: float | None


def implausible_travel(scans: Sequence[Scan]) -> str | None:
    """The first pair of located scans (time order) too far apart for the time between them, as a reason."""
    located = [(s.scanned_ms, s.lat, s.lon) for s in scans if s.lat is not None and s.lon is not None]
    for (first_ms, first_lat, first_lon), (second_ms, second_lat, second_lon) in zip(located, located[1:]):
        km = distance_km(first_lat, first_lon, second_lat, second_lon)
        hours = max(second_ms - first_ms, 1) / 3_600_000
        if km >= MIN_DISTANCE_FOR_SPEED_CHECK_KM and km / hours > MAX_PLAUSIBLE_SPEED_KMH:
            return f"scanned {km:.0f} km apart within {hours * 60:.0f} min ({km / hours:.0f} km/h)"
    return None


def suspicion_reasons(scans: Sequence[Scan], issued_count: int, measured_count: int) -> list[str]:
    """Why a genuine identity looks copied: implausible travel, too many scans, batch over its locked output."""
    reasons = []
    travel = implausible_travel(scans)
    if travel:
        reasons.append(travel)
    if len(scans) > MAX_SCANS_PER_UNIT:
        reasons.append(f"scanned {len(scans)} times; a unit is expected to be scanned at most {MAX_SCANS_PER_UNIT}")
    if issued_count > measured_count:
        reasons.append(f"its batch has {issued_count} identities but measured output is {measured_count}")
    return reasons
