"""What a ledger leaf commits to: canonical JSON, and telemetry batches summarised per device.

A telemetry batch leaf does not hold its points. It holds, per device, a commitment
    SHA-256("wuxin.telemetry.device.v1" 0x00 device_id 0x00 points_digest)
where points_digest = SHA-256 of the canonical JSON of that device's points *as stored under the
batch* (readings [key, ts_ms, num as float|null, txt|null] and events [name, ts_ms, params_json],
each list sorted). Re-sent points that the database ignored (already stored under an earlier
batch) are not part of it, so the digest can be recomputed from the readings table at any time;
the commitments are sorted hashes, so showing one batch's leaf reveals nothing of the other
devices in it.

    >>> canonical_json({"b": 1, "a": [1.5, None]})
    '{"a":[1.5,null],"b":1}'
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

import orjson

COMMITMENT_DOMAIN = b"wuxin.telemetry.device.v1"
_KEY_TS = itemgetter(1, 2)  # (device_id, key|name, ts_ms, ...): unique per device, so a total order
_READING_FIELDS = itemgetter(1, 2, 3, 4)
_EVENT_FIELDS = itemgetter(1, 2, 3)


def canonical_json(value: Any) -> str:
    """Keys sorted, no whitespace, UTF-8 kept as is: the exact text a leaf hashes (as UTF-8 bytes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def points_digest(readings: Iterable[Sequence], events: Iterable[Sequence]) -> str:
    """SHA-256 (hex) of one device's points: readings (key, ts_ms, num, txt), events (name, ts_ms, params)."""
    return _digest([(0, *r) for r in readings], [(0, *e) for e in events])


def _digest(readings: list[Sequence], events: list[Sequence]) -> str:
    """points_digest of rows that still carry their device id in front (the ingest hot path: no copies)."""
    reading_rows = list(map(_READING_FIELDS, sorted(readings, key=_KEY_TS)))
    if any(type(row[2]) is not float and row[2] is not None for row in reading_rows):  # ints, bools: as stored (REAL)
        reading_rows = [(k, ts, None if num is None else float(num), txt) for k, ts, num, txt in reading_rows]
    event_rows = list(map(_EVENT_FIELDS, sorted(events, key=_KEY_TS)))
    return hashlib.sha256(orjson.dumps({"events": event_rows, "readings": reading_rows})).hexdigest()


def device_commitment(device_id: int, digest_hex: str) -> str:
    """The hash a batch leaf lists for one device's points."""
    return hashlib.sha256(
        COMMITMENT_DOMAIN + b"\x00" + str(device_id).encode() + b"\x00" + bytes.fromhex(digest_hex)
    ).hexdigest()


def batch_commitments(readings: Iterable[Sequence], events: Iterable[Sequence]) -> list[str]:
    """Sorted device commitments of a batch; readings (device_id, key, ts_ms, num, txt, ...), events (device_id, name, ts_ms, params)."""
    by_device_readings: dict[int, list] = defaultdict(list)
    by_device_events: dict[int, list] = defaultdict(list)
    for row in readings:
        by_device_readings[row[0]].append(row)
    for row in events:
        by_device_events[row[0]].append(row)
    device_ids = set(by_device_readings) | set(by_device_events)
    return sorted(
        device_commitment(d, _digest(by_device_readings.get(d, []), by_device_events.get(d, []))) for d in device_ids
    )


def telemetry_leaf(
    batch_id: int, channel: str, received_ms: int, readings: Sequence[Sequence], events: Sequence[Sequence]
) -> dict[str, Any]:
    """The summary a telemetry batch's leaf commits to (see the module docstring)."""
    return {
        "kind": "telemetry_batch",
        "subject": f"batch:{batch_id}",
        "batch_id": batch_id,
        "channel": channel,
        "received_ms": received_ms,
        "readings": len(readings),
        "events": len(events),
        "device_commitments": batch_commitments(readings, events),
    }
