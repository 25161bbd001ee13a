"""The demo's loans: one per enterprise in various states, a tyre pledge for the logistics borrower, alarms, and the
fleet borrower's vehicle loan, which its trucks' alarms put in warning (so the bank may lock or immobilise them)."""
from __future__ import annotations

from wuxin.bootstrap import Platform
from wuxin.security.policy import Principal
from wuxin.services import loans, monitoring, pledges
from wuxin.services.identity import login, principal_for_token
from wuxin.services.jt808_terminals import TERMINAL_TYPE

PATHS = [[], ["assess"], ["assess", "plan_monitoring", "install"], ["assess", "plan_monitoring", "install", "commission",
         "approve", "disburse"], ["assess", "plan_monitoring", "install", "commission", "approve", "disburse", "warn"]]


def demo_loans(platform: Platform, fleet, enterprise_ids: list[int]) -> None:
    from wuxin.services.demo import DEMO_PASSWORD

    officer = principal_for_token(platform, login(platform, "officer", DEMO_PASSWORD))
    risk = principal_for_token(platform, login(platform, "risk", DEMO_PASSWORD))
    vehicle_loans: list[int] = []
    for n, (spec, eid) in enumerate(zip(fleet, enterprise_ids)):
        loan = loans.create_loan(platform, officer, eid, f"{spec.industry}-iot", str(500_000 + 250_000 * (n % 4)))
        path = PATHS[-2] if spec.industry in ("logistics", "vehicles") else PATHS[n % len(PATHS)]
        for action in path:
            _step(platform, officer, risk, loan["id"], action, _plan_devices(spec))
        if spec.industry == "logistics":
            _pledge(platform, officer, risk, loan["id"], spec)
        if spec.industry == "vehicles":
            vehicle_loans.append(loan["id"])
    monitoring.sweep(platform)
    pledges.check_coverage(platform)
    for loan_id in vehicle_loans:
        _warn_on_truck_alarms(platform, risk, loan_id)


def _plan_devices(spec) -> list[str]:
    """The devices a loan's monitoring plan names: a fleet's GPS terminals first (the vehicles are the collateral)."""
    keys = [d.key for d in spec.devices if d.device_type == TERMINAL_TYPE] + [
        d.key for d in spec.devices if d.device_type != TERMINAL_TYPE]
    return keys[:5]


def _warn_on_truck_alarms(platform: Platform, risk: Principal, loan_id: int) -> None:
    """The risk manager moves the fleet loan to `warning` through the loan workflow when its pledged vehicles have open
    alarms (of the truck's terminal or another unit on the same plate, e.g. its ADAS camera; geofence exits first),
    naming them as the reason; without any it stays in monitoring: the demo says nothing it did not see."""
    with platform.uow() as uow:
        loan = uow.monitoring.loan(loan_id)
        terminals = [d for key in loan["monitoring_plan"]["devices"]
                     if (d := uow.devices.by_key(key)) and d["device_type"] == TERMINAL_TYPE]
        plates = {(d["attributes"] or {}).get("plate") for d in terminals} - {None, ""}
        on_vehicle = {d["id"]: (d["attributes"] or {}).get("plate") for d in uow.devices.list(loan["enterprise_id"])
                      if (d["attributes"] or {}).get("plate") in plates}
    alarms = [a for a in monitoring.list_alarms(platform, risk, "active", loan["enterprise_id"], limit=200)
              if a["device_id"] in on_vehicle]
    if not alarms:
        return
    alarms.sort(key=lambda a: (a["alarm_type"] != "geofence_exit", a["id"]))
    named = ", ".join(f"#{a['id']} {a['alarm_type']} ({on_vehicle[a['device_id']]})" for a in alarms[:3])
    loans.transition(platform, risk, loan_id, "warn", f"alarms on pledged vehicles: {named}")
