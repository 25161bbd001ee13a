"""Loans: creation, lifecycle transitions by allowed roles (recorded), the commissioning check, risk class."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from wuxin.bootstrap import Platform
from wuxin.domain.model import Role
from wuxin.errors import Conflict, InvalidInput, NotFound
from wuxin.loans.lifecycle import DeviceCheck, commissioning_failures, credit_refusal, next_state
from wuxin.loans.risk_class import check_risk_class
from wuxin.security.policy import Principal, enterprise_not_found, require_role, valid_consents
from wuxin.services.devices.registry import consent_views
from wuxin.services.monitoring.rule_cache import invalidate_index
from wuxin.store.rows import LoanRow
from wuxin.store.uow import UnitOfWork

CHECK_WINDOW_MS = 24 * 3_600_000
DEFAULT_HEARTBEAT_S = 900


MONEY_LIMIT = Decimal(10) ** 16  # NUMERIC(18, 2): 16 digits before the point


def money(value, what: str) -> Decimal:
    """A non-negative amount to the cent, below 10^16 (larger ones neither fit the columns nor quantize)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{what} {value!r} is not a number") from None
    if not amount.is_finite() or not 0 <= amount < MONEY_LIMIT:
        raise InvalidInput(f"{what} must be a finite amount >= 0 and below 10^16, got {value!r}")
    return amount.quantize(Decimal("0.01"))


def public_loan(row: LoanRow) -> dict:
    out = {
        k: row[k]
        for k in (
            "id",
            "tenant_id",
            "enterprise_id",
            "product",
            "state",
            "risk_class",
            "monitoring_plan",
            "created_ms",
            "updated_ms",
        )
    }
    for k in ("amount_cny", "outstanding_cny", "maintenance_ratio", "liquidation_ratio"):
        out[k] = str(row[k])
    return out


def create_loan(
    platform: Platform,
    principal: Principal,
    enterprise_id: int,
    product: str,
    amount_cny,
    maintenance_ratio="1.3",
    liquidation_ratio="1.1",
) -> dict:
    """A credit officer opens an application for an enterprise that consented to the bank."""
    require_role(principal, Role.CREDIT_OFFICER)
    amount = money(amount_cny, "amount_cny")
    if amount <= 0:
        raise InvalidInput(f"amount_cny must be above 0, got {amount_cny!r}")
    maintenance, liquidation = (
        money(maintenance_ratio, "maintenance_ratio"),
        money(liquidation_ratio, "liquidation_ratio"),
    )
    if not Decimal(0) < liquidation <= maintenance:
        raise InvalidInput(f"need 0 < liquidation_ratio ({liquidation}) <= maintenance_ratio ({maintenance})")
    if not product or len(product) > 60:
        raise InvalidInput(f"product {product!r} must be 1-60 characters")
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        _require_consent(uow, principal, enterprise_id, now_ms)
        loan_id = uow.monitoring.add_loan(
            tenant_id=principal.tenant_id,
            enterprise_id=enterprise_id,
            product=product,
            amount_cny=amount,
            outstanding_cny=Decimal(0),
            state="application",
            risk_class="normal",
            monitoring_plan={"devices": []},
            maintenance_ratio=maintenance,
            liquidation_ratio=liquidation,
            created_ms=now_ms,
            updated_ms=now_ms,
        )
        uow.monitoring.add_history(
            loan_id=loan_id,
            at_ms=now_ms,
            kind="state",
            from_value="-",
            to_value="application",
            action="apply",
            user_id=principal.user_id,
            role=principal.role.value,
            reason=f"application for {amount} CNY, product {product}",
        )
        uow.commit()
        return public_loan(_loan(uow, loan_id))


def _require_consent(uow: UnitOfWork, principal: Principal, enterprise_id: int, now_ms: int) -> None:
    """The bank holds a valid consent from the enterprise; without one the enterprise does not exist for it."""
    if uow.enterprises.get(enterprise_id) is None:
        raise enterprise_not_found(enterprise_id)
    consents = consent_views(uow.consents.for_enterprise(enterprise_id))
    if not valid_consents(consents, principal.tenant_id, now_ms):
        raise enterprise_not_found(enterprise_id)


def _loan(uow: UnitOfWork, loan_id: int) -> LoanRow:
    """A loan this transaction has just written."""
    loan = uow.monitoring.loan(loan_id)
    if loan is None:
        raise NotFound(f"loan {loan_id} does not exist")
    return loan


def own_loan(uow: UnitOfWork, principal: Principal, loan_id: int, for_update: bool = False) -> LoanRow:
    """The loan if it belongs to the principal's bank; another bank's loan does not exist for them."""
    loan = uow.monitoring.loan(loan_id, for_update)
    if loan is None or (not principal.is_admin and loan["tenant_id"] != principal.tenant_id):
        raise NotFound(f"loan {loan_id} does not exist")
    return loan


