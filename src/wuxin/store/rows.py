"""Typed row records: what the repositories hand to the services, one TypedDict per table row.

A record is a plain dict at runtime (the API's JSON and the tests see no change); mypy checks every key read
and the type of its value. Times are UTC epoch milliseconds; a column that may be NULL is `X | None`.
JSON columns keep the shape they are written with. tests/unit/test_store_rows.py fails when a table's columns
and its record differ.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypedDict


class TenantRow(TypedDict):
    id: int
    name: str
    kind: str  # bank | operator | regulator
    created_ms: int
    demo: bool


class EnterpriseRow(TypedDict):
    id: int
    name: str
    uscc: str
    industry: str
    region: str
    onboarded_by_tenant_id: int | None
    created_ms: int


class UserRow(TypedDict):
    id: int
    username: str
    display_name: str
    password_hash: str
    role: str
    tenant_id: int | None
    enterprise_id: int | None
    disabled: bool
    created_ms: int


class SiteRow(TypedDict):
    id: int
    enterprise_id: int
    name: str
    region: str
    lat: float | None
    lon: float | None
    timezone: str | None  # IANA name; None = Asia/Shanghai


class ThingModelRow(TypedDict):
    device_type: str
    scenario: str
    version: str
    tsl: dict[str, Any]
    updated_ms: int


class DeviceRow(TypedDict):
    id: int
    key: str
    enterprise_id: int
    site_id: int | None
    device_type: str
    attributes: dict[str, Any]
    source_mode: str
    trust_level: float
    created_ms: int
    last_seen_ms: int | None
    installed_ms: int | None
    decommissioned_ms: int | None


class DeviceTokenStatusRow(DeviceRow):
    """The device a token belongs to, with the token's revocation time (None = live)."""

    token_revoked_ms: int | None


class ConsentRow(TypedDict):
    id: int
    enterprise_id: int
    tenant_id: int
    scope: str  # all | scenarios | devices
    scope_items: list[str]  # scenarios or device keys
    purpose: str
    granted_by_user_id: int | None
    granted_ms: int
    expires_ms: int
    revoked_ms: int | None
    revoked_by_user_id: int | None


class BatchRow(TypedDict):
    id: int
    channel: str  # http | bulk | mqtt | jt808 | platform | replay
    source_mode: str | None
    received_ms: int
    points_accepted: int
    points_rejected: int
    payload_sha256: str | None


class QuarantineRow(TypedDict):
    id: int
    received_ms: int
    channel: str
    device_key: str | None
    reason: str
    message: str
    payload: str
    status: str  # open | replayed | discarded
    resolved_ms: int | None


class LoanRow(TypedDict):
    id: int
    tenant_id: int
    enterprise_id: int
    product: str
    amount_cny: Decimal
    outstanding_cny: Decimal
    state: str
    risk_class: str
    monitoring_plan: dict[str, Any]  # {"devices": [...], "rules": [...]}
    maintenance_ratio: Decimal
    liquidation_ratio: Decimal
    created_ms: int
    updated_ms: int


class AlarmRow(TypedDict):
    id: int
    scope: str  # platform | tenant:<id>
    tenant_id: int | None
    source: str  # device:<id> | enterprise:<id> | loan:<id> | zone:<...>
    alarm_type: str
    rule_id: str
    severity: str
    status: str  # active | acknowledged | cleared
    enterprise_id: int | None
    device_id: int | None
    loan_ids: list[int]
    started_ms: int
    last_ms: int
    stored_ms: int
    occurrences: int
    detail: dict[str, Any]
    acknowledged_ms: int | None
    acknowledged_by: int | None
    cleared_ms: int | None
    cleared_by: int | None  # None when the rule cleared it
    escalation_level: int
    escalated_ms: int | None
