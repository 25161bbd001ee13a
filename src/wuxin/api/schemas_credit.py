"""Response models of the credit part: business-data imports, the assessment, the credit models and their
governance, decisions and the officer's workflow, the products, the credit report.

Amounts are decimal strings (CNY). Parts that a scenario pack or the scorecard defines (a record's data, the
features, the cross-checks, a decision's detail, a model's metrics and validation report) are JSON objects whose
members depend on the pack: they are typed as open objects (dict) and passed on unchanged."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from wuxin.api.schemas_loans import Loan

Number = float | int  # an int stays an int in the answer (a float field would write 3 as 3.0)
PackDefined = dict[str, Any]  # members a scenario pack or the scorecard defines


class Label(BaseModel):
    zh: str
    en: str


# ---- business data


class RowError(BaseModel):
    row: int = Field(description="1-based row of the import")
    field: str | None = Field(description="The column refused; null: the whole row")
    value: str | None = Field(description="The value refused, as text")
    message: str = Field(description="Why it was refused")


class BusinessImport(BaseModel):
    import_id: int
    kind: str = Field(description="The record kind, e.g. statements, invoices, electricity_bills")
    source: str = Field(description="enterprise_reported, bank or third_party")
    trust_level: Number = Field(description="How far the source is trusted as evidence, 0..1")
    rows: int = Field(description="Rows received")
    accepted: int = Field(description="Rows stored now")
    duplicate: int = Field(description="Rows already stored (same key and data), skipped")
    rejected: int = Field(description="Rows refused")
    errors: list[RowError] = Field(description="One entry per refused row")


class RowRejection(RowError):
    payload: str = Field(description="The refused row as received")


class BusinessRejections(BaseModel):
    import_id: int
    kind: str
    rejected: list[RowRejection]


class BusinessRecord(BaseModel):
    id: int
    kind: str
    key: str = Field(description="The record's key within its kind, e.g. the period of a statement")
    data: PackDefined = Field(description="The record's fields, as the kind's pack defines them (amounts as text)")
    source: str
    trust_level: Number
    import_id: int | None
    ledger_proof: str | None = Field(description="Link to the ledger proof of its import")


class BusinessRecords(BaseModel):
    enterprise_id: int
    records: list[BusinessRecord]


# ---- assessment


class Assessment(BaseModel):
    enterprise_id: int
    as_of: str = Field(description="ISO day the features are computed for")
    activity_indicator: str | None = Field(description="The industry's activity indicator")
    features: PackDefined = Field(description="Feature name -> value (null: unknown), as the scorecard reads them")
    source_mode: str = Field(description="Where the device data comes from: bank_installed, third_party ...")
    cross_verified: bool = Field(description="True when every reported figure is verified by device evidence")
    verification: str = Field(description="verified, partial, unverified or failed")
    iot_coverage: Number | None = Field(description="Share of the reported figures the devices cover, 0..1")
    evidence_days: int = Field(description="Days with device evidence")
    open_alarms: dict[str, int] = Field(description="Open alarms by severity")
    statements_count: int = Field(description="Financial statements imported")
    cross_checks: list[PackDefined] = Field(
        description="Reported figure against device evidence: check, indicator, period, reported, evidenced, "
        "ratio, status, finding (zh and en) ..."
    )


# ---- models and governance


class TrainedModel(BaseModel):
    version: str = Field(description="The model's content hash (SHA-256, hex)")
    name: str
    tenant_id: int | None = Field(description="The bank that trained it; null: a platform model")
    metrics: PackDefined = Field(description="Held-out AUC, KS, rows and defaults")
    training: PackDefined = Field(description="What it was trained on: source, enterprises, seed, as_of")
    state: str = Field(description="Always 'draft' for a new model")
    simulated: bool = Field(description="Trained on a simulated book (demo only)")
    label: Label | None = Field(description="'simulated — demo only' when so")
    features: list[str] = Field(description="The features it scores")


class CreditModel(BaseModel):
    """A model and its lifecycle in the caller's tenant (model governance)."""

    version: str = Field(description="The model's content hash (SHA-256, hex)")
    name: str
    tenant_id: int | None = Field(description="The bank that trained it; null: a platform model")
    trained_ms: int
    trained_by: int | None
    metrics: PackDefined = Field(description="Held-out AUC, KS, rows and defaults")
    training: PackDefined = Field(description="What it was trained on: source, enterprises, seed, as_of")
    state: str = Field(description="draft, validated, approved, active or retired")
    state_label: Label
    simulated: bool
    label: Label | None
    trained_by_name: str | None
    validated_by_name: str | None
    approved_by_name: str | None
    activated_by_name: str | None
    retired_by_name: str | None
    validated_by: int | None
    validated_ms: int | None
    approved_by: int | None
    approved_ms: int | None
    activated_by: int | None
    activated_ms: int | None
    retired_by: int | None
    retired_ms: int | None
    validation: PackDefined | None = Field(
        description="The last validation report: out-of-time AUC and KS with 95% intervals, signs, information "
        "value, calibration, stability, passed and failures"
    )


