"""Movable-asset pledges (动产质押): the collateral registry, pledge zones, valuation and coverage,
reconciliation of camera / RFID / WMS outbound counts, and release only after repayment or substitution.

一物一押: an identity (RFID tag, serial, lot) can be under one active pledge on the whole platform. The
refusal reads the same whoever holds it (this bank or another tenant), so it leaks nothing; the partial
unique index on collateral_items(identity) WHERE released_ms IS NULL enforces it against races.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from wuxin.alerts.engine import Signal, mismatch
from wuxin.alerts.geofence import parse_zone
from wuxin.alerts.rules import parse_rule
from wuxin.bootstrap import Platform
from wuxin.domain.model import Role
from wuxin.errors import Conflict, InvalidInput
from wuxin.loans.pledge import (
    DOUBLE_PLEDGE_MESSAGE,
    Coverage,
    Holding,
    coverage,
    item_identity,
    item_value_cny,
    release_allowed,
    top_up_cny,
)
from wuxin.security.policy import Principal, consented_device_keys, readable_device_keys, require_role
from wuxin.services.bootstrap import device_types_with, rule_of_type
from wuxin.services.credit.loans import money, own_loan
from wuxin.services.devices.registry import consent_views
from wuxin.services.evidence.record import record_evidence
from wuxin.services.monitoring.alarms import apply_signals
from wuxin.services.monitoring.rule_cache import invalidate_index, tenant_scope
from wuxin.store.rows import CollateralItemRow, DeviceRow, LoanRow
from wuxin.store.uow import UnitOfWork

CLOSED = ("closed", "rejected")


def _items(raw: list[dict]) -> list[dict]:
    if not raw:
        raise InvalidInput("pledge at least one item")
    out, seen = [], set()
    for i, item in enumerate(raw):
        identity = item_identity(item.get("kind", ""), item.get("value", ""))
        if identity in seen:
            raise InvalidInput(f"item {identity} is listed twice")
        seen.add(identity)
        quantity, haircut = (
            money(item.get("quantity", 0), f"items[{i}].quantity"),
            Decimal(str(item.get("haircut", "0.3"))),
        )
        if quantity <= 0 or not Decimal(0) <= haircut < Decimal(1):
            raise InvalidInput(
                f"item {identity}: quantity must be > 0 and haircut in [0, 1), got {quantity}, {haircut}"
            )
        sku = str(item.get("sku", "")).strip()
        if not sku:
            raise InvalidInput(f"item {identity} needs a sku (the price index key)")
        out.append(
            dict(
                identity=identity,
                sku=sku[:80],
                quantity=quantity,
                unit=str(item.get("unit", "unit"))[:20],
                zone_id=item.get("zone_id"),
                haircut=haircut,
            )
        )
    return out


def pledge(platform: Platform, principal: Principal, loan_id: int, items: list[dict]) -> list[dict]:
    """Register pledged items on a loan of the officer's bank; an item pledged anywhere already is refused."""
    require_role(principal, Role.CREDIT_OFFICER)
    rows, now_ms = _items(items), platform.clock_ms()
    with platform.uow() as uow:
        loan = own_loan(uow, principal, loan_id, for_update=True)
        if loan["state"] in CLOSED:
            raise Conflict(f"loan {loan_id} is {loan['state']}: nothing can be pledged to it")
        _add_items(uow, loan, rows, now_ms)
        uow.commit()
        return [public_item(r) for r in uow.monitoring.items(loan_id)]


def _add_items(uow: UnitOfWork, loan: LoanRow, rows: list[dict], now_ms: int) -> list[int]:
    taken = uow.monitoring.identity_pledged([r["identity"] for r in rows])
    if taken:
        raise Conflict(DOUBLE_PLEDGE_MESSAGE.format(identity=sorted(taken)[0]))
    ids = uow.monitoring.add_items(
        [
            dict(
                r,
                tenant_id=loan["tenant_id"],
                loan_id=loan["id"],
                enterprise_id=loan["enterprise_id"],
                pledged_ms=now_ms,
            )
            for r in rows
        ]
    )
    if ids is None:  # a concurrent pledge won the race; the database refused the second
        raise Conflict(
            DOUBLE_PLEDGE_MESSAGE.format(identity=rows[0]["identity"] if len(rows) == 1 else "in this request")
        )
    record_evidence(
        uow,
        "pledge_change",
        f"loan:{loan['id']}",
        {
            "action": "pledge",
            "loan_id": loan["id"],
            "enterprise_id": loan["enterprise_id"],
            "at_ms": now_ms,
            "items": [{"identity": r["identity"], "sku": r["sku"], "quantity": str(r["quantity"])} for r in rows],
        },
        owner_tenant_id=loan["tenant_id"],
    )
    return ids


