"""The demo's loans: one per enterprise in various states, a tyre pledge for the logistics borrower, alarms, and the
fleet borrower's vehicle loan; a loan goes to warning only on alarms that threaten it (a truck out of its area puts
the fleet's there, so the bank may lock or immobilise it)."""

from __future__ import annotations

from collections.abc import Callable

from wuxin.bootstrap import Platform
from wuxin.errors import NotFound
from wuxin.labels import label
from wuxin.security.policy import Principal
from wuxin.services.access.identity import login, principal_for_token
from wuxin.services.bootstrap import demo_product, device_types_with, packs_with
from wuxin.services.credit import loans, pledges
from wuxin.services.demo.people import DEMO_PASSWORD
from wuxin.services.monitoring import alarms as monitoring
from wuxin.services.monitoring import sweeps

COLLATERAL_SEVERITIES = frozenset({"major", "critical"})  # what warns a loan (see _warn_on_collateral_alarms)
PATHS = [
    [],
    ["assess"],
    ["assess", "plan_monitoring", "install"],
    ["assess", "plan_monitoring", "install", "commission", "approve", "disburse"],
    ["assess", "plan_monitoring", "install", "commission", "approve", "disburse", "warn"],
]


def demo_loans(platform: Platform, fleet, enterprise_ids: list[int], progress: Callable[[str], None] = print) -> None:
    """One loan per enterprise along PATHS; a loan whose path ends in `warn`, and every loan on pledged goods or
    vehicles, is then warned only if the sweep finds alarms that threaten it (_warn_on_collateral_alarms)."""
    officer = principal_for_token(platform, login(platform, "officer", DEMO_PASSWORD))
    risk = principal_for_token(platform, login(platform, "risk", DEMO_PASSWORD))
    watched: list[int] = []
    for n, (spec, eid) in enumerate(zip(fleet, enterprise_ids)):
        product = demo_product(spec.industry)
        if product is None:
            progress(f"no demo loan for enterprise {eid}: its pack {spec.industry} declares no credit product")
            continue
        loan = loans.create_loan(platform, officer, eid, product.code, str(500_000 + 250_000 * (n % 4)))
        collateral = spec.industry in packs_with("demo_pledge") + packs_with("demo_fleet_loan")
        path = PATHS[-2] if collateral else PATHS[n % len(PATHS)]
        for action in path:
            if action != "warn":
                _step(platform, officer, risk, loan["id"], action, _plan_devices(spec))
        if spec.industry in packs_with("demo_pledge"):
            _pledge(platform, officer, risk, loan["id"], spec)
        if collateral or "warn" in path:
            watched.append(loan["id"])
    sweeps.sweep(platform)
    pledges.check_coverage(platform)
    for loan_id in watched:
        _warn_on_collateral_alarms(platform, risk, loan_id)


def _plan_devices(spec) -> list[str]:
    """The devices a loan's monitoring plan names: a fleet's GPS terminals first (the vehicles are the collateral)."""
    vehicles = device_types_with("locates_vehicles")
    keys = [d.key for d in spec.devices if d.device_type in vehicles] + [
        d.key for d in spec.devices if d.device_type not in vehicles
    ]
    return keys[:5]


