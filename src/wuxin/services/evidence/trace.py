"""Traceability use cases: product batches and identities capped by measured output, EPCIS capture
and query, consumer verification, and verified goods for the collateral registry."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wuxin.bootstrap import Platform
from wuxin.domain.model import Role
from wuxin.errors import Conflict, Denied, InvalidInput, NotFound
from wuxin.ledger.merkle import leaf_hash
from wuxin.security.policy import Principal, enterprise_not_found, require_can_see_enterprise, valid_consents
from wuxin.services.bootstrap import device_types_with
from wuxin.services.devices.registry import consent_views
from wuxin.services.evidence.ledger import append_entry, record
from wuxin.store.rows import EnterpriseRow, ProductBatchRow, ProductRow
from wuxin.store.uow import UnitOfWork
from wuxin.trace.epcis import (
    EVENT_TYPES,
    EpcisError,
    epc_pattern,
    event_epcs,
    event_hash_id,
    event_time_ms,
    hash_context,
    location_id,
    normalised_value,
    validate_document,
)
from wuxin.trace.gs1 import canonical_digital_link, gtin14, sgtin_to_digital_link
from wuxin.trace.products import Scan, measured_output, suspicion_reasons

OUTPUT_COUNTER_KEY = "output_count_total"
MAX_IDENTITIES_PER_REQUEST = 10_000
MAX_CAPTURE_EVENTS = 10_000  # GS1-EPCIS-Capture-Limit
MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 30
QUERY_PARAMETERS = (
    "eventType",
    "GE_eventTime",
    "LT_eventTime",
    "EQ_bizStep",
    "EQ_disposition",
    "MATCH_epc",
    "MATCH_anyEPC",
    "EQ_bizLocation",
    "EQ_readPoint",
    "perPage",
    "nextPageToken",
)


class EpcisQueryError(InvalidInput):
    """An EPCIS query parameter is unknown or malformed (epcisException:QueryParameterException)."""

    code = "epcis_query_parameter"


class CaptureLimitExceeded(InvalidInput):
    """An EPCIS capture holds more events than the capture limit (413)."""

    status_code = 413
    code = "epcis_capture_limit"


# ---- who acts for which enterprise ---------------------------------------------------------------


def _acting_enterprise(
    platform: Platform, uow: UnitOfWork, principal: Principal, enterprise_id: int | None
) -> EnterpriseRow:
    """The enterprise a principal writes trace data for: their own, or (admin, integrator with consent) the one named."""
    if principal.role is Role.ENTERPRISE_USER:
        if enterprise_id not in (None, principal.enterprise_id):
            raise enterprise_not_found(enterprise_id)
        enterprise_id = principal.enterprise_id
    elif principal.role in (Role.PLATFORM_ADMIN, Role.INTEGRATOR):
        if enterprise_id is None:
            raise InvalidInput(f"role {principal.role.value} must name the enterprise (enterprise_id)")
    else:
        raise Denied(f"role {principal.role.value} may not write trace data (enterprise user, integrator or admin)")
    if enterprise_id is None:
        raise Denied(f"user {principal.username} acts for no enterprise")
    enterprise = uow.enterprises.get(enterprise_id)
    if enterprise is None:
        raise enterprise_not_found(enterprise_id)
    require_can_see_enterprise(
        principal, enterprise_id, consent_views(uow.consents.for_enterprise(enterprise_id)), platform.clock_ms()
    )
    return enterprise


# ---- product batches and identities (产量锁定) ------------------------------------------------------


def create_batch(
    platform: Platform,
    principal: Principal,
    gtin: str,
    lot: str,
    origin: str,
    production_start_ms: int,
    production_end_ms: int,
    company_prefix_digits: int,
    enterprise_id: int | None = None,
) -> dict:
    """Register a production batch (lot) of a GTIN; identities for it are capped by its measured output."""
    gtin = gtin14(gtin)
    if not 6 <= company_prefix_digits <= 12:
        raise InvalidInput(f"company_prefix_digits must be 6..12, got {company_prefix_digits}")
    if production_end_ms <= production_start_ms:
        raise InvalidInput(f"production window [{production_start_ms}, {production_end_ms}) is empty")
    with platform.uow() as uow:
        enterprise = _acting_enterprise(platform, uow, principal, enterprise_id)
        if uow.ledger.product_batch_by_lot(gtin, lot):
            raise Conflict(f"batch {lot!r} of GTIN {gtin} already exists")
        values = dict(
            enterprise_id=enterprise["id"],
            gtin=gtin,
            lot=lot,
            company_prefix_digits=company_prefix_digits,
            origin=origin,
            production_start_ms=production_start_ms,
            production_end_ms=production_end_ms,
            created_ms=platform.clock_ms(),
        )
        batch_id = uow.ledger.add_product_batch(**values)
        record(
            uow,
            "product_batch",
            f"product_batch:{batch_id}",
            values | {"batch_id": batch_id},
            enterprise["id"],
            platform.clock_ms(),
        )
        uow.commit()
    return batch_view(platform, principal, batch_id)


def batch_view(platform: Platform, principal: Principal, batch_id: int) -> dict:
    """A batch with its measured output, identities issued and how many more it supports."""
    with platform.uow() as uow:
        batch = readable_batch(platform, uow, principal, batch_id)
        measured = _measured(uow, batch)
    return _batch_public(batch, measured)


def readable_batch(platform: Platform, uow: UnitOfWork, principal: Principal, batch_id: int) -> ProductBatchRow:
    """A production batch, for whoever acts for its enterprise (its users, the admin, a consented integrator)."""
    batch = _batch(uow, batch_id)
    try:
        _acting_enterprise(platform, uow, principal, batch["enterprise_id"])
    except NotFound:  # the enterprise is not known to them: neither is its batch
        raise NotFound(f"product batch {batch_id} does not exist") from None
    return batch


def _batch(uow: UnitOfWork, batch_id: int) -> ProductBatchRow:
    batch = uow.ledger.product_batch(batch_id)
    if batch is None:
        raise NotFound(f"product batch {batch_id} does not exist")
    return batch


def _measured(uow: UnitOfWork, batch: ProductBatchRow) -> int:
    rows = uow.ledger.counter_readings(
        batch["enterprise_id"],
        device_types_with("counts_output"),
        OUTPUT_COUNTER_KEY,
        batch["production_start_ms"],
        batch["production_end_ms"],
    )
    return measured_output(rows)


def _batch_public(batch: Mapping[str, Any], measured: int) -> dict:
    keys = ("id", "enterprise_id", "gtin", "lot", "origin", "production_start_ms", "production_end_ms", "issued_count")
    return {k: batch[k] for k in keys} | {
        "measured_output": measured,
        "available": max(measured - batch["issued_count"], 0),
    }


def issue_identities(platform: Platform, principal: Principal, batch_id: int, count: int) -> dict:
    """Issue `count` SGTIN identities for a batch, refused beyond its IoT-measured output."""
    if not 1 <= count <= MAX_IDENTITIES_PER_REQUEST:
        raise InvalidInput(f"count must be 1..{MAX_IDENTITIES_PER_REQUEST}, got {count}")
    with platform.uow() as uow:
        batch = readable_batch(platform, uow, principal, batch_id)
        measured = _measured(uow, batch)
        first = uow.ledger.reserve_identities(batch_id, count, measured)  # row lock: concurrent issuers queue
        if first is None:
            issued = _batch(uow, batch_id)["issued_count"]
            raise Conflict(
                f"batch {batch['lot']!r} (GTIN {batch['gtin']}): measured output {measured} supports "
                f"{max(measured - issued, 0)} more identities, {count} asked (产量锁定)"
            )
        identities = [_identity(batch, first + n + 1) for n in range(count)]
        now_ms = platform.clock_ms()
        leaf = record(
            uow,
            "identity_issuance",
            f"product_batch:{batch_id}:issuance:{first + 1}",
            {
                "batch_id": batch_id,
                "gtin": batch["gtin"],
                "lot": batch["lot"],
                "measured_output": measured,
                "first_serial": identities[0]["serial"],
                "count": count,
                "epcs_sha256": hashlib.sha256("\n".join(i["epc"] for i in identities).encode()).hexdigest(),
            },
            batch["enterprise_id"],
            now_ms,
        )
        uow.ledger.add_products(
            [
                i
                | {
                    "batch_id": batch_id,
                    "enterprise_id": batch["enterprise_id"],
                    "issued_ms": now_ms,
                    "leaf_index": leaf,
                }
                for i in identities
            ]
        )
        uow.commit()
    return {
        "batch_id": batch_id,
        "issued": identities,
        "issued_count": first + count,
        "measured_output": measured,
        "ledger_leaf_index": leaf,
    }


def _identity(batch: ProductBatchRow, sequence: int) -> dict:
    """The SGTIN (EPC URI and Digital Link) of unit `sequence` of a batch."""
    serial = f"{batch['id']}-{sequence}"
    digits, gtin = batch["company_prefix_digits"], batch["gtin"]
    epc = f"urn:epc:id:sgtin:{gtin[1 : 1 + digits]}.{gtin[0]}{gtin[1 + digits : 13]}.{serial}"
    return {"gtin": gtin, "serial": serial, "epc": epc, "digital_link": sgtin_to_digital_link(epc)}


# ---- EPCIS capture -----------------------------------------------------------------------------------


def capture(platform: Platform, principal: Principal, document: Any, enterprise_id: int | None = None) -> dict:
    """Validate an EPCISDocument, store each new event under its CBV hash ID and write it to the ledger."""
    events = validate_document(document)
    if not isinstance(document, dict) or document.get("type") != "EPCISDocument":
        raise EpcisError("capture takes an EPCISDocument")
    if len(events) > MAX_CAPTURE_EVENTS:
        raise CaptureLimitExceeded(f"EPCIS capture of {len(events)} events is over the limit of {MAX_CAPTURE_EVENTS}")
    context = hash_context(document)
    hashed = list({event_hash_id(e, context): e for e in events}.items())
    with platform.uow() as uow:
        enterprise = _acting_enterprise(platform, uow, principal, enterprise_id)
        uow.ledger.lock_head()  # serialises captures: the duplicate check below cannot race
        known = uow.ledger.epcis_event_ids([h for h, _ in hashed])
        now_ms = platform.clock_ms()
        for hash_id, event in hashed:
            if hash_id not in known:
                _store_event(uow, enterprise["id"], hash_id, event, context, now_ms)
        uow.commit()
    return {
        "captured": len(hashed) - len(known),
        "duplicates": len(events) - len(hashed) + len(known),
        "eventHashIds": [h for h, _ in hashed],
    }


def _store_event(uow: UnitOfWork, enterprise_id: int, hash_id: str, event: dict, context, now_ms: int) -> None:
    stored = dict(event) | {"recordTime": iso_ms(now_ms)}
    stored.setdefault("eventID", hash_id)
    leaf = append_entry(
        uow,
        "epcis_event",
        hash_id,
        {"kind": "epcis_event", "subject": hash_id, "enterprise_id": enterprise_id, "event": stored},
        enterprise_id,
        now_ms,
    )
    event_id = uow.ledger.add_epcis_event(
        hash_id=hash_id,
        enterprise_id=enterprise_id,
        event_type=event["type"],
        event_time_ms=event_time_ms(event),
        record_time_ms=now_ms,
        biz_step=normalised_value(event.get("bizStep"), "bizStep", context),
        disposition=normalised_value(event.get("disposition"), "disposition", context),
        read_point=location_id(event.get("readPoint"), context),
        biz_location=location_id(event.get("bizLocation"), context),
        event=json.dumps(stored, ensure_ascii=False),
        leaf_index=leaf,
    )
    uow.ledger.add_epcis_epcs(
        [{"event_id": event_id, "epc": epc, "role": role} for epc, role in event_epcs(event, context)]
    )


def iso_ms(ms: int) -> str:
    """Epoch ms -> 2026-09-21T14:13:20.000Z."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


