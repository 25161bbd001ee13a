"""The composition of the scenario packs with the cores: the one place that reads the packs and hands the cores
what they declare (indicators, rules, credit products, cross-verification checks, finance profiles, device roles,
business-data kinds and fields, labels, unit words and colours). Cores never import `wuxin.scenarios`; nothing here names a pack or a device type.

Every answer is computed once per set of packs folders (the built-in one, plus WUXIN_PACKS_DIRS), so a test that
points WUXIN_PACKS_DIRS at a new folder sees its packs without any other change.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from wuxin.alerts.catalog import pack_rules
from wuxin.alerts.rules import Rule
from wuxin.errors import InvalidInput
from wuxin.indicators.declare import IndicatorPack, indicator_pack
from wuxin.risk.business import KindSpec, declared_kinds
from wuxin.risk.crossverify import CheckSpec, check_spec
from wuxin.risk.messages import know_check_words
from wuxin.risk.products import Product, catalogue, get_product
from wuxin.scenarios import ScenarioPack, packs_dirs, scenario_packs
from wuxin.sim.finance import Profile, profile_of


def packs() -> dict[str, ScenarioPack]:
    return scenario_packs()


def indicator_packs() -> dict[str, IndicatorPack]:
    """Every pack's indicators, validated: a broken declaration stops the platform."""
    return _indicator_packs(packs_dirs())


def pack_for_device_type(device_type: str) -> IndicatorPack | None:
    return indicator_packs().get(device_type.split(".", 1)[0])


def default_rules() -> dict[str, Rule]:
    """Every pack's rules by id (rules.json), validated."""
    return _default_rules(packs_dirs())


def rules_of_type(kind: str) -> list[Rule]:
    return [r for r in default_rules().values() if r.type == kind]


def rule_of_type(kind: str, scenario: str | None = None) -> Rule:
    """The rule of `kind` of `scenario`'s pack, else the first pack's that declares one."""
    rules = sorted(rules_of_type(kind), key=lambda r: (r.scenario != scenario, r.id))
    if not rules:
        raise InvalidInput(f"no scenario pack declares a rule of type {kind!r}")
    return rules[0]


def products() -> dict[str, Product]:
    """Every pack's credit products (products.json) by code, in pack order."""
    return _products(packs_dirs())


def product(code: str) -> Product:
    return get_product(code, products())


def demo_product(industry: str) -> Product | None:
    """The product the demo decides a borrower of `industry` on: its pack's first."""
    return next((p for p in products().values() if p.scenario == industry), None)


def checks() -> tuple[CheckSpec, ...]:
    """Every pack's cross-verification checks (checks.json); their words are made known to the messages."""
    return _checks(packs_dirs())


def generation_bill_kinds() -> tuple[str, ...]:
    """The business kinds of the grid's settlement bills (checks.json `generation_bills`): their `kwh` (and
    `amount_cny`) are held against the generation of the `meters_generation` devices."""
    return _generation_bill_kinds(packs_dirs())


def generation_indicators() -> tuple[str, ...]:
    """The indicators of a plant's metered generation (checks.json `generation_indicator`: daily kWh of the
    `meters_generation` devices), what the generation bills and a plant's declared revenue are held against."""
    return _generation_indicators(packs_dirs())


def check_words() -> dict[str, dict[str, tuple[str, str]]]:
    """check -> name / what / evidence -> (zh, en)."""
    return _check_words(packs_dirs())


def finance_profiles() -> tuple[Profile, ...]:
    """The finance profiles of the packs' simulated firms (finance.json), in their book order."""
    return _finance_profiles(packs_dirs())


def business_kinds() -> dict[str, KindSpec]:
    """The business-data kinds every firm has, with the fields and kinds the packs add (business.json)."""
    return _business_kinds(packs_dirs())


def business_labels() -> dict[str, dict[str, dict[str, str]]]:
    """The packs' business-data kinds and fields with their labels: {"business_kind" | "business_field": {code: {zh, en}}}."""
    return _business_labels(packs_dirs())


def unit_words() -> dict[str, dict[str, str]]:
    """The unit words the packs declare (manifest `units`): {unit: {zh, en}}."""
    return _unit_words(packs_dirs())


def device_types_with(role: str) -> frozenset[str]:
    """Every device type of every pack that plays `role` (manifest `roles`)."""
    return _device_types_with(packs_dirs(), role)


def has_role(device_type: str, role: str) -> bool:
    return device_type in device_types_with(role)


def packs_with(pack_role: str) -> tuple[str, ...]:
    """The packs that play a pack-level role (manifest `pack_roles`, e.g. the demo's stories)."""
    return tuple(name for name, pack in packs().items() if pack_role in pack.pack_roles)


def pack_with(pack_role: str) -> ScenarioPack:
    named = packs_with(pack_role)
    if not named:
        raise InvalidInput(f"no scenario pack plays the role {pack_role!r}")
    return packs()[named[0]]


# ------------------------------------------------------------------ computed once per packs folders


@lru_cache
def _indicator_packs(dirs: tuple[Path, ...]) -> dict[str, IndicatorPack]:
    return {
        name: indicator_pack(name, pack.indicators(), pack.thing_model_docs) for name, pack in scenario_packs().items()
    }


@lru_cache
def _default_rules(dirs: tuple[Path, ...]) -> dict[str, Rule]:
    return pack_rules((name, pack.document("rules.json")) for name, pack in scenario_packs().items())


@lru_cache
def _products(dirs: tuple[Path, ...]) -> dict[str, Product]:
    return catalogue(
        {name: pack.document("products.json", {}).get("products", []) for name, pack in scenario_packs().items()}
    )


