"""The officer's workflow on a credit decision, with four eyes.

A decision stands in one of four states (`credit_workflows`):

- approved: the policy approved and the limit is within the product's `four_eyes_limit_cny`, or a risk
  manager approved an override or the limit;
- pending_approval: an override, or a limit above the product's threshold, waits for a risk manager;
- referred: the policy referred it to a person (or a risk manager rejected what waited): an officer decides by
  an override, with a written reason;
- declined: the policy declined, or a risk manager approved an override to decline.

Approved and declined are final. A final decision moves the loan application it was requested for: approved
-> the application passes to `assessment` (the next step is the monitoring plan), declined -> `rejected`.
Every override and limit waits in `credit_reviews` for a second person: a risk manager of the same bank who
is not the one who asked. Each step is written to the audit and access logs and entered in the evidence
ledger (kind credit_review, the bank as owner, data class credit).
"""

from __future__ import annotations

from decimal import Decimal

from wuxin.bootstrap import Platform
from wuxin.domain.model import BANK_ROLES, Role
from wuxin.errors import Conflict, Denied, InvalidInput, NotFound
from wuxin.loans.lifecycle import credit_refusal
from wuxin.security.policy import Principal, require_role
from wuxin.services.bootstrap import product as get_product
from wuxin.services.credit.assessment import readable_decision, require_lender, stored_decision
from wuxin.services.credit.loans import money, own_loan, public_loan
from wuxin.services.evidence.record import record_evidence
from wuxin.store.rows import CreditReviewRow, CreditWorkflowRow, LoanRow
from wuxin.store.uow import UnitOfWork

STATES = ("referred", "pending_approval", "approved", "declined")
FINAL = ("approved", "declined")
STATE_LABELS = {
    "referred": ("待人工决定", "referred to a person"),
    "pending_approval": ("待双人复核", "awaiting four-eyes approval"),
    "approved": ("已批准", "approved"),
    "declined": ("已拒绝", "declined"),
}
REVIEW_LABELS = {
    "pending": ("待复核", "pending"),
    "approved": ("复核通过", "approved"),
    "rejected": ("复核驳回", "rejected"),
}
KIND_LABELS = {"override": ("人工推翻", "override"), "limit": ("超阈值额度", "limit above the threshold")}
OVERRIDE_OUTCOMES = ("approve", "decline")
MIN_REASON = 5  # characters of a written reason (a Chinese sentence is short)
MAX_REASON = 2000
APPLICATION_STATE = "application"  # the loan state a decision may be requested for


def initial_state(outcome: str, limit_cny: Decimal | None, four_eyes_limit_cny: Decimal | None) -> str:
    """Where a new decision stands: an approval above the product's threshold (or with no threshold set)
    waits for a risk manager; refer waits for an officer; approve within it and decline are final."""
    if outcome == "refer":
        return "referred"
    if outcome == "decline":
        return "declined"
    if four_eyes_limit_cny is None or (limit_cny is not None and limit_cny > four_eyes_limit_cny):
        return "pending_approval"
    return "approved"


def written_reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise InvalidInput(f"{what} needs a written reason of at least {MIN_REASON} characters, got {reason!r}")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"{what}: the reason is {len(text)} characters, at most {MAX_REASON}")
    return text


# ---------------------------------------------------------------- the request


def check_application(platform: Platform, principal: Principal, enterprise_id: int, loan_id: int | None) -> None:
    """Before deciding for a loan application: the bank's own, of this enterprise, still an application and not
    already waiting on another decision."""
    if loan_id is None:
        return
    with platform.uow() as uow:
        _open_application(uow, principal, enterprise_id, loan_id)