# ---- EPCIS query -------------------------------------------------------------------------------------


def parse_query(params: list[tuple[str, str]]) -> dict[str, Any]:
    """EPCIS 2.0 REST query parameters -> normalised filters; unknown or malformed ones raise EpcisQueryError."""
    filters: dict[str, Any] = {}
    for name, value in params:
        if name not in QUERY_PARAMETERS:
            raise EpcisQueryError(
                f"query parameter {name!r} is not supported (supported: {', '.join(QUERY_PARAMETERS)})"
            )
        items = [v.strip() for v in value.split(",") if v.strip()]
        filters.setdefault(name, [])
        filters[name] += [_query_value(name, item) for item in items]
    return filters


def _query_value(name: str, value: str) -> Any:
    if name == "eventType":
        if value not in EVENT_TYPES:
            raise EpcisQueryError(f"eventType {value!r} is not one of {', '.join(EVENT_TYPES)}")
        return value
    if name in ("GE_eventTime", "LT_eventTime"):
        try:
            return event_time_ms({"eventTime": value})
        except EpcisError:
            raise EpcisQueryError(f"{name} {value!r} is not an RFC 3339 timestamp") from None
    if name in ("MATCH_epc", "MATCH_anyEPC"):
        return epc_pattern(value)
    if name == "perPage":
        if not value.isdigit() or not 1 <= int(value) <= MAX_PER_PAGE:
            raise EpcisQueryError(f"perPage must be 1..{MAX_PER_PAGE}, got {value!r}")
        return int(value)
    if name == "nextPageToken":
        return _decode_token(value)
    vocabulary = {"EQ_bizStep": "bizStep", "EQ_disposition": "disposition"}.get(name)
    return normalised_value(value, vocabulary)


