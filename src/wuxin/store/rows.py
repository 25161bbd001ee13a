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


class CommandRow(TypedDict):
    """A command to a device (device_commands), with the device's key."""

    id: int
    device_id: int
    enterprise_id: int
    tenant_id: int | None  # the requester's tenant; None: the platform
    channel: str  # jt808
    operation: str
    params: dict[str, Any]
    reason: str
    loan_id: int | None
    alarm_id: int | None
    state: str  # requested approved sent acknowledged failed expired refused cancelled
    four_eyes: int  # 1: a second person of the same bank must approve
    requested_by: int
    requested_ms: int
    expires_ms: int
    decided_by: int | None
    decided_ms: int | None
    decision_reason: str | None
    msg_id: int | None
    serial: int | None
    sent_ms: int | None
    answered_ms: int | None
    answer: dict[str, Any] | None
    failure: str | None
    updated_ms: int
    device_key: str


class CalendarPeriodRow(TypedDict):
    id: int
    enterprise_id: int
    site_id: int | None  # None with device_id None: the whole enterprise
    device_id: int | None
    kind: str  # shutdown | maintenance | holiday_extra
    start_ms: int
    end_ms: int  # exclusive
    note: str
    created_ms: int
    created_by: int | None
    declared_by_enterprise: bool
    deleted_ms: int | None
    deleted_by: int | None


class BusinessImportRow(TypedDict):
    id: int
    kind: str
    source: str  # enterprise_reported | bank | third_party
    trust_level: float
    received_ms: int
    user_id: int | None
    tenant_id: int | None
    rows_total: int
    rows_accepted: int
    rows_duplicate: int
    rows_rejected: int
    payload_sha256: str | None


class BusinessRecordRow(TypedDict):
    id: int
    import_id: int
    enterprise_id: int | None  # None: market data
    tenant_id: int | None  # set: only that bank (and the enterprise) reads it
    kind: str
    record_key: str
    dedupe_key: str
    first_day: int  # China local day numbers
    last_day: int
    data: dict[str, Any]
    source: str
    trust_level: float
    ledger_leaf: int | None
    created_ms: int


class BusinessRejectionRow(TypedDict):
    id: int
    import_id: int
    row_index: int
    field: str | None
    value: str | None
    message: str
    payload: str
    received_ms: int


class CreditModelSummaryRow(TypedDict):
    """A registered scorecard without its body (the registry's list)."""

    version: str
    name: str
    tenant_id: int | None  # None: a platform model any bank may use
    trained_ms: int
    trained_by: int | None
    metrics: dict[str, Any]
    training: dict[str, Any]


class CreditModelRow(CreditModelSummaryRow):
    body: dict[str, Any]  # wuxin.risk.scorecard.model_to_dict


class CreditModelStateRow(TypedDict):
    tenant_id: int
    version: str
    state: str  # draft | validated | approved | active | retired
    validation: dict[str, Any] | None
    validated_by: int | None
    validated_ms: int | None
    approved_by: int | None
    approved_ms: int | None
    activated_by: int | None
    activated_ms: int | None
    retired_by: int | None
    retired_ms: int | None
    updated_ms: int


class ModelStabilityRow(TypedDict):
    id: int
    tenant_id: int
    version: str
    day: int
    score_psi: float
    band: str  # stable | watch | shifted
    rows: int
    detail: dict[str, Any]
    created_ms: int


class DecisionScoreRow(TypedDict):
    """What a decision was scored on and its score (for the stability check)."""

    id: int
    features: dict[str, Any]
    score: float


class CreditDecisionRow(TypedDict):
    id: int
    enterprise_id: int
    tenant_id: int
    user_id: int | None
    product_code: str
    model_version: str
    as_of_day: int
    features: dict[str, Any]
    cross_checks: list[dict[str, Any]]
    decision: dict[str, Any]  # wuxin.risk.decisions.CreditDecision.to_dict
    score: float
    pd: float
    grade: str
    approved: bool
    limit_cny: str | None  # decimal string
    expected_loss_cny: str
    ledger_leaf: int | None
    decided_ms: int