def public_item(r: CollateralItemRow) -> dict:
    return {
        "id": r["id"],
        "identity": r["identity"],
        "sku": r["sku"],
        "quantity": str(r["quantity"]),
        "unit": r["unit"],
        "zone_id": r["zone_id"],
        "haircut": str(r["haircut"]),
        "pledged_ms": r["pledged_ms"],
        "released_ms": r["released_ms"],
        "release_reason": r["release_reason"],
    }


def add_zone(platform: Platform, principal: Principal, loan_id: int, zone_id: str, polygon: list) -> dict:
    """A pledge zone: where the goods (and the GPS trackers on them) must stay; a geofence rule watches it."""
    require_role(principal, Role.CREDIT_OFFICER, Role.RISK_MANAGER)
    zone = parse_zone(zone_id, polygon)
    with platform.uow() as uow:
        loan = own_loan(uow, principal, loan_id)
        if any(z["zone_id"] == zone_id for z in uow.monitoring.zones([loan_id])):
            raise Conflict(f"loan {loan_id} already has a zone {zone_id!r}")
        zid = uow.monitoring.add_zone(
            loan_id=loan_id, zone_id=zone_id, polygon=[list(v) for v in zone.vertices], created_ms=platform.clock_ms()
        )
        record_evidence(
            uow,
            "pledge_change",
            f"loan:{loan_id}",
            {
                "action": "zone",
                "loan_id": loan_id,
                "zone_id": zone_id,
                "enterprise_id": loan["enterprise_id"],
                "at_ms": platform.clock_ms(),
                "polygon": [list(v) for v in zone.vertices],
            },
            owner_tenant_id=loan["tenant_id"],
        )
        uow.commit()
    invalidate_index()
    return {"id": zid, "zone_id": zone_id, "polygon": [list(v) for v in zone.vertices]}


def set_price(platform: Platform, principal: Principal, sku: str, price_cny, at_ms: int, source: str) -> dict:
    require_role(principal, Role.RISK_MANAGER, Role.PLATFORM_ADMIN)
    price = money(price_cny, "price_cny")
    with platform.uow() as uow:
        uow.monitoring.add_price(sku, at_ms, price, source[:100])
        uow.commit()
    return {"sku": sku, "price_cny": str(price), "at_ms": at_ms, "source": source}


def holdings(uow: UnitOfWork, loan: LoanRow, at_ms: int, reader_tenant_id: int | None) -> list[Holding]:
    """Items valued today: a zone's RFID count caps the quantity of the single lot it watches (monitored, not declared),
    counted only from readers a valid consent to the reader's tenant covers (after revocation: declared quantities)."""
    items = uow.monitoring.items(loan["id"])
    prices = uow.monitoring.prices({i["sku"] for i in items}, at_ms) if items else {}
    monitored = _monitored_by_zone(uow, consented_devices(uow, loan, at_ms, reader_tenant_id)[0], at_ms)
    per_zone: dict[str | None, int] = {}
    for i in items:
        per_zone[i["zone_id"]] = per_zone.get(i["zone_id"], 0) + 1
    out = []
    for i in items:
        quantity = Decimal(i["quantity"])
        seen = monitored.get(i["zone_id"])
        if seen is not None and per_zone[i["zone_id"]] == 1:
            quantity = min(quantity, Decimal(str(seen)))
        price = prices.get(i["sku"])
        out.append(
            Holding(
                i["identity"], i["sku"], quantity, Decimal(price) if price is not None else None, Decimal(i["haircut"])
            )
        )
    return out