def _open_application(
    uow: UnitOfWork, principal: Principal, enterprise_id: int, loan_id: int, for_update: bool = False
) -> LoanRow:
    require_role(principal, *BANK_ROLES)
    loan = own_loan(uow, principal, loan_id, for_update)
    if loan["tenant_id"] != principal.tenant_id:
        raise NotFound(f"loan {loan_id} does not exist")
    if loan["enterprise_id"] != enterprise_id:
        raise InvalidInput(
            f"loan {loan_id} is an application of enterprise {loan['enterprise_id']}, not {enterprise_id}"
        )
    if loan["state"] != APPLICATION_STATE:
        raise Conflict(f"loan {loan_id} is in state {loan['state']!r}: a credit decision moves only an application")
    waiting = uow.credit_workflow.open_for_loan(loan_id)
    if waiting is not None:
        raise Conflict(f"loan {loan_id} already waits on credit decision {waiting['decision_id']} ({waiting['state']})")
    return loan


def start(platform: Platform, principal: Principal, decision: dict, loan_id: int | None) -> dict:
    """Put a new decision on its way: its standing, a limit review when above the threshold, the loan moved
    when final; audited and ledgered. Returns the decision view with its `workflow`."""
    product = get_product(decision["product_code"])
    threshold = product.four_eyes_limit.amount if product.four_eyes_limit is not None else None
    limit = Decimal(decision["limit_cny"]) if decision["limit_cny"] is not None else None
    state = initial_state(decision["outcome"], limit, threshold)
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        if loan_id is not None:
            _open_application(uow, principal, decision["enterprise_id"], loan_id, for_update=True)
        uow.credit_workflow.add_workflow(
            decision_id=decision["id"],
            tenant_id=principal.tenant_id,
            enterprise_id=decision["enterprise_id"],
            loan_id=loan_id,
            state=state,
            outcome=decision["outcome"],
            limit_cny=decision["limit_cny"],
            four_eyes_limit_cny=None if threshold is None else str(threshold),
            requested_by=principal.user_id,
            created_ms=now_ms,
            updated_ms=now_ms,
        )
        if state == "pending_approval":
            reason = (
                (
                    f"额度 {limit} 元高于本产品双人复核阈值 {threshold} 元 / the limit CNY {limit} is above the product's "
                    f"four-eyes threshold CNY {threshold}"
                )
                if threshold is not None
                else "本产品未设双人复核阈值 / the product sets no four-eyes threshold"
            )
            _add_review(
                uow,
                principal,
                decision,
                "limit",
                reason,
                decision["outcome"],
                decision["limit_cny"],
                decision["outcome"],
                decision["limit_cny"],
                now_ms,
            )
        workflow = _stored_workflow(uow, decision["id"])
        if state in FINAL:
            _move_loan(uow, principal, workflow, None, now_ms)
        _log(
            uow,
            principal,
            workflow,
            "credit.workflow.start",
            f"credit_decision:{decision['id']}",
            {
                "state": state,
                "loan_id": loan_id,
                "limit_cny": decision["limit_cny"],
                "four_eyes_limit_cny": workflow["four_eyes_limit_cny"],
            },
            now_ms,
        )
        uow.commit()
        view = workflow_view(uow, decision["id"])
    return {**decision, "workflow": view}


# ---------------------------------------------------------------- override and review


def override(
    platform: Platform, principal: Principal, decision_id: int, outcome: str, limit_cny, reason: str | None
) -> dict:
    """An officer (or risk manager) changes a referred decision's outcome, with a written reason; it waits for
    a second person."""
    require_role(principal, *BANK_ROLES)
    if outcome not in OVERRIDE_OUTCOMES:
        raise InvalidInput(f"an override's outcome must be one of {list(OVERRIDE_OUTCOMES)}, got {outcome!r}")
    text = written_reason(reason, "an override")
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        decision = readable_decision(platform, uow, principal, decision_id)
        new_limit = _override_limit(decision["product_code"], outcome, limit_cny)
        workflow = _workflow(uow, decision, now_ms, for_update=True)
        if workflow["state"] != "referred":
            raise Conflict(
                f"credit decision {decision_id} is {workflow['state']}: only a referred decision is overridden"
                + (" (request a new decision)" if workflow["state"] in FINAL else " (a review is open)")
            )
        review_id = _add_review(
            uow,
            principal,
            {**decision, "outcome": workflow["outcome"]},
            "override",
            text,
            workflow["outcome"],
            workflow["limit_cny"],
            outcome,
            new_limit,
            now_ms,
        )
        uow.credit_workflow.set_workflow(decision_id, state="pending_approval", updated_ms=now_ms)
        _log(
            uow,
            principal,
            workflow,
            "credit.override",
            f"credit_review:{review_id}",
            {
                "decision_id": decision_id,
                "from": workflow["outcome"],
                "to": outcome,
                "limit_cny": new_limit,
                "reason": text,
            },
            now_ms,
        )
        uow.commit()
        return workflow_view(uow, decision_id)