class CreditWorkflowRow(TypedDict):
    decision_id: int
    tenant_id: int
    enterprise_id: int
    loan_id: int | None
    state: str  # referred | pending_approval | approved | declined
    outcome: str  # approve | refer | decline
    limit_cny: str | None
    four_eyes_limit_cny: str | None
    requested_by: int | None
    created_ms: int
    updated_ms: int


class CreditReviewRow(TypedDict):
    id: int
    decision_id: int
    tenant_id: int
    enterprise_id: int
    kind: str  # override | limit
    requested_by: int
    requested_role: str
    reason: str
    prior_outcome: str
    prior_limit_cny: str | None
    new_outcome: str
    new_limit_cny: str | None
    state: str  # pending | approved | rejected
    created_ms: int
    reviewed_by: int | None
    review_reason: str | None
    reviewed_ms: int | None
    ledger_leaf: int | None
    review_ledger_leaf: int | None


class Jt808TerminalRow(TypedDict):
    """A provisioned JT/T 808 terminal, with its device's key and attributes."""

    id: int
    device_id: int
    phone: str  # SIM number without leading zeros
    terminal_id: str
    manufacturer_id: str | None
    terminal_model: str | None
    imei: str | None
    provisioned_ms: int
    provisioned_by_user_id: int | None
    enrol_until_ms: int | None  # None: the window is closed
    auth_code_hash: str | None  # None: no live auth code
    enrolled_ms: int | None
    header_version: str | None  # None: auto; "2013" / "2019": forced
    device_key: str
    attributes: dict[str, Any]


class LedgerEntryRow(TypedDict):
    leaf_index: int
    kind: str
    subject: str
    enterprise_id: int | None  # None: several enterprises, or a platform fact
    owner_tenant_id: int | None  # None: the enterprise's business
    data_class: str
    leaf_data: str  # the exact hashed bytes (UTF-8 JSON)
    created_ms: int


class TreeHeadRow(TypedDict):
    id: int
    tree_size: int
    root_hash: str
    timestamp_ms: int
    signature: str
    public_key: str


class SigningKeyRow(TypedDict):
    id: int
    purpose: str
    public_key: str
    encrypted_private_key: bytes  # 12-byte nonce || ciphertext+tag
    created_ms: int


class ProductBatchRow(TypedDict):
    id: int
    enterprise_id: int
    gtin: str
    lot: str
    company_prefix_digits: int
    origin: str
    production_start_ms: int
    production_end_ms: int
    issued_count: int
    created_ms: int


class ProductRow(TypedDict):
    id: int
    batch_id: int
    enterprise_id: int
    gtin: str
    serial: str
    epc: str  # urn:epc:id:sgtin:...
    digital_link: str
    issued_ms: int
    leaf_index: int


class ProductScanRow(TypedDict):
    id: int
    product_id: int | None  # None: no such product
    gtin: str
    serial: str
    scanned_ms: int
    client_hash: str
    lat: float | None
    lon: float | None
    verdict: str


class EpcisEventRow(TypedDict):
    id: int
    hash_id: str
    enterprise_id: int
    event_type: str
    event_time_ms: int
    record_time_ms: int
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    event: str  # the event as captured (JSON)
    leaf_index: int


class CounterReadingRow(TypedDict):
    """One reading of a counter on a device (the measured output that caps a batch)."""

    device_id: int
    ts_ms: int
    num: float | None


class DeviceCredentialsRow(TypedDict):
    """A device and how many live tokens it holds (for broker reconciliation)."""

    id: int
    key: str
    device_type: str
    live_tokens: int


class AlinkIdentityRow(TypedDict):
    device_id: int
    product_key: str  # the vendor's productKey
    device_name: str  # the vendor's deviceName
    secret_ciphertext: str  # the DeviceSecret, Fernet
    created_ms: int


