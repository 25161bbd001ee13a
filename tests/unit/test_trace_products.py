"""Pure parts of traceability and evidence: counter resets, travel plausibility, batch digests."""

from __future__ import annotations

import pytest

from wuxin.indicators.days import HOUR_MS
from wuxin.ledger.evidence import batch_commitments, canonical_json, device_commitment, points_digest, telemetry_leaf
from wuxin.trace.products import Scan, counter_increase, implausible_travel, measured_output, suspicion_reasons


@pytest.mark.parametrize(
    "values, units", [([], 0), ([7], 0), ([10, 10, 12], 2), ([100, 130, 5, 20], 50), ([5, 0, 0, 3], 3)]
)
def test_counter_increase_counts_across_resets(values, units):
    assert counter_increase(values) == units


def test_measured_output_sums_devices_and_skips_absent_values():
    rows = [
        {"device_id": 1, "ts_ms": 1, "num": 10.0},
        {"device_id": 1, "ts_ms": 2, "num": None},
        {"device_id": 1, "ts_ms": 3, "num": 15.0},
        {"device_id": 2, "ts_ms": 1, "num": 3.0},
        {"device_id": 2, "ts_ms": 2, "num": 1.0},
    ]
    assert measured_output(rows) == 5 + 1


def test_travel_is_implausible_only_when_far_and_fast():
    shanghai, beijing, pudong = (31.23, 121.47), (39.90, 116.40), (31.22, 121.54)
    assert implausible_travel([Scan(0, *shanghai), Scan(HOUR_MS, *beijing)]).startswith(
        "scanned 1067 km apart within 60 min"
    )
    assert implausible_travel([Scan(0, *shanghai), Scan(6 * HOUR_MS, *beijing)]) is None  # a flight
    assert implausible_travel([Scan(0, *shanghai), Scan(60_000, *pudong)]) is None  # near: location noise
    assert implausible_travel([Scan(0, *shanghai), Scan(60_000, None, None), Scan(HOUR_MS, *beijing)]) is not None


def test_suspicion_reasons_name_each_cause():
    assert suspicion_reasons([Scan(0, None, None)], issued_count=10, measured_count=10) == []
    assert suspicion_reasons([], issued_count=11, measured_count=10) == [
        "its batch has 11 identities but measured output is 10"
    ]


def test_batch_commitments_are_per_device_and_order_free():
    readings = [(2, "current_a", 5, 1.5, None, 9, 9), (1, "count", 4, 3, None, 9, 9), (1, "count", 3, 2, None, 9, 9)]
    events = [(2, "tamper", 6, "{}")]
    expected = sorted(
        [
            device_commitment(1, points_digest([("count", 3, 2.0, None), ("count", 4, 3.0, None)], [])),
            device_commitment(2, points_digest([("current_a", 5, 1.5, None)], [("tamper", 6, "{}")])),
        ]
    )
    assert batch_commitments(readings, events) == expected
    assert batch_commitments(readings[::-1], events) == expected
    assert batch_commitments(readings[:2], events) != expected  # a missing point changes the commitment
    leaf = telemetry_leaf(9, "http", 9, readings, events)
    assert canonical_json(leaf).startswith('{"batch_id":9,"channel":"http","device_commitments":[')