def consented_devices(
    uow: UnitOfWork, loan: LoanRow, now_ms: int, tenant_id: int | None
) -> tuple[list[DeviceRow], int | None]:
    """Devices of the loan's enterprise that a valid consent to `tenant_id` (the loan's bank, or the reader's
    tenant) covers now, and that consent: pledge figures use device data only under it."""
    devices = uow.devices.list(loan["enterprise_id"])
    consents = consent_views(uow.consents.for_enterprise(loan["enterprise_id"]))
    keys, consent_id = consented_device_keys(
        tenant_id, [(d["key"], d["device_type"]) for d in devices], consents, now_ms
    )
    return [d for d in devices if d["key"] in keys], consent_id


def _zone_readers(devices: list[DeviceRow]) -> dict[int, str]:
    counting = device_types_with("counts_stock")
    return {
        d["id"]: d["attributes"]["zone_id"]
        for d in devices
        if d["device_type"] in counting and (d["attributes"] or {}).get("zone_id")
    }


def _monitored_by_zone(uow: UnitOfWork, devices: list[DeviceRow], at_ms: int) -> dict[str | None, float]:
    readers = _zone_readers(devices)
    if not readers:
        return {}
    latest = uow.monitoring.latest_value(list(readers), "tag_count", at_ms)
    out: dict[str | None, float] = {}  # keyed like an item's zone_id (None: no zone, never a key)
    for device_id, value in latest.items():
        out[readers[device_id]] = out.get(readers[device_id], 0.0) + value
    return out


def loan_coverage(uow: UnitOfWork, loan: LoanRow, at_ms: int) -> Coverage:
    return coverage(
        holdings(uow, loan, at_ms, loan["tenant_id"]),
        Decimal(loan["outstanding_cny"]),
        Decimal(loan["maintenance_ratio"]),
        Decimal(loan["liquidation_ratio"]),
    )


def valuation(platform: Platform, principal: Principal, loan_id: int) -> dict:
    with platform.uow() as uow:
        loan = own_loan(uow, principal, loan_id)
        now_ms = platform.clock_ms()
        hs = holdings(uow, loan, now_ms, principal.tenant_id)  # the admin (no tenant) sees declared quantities
        cov = coverage(
            hs, Decimal(loan["outstanding_cny"]), Decimal(loan["maintenance_ratio"]), Decimal(loan["liquidation_ratio"])
        )
        devices, consent_id = consented_devices(uow, loan, now_ms, principal.tenant_id)
        readers = _zone_readers(devices)
        if consent_id is not None and readers:  # monitored quantities are a read of the enterprise's data
            _log_read(platform, uow, principal, loan, "pledges.valuation", consent_id, len(readers))
        uow.commit()
    return {
        "loan_id": loan_id,
        "monitored": consent_id is not None,
        "items": [
            {
                "identity": h.identity,
                "sku": h.sku,
                "quantity": str(h.quantity),
                "unit_price_cny": None if h.unit_price_cny is None else str(h.unit_price_cny),
                "haircut": str(h.haircut),
                "value_cny": None if item_value_cny(h) is None else str(item_value_cny(h)),
            }
            for h in hs
        ],
        **coverage_doc(cov, Decimal(loan["maintenance_ratio"])),
    }


def coverage_doc(cov: Coverage, maintenance: Decimal) -> dict:
    return {
        "pledged_value_cny": str(cov.pledged_value_cny),
        "outstanding_cny": str(cov.outstanding_cny),
        "coverage_ratio": None if cov.ratio is None else str(cov.ratio),
        "status": cov.status,
        "unpriced": list(cov.unpriced),
        "top_up_cny": str(top_up_cny(cov, maintenance)) if cov.ratio is not None else "0.00",
    }


def check_coverage(platform: Platform) -> int:
    """Margin-call warnings for every live loan with pledged goods: raise below the line, clear above it."""
    now_ms = platform.clock_ms()
    signals = []
    with platform.uow() as uow:
        for loan in uow.monitoring.live_loans_all(("monitoring", "warning", "disposal")):
            if not uow.monitoring.items(loan["id"]):
                continue
            cov = loan_coverage(uow, loan, now_ms)
            signals += coverage_signals(_industry_rule(uow, "coverage", loan), loan, cov, now_ms)
        apply_signals(platform, uow, signals, now_ms)
        uow.commit()
    return sum(1 for s in signals if s.action == "raise")