class ProvisionProfileRow(TypedDict):
    """A device provision profile (device_provision_profiles): ThingsBoard's provisionDeviceKey, the SHA-256 of its
    secret, and what a device provisioned under it becomes."""

    id: int
    provision_key: str
    secret_hash: str  # SHA-256 of the provisionDeviceSecret; never shown
    name: str
    enterprise_id: int
    site_id: int
    device_type: str
    source_mode: str
    max_devices: int
    provisioned: int  # devices created under it so far
    expires_ms: int
    created_by: int | None  # None: the platform itself
    created_ms: int
    revoked_ms: int | None
    revoked_by: int | None


class AlinkDeviceRow(AlinkIdentityRow):
    """The device LinkKit calls (productKey, deviceName), with its key, type and enterprise."""

    key: str
    device_type: str
    enterprise_id: int


class PushPlatformRow(TypedDict):
    id: int
    name: str
    secret_ciphertext: str  # Fernet
    created_ms: int
    disabled_ms: int | None


class SweepDeviceRow(TypedDict):
    """A device with its last-seen time and its last recorded connectivity (None when never recorded)."""

    id: int
    key: str
    enterprise_id: int
    device_type: str
    last_seen_ms: int | None
    state: str | None  # online | offline
    since_ms: int | None


class ConnectivityTransitionRow(TypedDict):
    """An online/offline change of a device, with the device's key."""

    id: int
    device_id: int
    enterprise_id: int
    from_state: str  # unknown | online | offline
    to_state: str
    at_ms: int
    cause: str  # heartbeat_timeout | data | gateway_connect | ...
    last_seen_ms: int | None
    device_key: str


class LatestDecisionRow(TypedDict):
    """One of a bank's newest decisions on a borrower (rank 1 = latest), with where it stands in the workflow."""

    id: int
    enterprise_id: int
    grade: str
    score: float
    pd: float
    approved: bool
    limit_cny: str | None
    product_code: str
    decided_ms: int
    as_of_day: int
    rank: int
    standing: str | None  # the workflow's state; None when the decision has no workflow
    standing_outcome: str | None
    standing_limit_cny: str | None


class DecisionGradeRow(TypedDict):
    """A decision with the grade of the decision before it on the same borrower (None for a first decision)."""

    id: int
    enterprise_id: int
    grade: str
    approved: bool
    decided_ms: int
    previous_grade: str | None


class AlarmCountRow(TypedDict):
    """How many alarms a borrower has of one severity, scope and rule."""

    enterprise_id: int  # the query names the enterprises: never None
    severity: str
    scope: str
    rule_id: str
    alarms: int


class EnterpriseValueRow(TypedDict):
    """An enterprise's day value of one indicator."""

    enterprise_id: int
    day: int
    indicator: str
    value: float | None
    quality: str


class RetentionPolicyRow(TypedDict):
    tenant_id: int
    raw_days: int
    hourly_days: int
    updated_ms: int


class RetentionMarkRow(TypedDict):
    """Raw readings (hourly aggregates) of the enterprise before these times were deleted."""

    enterprise_id: int
    raw_before_ms: int
    raw_days: int  # the policy in force when it last moved
    hourly_before_ms: int
    updated_ms: int


class PrunedBatchRow(TypedDict):
    batch_id: int
    pruned_ms: int


class HourlyReadingRow(TypedDict):
    device_id: int
    key: str
    hour_ms: int  # start of the hour (device time)
    n: int
    n_num: int  # of which numbers: mean = num_sum / n_num
    num_min: float | None
    num_max: float | None
    num_sum: float | None
    last_ts_ms: int
    last_num: float | None
    last_txt: str | None
    raw_deleted: bool
    computed_ms: int


class IndicatorDeviceRow(TypedDict):
    """A device as the indicators read it: its key, enterprise, type, attributes and site."""

    id: int
    key: str
    enterprise_id: int
    device_type: str
    attributes: dict[str, Any]
    site_id: int | None


class DeviceDayIndicatorRow(TypedDict):
    device_id: int
    day: int
    indicator: str
    enterprise_id: int
    value: float | None
    quality: str  # complete | partial | unknown
    points: int
    computed_ms: int