def _override_limit(product_code: str, outcome: str, limit_cny) -> str | None:
    if outcome == "decline":
        if limit_cny not in (None, ""):
            raise InvalidInput(f"an override to decline takes no limit, got limit_cny {limit_cny!r}")
        return None
    if limit_cny in (None, ""):
        raise InvalidInput("an override to approve needs limit_cny, the limit a person grants")
    amount = money(limit_cny, "limit_cny")
    cap = get_product(product_code).cap.amount
    if not Decimal(0) < amount <= cap:
        raise InvalidInput(f"limit_cny must be above 0 and at most the product's cap {cap}, got {limit_cny!r}")
    return str(amount)


def review(platform: Platform, principal: Principal, review_id: int, approve: bool, reason: str | None) -> dict:
    """A risk manager of the bank, not the one who asked, approves or rejects what waits. Approved: the
    decision stands as asked and is final; rejected: it goes back to a person (referred)."""
    require_role(principal, Role.RISK_MANAGER)
    text = written_reason(reason, "an approval" if approve else "a rejection")
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        row = uow.credit_workflow.review(review_id, for_update=True)
        if row is None or row["tenant_id"] != principal.tenant_id:
            raise NotFound(f"credit review {review_id} does not exist")
        decision = readable_decision(platform, uow, principal, row["decision_id"])  # consent still covers the borrower
        if row["requested_by"] == principal.user_id:
            raise Denied(f"four eyes: credit review {review_id} was asked by you; another risk manager approves it")
        if row["state"] != "pending":
            raise Conflict(f"credit review {review_id} is already {row['state']}")
        workflow = _workflow(uow, decision, now_ms, for_update=True)
        state = "rejected" if not approve else "approved"
        leaf = record_evidence(
            uow,
            "credit_review",
            _subject(row),
            owner_tenant_id=principal.tenant_id,
            data={
                "enterprise_id": row["enterprise_id"],
                "at_ms": now_ms,
                "tenant_id": principal.tenant_id,
                "review_id": review_id,
                "decision_id": row["decision_id"],
                "kind": row["kind"],
                "step": state,
                "by": principal.user_id,
                "reason": text,
                "outcome": row["new_outcome"] if approve else "refer",
                "limit_cny": row["new_limit_cny"],
                "inputs": [f"credit_decision:{row['decision_id']}"],
            },
        )
        uow.credit_workflow.set_review(
            review_id,
            state=state,
            reviewed_by=principal.user_id,
            review_reason=text,
            reviewed_ms=now_ms,
            review_ledger_leaf=leaf,
        )
        if approve:
            final = "approved" if row["new_outcome"] == "approve" else "declined"
            uow.credit_workflow.set_workflow(
                row["decision_id"],
                state=final,
                outcome=row["new_outcome"],
                limit_cny=row["new_limit_cny"],
                updated_ms=now_ms,
            )
            _move_loan(uow, principal, _stored_workflow(uow, row["decision_id"]), row, now_ms)
        else:
            uow.credit_workflow.set_workflow(row["decision_id"], state="referred", outcome="refer", updated_ms=now_ms)
        _log(
            uow,
            principal,
            workflow,
            f"credit.review.{'approve' if approve else 'reject'}",
            f"credit_review:{review_id}",
            {
                "decision_id": row["decision_id"],
                "kind": row["kind"],
                "requested_by": row["requested_by"],
                "outcome": row["new_outcome"],
                "limit_cny": row["new_limit_cny"],
                "reason": text,
            },
            now_ms,
        )
        uow.commit()
        return workflow_view(uow, row["decision_id"])


