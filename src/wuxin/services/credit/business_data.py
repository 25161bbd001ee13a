"""Business-data imports: statements, invoices, bills, bank flows, WMS movements, prices, loan outcomes.

Rows are validated one by one (wuxin.risk.business); good rows are stored with their source and
trust, re-sent rows are ignored, bad rows go to the business_rejections table with the field and
value that failed. Every import is audited and recorded in the evidence ledger (one entry per
enterprise it touched).

Who may import: an enterprise user for its own enterprise (source enterprise_reported, forced);
credit officers and risk managers for enterprises whose valid consent their bank holds (any source;
bank-sourced rows and loan outcomes are visible to that bank only); the platform (CLI, principal
None) anything. Market data (price_index) by bank roles, admins and the platform.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from wuxin.bootstrap import Platform
from wuxin.domain.model import BANK_ROLES, Role
from wuxin.errors import Denied, InvalidInput, NotFound
from wuxin.indicators.days import day_start_ms
from wuxin.risk.business import BadRow, GoodRow, kind_spec, trust_of_source, validate_rows
from wuxin.security.policy import Principal, enterprise_not_found, require_own_enterprise, require_role, valid_consents
from wuxin.services.bootstrap import business_kinds
from wuxin.services.devices.registry import consent_views
from wuxin.services.evidence.record import record_evidence
from wuxin.store.rows import BusinessRecordRow

PRIVATE_KINDS = {"loan_outcomes"}  # the lender's own book: never shared with other banks
MAX_ROWS = 100_000


def import_rows(
    platform: Platform,
    principal: Principal | None,
    kind: str,
    rows: list[Any],
    source: str,
    payload_sha256: str | None = None,
) -> dict:
    """Validate and store; returns counts and every refused row's field, value and reason."""
    spec = kind_spec(kind, business_kinds())
    source = _source_for(principal, kind, source)
    trust = trust_of_source(source)
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"an import holds at most {MAX_ROWS} rows, got {len(rows)}: split the file")
    good, bad = validate_rows(kind, rows, _payload_text, business_kinds())
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        import_id = uow.credit.add_import(
            kind=kind,
            source=source,
            trust_level=trust,
            received_ms=now_ms,
            user_id=_user(principal),
            tenant_id=_tenant(principal),
            rows_total=len(rows),
            rows_accepted=0,
            rows_duplicate=0,
            rows_rejected=0,
            payload_sha256=payload_sha256,
        )
        placed, refused = _place(platform, uow, principal, spec.per_enterprise, good)
        bad += refused
        stored = _store(uow, principal, import_id, kind, source, trust, placed, now_ms)
        duplicate = len(placed) - sum(len(ids) for ids in stored.values())
        uow.credit.add_rejections(
            [
                dict(
                    import_id=import_id,
                    row_index=b.index,
                    field=b.field,
                    value=b.value,
                    message=b.message,
                    payload=b.payload,
                    received_ms=now_ms,
                )
                for b in bad
            ]
        )
        uow.credit.finish_import(import_id, len(placed) - duplicate, duplicate, len(bad))
        _record(uow, import_id, kind, source, stored, placed, now_ms, records_tenant(principal, kind, source))
        if kind == "price_index":
            for _, row in placed:
                _to_price_table(uow, row, source)
        uow.logs.audit(
            now_ms,
            _user(principal),
            "business.import",
            f"business_import:{import_id}",
            {
                "kind": kind,
                "source": source,
                "accepted": len(placed) - duplicate,
                "duplicate": duplicate,
                "rejected": len(bad),
                "enterprises": sorted(e for e in stored if e is not None),
            },
        )
        uow.commit()
    return {
        "import_id": import_id,
        "kind": kind,
        "source": source,
        "trust_level": trust,
        "rows": len(rows),
        "accepted": len(placed) - duplicate,
        "duplicate": duplicate,
        "rejected": len(bad),
        "errors": [
            {"row": b.index + 1, "field": b.field, "value": b.value, "message": b.message}
            for b in sorted(bad, key=lambda b: b.index)
        ],
    }


def import_file(platform: Platform, principal: Principal | None, path: Path, kind: str, source: str) -> dict:
    """A .csv (header row), .json (a list) or .jsonl file of rows."""
    raw = path.read_bytes()
    return import_rows(
        platform, principal, kind, parse_rows(raw, path.suffix.lower()), source, hashlib.sha256(raw).hexdigest()
    )


