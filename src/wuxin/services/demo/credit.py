"""The demo's credit: a scorecard trained on a simulated book and adopted by the demo bank, statements, one decision each."""

from __future__ import annotations

import numpy as np

from wuxin.bootstrap import Platform
from wuxin.domain.model import Role
from wuxin.errors import NotFound
from wuxin.risk.features import DailySeries
from wuxin.services.bootstrap import demo_product
from wuxin.services.credit.assessment import _series, default_as_of_day
from wuxin.services.credit.decisions import decide_credit, principal_for_username, train_model


def load_demo_credit(
    platform: Platform,
    fleet: list,
    enterprise_ids: list[int],
    officer_username: str,
    seed: int,
    books: dict[str, list[dict]] | None = None,
) -> str:
    """Demo: a scorecard trained on a simulated book, statements for every borrower (`books`, by USCC, where
    the borrower's books are given; else honest or inflated against what its devices measured, nominal where
    no revenue indicator exists yet), one decision each."""
    from wuxin.services.credit.business_data import import_rows
    from wuxin.sim.finance import quarters_until, statements_from_evidence

    trained = train_model(platform, None, simulated=400, seed=seed, name="demo-iot-evidence")
    officer = principal_for_username(platform, officer_username)
    if officer.tenant_id is None:
        raise NotFound(f"credit officer {officer_username!r} belongs to no bank")
    _adopt_demo_model(platform, officer.tenant_id, trained["version"])
    as_of = default_as_of_day(platform)

    rows: list[dict] = []
    with platform.uow() as uow:
        for spec, eid in zip(fleet, enterprise_ids):
            if books and spec.uscc in books:
                rows += books[spec.uscc]
                continue
            series = _series(
                uow.indicators.enterprise_days(eid, as_of - 89, as_of, ["output_value_cny", "revenue_cny"])
            )
            quarter = _quarter_revenue(series, len(spec.devices))
            rows += statements_from_evidence(
                spec.uscc, spec.health, [(*q, quarter) for q in quarters_until(as_of, 5)[:-1]], seed
            )
    import_rows(platform, None, "statements", rows, "enterprise_reported")
    decided = 0
    for spec, eid in zip(fleet, enterprise_ids):
        product = demo_product(spec.industry)
        if product is not None:  # collateral products value what the demo's loans pledged in the registry
            decide_credit(platform, officer, eid, product.code)
            decided += 1
    return f"credit: a scorecard trained on 400 simulated borrowers, statements for {len(fleet)} borrowers, {decided} decisions"


def _adopt_demo_model(platform: Platform, tenant_id: int, version: str) -> None:
    """The demo bank is a demo tenant: two of its risk managers take the simulated model through the lifecycle."""
    from wuxin.services.credit.governance import adopt_for_demo

    with platform.uow() as uow:
        managers = [
            u for u in uow.identity.list_users(tenant_id) if u["role"] == Role.RISK_MANAGER.value and not u["disabled"]
        ]
    if len(managers) < 2:  # four eyes: one validates, another approves
        raise NotFound(
            f"demo tenant {tenant_id} has {len(managers)} risk managers, needs 2 to validate and approve its model"
        )
    risk = [principal_for_username(platform, u["username"]) for u in managers[:2]]
    adopt_for_demo(platform, tenant_id, version, risk[0], validator=risk[1])


def _quarter_revenue(series: dict[str, DailySeries], devices: int) -> float:
    for name in ("output_value_cny", "revenue_cny"):
        known = series[name].values[np.isfinite(series[name].values)] if name in series else np.zeros(0)
        if len(known):
            return float(known.mean()) * 91
    return 150_000.0 * devices  # nominal until the indicators are computed
