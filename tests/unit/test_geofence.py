"""Polygon zones: inside, outside, edges, crossings and bad input."""

import pytest

from wuxin.alerts.geofence import crossing, haversine_km, parse_zone, point_in_polygon
from wuxin.errors import InvalidInput

SQUARE = [(120.0, 31.0), (120.1, 31.0), (120.1, 31.1), (120.0, 31.1)]
L_SHAPE = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]


def test_inside_outside_and_edges():
    assert point_in_polygon(120.05, 31.05, SQUARE)
    assert not point_in_polygon(120.2, 31.05, SQUARE)
    assert point_in_polygon(120.1, 31.05, SQUARE)  # on the edge counts as inside
    assert point_in_polygon(120.0, 31.0, SQUARE)  # a vertex too


def test_concave_polygon():
    assert point_in_polygon(0.5, 1.5, L_SHAPE)
    assert not point_in_polygon(1.5, 1.5, L_SHAPE)  # the notch


def test_crossings():
    assert crossing(True, False) == "exit" and crossing(False, True) == "enter"
    assert crossing(None, False) is None and crossing(True, True) is None


def test_bad_zones_are_refused_with_the_reason():
    with pytest.raises(InvalidInput, match="at least 3 distinct"):
        parse_zone("z", [[1, 1], [1, 1], [2, 2]])
    with pytest.raises(InvalidInput, match="outside"):
        parse_zone("z", [[0, 0], [200, 0], [0, 1]])
    assert parse_zone("z", [list(p) for p in SQUARE]).contains(120.05, 31.05)


def test_haversine():
    assert haversine_km(31.0, 120.0, 31.0, 120.0) == 0
    assert 110 < haversine_km(0, 0, 1, 0) < 112