@lru_cache
def _checks(dirs: tuple[Path, ...]) -> tuple[CheckSpec, ...]:
    by_name: dict[str, CheckSpec] = {}
    for name, pack in scenario_packs().items():
        for raw in pack.document("checks.json", {}).get("checks", []):
            spec = check_spec(raw, f"scenario pack {name}")
            if by_name.get(spec.name, spec) != spec:
                raise InvalidInput(f"scenario pack {name}: check {spec.name} is declared differently by another pack")
            by_name[spec.name] = spec
    know_check_words(_check_words(dirs))
    return tuple(by_name.values())


@lru_cache
def _generation_bill_kinds(dirs: tuple[Path, ...]) -> tuple[str, ...]:
    kinds = _business_kinds(dirs)
    _generation_indicators(dirs)  # the bills need the generation they are held against
    named = []
    for name, pack in scenario_packs().items():
        kind = pack.document("checks.json", {}).get("generation_bills")
        if kind is None:
            continue
        if kind not in kinds:
            raise InvalidInput(f"scenario pack {name}: generation_bills {kind!r} is no business-data kind")
        named.append(kind)
    return tuple(dict.fromkeys(named))


@lru_cache
def _generation_indicators(dirs: tuple[Path, ...]) -> tuple[str, ...]:
    """Each pack's `generation_indicator`: one of its own indicators, in kWh; a pack naming `generation_bills` names
    one too."""
    named = []
    for name, pack in scenario_packs().items():
        doc = pack.document("checks.json", {})
        indicator = doc.get("generation_indicator")
        if indicator is None:
            if doc.get("generation_bills") is not None:
                raise InvalidInput(
                    f"scenario pack {name}: generation_bills {doc['generation_bills']!r} needs a generation_indicator "
                    "(the pack's daily kWh indicator the bills are held against)"
                )
            continue
        declared = _indicator_packs(dirs)[name].get(indicator) if isinstance(indicator, str) else None
        if declared is None:
            raise InvalidInput(f"scenario pack {name}: generation_indicator {indicator!r} is no indicator of the pack")
        if declared.unit != "kWh":
            raise InvalidInput(
                f"scenario pack {name}: generation_indicator {indicator!r} is in {declared.unit!r}, not kWh (the "
                "bills' unit)"
            )
        named.append(indicator)
    return tuple(dict.fromkeys(named))


@lru_cache
def _check_words(dirs: tuple[Path, ...]) -> dict[str, dict[str, tuple[str, str]]]:
    words: dict[str, dict[str, tuple[str, str]]] = {}
    for name, pack in scenario_packs().items():
        for raw in pack.document("checks.json", {}).get("checks", []):
            said = raw.get("words", {})
            missing = [k for k in ("name", "what", "evidence") if not {"zh", "en"} <= set(said.get(k, {}))]
            if missing:
                raise InvalidInput(f"scenario pack {name}: check {raw.get('name')} lacks zh/en words for {missing}")
            words[raw["name"]] = {k: (said[k]["zh"], said[k]["en"]) for k in ("name", "what", "evidence")}
    return words


@lru_cache
def _business_kinds(dirs: tuple[Path, ...]) -> dict[str, KindSpec]:
    _business_labels(dirs)  # a field without its words stops the platform
    return declared_kinds(
        (name, doc) for name, pack in scenario_packs().items() if (doc := pack.document("business.json")) is not None
    )


@lru_cache
def _business_labels(dirs: tuple[Path, ...]) -> dict[str, dict[str, dict[str, str]]]:
    out: dict[str, dict[str, dict[str, str]]] = {"business_kind": {}, "business_field": {}}
    for name, pack in scenario_packs().items():
        doc = pack.document("business.json", {})
        fields = [f for raws in doc.get("fields", {}).values() for f in raws]
        for kind in doc.get("kinds", []):
            out["business_kind"].setdefault(kind["kind"], _words(name, kind["kind"], kind.get("label")))
            fields += kind.get("fields", [])
        for field in fields:
            out["business_field"].setdefault(field["name"], _words(name, field["name"], field.get("label")))
    return out


@lru_cache
def _unit_words(dirs: tuple[Path, ...]) -> dict[str, dict[str, str]]:
    words: dict[str, dict[str, str]] = {}
    for name, pack in scenario_packs().items():
        for unit, said in pack.units.items():
            words.setdefault(unit, _words(name, unit, said))
    return words


def _words(pack: str, code: str, said: object) -> dict[str, str]:
    if not isinstance(said, dict) or not all(isinstance(said.get(k), str) and said[k].strip() for k in ("zh", "en")):
        raise InvalidInput(f"scenario pack {pack}: {code} needs a label with zh and en, got {said!r}")
    return {"zh": said["zh"], "en": said["en"]}


@lru_cache
def _device_types_with(dirs: tuple[Path, ...], role: str) -> frozenset[str]:
    return frozenset(t for pack in scenario_packs().values() for t in pack.device_types_with(role))


@lru_cache
def _finance_profiles(dirs: tuple[Path, ...]) -> tuple[Profile, ...]:
    declared = []
    for name, pack in scenario_packs().items():
        raw = pack.document("finance.json")
        if raw is not None:
            own = tuple(
                c
                for c in _checks(dirs)
                if c.name in {r["name"] for r in pack.document("checks.json", {}).get("checks", [])}
            )
            declared.append((int(raw.get("book_order", 0)), name, profile_of(name, raw, own)))
    return tuple(p for _, _, p in sorted(declared, key=lambda d: (d[0], d[1])))


checks()  # the packs' check words are known to the messages from the start
