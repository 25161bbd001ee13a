"""The enterprise's own view of who read its data (access_log): who, which bank, what, when, under which consent.

Only the enterprise's own users and the platform admin read it. A bank that holds a valid consent may know the
enterprise exists, so it is refused with Denied (403); anyone else gets the answer of a missing enterprise (404).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from wuxin.bootstrap import Platform
from wuxin.domain.model import Role
from wuxin.errors import Denied
from wuxin.indicators.days import CHINA_TZ
from wuxin.security.policy import Principal, enterprise_not_found, may_know_enterprise
from wuxin.services.devices.registry import consent_views

CSV_COLUMNS = [
    "id",
    "at_ms",
    "at_china_time",
    "username",
    "display_name",
    "role",
    "tenant_id",
    "tenant_name",
    "action",
    "device_key",
    "consent_id",
    "rows",
]
FORMULA_STARTS = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
)  # a spreadsheet would run such a cell as a formula (OWASP CSV injection)


def access_page(
    platform: Platform,
    principal: Principal,
    enterprise_id: int,
    limit: int,
    before_id: int | None = None,
    tenant_id: int | None = None,
    from_ms: int | None = None,
    to_ms: int | None = None,
    tenants_only: bool = False,
) -> tuple[list[dict], int | None]:
    """A page of the enterprise's access log, newest first, and the `before_id` of the next page (None: last page)."""
    with platform.uow() as uow:
        require_owner_view(platform, uow, principal, enterprise_id)
        rows = uow.logs.access_page(enterprise_id, limit + 1, before_id, tenant_id, from_ms, to_ms, tenants_only)
    page = [_entry(r) for r in rows[:limit]]
    return page, (page[-1]["id"] if len(rows) > limit else None)


def require_owner_view(platform: Platform, uow, principal: Principal, enterprise_id: int) -> None:
    if uow.enterprises.get(enterprise_id) is None:
        raise enterprise_not_found(enterprise_id)
    if principal.is_admin or (principal.role is Role.ENTERPRISE_USER and principal.enterprise_id == enterprise_id):
        return
    consents = consent_views(uow.consents.for_enterprise(enterprise_id))
    if principal.role is Role.ENTERPRISE_USER or not may_know_enterprise(
        principal, enterprise_id, consents, platform.clock_ms()
    ):
        raise enterprise_not_found(enterprise_id)
    raise Denied(
        f"only enterprise {enterprise_id} itself and the platform admin read its access log "
        f"(role {principal.role.value})"
    )


def _entry(row: dict) -> dict:
    return {
        "id": row["id"],
        "at_ms": row["at_ms"],
        "user_id": row["user_id"],
        "username": row["username"],
        "display_name": row["display_name"],
        "role": row["role"],
        "tenant_id": row["tenant_id"],
        "tenant_name": row["tenant_name"],
        "action": row["action"],
        "device_key": row["device_key"],
        "consent_id": row["consent_id"],
        "rows": row["rows"],
    }


def to_csv(entries: list[dict]) -> str:
    """RFC 4180 CSV (quoted where needed by the csv module) after a UTF-8 byte-order mark, so that spreadsheets read
    the Chinese names right; text that a spreadsheet would read as a formula gets a leading apostrophe."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        at = datetime.fromtimestamp(e["at_ms"] / 1000, CHINA_TZ).isoformat(timespec="seconds")
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    e["id"],
                    e["at_ms"],
                    at,
                    e["username"],
                    e["display_name"],
                    e["role"],
                    e["tenant_id"],
                    e["tenant_name"],
                    e["action"],
                    e["device_key"],
                    e["consent_id"],
                    e["rows"],
                )
            ]
        )
    return out.getvalue()


def safe_cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_STARTS) else text