def _industry_rule(uow: UnitOfWork, kind: str, loan: LoanRow):
    """The rule of `kind` of the borrower's industry pack, else the first pack's that declares one."""
    enterprise = uow.enterprises.get(loan["enterprise_id"])
    return rule_of_type(kind, enterprise["industry"] if enterprise else None)


def coverage_signals(base, loan: LoanRow, cov: Coverage, now_ms: int) -> list[Signal]:
    liquidation = parse_rule(
        {
            "id": base.id + ".liquidation",
            "type": "coverage",
            "alarm_type": "liquidation_line",
            "severity": "critical",
            "params": dict(base.params),
            "risk_class_floor": "substandard",
            "label": {"zh": "押品覆盖率跌破平仓线", "en": "coverage below the liquidation line"},
        },
        base.scenario,
    )
    detail = {
        "coverage_ratio": None if cov.ratio is None else str(cov.ratio),
        "pledged_value_cny": str(cov.pledged_value_cny),
        "outstanding_cny": str(cov.outstanding_cny),
        "status": cov.status,
        "top_up_cny": str(top_up_cny(cov, Decimal(loan["maintenance_ratio"]))),
    }
    scope, source = tenant_scope(loan["tenant_id"]), f"loan:{loan['id']}"
    margin = cov.status in ("margin_call", "liquidation")

    def below(line: Decimal) -> dict:  # the loan's own line the ratio is judged against (the desk showed none)
        return {**detail, "line_ratio": str(line), "direction": "below"}

    return [
        Signal(
            "raise" if margin else "clear",
            scope,
            base,
            source,
            loan["enterprise_id"],
            now_ms,
            below(loan["maintenance_ratio"]),
            None,
            loan["id"],
        ),
        Signal(
            "raise" if cov.status == "liquidation" else "clear",
            scope,
            liquidation,
            source,
            loan["enterprise_id"],
            now_ms,
            below(loan["liquidation_ratio"]),
            None,
            loan["id"],
        ),
    ]


def reconcile(
    platform: Platform,
    principal: Principal,
    loan_id: int,
    zone_id: str,
    from_ms: int,
    to_ms: int,
    wms_out_units: float | None,
) -> dict:
    """Outbound units of a zone in [from, to) by camera, by RFID (tags gone) and as booked in the WMS."""
    require_role(principal, Role.CREDIT_OFFICER, Role.RISK_MANAGER)
    if to_ms <= from_ms:
        raise InvalidInput(f"window [{from_ms}, {to_ms}) is empty")
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        loan = own_loan(uow, principal, loan_id)
        rule = _industry_rule(uow, "mismatch", loan)
        devices, consent_id = _readable_devices(platform, uow, principal, loan["enterprise_id"])
        values = zone_outbound(uow, devices, zone_id, from_ms, to_ms)
        _log_read(platform, uow, principal, loan, "pledges.reconcile", consent_id, len(devices))
        values["wms_out"] = wms_out_units
        gap = mismatch(values, float(rule.params["tolerance"]))
        big_enough = gap is not None and gap["gap"] >= rule.params.get("min_units", 0)
        detail = {"zone_id": zone_id, "from_ms": from_ms, "to_ms": to_ms, "values": values, **(gap or {})}
        signal = Signal(
            "raise" if big_enough else "clear",
            tenant_scope(loan["tenant_id"]),
            rule,
            f"loan:{loan_id}:zone:{zone_id}"[:60],
            loan["enterprise_id"],
            now_ms,
            detail,
            None,
            loan_id,
        )
        apply_signals(platform, uow, [signal], now_ms)
        uow.commit()
    return {"zone_id": zone_id, "values": values, "mismatch": big_enough, "detail": gap}


def _readable_devices(
    platform: Platform, uow: UnitOfWork, principal: Principal, enterprise_id: int
) -> tuple[list[DeviceRow], int | None]:
    """The enterprise's devices the caller may read now (as data_access reads them); without a valid consent the
    enterprise does not exist for the caller (404), even under the caller's own loan."""
    devices = uow.devices.list(enterprise_id)
    consents = consent_views(uow.consents.for_enterprise(enterprise_id))
    keys, consent_id = readable_device_keys(
        principal, enterprise_id, [(d["key"], d["device_type"]) for d in devices], consents, platform.clock_ms()
    )
    return [d for d in devices if d["key"] in keys], consent_id


