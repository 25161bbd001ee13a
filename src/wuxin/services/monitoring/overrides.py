"""The rule catalogue and a bank's overrides of its rules per product."""

from __future__ import annotations

from wuxin.alerts.rules import SEVERITIES, Rule, apply_override
from wuxin.bootstrap import Platform
from wuxin.domain.model import Role
from wuxin.errors import Denied, InvalidInput, NotFound
from wuxin.security.policy import Principal, require_role
from wuxin.services.bootstrap import default_rules
from wuxin.services.monitoring.rule_cache import invalidate_index

# ---------------------------------------------------------------- rules and overrides


def list_rules(scenario: str | None = None) -> list[dict]:
    return [rule_doc(r) for r in default_rules().values() if scenario is None or r.scenario == scenario]


def rule_doc(r: Rule) -> dict:
    return {
        "id": r.id,
        "type": r.type,
        "alarm_type": r.alarm_type,
        "severity": r.severity,
        "device_type": r.device_type,
        "scenario": r.scenario,
        "params": dict(r.params),
        "risk_class_floor": r.risk_class_floor,
        "label": dict(r.label),
        "enabled": r.enabled,
    }


def set_override(platform: Platform, principal: Principal, product: str, rule_id: str, override: dict) -> dict:
    """A risk manager tunes a rule for the bank's product ("*" = all products); validated before it is stored."""
    tenant_id = _bank_of(principal)
    rule = default_rules().get(rule_id)
    if rule is None:
        raise NotFound(f"rule {rule_id} does not exist")
    if not product or len(product) > 60:
        raise InvalidInput(f"product {product!r} must be 1-60 characters ('*' for every product)")
    if override.get("severity") is not None and override["severity"] not in SEVERITIES:
        raise InvalidInput(f"severity {override['severity']!r} is not one of {list(SEVERITIES)}")
    tuned = apply_override(rule, override)
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        uow.monitoring.set_override(tenant_id, product, rule_id, override, now_ms, principal.user_id)
        uow.logs.audit(now_ms, principal.user_id, "rule.override", rule_id, {"product": product, "override": override})
        uow.commit()
    invalidate_index()
    return {"tenant_id": tenant_id, "product": product, "rule": rule_doc(tuned)}


def list_overrides(platform: Platform, principal: Principal) -> list[dict]:
    require_role(principal, Role.RISK_MANAGER, Role.CREDIT_OFFICER)
    with platform.uow() as uow:
        return [
            {k: o[k] for k in ("product", "rule_id", "override", "updated_ms", "updated_by")}
            for o in uow.monitoring.overrides(principal.tenant_id)
        ]


def delete_override(platform: Platform, principal: Principal, product: str, rule_id: str) -> int:
    tenant_id = _bank_of(principal)
    with platform.uow() as uow:
        n = uow.monitoring.delete_override(tenant_id, product, rule_id)
        if not n:
            raise NotFound(f"no override of rule {rule_id} for product {product!r}")
        uow.logs.audit(platform.clock_ms(), principal.user_id, "rule.override.delete", rule_id, {"product": product})
        uow.commit()
    invalidate_index()
    return n


def _bank_of(principal: Principal) -> int:
    """The tenant of the risk manager who tunes its rules."""
    require_role(principal, Role.RISK_MANAGER)
    if principal.tenant_id is None:
        raise Denied("rule overrides are a bank's: this user belongs to no tenant")
    return principal.tenant_id
