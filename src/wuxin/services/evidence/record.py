"""Evidence hook: what the platform accepts is recorded in the ledger, in the caller's transaction.

Kinds: telemetry_batch (from ingestion; summarised per device, see wuxin.ledger.evidence),
and any business fact another part records — business_import, credit_decision, alarm_action,
pledge_change, ... — whose `data` is kept whole in the leaf (keep it small; list the subjects a
decision used under data["inputs"] so its evidence bundle finds them). `data` may carry
`enterprise_id` (whose data it is) and `at_ms` (the fact's time). `owner_tenant_id` is the tenant
whose business it is (a bank's decision, loan, tuned alarm; None for an enterprise's own data):
with the kind's data class it is stored beside the leaf, and wuxin.services.evidence.ledger_access lets
only whoever may read the thing itself read the entry.
"""

from __future__ import annotations

import time

from wuxin.ledger.evidence import telemetry_leaf
from wuxin.services.evidence.ledger import append_entry, record
from wuxin.store.uow import UnitOfWork


def record_evidence(uow: UnitOfWork, kind: str, subject: str, data: dict, owner_tenant_id: int | None = None) -> int:
    """Append one entry describing `subject` to the evidence ledger, in the caller's transaction; returns its leaf index."""
    if kind == "telemetry_batch":
        return _record_telemetry_batch(uow, subject, data)
    now_ms = data.get("at_ms") or time.time_ns() // 1_000_000
    return record(uow, kind, subject, data, data.get("enterprise_id"), now_ms, owner_tenant_id)


def _record_telemetry_batch(uow: UnitOfWork, subject: str, data: dict) -> int:
    readings, events = _stored_points(uow, data)
    leaf = telemetry_leaf(data["batch_id"], data["channel"], data["received_ms"], readings, events)
    return append_entry(uow, "telemetry_batch", subject, leaf, None, data["received_ms"])


def _stored_points(uow: UnitOfWork, data: dict) -> tuple[list, list]:
    """The points this batch really stored: all of them unless the database ignored some as already stored.

    `inserted_readings` (from the write) tells; when it is short, or for events (whose writes do not
    count), the batch's rows are read back, so re-sent points stay with the batch that first stored them.
    """
    readings, events = data["readings"], data["events"]
    if readings and data.get("inserted_readings", -1) != len(readings):
        readings = uow.ledger.batch_readings(data["batch_id"], *_span(readings))
    if events:
        events = uow.ledger.batch_events(data["batch_id"], *_span(events))
    return readings, events


def _span(rows: list) -> tuple[list[int], int, int]:
    """Device ids and the device-time range [min, max] of rows (device_id, name/key, ts_ms, ...)."""
    return sorted({r[0] for r in rows}), min(r[2] for r in rows), max(r[2] for r in rows)