def _decode_token(token: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(token.encode() + b"==").decode().removeprefix("after:"))
    except (ValueError, UnicodeDecodeError):
        raise EpcisQueryError(f"nextPageToken {token[:40]!r} is not one this server issued") from None


def _encode_token(after_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{after_id}".encode()).decode().rstrip("=")


def query(platform: Platform, principal: Principal, params: list[tuple[str, str]]) -> tuple[list[dict], str | None]:
    """Events visible to the principal matching the query, one page; returns (events, nextPageToken or None)."""
    filters = parse_query(params)
    per_page = filters.pop("perPage", [DEFAULT_PER_PAGE])[-1]
    after_id = filters.pop("nextPageToken", [0])[-1]
    for name in ("GE_eventTime", "LT_eventTime"):
        if name in filters:
            filters[name] = max(filters[name]) if name[0] == "G" else min(filters[name])
    with platform.uow() as uow:
        enterprise_ids = _visible_enterprises(platform, uow, principal)
        rows = uow.ledger.query_epcis_events(filters, enterprise_ids, after_id, per_page + 1) if enterprise_ids else []
    page = rows[:per_page]
    token = _encode_token(page[-1]["id"]) if len(rows) > per_page else None
    return [json.loads(row["event"]) for row in page], token


def require_event_reader(platform: Platform, uow: UnitOfWork, principal: Principal, enterprise_id: int | None) -> None:
    """May the principal read this enterprise's EPCIS events (the rule of the EPCIS query)."""
    if enterprise_id not in _visible_enterprises(platform, uow, principal):
        raise NotFound(f"no EPCIS events of enterprise {enterprise_id} are visible to {principal.username}")


def _visible_enterprises(platform: Platform, uow: UnitOfWork, principal: Principal) -> list[int]:
    """An enterprise sees its own events; a tenant's users those of enterprises holding a valid consent to it."""
    if principal.role is Role.ENTERPRISE_USER:
        return [] if principal.enterprise_id is None else [principal.enterprise_id]
    if principal.tenant_id is None:
        return []
    views = consent_views(uow.consents.for_tenant(principal.tenant_id))
    return sorted({c.enterprise_id for c in valid_consents(views, principal.tenant_id, platform.clock_ms())})


# ---- consumer verification ----------------------------------------------------------------------


def verify_scan(
    platform: Platform, gtin: str, serial: str, client: str, lat: float | None = None, lon: float | None = None
) -> dict:
    """What a QR / NFC scan answers: genuine, unknown or suspicious, with the verified history; the scan is recorded."""
    gtin = gtin14(gtin)
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        product = uow.ledger.product(gtin, serial)
        scan = dict(
            gtin=gtin,
            serial=serial[:20],
            scanned_ms=now_ms,
            lat=lat,
            lon=lon,
            client_hash=hashlib.sha256(client.encode()).hexdigest(),
        )
        if product is None:
            uow.ledger.add_scan(product_id=None, verdict="unknown", **scan)
            uow.commit()
            return {"verdict": "unknown", "reasons": [f"no identity 01/{gtin}/21/{serial} was issued on this platform"]}
        answer = _product_answer(uow, product, Scan(now_ms, lat, lon))
        uow.ledger.add_scan(product_id=product["id"], verdict=answer["verdict"], **scan)
        uow.commit()
    return answer


def _product_answer(uow: UnitOfWork, product: ProductRow, this_scan: Scan | None) -> dict:
    batch = _batch(uow, product["batch_id"])
    scans = [Scan(s["scanned_ms"], s["lat"], s["lon"]) for s in uow.ledger.scans(product["id"])]
    scans += [this_scan] if this_scan else []
    history, altered = _history(uow, product["digital_link"])
    reasons = suspicion_reasons(scans, batch["issued_count"], _measured(uow, batch)) + altered
    producer = uow.enterprises.get(product["enterprise_id"])
    if producer is None:
        raise enterprise_not_found(product["enterprise_id"])
    return {
        "verdict": "suspicious" if reasons else "genuine",
        "reasons": reasons,
        "product": {
            "gtin": product["gtin"],
            "serial": product["serial"],
            "digital_link": product["digital_link"],
            "producer": producer["name"],
            "origin": batch["origin"],
            "batch": batch["lot"],
            "production_date": iso_ms(batch["production_end_ms"])[:10],
        },
        "history": history,
        "scans": len(scans),
    }


def _history(uow: UnitOfWork, digital_link: str) -> tuple[list[dict], list[str]]:
    """Public history steps (time, event type, business step, disposition) and any record found altered."""
    steps, altered = [], []
    for row in uow.ledger.events_naming_epc(digital_link):
        event = json.loads(row["event"])
        entry = uow.ledger.entry(row["leaf_index"])
        intact = (
            event_hash_id(event) == row["hash_id"]
            and entry is not None
            and json.loads(entry["leaf_data"])["event"] == event
        )
        if not intact:
            altered.append(f"history event {row['hash_id']} does not match its ledger entry")
        steps.append(
            {
                "time": iso_ms(row["event_time_ms"]),
                "type": row["event_type"],
                "step": _word(row["biz_step"]),
                "disposition": _word(row["disposition"]),
                "ledger_leaf_index": row["leaf_index"],
                "verified": intact,
            }
        )
    return steps, altered


def _word(uri: str | None) -> str | None:
    """https://ref.gs1.org/cbv/BizStep-shipping -> shipping."""
    return uri.rsplit("/", 1)[-1].split("-", 1)[-1] if uri else None


# ---- finance on traced goods --------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedGood:
    """A product unit whose identity and history check out: it may be pledged."""

    epc: str
    digital_link: str
    gtin: str
    serial: str
    batch_id: int
    lot: str
    enterprise_id: int
    identity_leaf_index: int
    event_leaf_indexes: tuple[int, ...]


def verified_goods(platform: Platform, epcs: list[str]) -> list[VerifiedGood]:
    """The units among `epcs` (SGTIN URIs or Digital Links) that are genuine with a verified history.

    Left out: unknown identities, batches over their measured output, histories whose events do
    not match their ledger leaves, and units whose scans look copied. No access check: the caller
    (the collateral registry) checks the pledgor.
    """
    links = {canonical_digital_link(epc) or epc: epc for epc in epcs}
    goods = []
    with platform.uow() as uow:
        for product in uow.ledger.products_by_digital_links(list(links)):
            if _is_verified(uow, product):
                goods.append(_good(uow, product, links[product["digital_link"]]))
    return sorted(goods, key=lambda g: epcs.index(g.epc))


def _is_verified(uow: UnitOfWork, product: ProductRow) -> bool:
    if _product_answer(uow, product, None)["verdict"] != "genuine":
        return False
    leaves = [product["leaf_index"]] + [e["leaf_index"] for e in uow.ledger.events_naming_epc(product["digital_link"])]
    return all(_leaf_matches(uow, leaf) for leaf in leaves)


def _leaf_matches(uow: UnitOfWork, leaf_index: int) -> bool:
    """The stored entry still hashes to the leaf the Merkle tree holds."""
    entry = uow.ledger.entry(leaf_index)
    nodes = uow.ledger.nodes([(0, leaf_index)])
    return entry is not None and nodes.get((0, leaf_index)) == leaf_hash(entry["leaf_data"].encode("utf-8"))


def _good(uow: UnitOfWork, product: ProductRow, epc: str) -> VerifiedGood:
    batch = _batch(uow, product["batch_id"])
    events = uow.ledger.events_naming_epc(product["digital_link"])
    return VerifiedGood(
        epc,
        product["digital_link"],
        product["gtin"],
        product["serial"],
        batch["id"],
        batch["lot"],
        product["enterprise_id"],
        product["leaf_index"],
        tuple(e["leaf_index"] for e in events),
    )