class DeviceDayValueRow(DeviceDayIndicatorRow):
    """A device's day value of one indicator, with the device's type and key."""

    device_type: str
    key: str


class DeviceValueRow(TypedDict):
    """A known device-day value of one indicator (the lineage of an enterprise's aggregate)."""

    device_id: int
    day: int
    indicator: str
    value: float  # the query keeps known values only: never None


class EnterpriseDayIndicatorRow(TypedDict):
    enterprise_id: int
    day: int
    indicator: str
    value: float | None
    quality: str
    devices: int
    computed_ms: int


class EnterpriseMonthIndicatorRow(TypedDict):
    enterprise_id: int
    month: int  # YYYYMM
    indicator: str
    value: float | None
    quality: str
    days: int
    computed_ms: int


class PeerValueRow(TypedDict):
    """A peer enterprise's known value of one indicator on one day."""

    enterprise_id: int
    value: float  # the query keeps known values only: never None


class IndustryIndexRow(TypedDict):
    scenario: str
    region: str
    day: int
    indicator: str
    enterprises: int
    p25: float
    median: float
    p75: float
    mean: float
    computed_ms: int


class RuleOverrideRow(TypedDict):
    id: int
    tenant_id: int
    product: str  # a loan product code, or "*" for every product
    rule_id: str
    override: dict[str, Any]  # {severity?, enabled?, params?}
    updated_ms: int
    updated_by: int | None


class DevicePlaceRow(TypedDict):
    """A device's key and type, and the name and region of its site (None without a site)."""

    id: int
    key: str
    device_type: str
    site_id: int | None
    site_name: str | None
    site_region: str | None


class AlarmActionRow(TypedDict):
    id: int
    alarm_id: int
    at_ms: int
    user_id: int | None  # None: the platform (rule clear, escalation)
    action: str  # raise | acknowledge | clear | escalate
    reason: str


class NotificationChannelRow(TypedDict):
    id: int
    tenant_id: int
    kind: str  # webhook | email
    target: str  # URL or e-mail address
    secret: str | None  # webhook HMAC key
    min_severity: str
    created_ms: int
    disabled_ms: int | None


class NotificationRow(TypedDict):
    id: int
    channel_id: int
    alarm_id: int
    event: str  # raised | escalated | cleared
    payload: dict[str, Any]
    status: str  # pending | sent | failed
    attempts: int
    next_attempt_ms: int
    last_error: str | None
    sent_ms: int | None


class DueNotificationRow(NotificationRow):
    """A pending notification, with its channel's kind, target and secret."""

    kind: str
    target: str
    secret: str | None


class LoanHistoryRow(TypedDict):
    id: int
    loan_id: int
    at_ms: int
    kind: str  # state | risk_class
    from_value: str
    to_value: str
    action: str
    user_id: int | None
    role: str | None
    reason: str
    alarm_id: int | None


class DeviceTransitionRow(TypedDict):
    """An online/offline change of a device, with the device's key, type, attributes, site, lifecycle and source."""

    id: int
    device_id: int
    enterprise_id: int
    from_state: str  # unknown | online | offline
    to_state: str
    at_ms: int
    cause: str
    last_seen_ms: int | None
    key: str
    device_type: str
    attributes: dict[str, Any]
    site_id: int | None
    installed_ms: int | None
    decommissioned_ms: int | None
    source_mode: str


class CollateralItemRow(TypedDict):
    id: int
    identity: str  # rfid:... | serial:... | lot:...
    tenant_id: int
    loan_id: int
    enterprise_id: int
    sku: str
    quantity: Decimal
    unit: str
    zone_id: str | None
    haircut: Decimal
    pledged_ms: int
    released_ms: int | None
    release_reason: str | None


class PledgeZoneRow(TypedDict):
    id: int
    loan_id: int
    zone_id: str
    polygon: list[list[float]]  # [[lon, lat], ...]
    created_ms: int
