"""The default rules each scenario pack declares in its `rules.json`; validated when read.

The packs are given (wuxin.services.bootstrap composes them): this core names none."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wuxin.alerts.rules import Rule, parse_rule
from wuxin.errors import InvalidInput


def pack_rules(packs: Iterable[tuple[str, Mapping | None]]) -> dict[str, Rule]:
    """Every pack's rules by id from (pack name, its rules.json document); a pack without rules.json (None), or a
    broken one, stops the platform."""
    rules: dict[str, Rule] = {}
    for name, document in packs:
        if document is None:
            raise InvalidInput(f"scenario pack {name} declares no rules (missing rules.json)")
        for doc in document.get("rules", []):
            rule = parse_rule(doc, name)
            if not rule.id.startswith(f"{name}."):
                raise InvalidInput(f"rule {rule.id} in pack {name} must be named '{name}.<rule>'")
            named = [rule.device_type] if rule.device_type else []
            for device_type in named + list(rule.params.get("no_heartbeat_device_types", [])):
                if not device_type.startswith(f"{name}."):
                    raise InvalidInput(f"rule {rule.id} names device type {device_type} of another scenario")
            rules[rule.id] = rule
    return rules