class ModelFeature(BaseModel):
    name: str
    kind: str
    trend: str | None = Field(description="The declared sign of the feature's effect")
    iv: Number | None = Field(description="Information value")
    coefficient: Number | None


class CreditModelDetail(CreditModel):
    features: list[ModelFeature]


class ModelStability(BaseModel):
    id: int
    tenant_id: int
    version: str
    day: str = Field(description="ISO day")
    score_psi: Number = Field(description="Population stability index of the score")
    band: str = Field(description="stable, watch or shifted")
    rows: int = Field(description="Assessments of the day")
    detail: PackDefined = Field(description="Per-feature PSI, reference rows, window days")
    created_ms: int
    warning: bool = Field(description="True when the score PSI is above 0.25")


# ---- decisions and their workflow


class DecisionLinks(BaseModel):
    ledger_proof: str | None
    evidence_bundle: str
    report: str


class CreditDecision(BaseModel):
    id: int
    enterprise_id: int
    product_code: str
    model_version: str
    model_label: Label | None = Field(description="'simulated — demo only' when the model is simulated")
    as_of: str
    score: Number
    pd: Number = Field(description="Probability of default, 0..1")
    grade: str
    approved: bool
    outcome: str = Field(description="approve, refer or decline (the model and the product's policy)")
    limit_cny: str | None
    expected_loss_cny: str
    decision: PackDefined = Field(
        description="The decision's detail: inputs, reasons (zh and en), the policy rules that decided, the limit "
        "and its steps, the model"
    )
    features: PackDefined
    cross_checks: list[PackDefined]
    decided_ms: int
    links: DecisionLinks


class ReviewLinks(BaseModel):
    ledger_proof: str | None


class Review(BaseModel):
    id: int
    decision_id: int
    enterprise_id: int
    kind: str = Field(description="override or limit")
    kind_zh: str
    kind_en: str
    state: str = Field(description="pending, approved or rejected")
    state_zh: str
    state_en: str
    requested_by: str | None = Field(description="The proposer's username")
    requested_role: str
    reason: str
    prior_outcome: str | None
    prior_limit_cny: str | None
    new_outcome: str | None
    new_limit_cny: str | None
    created_ms: int
    reviewed_by: str | None = Field(description="The reviewer's username")
    review_reason: str | None
    reviewed_ms: int | None
    links: ReviewLinks


class PendingReview(Review):
    enterprise_name: str | None
    product_code: str
    loan_id: int | None = Field(description="The loan application the decision moves on")
    can_review: bool = Field(description="Whether the caller may approve or reject it (four eyes)")


class Workflow(BaseModel):
    decision_id: int
    state: str = Field(description="referred, declined, pending_approval, approved ... (see GET /api/v1/labels)")
    state_zh: str
    state_en: str
    final: bool = Field(description="No review is pending: the outcome holds")
    outcome: str
    limit_cny: str | None
    four_eyes_limit_cny: str | None = Field(description="Limits above this need a risk manager's approval")
    loan: Loan | None = Field(description="The loan application the decision moves on")
    updated_ms: int
    reviews: list[Review]


class DecisionStarted(CreditDecision):
    workflow: Workflow


class Product(BaseModel):
    code: str
    name_zh: str
    name_en: str
    scenario: str = Field(description="The industry scenario code")
    basis: str = Field(description="What the limit rests on: revenue or collateral")
    cap_cny: str = Field(description="The product's largest limit")
    four_eyes_limit_cny: str | None = Field(description="Limits above this need a risk manager's approval")


# ---- the credit report (format=json)


class ReportEnterprise(BaseModel):
    id: int
    name: str
    uscc: str | None
    industry: str
    region: str | None


class CreditReport(BaseModel):
    """The credit report as data; every figure carries the link to the API data behind it."""

    enterprise: ReportEnterprise
    as_of: str
    generated_by: str
    generated_ms: int
    activity: PackDefined | None = Field(description="180 days of the activity indicator with its industry index")
    indicators: list[PackDefined] = Field(description="Each indicator's 90-day mean and known days, with links")
    peer: PackDefined | None = Field(description="The enterprise's standing among its industry peers")
    devices: PackDefined = Field(description="Devices installed, reporting, tamper events, by source mode")
    cross_checks: list[PackDefined]
    cross_verified: bool
    verification: str
    iot_coverage: Number | None
    evidence_days: int
    open_alarms: dict[str, int]
    features: list[PackDefined] = Field(description="name, label and value of each feature")
    statements: list[PackDefined] = Field(description="The financial statements, oldest first")
    statements_link: str
    decision: CreditDecision | None = Field(description="The latest decision, if any")
