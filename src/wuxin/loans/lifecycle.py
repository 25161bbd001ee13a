"""The loan's business process (seed 000 §5) as a state machine: who may move it, from where, to where.

application -> assessment -> monitoring_plan -> installation -> approval -> disbursement -> monitoring
-> closed (repaid), or monitoring -> warning -> monitoring | disposal -> closed; early stages may be rejected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from wuxin.domain.model import Role
from wuxin.errors import Conflict, Denied, InvalidInput

STATES = (
    "application",
    "assessment",
    "monitoring_plan",
    "installation",
    "approval",
    "disbursement",
    "monitoring",
    "warning",
    "disposal",
    "closed",
    "rejected",
)
OFFICER, RISK = Role.CREDIT_OFFICER, Role.RISK_MANAGER
EARLY = ("application", "assessment", "monitoring_plan", "installation", "approval")


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    target: str
    roles: frozenset[Role]


ACTIONS = {
    a.name: a
    for a in (
        Action("assess", ("application",), "assessment", frozenset({OFFICER})),
        Action("plan_monitoring", ("assessment",), "monitoring_plan", frozenset({OFFICER})),
        Action("install", ("monitoring_plan",), "installation", frozenset({OFFICER})),
        Action("commission", ("installation",), "approval", frozenset({OFFICER})),  # needs the commissioning check
        Action("approve", ("approval",), "disbursement", frozenset({RISK})),
        Action("disburse", ("disbursement",), "monitoring", frozenset({OFFICER})),
        Action("warn", ("monitoring",), "warning", frozenset({RISK, OFFICER})),
        Action("resolve", ("warning",), "monitoring", frozenset({RISK})),
        Action("dispose", ("warning",), "disposal", frozenset({RISK})),
        Action("repay", ("monitoring", "warning"), "closed", frozenset({OFFICER})),
        Action("close", ("disposal",), "closed", frozenset({RISK})),
        Action("reject", EARLY, "rejected", frozenset({RISK})),
    )
}
LIVE_STATES = frozenset({"disbursement", "monitoring", "warning", "disposal"})  # money out or about to be


def next_state(state: str, action: str, role: Role) -> str:
    """The state after `action`, or the reason it is refused (unknown action, wrong role, wrong state)."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise InvalidInput(f"loan action {action!r} is not one of {sorted(ACTIONS)}")
    if role not in spec.roles:
        raise Denied(
            f"role {role.value} may not {action} a loan (allowed: {', '.join(sorted(r.value for r in spec.roles))})"
        )
    if state not in spec.sources:
        raise Conflict(f"a loan in state {state!r} cannot {action} (only from {', '.join(spec.sources)})")
    return spec.target


def credit_refusal(loan: Mapping, workflow: Mapping | None) -> str | None:
    """Why the loan may not pass the credit decision (`assess`): it needs a final approved credit decision
    (the four-eyes workflow) for this loan, and its amount within the approved limit. None when it may."""
    head = f"loan {loan['id']} in state {loan['state']!r} cannot pass the credit decision"
    if workflow is None:
        return f"{head}: no credit decision was requested for it (approved limit: none)"
    if workflow["state"] != "approved":
        return (
            f"{head}: credit decision {workflow['decision_id']} is {workflow['state']}, not approved "
            f"(approved limit: none)"
        )
    limit = workflow["limit_cny"]
    if limit is None or Decimal(str(loan["amount_cny"])) > Decimal(limit):
        return (
            f"{head}: amount CNY {loan['amount_cny']} is above the approved limit CNY {limit} of credit decision "
            f"{workflow['decision_id']}"
        )
    return None


@dataclass(frozen=True)
class DeviceCheck:
    key: str
    online: bool
    plausible_points: int  # accepted points in the check window
    rejected_points: int  # quarantined points in the check window


def commissioning_failures(
    plan_devices: Iterable[str], checks: Mapping[str, DeviceCheck], min_points: int = 3, max_reject_share: float = 0.05
) -> list[str]:
    """Why the devices of the monitoring plan are not ready for disbursement (empty when they are)."""
    failures = []
    for key in plan_devices:
        check = checks.get(key)
        if check is None:
            failures.append(f"device {key} is not registered to this enterprise")
            continue
        if not check.online:
            failures.append(f"device {key} is not online")
        if check.plausible_points < min_points:
            failures.append(f"device {key} sent {check.plausible_points} plausible points, needs {min_points}")
        total = check.plausible_points + check.rejected_points
        if total and check.rejected_points / total > max_reject_share:
            failures.append(
                f"device {key} had {check.rejected_points} of {total} points rejected (> {max_reject_share:.0%})"
            )
    return failures
