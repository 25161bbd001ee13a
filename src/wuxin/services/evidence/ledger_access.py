"""Who reads which ledger entry: exactly whoever may read the thing the entry proves, by the domain's
own rule (the same functions its API calls), so a proof never shows more than the API would.

A bank's credit decision, loan and pledges, and its tuned alarms, are that bank's business: a
second bank the borrower also consented to does not see them (consent covers the enterprise's
device data, never another bank's business). Every refusal on an entry, a proof or an evidence bundle
(a role that never reads such things included) is answered exactly as a missing entry (404, same
message): a 403 would tell which leaf indexes hold which kinds of entry.
Telemetry batches mix devices of several enterprises: they are proven per device, under consent
(GET /api/v1/ledger/telemetry/batches/{batch}/devices/{device}/proof), never as a whole entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wuxin.bootstrap import Platform
from wuxin.errors import Denied, Gone, NotFound
from wuxin.ledger.evidence import device_commitment, points_digest
from wuxin.ledger.proofs import proof_to_dict
from wuxin.security.policy import Principal, device_not_found, readable_device_keys
from wuxin.services.credit import assessment as credit
from wuxin.services.credit import business_data, loans
from wuxin.services.devices import commands
from wuxin.services.devices.registry import consent_views
from wuxin.services.evidence import trace
from wuxin.services.evidence.ledger import _inclusions, _require
from wuxin.services.ingest.retention import gone_message
from wuxin.services.monitoring import alarms as monitoring
from wuxin.store.rows import LedgerEntryRow
from wuxin.store.uow import UnitOfWork


def entry_proof(platform: Platform, principal: Principal, leaf_index: int) -> dict[str, Any]:
    """Inclusion proof of one entry, with its leaf data and a signed head, if the principal may read it."""
    with platform.uow() as uow:
        entry = uow.ledger.entry(leaf_index)
        if entry is None or not _may_read(platform, uow, principal, entry, {}):
            raise NotFound(f"ledger entry {leaf_index} does not exist")
    [proof], head = _inclusions(platform, [entry])
    return proof | {"tree_head": proof_to_dict(head)}


def evidence_bundle(platform: Platform, principal: Principal, subject: str) -> dict[str, Any]:
    """Entries recorded for `subject` and for the subjects its data lists as `inputs`, with proofs under one head.

    A credit decision recorded with data {"inputs": ["business_import:12:3", ...]} exports as one file
    that `wuxin ledger verify` checks offline. Inputs the principal may not read are left out and named
    under `withheld_inputs` (their subjects are in the decision's own leaf already).
    """
    seen: dict[tuple[str, str], bool] = {}
    with platform.uow() as uow:
        entries = [e for e in uow.ledger.entries_by_subjects([subject]) if _may_read(platform, uow, principal, e, seen)]
        if not entries:
            raise NotFound(f"no ledger entry records subject {subject!r}")
        inputs = sorted({s for e in entries for s in _inputs_of(e)} - {subject})
        found = uow.ledger.entries_by_subjects(inputs) if inputs else []
        readable = [e for e in found if _may_read(platform, uow, principal, e, seen)]
    withheld = sorted({e["subject"] for e in found} - {e["subject"] for e in readable})
    proofs, head = _inclusions(platform, entries + readable)
    return {
        "type": "evidence_bundle",
        "subject": subject,
        "entries": proofs,
        "withheld_inputs": withheld,
        "tree_head": proof_to_dict(head),
    }


def _inputs_of(entry: LedgerEntryRow) -> list[str]:
    data = json.loads(entry["leaf_data"]).get("data")
    inputs = data.get("inputs") if isinstance(data, dict) else None
    return [s for s in inputs if isinstance(s, str)] if isinstance(inputs, list) else []


# ---- the rule per kind: the domain's own ------------------------------------------------------------

Reader = Callable[[Platform, UnitOfWork, Principal, dict], None]


def _may_read(
    platform: Platform, uow: UnitOfWork, principal: Principal, entry: LedgerEntryRow, seen: dict[tuple[str, str], bool]
) -> bool:
    """True if the domain lets the principal read the thing; False if it does not exist for them or their
    role never reads it (the domain's Denied): callers answer both as a missing entry.

    Answers are kept in `seen` per (kind, subject): a loan's pledge entries are decided once.
    """
    key = (entry["kind"], entry["subject"])
    if key not in seen:
        reader = READERS.get(entry["kind"], _platform_fact)
        try:
            reader(platform, uow, principal, entry)
            seen[key] = True
        except (NotFound, Denied):
            seen[key] = False
    return seen[key]


def _number(subject: str, prefix: str, position: int = 1) -> int:
    """The id at `position` of a subject like 'loan:12' or 'product_batch:3:issuance:1'."""
    parts = subject.split(":")
    if parts[0] != prefix or len(parts) <= position or not parts[position].isdigit():
        raise NotFound(f"subject {subject!r} names no {prefix}")
    return int(parts[position])


def _telemetry_batch(platform, uow, principal, entry) -> None:
    """A batch holds several enterprises' devices: it is proven per device only (answered as missing here)."""
    raise Denied(f"ledger entry {entry['leaf_index']} is proven per device only")


def _credit_decision(platform, uow, principal, entry) -> None:
    credit.readable_decision(platform, uow, principal, _number(entry["subject"], "credit_decision"))


def _pledge_change(platform, uow, principal, entry) -> None:
    loans.own_loan(uow, principal, _number(entry["subject"], "loan"))


def _alarm_action(platform, uow, principal, entry) -> None:
    monitoring.readable_alarm(uow, principal, _number(entry["subject"], "alarm"), platform.clock_ms())


def _device_command(platform, uow, principal, entry) -> None:
    commands.readable_command(uow, principal, _number(entry["subject"], "command"), platform.clock_ms())


def _business_import(platform, uow, principal, entry) -> None:
    business_data.require_records_reader(platform, uow, principal, entry["enterprise_id"], entry["owner_tenant_id"])


def _epcis_event(platform, uow, principal, entry) -> None:
    trace.require_event_reader(platform, uow, principal, entry["enterprise_id"])


def _product_batch(platform, uow, principal, entry) -> None:
    trace.readable_batch(platform, uow, principal, _number(entry["subject"], "product_batch"))


def _platform_fact(platform, uow, principal, entry) -> None:
    """Any other kind (benchmarks, kinds of old releases): the platform's own, for its admin."""
    if not principal.is_admin:
        raise NotFound(f"ledger entry {entry['leaf_index']} does not exist")


READERS: dict[str, Reader] = {
    "telemetry_batch": _telemetry_batch,
    "credit_decision": _credit_decision,
    "credit_review": _credit_decision,  # subject credit_decision:<id>:review:<id>: read as its decision
    "pledge_change": _pledge_change,
    "alarm_action": _alarm_action,
    "device_command": _device_command,
    "business_import": _business_import,
    "epcis_event": _epcis_event,
    "product_batch": _product_batch,
    "identity_issuance": _product_batch,
}


# ---- telemetry -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Device:
    id: int
    key: str
    enterprise_id: int


def telemetry_proof(platform: Platform, principal: Principal, batch_id: int, device_key: str) -> dict[str, Any]:
    """Recompute a device's points digest for a batch from the readings table and prove it is in the ledger.

    When retention deleted some of the batch's readings (services.retention) and what is left no longer gives the
    leaf's commitment, the answer is 410 Gone with the policy: the entry still verifies in the log, its points
    cannot be shown."""
    with platform.uow() as uow:
        device = _readable_device(platform, uow, principal, device_key)
        entry = _require(
            next(iter(uow.ledger.entries_by_subjects([f"batch:{batch_id}"])), None),
            f"ledger entry of telemetry batch {batch_id}",
        )
        readings, events = uow.ledger.device_batch_points(batch_id, device.id)
        digest = points_digest([r[1:] for r in readings], [e[1:] for e in events])
        commitment = device_commitment(device.id, digest)
        in_leaf = commitment in json.loads(entry["leaf_data"])["device_commitments"]
        pruned = None if in_leaf else uow.retention.pruned_batch(batch_id)
        if pruned is not None:
            raise Gone(gone_message(device_key, batch_id, pruned, uow.retention.mark(device.enterprise_id)))
        if not readings and not events:
            raise NotFound(f"batch {batch_id} stored no points of device {device_key!r}")
        uow.logs.access(
            at_ms=platform.clock_ms(),
            user_id=principal.user_id,
            tenant_id=principal.tenant_id,
            enterprise_id=device.enterprise_id,
            device_id=device.id,
            action="ledger.telemetry_proof",
            consent_id=None,
            rows=len(readings) + len(events),
        )
        uow.commit()
    [proof], head = _inclusions(platform, [entry])
    return proof | {
        "tree_head": proof_to_dict(head),
        "points": {
            "batch_id": batch_id,
            "device": device.key,
            "device_id": device.id,
            "points_digest": digest,
            "commitment": commitment,
            "in_leaf": in_leaf,
            "readings": [[key, ts, num, txt] for _, key, ts, num, txt in sorted(readings)],
            "events": [[name, ts, params] for _, name, ts, params in sorted(events)],
        },
    }


def _readable_device(platform: Platform, uow: UnitOfWork, principal: Principal, device_key: str) -> _Device:
    """The device if a consent (or the enterprise itself) lets the principal read it; else as if unregistered."""
    device = uow.devices.by_key(device_key)
    if device is not None:
        consents = consent_views(uow.consents.for_enterprise(device["enterprise_id"]))
        try:
            readable, _ = readable_device_keys(
                principal,
                device["enterprise_id"],
                [(device["key"], device["device_type"])],
                consents,
                platform.clock_ms(),
            )
        except NotFound:  # the enterprise is not known to them: neither is its device, nor whose it is
            readable = set()
        if device_key in readable:
            return _Device(device["id"], device["key"], device["enterprise_id"])
    raise device_not_found(device_key)