PAGE_MAX = 200


def pending(
    platform: Platform, principal: Principal, limit: int = 50, before_id: int | None = None
) -> tuple[list[dict], int | None]:
    """What waits for four eyes in the bank (its own tenant only), newest first, with whether the caller may
    approve: only borrowers the bank may still lend on (the decision's own rule: consent covering every
    device). A page of `limit`, and the `before_id` of the next page (None when none follows)."""
    require_role(principal, *BANK_ROLES)
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidInput(f"limit must be 1-{PAGE_MAX}, got {limit}")
    with platform.uow() as uow:
        rows = _lendable_reviews(platform, uow, principal, limit + 1, before_id)
        next_before_id = rows[limit - 1]["id"] if len(rows) > limit else None
        rows = rows[:limit]
        for enterprise_id in sorted({r["enterprise_id"] for r in rows}):  # what the bank's staff saw, per borrower
            uow.logs.access(
                at_ms=platform.clock_ms(),
                user_id=principal.user_id,
                tenant_id=principal.tenant_id,
                enterprise_id=enterprise_id,
                device_id=None,
                action="credit.reviews.pending",
                consent_id=None,
                rows=sum(r["enterprise_id"] == enterprise_id for r in rows),
            )
        uow.commit()
        out = []
        for r in rows:
            enterprise = uow.enterprises.get(r["enterprise_id"])
            decision = stored_decision(uow, r["decision_id"])
            workflow = uow.credit_workflow.workflow(r["decision_id"])
            out.append(
                {
                    **review_view(uow, r),
                    "enterprise_name": enterprise["name"] if enterprise else None,
                    "product_code": decision["product_code"],
                    "loan_id": workflow["loan_id"] if workflow else None,
                    "can_review": principal.role == Role.RISK_MANAGER and r["requested_by"] != principal.user_id,
                }
            )
        return out, next_before_id


def _lendable_reviews(
    platform: Platform, uow: UnitOfWork, principal: Principal, wanted: int, before_id: int | None
) -> list[CreditReviewRow]:
    """Up to `wanted` pending reviews below `before_id` on borrowers the bank may still lend on."""
    tenant_id = principal.tenant_id
    if tenant_id is None:  # a bank role outside any bank has no reviews
        return []
    lendable: dict[int, bool] = {}
    out: list[CreditReviewRow] = []
    while len(out) < wanted:
        batch = uow.credit_workflow.tenant_reviews(tenant_id, "pending", wanted, before_id)
        for r in batch:
            if r["enterprise_id"] not in lendable:
                try:
                    require_lender(platform, uow, principal, r["enterprise_id"])
                    lendable[r["enterprise_id"]] = True
                except (Denied, NotFound):  # consent revoked, expired or narrowed: as if it were not there
                    lendable[r["enterprise_id"]] = False
            if lendable[r["enterprise_id"]]:
                out.append(r)
        if len(batch) < wanted:
            break
        before_id = batch[-1]["id"]
    return out[:wanted]


def decision_workflow(platform: Platform, principal: Principal, decision_id: int) -> dict:
    """Where a decision stands, its reviews and the loan application it moves (same access as the decision)."""
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        decision = readable_decision(platform, uow, principal, decision_id)
        _workflow(uow, decision, now_ms)
        uow.commit()
        return workflow_view(uow, decision_id)


# ---------------------------------------------------------------- views


