"""Polygon zones (WGS-84 lon/lat) and enter/exit tests; pure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from wuxin.errors import InvalidInput

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Zone:
    """A closed polygon of (lon, lat) vertices; the last vertex joins the first."""

    name: str
    vertices: tuple[tuple[float, float], ...]

    def contains(self, lon: float, lat: float) -> bool:
        return point_in_polygon(lon, lat, self.vertices)


def parse_zone(name: str, vertices: Sequence[Sequence[float]]) -> Zone:
    """A zone from [[lon, lat], ...]; at least three distinct vertices inside WGS-84 ranges."""
    points = tuple((float(v[0]), float(v[1])) for v in vertices if len(v) == 2)
    if len(points) != len(vertices) or len(set(points)) < 3:
        raise InvalidInput(f"zone {name!r} needs at least 3 distinct [lon, lat] vertices, got {list(vertices)!r}")
    for lon, lat in points:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidInput(f"zone {name!r} has vertex ({lon}, {lat}) outside lon -180..180, lat -90..90")
    return Zone(name, points)


def point_in_polygon(x: float, y: float, vertices: Sequence[tuple[float, float]]) -> bool:
    """Even-odd ray casting; a point on an edge counts as inside (a fence post is not an exit)."""
    inside = False
    n = len(vertices)
    for i in range(n):
        x1, y1 = vertices[i]
        x2, y2 = vertices[(i + 1) % n]
        if _on_segment(x, y, x1, y1, x2, y2):
            return True
        if (y1 > y) != (y2 > y):
            x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < x_cross:
                inside = not inside
    return inside


def _on_segment(x: float, y: float, x1: float, y1: float, x2: float, y2: float, eps: float = 1e-12) -> bool:
    cross = (x - x1) * (y2 - y1) - (y - y1) * (x2 - x1)
    if abs(cross) > eps:
        return False
    return min(x1, x2) - eps <= x <= max(x1, x2) + eps and min(y1, y2) - eps <= y <= max(y1, y2) + eps


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def crossing(was_inside: bool | None, is_inside: bool) -> str | None:
    """'enter', 'exit' or None; an unknown previous state is not a crossing."""
    if was_inside is None or was_inside == is_inside:
        return None
    return "enter" if is_inside else "exit"