def transition(
    platform: Platform,
    principal: Principal,
    loan_id: int,
    action: str,
    reason: str,
    plan_devices: list[str] | None = None,
) -> dict:
    """Move a loan by `action`; the role, the state and (for commissioning) the devices must allow it."""
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise InvalidInput(f"a reason of at least 3 characters is needed, got {reason!r}")
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        loan = own_loan(uow, principal, loan_id, for_update=True)
        target = next_state(loan["state"], action, principal.role)
        values: dict = {"state": target, "updated_ms": now_ms}
        if action == "assess":  # past the credit decision only on a final approved one, within its limit
            refusal = credit_refusal(loan, uow.credit_workflow.latest_for_loan(loan_id))
            if refusal:
                raise Conflict(refusal)
        if action == "plan_monitoring":
            values["monitoring_plan"] = {"devices": _plan(uow, loan, plan_devices)}
        if action == "commission":
            failures = commissioning_failures(
                loan["monitoring_plan"]["devices"], device_checks(platform, uow, loan, now_ms)
            )
            if failures:
                raise InvalidInput(f"loan {loan_id} cannot be commissioned: " + "; ".join(failures))
        if action == "disburse":
            values["outstanding_cny"] = loan["amount_cny"]
        if action in ("repay", "close"):
            values["outstanding_cny"] = Decimal(0)
        uow.monitoring.set_loan(loan_id, **values)
        uow.monitoring.add_history(
            loan_id=loan_id,
            at_ms=now_ms,
            kind="state",
            from_value=loan["state"],
            to_value=target,
            action=action,
            user_id=principal.user_id,
            role=principal.role.value,
            reason=reason,
        )
        uow.commit()
        result = public_loan(_loan(uow, loan_id))
    invalidate_index()
    return result


def _plan(uow: UnitOfWork, loan: LoanRow, keys: list[str] | None) -> list[str]:
    if not keys:
        raise InvalidInput("a monitoring plan needs at least one device key")
    mine = {d["key"] for d in uow.devices.list(loan["enterprise_id"])}
    foreign = sorted(set(keys) - mine)
    if foreign:
        raise InvalidInput(f"devices {foreign} are not registered to enterprise {loan['enterprise_id']}")
    return sorted(set(keys))


def device_checks(platform: Platform, uow: UnitOfWork, loan: LoanRow, now_ms: int) -> dict[str, DeviceCheck]:
    """Online (recorded state, else last seen within the heartbeat timeout), plausible and rejected points in 24 h."""
    devices = {
        d["key"]: d for d in uow.devices.list(loan["enterprise_id"]) if d["key"] in loan["monitoring_plan"]["devices"]
    }
    ids = [d["id"] for d in devices.values()]
    states = uow.monitoring.device_states(ids) if ids else {}
    points = uow.monitoring.points_since(ids, now_ms - CHECK_WINDOW_MS) if ids else {}
    rejected = uow.monitoring.rejections_since(list(devices), now_ms - CHECK_WINDOW_MS) if devices else {}
    checks = {}
    for key, d in devices.items():
        model = platform.thing_models.get(d["device_type"])
        timeout_ms = (model.heartbeat_timeout_s if model else DEFAULT_HEARTBEAT_S) * 1000
        fresh = d["last_seen_ms"] is not None and now_ms - d["last_seen_ms"] <= timeout_ms
        online = states.get(d["id"], "online" if fresh else "offline") == "online" and fresh
        checks[key] = DeviceCheck(key, online, points.get(d["id"], 0), rejected.get(key, 0))
    return checks


def set_risk_class(platform: Platform, principal: Principal, loan_id: int, risk_class: str, reason: str) -> dict:
    """A risk manager classifies the loan (either direction), with the reason."""
    require_role(principal, Role.RISK_MANAGER)
    check_risk_class(risk_class)
    if len((reason or "").strip()) < 3:
        raise InvalidInput(f"a reason of at least 3 characters is needed, got {reason!r}")
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        loan = own_loan(uow, principal, loan_id, for_update=True)
        if loan["risk_class"] != risk_class:
            uow.monitoring.set_loan(loan_id, risk_class=risk_class, updated_ms=now_ms)
            uow.monitoring.add_history(
                loan_id=loan_id,
                at_ms=now_ms,
                kind="risk_class",
                from_value=loan["risk_class"],
                to_value=risk_class,
                action="classify",
                user_id=principal.user_id,
                role=principal.role.value,
                reason=reason.strip(),
            )
        uow.commit()
        return public_loan(_loan(uow, loan_id))


def get_loan(platform: Platform, principal: Principal, loan_id: int) -> dict:
    with platform.uow() as uow:
        loan = own_loan(uow, principal, loan_id)
        return {
            **public_loan(loan),
            "history": [
                {
                    k: h[k]
                    for k in (
                        "at_ms",
                        "kind",
                        "from_value",
                        "to_value",
                        "action",
                        "user_id",
                        "role",
                        "reason",
                        "alarm_id",
                    )
                }
                for h in uow.monitoring.history(loan_id)
            ],
        }


def list_loans(platform: Platform, principal: Principal, enterprise_id: int | None = None) -> list[dict]:
    require_role(principal, Role.CREDIT_OFFICER, Role.RISK_MANAGER, Role.PLATFORM_ADMIN)
    with platform.uow() as uow:
        tenant = None if principal.is_admin else principal.tenant_id
        return [public_loan(l) for l in uow.monitoring.loans(tenant, enterprise_id)]