def workflow_view(uow: UnitOfWork, decision_id: int) -> dict:
    w = _stored_workflow(uow, decision_id)
    loan = uow.monitoring.loan(w["loan_id"]) if w["loan_id"] is not None else None
    zh, en = STATE_LABELS[w["state"]]
    return {
        "decision_id": decision_id,
        "state": w["state"],
        "state_zh": zh,
        "state_en": en,
        "final": w["state"] in FINAL,
        "outcome": w["outcome"],
        "limit_cny": w["limit_cny"],
        "four_eyes_limit_cny": w["four_eyes_limit_cny"],
        "loan": public_loan(loan) if loan else None,
        "updated_ms": w["updated_ms"],
        "reviews": [review_view(uow, r) for r in uow.credit_workflow.reviews(decision_id)],
    }


def review_view(uow: UnitOfWork, r: CreditReviewRow) -> dict:
    names: dict[int | None, str | None] = {
        uid: _username(uow, uid) for uid in {r["requested_by"], r["reviewed_by"]} if uid is not None
    }
    state_zh, state_en = REVIEW_LABELS[r["state"]]
    kind_zh, kind_en = KIND_LABELS[r["kind"]]
    return {
        "id": r["id"],
        "decision_id": r["decision_id"],
        "enterprise_id": r["enterprise_id"],
        "kind": r["kind"],
        "kind_zh": kind_zh,
        "kind_en": kind_en,
        "state": r["state"],
        "state_zh": state_zh,
        "state_en": state_en,
        "requested_by": names.get(r["requested_by"]),
        "requested_role": r["requested_role"],
        "reason": r["reason"],
        "prior_outcome": r["prior_outcome"],
        "prior_limit_cny": r["prior_limit_cny"],
        "new_outcome": r["new_outcome"],
        "new_limit_cny": r["new_limit_cny"],
        "created_ms": r["created_ms"],
        "reviewed_by": names.get(r["reviewed_by"]),
        "review_reason": r["review_reason"],
        "reviewed_ms": r["reviewed_ms"],
        "links": {
            "ledger_proof": f"/api/v1/ledger/entries/{r['ledger_leaf']}/proof" if r["ledger_leaf"] is not None else None
        },
    }


def _username(uow: UnitOfWork, user_id: int) -> str | None:
    user = uow.identity.user(user_id)
    return user["username"] if user else None


# ---------------------------------------------------------------- steps


def _workflow(uow: UnitOfWork, decision: dict, now_ms: int, for_update: bool = False) -> CreditWorkflowRow:
    """The decision's standing; a decision made before the workflow existed gets one (no loan, as decided)."""
    row = uow.credit_workflow.workflow(decision["id"], for_update)
    if row is not None:
        return row
    outcome = decision["decision"].get("outcome") or ("approve" if decision["approved"] else "decline")
    product = get_product(decision["product_code"])
    threshold = product.four_eyes_limit.amount if product.four_eyes_limit is not None else None
    limit = Decimal(decision["limit_cny"]) if decision["limit_cny"] is not None else None
    state = initial_state(outcome, limit, threshold)
    state = "referred" if state == "pending_approval" else state  # nobody asked: a person decides by an override
    uow.credit_workflow.add_workflow(
        decision_id=decision["id"],
        tenant_id=decision["tenant_id"],
        enterprise_id=decision["enterprise_id"],
        loan_id=None,
        state=state,
        outcome=outcome,
        limit_cny=decision["limit_cny"],
        four_eyes_limit_cny=None if threshold is None else str(threshold),
        requested_by=decision["user_id"],
        created_ms=now_ms,
        updated_ms=now_ms,
    )
    return _stored_workflow(uow, decision["id"], for_update)


def _stored_workflow(uow: UnitOfWork, decision_id: int, for_update: bool = False) -> CreditWorkflowRow:
    """The workflow row of a decision that has one (it was read or written in this transaction)."""
    row = uow.credit_workflow.workflow(decision_id, for_update)
    if row is None:
        raise NotFound(f"credit decision {decision_id} has no workflow")
    return row