def parse_rows(raw: bytes, suffix: str) -> list[Any]:
    """Rows from CSV, a JSON list or JSON Lines; a malformed JSON line becomes a row that fails validation."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"file is not UTF-8 text: byte {raw[exc.start : exc.start + 1]!r} at offset {exc.start}"
        ) from None
    if suffix == ".csv":
        try:  # newline="": a line break inside a quoted field is data, as the csv module needs
            return [
                {k: v for k, v in row.items() if k is not None} for row in csv.DictReader(io.StringIO(text, newline=""))
            ]
        except csv.Error as exc:
            raise InvalidInput(f"file is not valid CSV: {exc}") from None
    if suffix == ".json":
        try:
            rows = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            raise InvalidInput(f"file is not JSON: {exc}") from None
        if not isinstance(rows, list):
            raise InvalidInput(f"a .json file must hold a list of rows, got {type(rows).__name__}")
        return rows
    return [_json_line(line) for line in text.splitlines() if line.strip()]


def records(platform: Platform, principal: Principal, enterprise_id: int, kind: str | None = None) -> dict:
    """An enterprise's business records under consent (the enterprise sees its own), access-logged."""
    if kind is not None:
        kind_spec(kind, business_kinds())
    with platform.uow() as uow:
        consent_id = require_business_reader(platform, uow, principal, enterprise_id)
        rows = uow.credit.records(
            enterprise_id,
            [kind] if kind else None,
            principal.tenant_id,
            every_tenant=principal.role is Role.ENTERPRISE_USER,
        )
        _access(platform, uow, principal, enterprise_id, "business.records", consent_id, len(rows))
        uow.commit()
    return {"enterprise_id": enterprise_id, "records": [record_view(r) for r in rows]}


def record_view(row: BusinessRecordRow) -> dict:
    proof = f"/api/v1/ledger/entries/{row['ledger_leaf']}/proof" if row.get("ledger_leaf") is not None else None
    return {
        "id": row["id"],
        "kind": row["kind"],
        "key": row["record_key"],
        "data": row["data"],
        "source": row["source"],
        "trust_level": row["trust_level"],
        "import_id": row["import_id"],
        "ledger_proof": proof,
    }


def rejections(platform: Platform, principal: Principal | None, import_id: int) -> dict:
    """The rows an import refused (whoever imported it, or an admin)."""
    with platform.uow() as uow:
        entry = uow.credit.get_import(import_id)
        if entry is None or (
            principal is not None and not principal.is_admin and entry["user_id"] != principal.user_id
        ):
            raise NotFound(f"business import {import_id} does not exist")  # another user's import: as if absent
        rows = uow.credit.rejections(import_id)
    return {
        "import_id": import_id,
        "kind": entry["kind"],
        "rejected": [
            {
                "row": r["row_index"] + 1,
                "field": r["field"],
                "value": r["value"],
                "message": r["message"],
                "payload": r["payload"],
            }
            for r in rows
        ],
    }


def require_business_reader(platform: Platform, uow, principal: Principal, enterprise_id: int) -> int | None:
    """The enterprise itself, or a bank role holding a valid consent; returns the consent id.
    (Anyone else who may not know the enterprise gets the answer of a missing one.)"""
    if principal.role is not Role.ENTERPRISE_USER:
        require_role(principal, *BANK_ROLES)
    if uow.enterprises.get(enterprise_id) is None:
        raise enterprise_not_found(enterprise_id)
    if principal.role is Role.ENTERPRISE_USER:
        require_own_enterprise(principal, enterprise_id)
        return None
    live = valid_consents(
        consent_views(uow.consents.for_enterprise(enterprise_id)), principal.tenant_id, platform.clock_ms()
    )
    if not live:
        raise enterprise_not_found(enterprise_id)
    return live[0].id


def require_records_reader(
    platform: Platform, uow, principal: Principal, enterprise_id: int | None, tenant_id: int | None
) -> None:
    """May the principal read an enterprise's records kept for `tenant_id` (the rule of `records`): shared
    records (tenant None) to every business reader, a bank's own (bank-sourced, loan outcomes) to that bank
    and the enterprise. Market data (no enterprise) is the platform's, and the importing bank's."""
    if enterprise_id is None:
        if not principal.is_admin and (tenant_id is None or tenant_id != principal.tenant_id):
            raise NotFound("no market data import of yours")
        return
    require_business_reader(platform, uow, principal, enterprise_id)
    if tenant_id is not None and principal.role is not Role.ENTERPRISE_USER and tenant_id != principal.tenant_id:
        raise NotFound(f"no records of tenant {tenant_id}")


def _source_for(principal: Principal | None, kind: str, source: str) -> str:
    if principal is None:
        return source
    if principal.role is Role.ENTERPRISE_USER:
        if kind in PRIVATE_KINDS or kind == "price_index":
            raise Denied(f"an enterprise user does not import {kind}")
        if source != "enterprise_reported":
            raise Denied(f"an enterprise user's data is enterprise_reported, not {source!r}")
        return source
    if principal.is_admin and kind == "price_index":
        return source
    require_role(principal, *BANK_ROLES)
    return source


