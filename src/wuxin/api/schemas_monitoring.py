"""Response models of post-loan monitoring (routes_monitoring): rules and their overrides, alarms with their
explanation, history and evidence, bulk actions, notification channels. Every field is listed; none is added
or dropped. Open parts (a rule's parameters, an alarm's detail) are dictionaries: their keys vary by rule."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

Number = int | float  # a figure as stored: an integer stays one


class RuleDoc(BaseModel):
    """One monitoring rule (an alarm condition) with its thresholds."""

    id: str = Field(description="'<scenario>.<name>'")
    type: str = Field(description="How it is judged: threshold, offline, flat run, herd ...")
    alarm_type: str = Field(description="What the alarm it raises is called (alarm_type labels)")
    severity: str = Field(description="critical, major, minor or warning")
    device_type: str | None = Field(description="The device type it reads; null: any of the scenario, or a loan")
    scenario: str | None
    params: dict[str, Any] = Field(description="Its thresholds and windows (open: they vary by rule type)")
    risk_class_floor: str | None = Field(description="A raised alarm moves the loan's risk class down to this")
    label: dict[str, str] = Field(description="{zh, en}")
    enabled: bool


class OverrideSet(BaseModel):
    tenant_id: int | None = Field(description="The bank whose rule it tunes")
    product: str = Field(description="The loan product ('*': every product)")
    rule: RuleDoc = Field(description="The rule as tuned")


class RuleOverride(BaseModel):
    product: str = Field(description="The loan product ('*': every product)")
    rule_id: str
    override: dict[str, Any] = Field(description="What it changes: severity, enabled, params")
    updated_ms: int = Field(description="When (epoch ms)")
    updated_by: int | None = Field(description="Who")


class OverrideDeleted(BaseModel):
    deleted: int = Field(description="How many overrides were removed (1)")


class TextPair(BaseModel):
    zh: str
    en: str


class AlarmDevice(BaseModel):
    id: int | None = Field(description="null when the alarm names a device this platform does not hold")
    key: str
    device_type: str | None
    site_id: int | None
    site_name: str | None
    site_region: str | None


class Fact(BaseModel):
    key: str = Field(description="alarm_fact labels")
    value: int | float | str


class Explanation(BaseModel):
    """Why the alarm was raised: the figure, the line it crossed and over what window (null where the rule gives
    nothing)."""

    metric: str | None = Field(description="The metric, indicator or alarm fact read")
    metric_kind: str | None = Field(description="metric, indicator or alarm_fact: where its label is")
    value: Number | None
    unit: str | None
    comparison: str | None = Field(description="above or below")
    threshold: Number | None
    low: Number | None
    high: Number | None
    baseline: Number | None
    window_s: Number | None
    window_days: Number | None
    from_ms: Number | None
    to_ms: Number | None
    since_ms: Number | None
    threshold_from: TextPair | None = Field(description="Where the threshold came from")
    facts: list[Fact] = Field(description="The detail's other figures")


class Alarm(BaseModel):
    """One alarm as stored."""

    id: int
    scope: str = Field(description="platform, or tenant:<id> (a bank's tuned rules, its loans)")
    source: str = Field(description="device:<id>, enterprise:<id>, loan:<id> or zone:<...>")
    alarm_type: str = Field(description="alarm_type labels")
    rule_id: str
    severity: str = Field(description="critical, major, minor or warning")
    status: str = Field(description="active, acknowledged or cleared")
    enterprise_id: int | None
    device_id: int | None
    loan_ids: list[int] = Field(description="The loans it propagates to")
    started_ms: int = Field(description="When the condition began (epoch ms)")
    last_ms: int = Field(description="Its latest occurrence (epoch ms)")
    stored_ms: int = Field(description="When it was stored (epoch ms)")
    occurrences: int
    detail: dict[str, Any] = Field(description="What the rule saw (open: its keys vary by rule)")
    acknowledged_ms: int | None
    acknowledged_by: int | None
    cleared_ms: int | None
    cleared_by: int | None = Field(description="null when the rule cleared it")
    escalation_level: int


class DescribedAlarm(Alarm):
    """An alarm with what a one-line summary needs: borrower, device and explanation."""

    enterprise_name: str | None
    device: AlarmDevice | None
    explanation: Explanation
    rule_label: TextPair | None


class AlarmAction(BaseModel):
    at_ms: int
    action: str = Field(description="raise, acknowledge, clear or escalate (alarm_action labels)")
    user_id: int | None
    reason: str | None


class AlarmHistoryStep(AlarmAction):
    username: str | None


class EvidenceEntry(BaseModel):
    leaf_index: int
    kind: str
    created_ms: int
    proof_path: str = Field(description="GET it for the entry's inclusion proof")


class AlarmEvidence(BaseModel):
    subject: str = Field(description="'alarm:<id>'")
    bundle_path: str | None = Field(description="GET it for the evidence bundle; null before any ledger entry")
    entries: list[EvidenceEntry]


class AlarmDetail(DescribedAlarm):
    acknowledged_by_name: str | None
    cleared_by_name: str | None
    history: list[AlarmHistoryStep]
    evidence: AlarmEvidence


class BulkResult(BaseModel):
    id: int
    ok: bool
    status: str | None = Field(description="The alarm's new status when ok")
    error: str | None = Field(description="not_found, invalid_input, denied ... when not ok")
    message: str | None


class BulkAnswer(BaseModel):
    action: str = Field(description="acknowledge or clear")
    done: int
    failed: int
    results: list[BulkResult] = Field(description="One per alarm, in the order asked")


class NotificationChannel(BaseModel):
    id: int
    kind: str = Field(description="webhook or email")
    target: str
    min_severity: str
    secret: str | None = Field(description="A webhook's signing secret: shown once")