def _add_review(
    uow: UnitOfWork,
    principal: Principal,
    decision: dict,
    kind: str,
    reason: str,
    prior_outcome: str,
    prior_limit: str | None,
    new_outcome: str,
    new_limit: str | None,
    now_ms: int,
) -> int:
    review_id = uow.credit_workflow.add_review(
        decision_id=decision["id"],
        tenant_id=principal.tenant_id,
        enterprise_id=decision["enterprise_id"],
        kind=kind,
        requested_by=principal.user_id,
        requested_role=principal.role.value,
        reason=reason,
        prior_outcome=prior_outcome,
        prior_limit_cny=prior_limit,
        new_outcome=new_outcome,
        new_limit_cny=new_limit,
        state="pending",
        created_ms=now_ms,
    )
    subject = f"credit_decision:{decision['id']}:review:{review_id}"
    leaf = record_evidence(
        uow,
        "credit_review",
        subject,
        owner_tenant_id=principal.tenant_id,
        data={
            "enterprise_id": decision["enterprise_id"],
            "at_ms": now_ms,
            "tenant_id": principal.tenant_id,
            "review_id": review_id,
            "decision_id": decision["id"],
            "kind": kind,
            "step": "requested",
            "by": principal.user_id,
            "reason": reason,
            "prior_outcome": prior_outcome,
            "prior_limit_cny": prior_limit,
            "outcome": new_outcome,
            "limit_cny": new_limit,
            "inputs": [f"credit_decision:{decision['id']}"],
        },
    )
    uow.credit_workflow.set_review(review_id, ledger_leaf=leaf)
    return review_id


def _subject(review_row: CreditReviewRow) -> str:
    return f"credit_decision:{review_row['decision_id']}:review:{review_row['id']}"


def _move_loan(
    uow: UnitOfWork, principal: Principal, workflow: CreditWorkflowRow, review_row: CreditReviewRow | None, now_ms: int
) -> None:
    """A final decision moves its loan application: approved -> assessment, declined -> rejected."""
    if workflow["loan_id"] is None:
        return
    loan = uow.monitoring.loan(workflow["loan_id"], for_update=True)
    if loan is None or loan["state"] != APPLICATION_STATE:  # moved by hand meanwhile: the history says so
        return
    approved = workflow["state"] == "approved"
    if approved and credit_refusal(loan, workflow):  # amount above the approved limit: it stays an application
        return
    target, action = ("assessment", "assess") if approved else ("rejected", "reject")
    how = f"; four eyes: review {review_row['id']}" if review_row else ""
    limit = f", limit CNY {workflow['limit_cny']}" if approved and workflow["limit_cny"] else ""
    uow.monitoring.set_loan(loan["id"], state=target, updated_ms=now_ms)
    uow.monitoring.add_history(
        loan_id=loan["id"],
        at_ms=now_ms,
        kind="state",
        from_value=loan["state"],
        to_value=target,
        action=action,
        user_id=principal.user_id,
        role=principal.role.value,
        reason=f"credit decision {workflow['decision_id']} {workflow['state']}{limit}{how}",
    )


def _log(
    uow: UnitOfWork,
    principal: Principal,
    workflow: CreditWorkflowRow,
    action: str,
    subject: str,
    detail: dict,
    now_ms: int,
) -> None:
    uow.logs.access(
        at_ms=now_ms,
        user_id=principal.user_id,
        tenant_id=principal.tenant_id,
        enterprise_id=workflow["enterprise_id"],
        device_id=None,
        action=action,
        consent_id=None,
        rows=1,
    )
    uow.logs.audit(now_ms, principal.user_id, action, subject, detail)


def products(principal: Principal) -> list[dict]:
    """The products, for the request form (bank staff)."""
    from wuxin.services.bootstrap import products as pack_products

    require_role(principal, *BANK_ROLES)
    return [
        {
            "code": p.code,
            "name_zh": p.name_zh,
            "name_en": p.name_en,
            "scenario": p.scenario,
            "basis": p.basis,
            "cap_cny": str(p.cap.amount),
            "four_eyes_limit_cny": str(p.four_eyes_limit.amount) if p.four_eyes_limit is not None else None,
        }
        for p in pack_products().values()
    ]