def _place(
    platform: Platform, uow, principal: Principal | None, per_enterprise: bool, good: list[GoodRow]
) -> tuple[list[tuple[int | None, GoodRow]], list[BadRow]]:
    """Resolve each row's enterprise and check the importer may write for it."""
    if not per_enterprise:
        return [(None, g) for g in good], []
    placed, refused, cache = [], [], {}
    for row in good:
        if row.uscc not in cache:
            cache[row.uscc] = _writable(platform, uow, principal, row.uscc)
        enterprise_id, problem = cache[row.uscc]
        if problem:
            refused.append(
                BadRow(row.index, "uscc", row.uscc, f"row {row.index + 1}: {problem}", _payload_text(row.data))
            )
        else:
            placed.append((enterprise_id, row))
    return placed, refused


def _writable(platform: Platform, uow, principal: Principal | None, uscc: str | None) -> tuple[int | None, str | None]:
    enterprise = uow.enterprises.by_uscc(uscc or "")
    if enterprise is None:
        return None, f"no enterprise has USCC {uscc!r}"
    if principal is None:
        return enterprise["id"], None
    if principal.role is Role.ENTERPRISE_USER:
        ok = principal.enterprise_id == enterprise["id"]
        return enterprise["id"], None if ok else f"no enterprise has USCC {uscc!r}"
    live = valid_consents(
        consent_views(uow.consents.for_enterprise(enterprise["id"])), principal.tenant_id, platform.clock_ms()
    )
    return enterprise["id"], None if live else f"no enterprise has USCC {uscc!r}"  # as if absent: no oracle


def _store(
    uow,
    principal: Principal | None,
    import_id: int,
    kind: str,
    source: str,
    trust: float,
    placed: list[tuple[int | None, GoodRow]],
    now_ms: int,
) -> dict[int | None, list[int]]:
    """Insert the placed rows; returns the new record ids by enterprise (re-sent rows are not new)."""
    tenant = records_tenant(principal, kind, source)
    rows = [
        dict(
            import_id=import_id,
            enterprise_id=eid,
            tenant_id=tenant,
            kind=kind,
            record_key=row.key,
            dedupe_key=f"{kind}|{eid or '-'}|{tenant or '-'}|{source}|{row.key}"[:400],
            first_day=row.first_day,
            last_day=row.last_day,
            data=row.data,
            source=source,
            trust_level=trust,
            created_ms=now_ms,
        )
        for eid, row in placed
    ]
    by_enterprise: dict[int | None, list[int]] = {}
    for record_id, enterprise_id in uow.credit.add_records(rows):
        by_enterprise.setdefault(enterprise_id, []).append(record_id)
    return by_enterprise


def records_tenant(principal: Principal | None, kind: str, source: str) -> int | None:
    """The tenant that alone (with the enterprise) reads an import's records: the importing bank's for
    bank-sourced rows and its own book (loan outcomes); None for shared records."""
    return _tenant(principal) if (source == "bank" or kind in PRIVATE_KINDS) else None


def _record(
    uow,
    import_id: int,
    kind: str,
    source: str,
    stored: dict[int | None, list[int]],
    placed: list[tuple[int | None, GoodRow]],
    now_ms: int,
    tenant_id: int | None,
) -> None:
    """One ledger entry per enterprise touched: the import, the kind and a digest of the rows stored."""
    for enterprise_id, ids in stored.items():
        rows = [row.data for eid, row in placed if eid == enterprise_id]
        digest = hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        data = {
            "import_id": import_id,
            "kind": kind,
            "source": source,
            "records": len(ids),
            "rows_sha256": digest,
            "at_ms": now_ms,
        }
        if enterprise_id is not None:
            data["enterprise_id"] = enterprise_id
        leaf = record_evidence(
            uow,
            "business_import",
            f"business_import:{import_id}:{enterprise_id or 'market'}",
            data,
            owner_tenant_id=tenant_id,
        )
        uow.credit.set_record_leaf(ids, leaf)


def _to_price_table(uow, row: GoodRow, source: str) -> None:
    """The monitoring part values pledges from its price table: keep it in step."""
    at_ms = day_start_ms(row.first_day)  # local midnight of the price's date
    uow.monitoring.add_price(row.data["sku"], at_ms, Decimal(row.data["price_cny_per_unit"]), source)


def _access(
    platform: Platform, uow, principal: Principal, enterprise_id: int, action: str, consent_id: int | None, rows: int
) -> None:
    uow.logs.access(
        at_ms=platform.clock_ms(),
        user_id=principal.user_id,
        tenant_id=principal.tenant_id,
        enterprise_id=enterprise_id,
        device_id=None,
        action=action,
        consent_id=consent_id,
        rows=rows,
    )


def _json_line(line: str) -> Any:
    try:
        return json.loads(line, parse_float=Decimal)
    except ValueError:
        return line  # refused by validation as "must be an object", with the line kept


def _payload_text(row: Any) -> str:
    return json.dumps(row, ensure_ascii=False, default=str) if not isinstance(row, str) else row


def _user(principal: Principal | None) -> int | None:
    return principal.user_id if principal else None


def _tenant(principal: Principal | None) -> int | None:
    return principal.tenant_id if principal else None
