"""The default rules each scenario pack declares in its `rules.json`; validated when first read."""
from __future__ import annotations

from functools import lru_cache

import orjson

from wuxin.alerts.rules import Rule, parse_rule
from wuxin.errors import InvalidInput
from wuxin.scenarios import scenario_packs


@lru_cache
def default_rules() -> dict[str, Rule]:
    """Every pack's rules by id; a pack without rules.json, or a broken one, stops the platform."""
    rules: dict[str, Rule] = {}
    for name, pack in scenario_packs().items():
        path = pack.folder / "rules.json"
        if not path.is_file():
            raise InvalidInput(f"scenario pack {name} declares no rules (missing {path.name})")
        for doc in orjson.loads(path.read_bytes()).get("rules", []):
            rule = parse_rule(doc, name)
            if not rule.id.startswith(f"{name}."):
                raise InvalidInput(f"rule {rule.id} in pack {name} must be named '{name}.<rule>'")
            named = [rule.device_type] if rule.device_type else []
            for device_type in named + list(rule.params.get("no_heartbeat_device_types", [])):
                if not device_type.startswith(f"{name}."):
                    raise InvalidInput(f"rule {rule.id} names device type {device_type} of another scenario")
            rules[rule.id] = rule
    return rules


def rules_of_type(kind: str) -> list[Rule]:
    return [r for r in default_rules().values() if r.type == kind]