def _warn_on_collateral_alarms(platform: Platform, risk: Principal, loan_id: int) -> None:
    """The risk manager moves a loan in monitoring to `warning` through the loan workflow when alarms that threaten
    it are open (major or critical: goods below the pledge or the coverage line, a truck out of its area, a device
    removed or silent, a collision), on the loan or on its monitoring plan's devices (for a vehicle, any unit on the
    same plate), naming them in zh and en as the reason. Driver-safety and other minor events are the borrower's own
    business and leave the loan in monitoring, as a quiet borrower does: the demo says nothing it did not see."""
    with platform.uow() as uow:
        loan = uow.monitoring.loan(loan_id)
        if loan is None:
            raise NotFound(f"loan {loan_id} does not exist")
        if loan["state"] != "monitoring":
            return
        planned = [d for key in loan["monitoring_plan"]["devices"] if (d := uow.devices.by_key(key))]
        vehicles = device_types_with("locates_vehicles")
        plates = {(d["attributes"] or {}).get("plate") for d in planned if d["device_type"] in vehicles} - {None, ""}
        named = {d["id"]: d["key"] for d in planned} | {
            d["id"]: (d["attributes"] or {}).get("plate")
            for d in uow.devices.list(loan["enterprise_id"])
            if (d["attributes"] or {}).get("plate") in plates
        }
    alarms = [
        a
        for a in monitoring.list_alarms(platform, risk, "active", loan["enterprise_id"], limit=500)
        if a["severity"] in COLLATERAL_SEVERITIES and (loan_id in (a["loan_ids"] or []) or a["device_id"] in named)
    ]
    if not alarms:
        return
    alarms.sort(key=lambda a: (a["severity"] != "critical", a["id"]))
    said = "; ".join(f"#{a['id']} {_alarm_words(a['alarm_type'])}{_on(named.get(a['device_id']))}" for a in alarms[:3])
    loans.transition(platform, risk, loan_id, "warn", f"贷后告警 / alarms on the loan: {said}")


def _on(device: str | None) -> str:
    return f" ({device})" if device else ""


def _alarm_words(alarm_type: str) -> str:
    return f"{label('alarm_type', alarm_type, 'zh')} {label('alarm_type', alarm_type, 'en')}"


def _step(
    platform: Platform, officer: Principal, risk: Principal, loan_id: int, action: str, devices: list[str]
) -> None:
    who = risk if action in ("approve", "warn") else officer
    if action == "commission":  # demo devices have history; skip the live check by recording the step as it would be
        _record(
            platform, officer, loan_id, "installation", "approval", action, "demo: devices commissioned at installation"
        )
        return
    if action == "assess":  # these loans predate the demo's credit model: recorded, saying so (a real `assess`
        # needs a final approved credit decision of the four-eyes workflow, services/credit/workflow.py)
        _record(
            platform,
            officer,
            loan_id,
            "application",
            "assessment",
            action,
            "demo: credit approved before the platform (no credit decision recorded here)",
        )
        return
    loans.transition(
        platform, who, loan_id, action, f"demo: {action}", devices if action == "plan_monitoring" else None
    )


def _record(
    platform: Platform, who: Principal, loan_id: int, source: str, target: str, action: str, reason: str
) -> None:
    with platform.uow() as uow:
        uow.monitoring.set_loan(loan_id, state=target)
        uow.monitoring.add_history(
            loan_id=loan_id,
            at_ms=platform.clock_ms(),
            kind="state",
            from_value=source,
            to_value=target,
            action=action,
            user_id=who.user_id,
            role=who.role.value,
            reason=reason,
        )
        uow.commit()


def _zone_stock(spec, zone: str) -> tuple[str, str]:
    """What the demo pledges in a zone: the units its readers were installed to watch (`pledged_units`) at their value
    (`unit_value_cny`), where the simulator sets them; else 2,000 units at the demo price index's 420 CNY."""
    attributes = [d.attributes for d in spec.devices if d.attributes.get("zone_id") == zone]
    units = next((a["pledged_units"] for a in attributes if a.get("pledged_units")), 2000)
    value = next((a["unit_value_cny"] for a in attributes if a.get("unit_value_cny")), 420)
    return str(units), str(value)


def _pledge(platform: Platform, officer: Principal, risk: Principal, loan_id: int, spec) -> None:
    zones = sorted({d.attributes.get("zone_id") for d in spec.devices if d.attributes.get("zone_id")})
    for i, zone in enumerate(zones[:2]):
        sku = f"demo-sku-{zone}"
        units, unit_value_cny = _zone_stock(spec, zone)
        pledges.set_price(platform, risk, sku, unit_value_cny, 0, "demo price index")
        pledges.pledge(
            platform,
            officer,
            loan_id,
            [
                {
                    "kind": "lot",
                    "value": f"DEMO-{loan_id}-{zone}",
                    "sku": sku,
                    "quantity": units,
                    "zone_id": zone,
                    "haircut": "0.3",
                }
            ],
        )