def _log_read(
    platform: Platform,
    uow: UnitOfWork,
    principal: Principal,
    loan: LoanRow,
    action: str,
    consent_id: int | None,
    rows: int,
) -> None:
    uow.logs.access(
        at_ms=platform.clock_ms(),
        user_id=principal.user_id,
        tenant_id=principal.tenant_id,
        enterprise_id=loan["enterprise_id"],
        device_id=None,
        action=action,
        consent_id=consent_id,
        rows=rows,
    )


def zone_outbound(uow: UnitOfWork, readable: list[DeviceRow], zone_id: str, from_ms: int, to_ms: int) -> dict:
    """Outbound counts of the zone from the given devices only (those the caller may read)."""
    devices = [d for d in readable if (d["attributes"] or {}).get("zone_id") == zone_id]
    outbound, counting = device_types_with("counts_goods_out"), device_types_with("counts_stock")
    cameras = [d["id"] for d in devices if d["device_type"] in outbound]
    readers = [d["id"] for d in devices if d["device_type"] in counting]
    camera_out = uow.monitoring.sum_values(cameras, "count_out", from_ms, to_ms) if cameras else None
    rfid_out = None
    if readers:
        before = uow.monitoring.latest_value(readers, "tag_count", from_ms)
        after = uow.monitoring.latest_value(readers, "tag_count", to_ms - 1)
        if before and after:
            rfid_out = max(sum(before.values()) - sum(after.values()), 0.0)
    return {"camera_out": camera_out, "rfid_out": rfid_out}


def release(
    platform: Platform,
    principal: Principal,
    loan_id: int,
    item_ids: list[int],
    reason: str,
    substitutes: list[dict] | None = None,
) -> dict:
    """Goods leave the pledge only when the loan is repaid, or when substitutes of at least equal value come in."""
    require_role(principal, Role.CREDIT_OFFICER, Role.RISK_MANAGER)
    if len((reason or "").strip()) < 3:
        raise InvalidInput(f"a reason of at least 3 characters is needed, got {reason!r}")
    new_rows = _items(substitutes) if substitutes else []
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        loan = own_loan(uow, principal, loan_id, for_update=True)
        active = {i["id"]: i for i in uow.monitoring.items(loan_id)}
        missing = sorted(set(item_ids) - set(active))
        if not item_ids or missing:
            raise InvalidInput(f"items {missing or item_ids} are not active pledges of loan {loan_id}")
        released = _value(uow, [active[i] for i in item_ids], now_ms)
        substitute = _value(uow, new_rows, now_ms)
        refusal = release_allowed(loan["state"], released, substitute)
        if refusal:
            raise Conflict(f"loan {loan_id}: {refusal}")
        if new_rows:
            _add_items(uow, loan, new_rows, now_ms)
        uow.monitoring.release_items(item_ids, now_ms, reason.strip())
        record_evidence(
            uow,
            "pledge_change",
            f"loan:{loan_id}",
            {
                "action": "release",
                "loan_id": loan_id,
                "enterprise_id": loan["enterprise_id"],
                "at_ms": now_ms,
                "released": [active[i]["identity"] for i in item_ids],
                "reason": reason.strip(),
                "substitutes": [r["identity"] for r in new_rows],
            },
            owner_tenant_id=loan["tenant_id"],
        )
        uow.commit()
        return {
            "released": [active[i]["identity"] for i in item_ids],
            "substituted": [r["identity"] for r in new_rows],
            "items": [public_item(r) for r in uow.monitoring.items(loan_id)],
        }


def _value(uow: UnitOfWork, rows: Sequence[Mapping[str, Any]], at_ms: int) -> Decimal:
    """Value after haircut at today's prices; an unpriced item counts as zero here (a release needs priced substitutes)."""
    prices = uow.monitoring.prices({r["sku"] for r in rows}, at_ms) if rows else {}
    total = Decimal(0)
    for r in rows:
        price = prices.get(r["sku"])
        value = item_value_cny(
            Holding(
                r["identity"],
                r["sku"],
                Decimal(r["quantity"]),
                Decimal(price) if price is not None else None,
                Decimal(r["haircut"]),
            )
        )
        total += value or Decimal(0)
    return total
