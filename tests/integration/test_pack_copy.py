"""A scenario pack is the whole of an industry: a copy of one, under a new name in a folder of its own
(WUXIN_PACKS_DIRS), gets a credit product, cross-verification checks, labels and colour, and a demo credit decision,
its business-data kinds and fields, its unit words, with no change anywhere else in the platform. Renaming the copy is the only edit: the pack name, which prefixes its
device types and rule ids, and its product code, unique across packs."""

from __future__ import annotations

import re
import shutil

import pytest

from wuxin.scenarios import PACKS_DIR, PACKS_DIRS_ENV, scenario_packs
from wuxin.services import bootstrap

ORIGINAL, COPY = "energy", "solar_farm"


def copy_pack(target_root) -> None:
    """The energy pack copied to target_root/solar_farm, renamed inside (pack name and product code)."""
    target = target_root / COPY
    shutil.copytree(PACKS_DIR / ORIGINAL, target, ignore=shutil.ignore_patterns("__pycache__"))
    for path in [p for p in target.rglob("*") if p.is_file()]:
        text = path.read_text(encoding="utf-8")
        text = re.sub(rf"\b{ORIGINAL}\.(?=[a-z])", f"{COPY}.", text)  # device types and rule ids
        text = text.replace(f'"{ORIGINAL}"', f'"{COPY}"')  # the pack name in manifest, thing models and rules
        text = text.replace('"code": "charging_station"', '"code": "solar_farm_operations"')
        path.write_text(text, encoding="utf-8")
        if path.name.startswith(f"{ORIGINAL}."):
            path.rename(path.with_name(COPY + path.name[len(ORIGINAL) :]))


@pytest.fixture
def copied(tmp_path, monkeypatch):
    copy_pack(tmp_path)
    monkeypatch.setenv(PACKS_DIRS_ENV, str(tmp_path))
    yield scenario_packs()[COPY]


def test_a_copied_pack_brings_its_product_checks_and_labels(copied):
    from wuxin.labels import all_labels

    assert copied.folder.parent != PACKS_DIR and not copied.builtin
    assert bootstrap.products()["solar_farm_operations"].scenario == COPY
    assert bootstrap.demo_product(COPY).code == "solar_farm_operations"
    assert "revenue_vs_charging" in {c.name for c in bootstrap.checks()}
    assert {p.scenario for p in bootstrap.finance_profiles()} >= {COPY, ORIGINAL}
    assert bootstrap.indicator_packs()[COPY].index == bootstrap.indicator_packs()[ORIGINAL].index
    assert any(rule.startswith(f"{COPY}.") for rule in bootstrap.default_rules())
    assert bootstrap.device_types_with("meters_generation") == {f"{ORIGINAL}.pv_inverter", f"{COPY}.pv_inverter"}
    labels = all_labels()
    assert labels["scenario"][COPY] == {**scenario_packs()[ORIGINAL].label, "colour": scenario_packs()[ORIGINAL].colour}
    assert labels["product"]["solar_farm_operations"] == {
        "zh": "充电站运营贷",
        "en": "charging-station operations loan",
    }
    assert labels["device_type"][f"{COPY}.pv_inverter"]["roles"] == ["meters_generation"]
    assert set(labels["check"]) >= {"revenue_vs_charging"}


def test_a_copied_pack_brings_its_business_data_kinds_and_unit_words(copied):
    from wuxin.labels import all_labels
    from wuxin.risk.business import validate_rows

    original = scenario_packs()[ORIGINAL]
    assert copied.document("business.json") == original.document("business.json")  # declared alike: both load
    assert copied.units == original.units and {"sessions", "kWh/m2"} <= set(copied.units)
    row = {"uscc": "X", "month": "2026-03", "kwh": "51234.5", "period_start": "2026-02-26", "period_end": "2026-03-25"}
    good, bad = validate_rows("feed_in_bills", [row, {**row, "kwh": "-1"}], str, bootstrap.business_kinds())
    assert [g.index for g in good] == [0] and bad[0].field == "kwh"
    labels = all_labels()
    assert labels["business_kind"]["feed_in_bills"] == {"zh": "上网电量结算单", "en": "Grid feed-in settlement bills"}
    assert labels["unit"]["sessions"] == {"zh": "次", "en": "sessions"}


def test_a_new_industry_declares_its_own_fields_and_units_in_its_folder_only(tmp_path, monkeypatch):
    """What the copy adds in its own files (a statement field, a unit word) is validated and labelled."""
    import json

    copy_pack(tmp_path)
    folder = tmp_path / COPY
    business = json.loads((folder / "business.json").read_text(encoding="utf-8"))
    field = {
        "name": "panels_cleaned",
        "type": "integer",
        "minimum": 0,
        "label": {"zh": "清洗组件数", "en": "Panels cleaned"},
    }
    business["fields"] = {"statements": [field]}
    (folder / "business.json").write_text(json.dumps(business), encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["units"]["panels"] = {"zh": "块", "en": "panels"}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    from wuxin.labels import all_labels
    from wuxin.risk.business import KINDS, validate_rows

    row = {"uscc": "X", "period": "2026-Q1", "period_start": "2026-01-01", "period_end": "2026-03-31"}
    row |= {"revenue_cny": "100", "panels_cleaned": 12}
    assert validate_rows("statements", [row], str, KINDS)[1][0].field == "panels_cleaned"  # not a core field
    monkeypatch.setenv(PACKS_DIRS_ENV, str(tmp_path))
    good, bad = validate_rows("statements", [row], str, bootstrap.business_kinds())
    assert bad == [] and good[0].data["panels_cleaned"] == 12
    labels = all_labels()
    assert labels["business_field"]["panels_cleaned"] == {"zh": "清洗组件数", "en": "Panels cleaned"}
    assert labels["unit"]["panels"] == {"zh": "块", "en": "panels"}


def test_a_field_without_both_labels_is_refused_naming_the_pack(tmp_path, monkeypatch):
    import json

    from wuxin.errors import InvalidInput

    copy_pack(tmp_path)
    path = tmp_path / COPY / "business.json"
    business = json.loads(path.read_text(encoding="utf-8"))
    business["fields"] = {"statements": [{"name": "panels_cleaned", "type": "integer", "label": {"zh": "清洗组件数"}}]}
    path.write_text(json.dumps(business), encoding="utf-8")
    monkeypatch.setenv(PACKS_DIRS_ENV, str(tmp_path))
    with pytest.raises(InvalidInput, match=f"scenario pack {COPY}: panels_cleaned needs a label with zh and en"):
        bootstrap.business_kinds()


def test_the_bills_a_pack_holds_against_generation_are_the_kind_it_names(tmp_path, monkeypatch):
    """The copy renames its settlement bills: the solar check reads the new kind; a kind nobody declares stops it."""
    import json

    from wuxin.errors import InvalidInput

    for root, named in ((tmp_path / "renamed", "plant_bills"), (tmp_path / "broken", "bills")):
        copy_pack(root)
        path = root / COPY / "business.json"
        path.write_text(path.read_text(encoding="utf-8").replace("feed_in_bills", "plant_bills"), encoding="utf-8")
        path = root / COPY / "checks.json"
        path.write_text(json.dumps({**json.loads(path.read_text(encoding="utf-8")), "generation_bills": named}))
    monkeypatch.setenv(PACKS_DIRS_ENV, str(tmp_path / "renamed"))
    assert set(bootstrap.generation_bill_kinds()) == {"feed_in_bills", "plant_bills"}
    monkeypatch.setenv(PACKS_DIRS_ENV, str(tmp_path / "broken"))
    with pytest.raises(InvalidInput, match=f"scenario pack {COPY}: generation_bills 'bills' is no business-data kind"):
        bootstrap.generation_bill_kinds()


def test_the_generation_a_pack_holds_its_bills_against_is_the_indicator_it_names(tmp_path, monkeypatch):
    """The copy calls its inverters' daily kWh `plant_kwh` (indicators, rules and checks.json `generation_indicator`):
    the assessment's PV checks read that series and carry its name; an undeclared or non-kWh name stops the platform,
    as do bills held against no generation."""
    import json

    import numpy as np

    from wuxin.errors import InvalidInput
    from wuxin.risk.business import month_span
    from wuxin.risk.features import DailySeries
    from wuxin.services.credit.assessment import _pv_checks

    def edited(root, **checks) -> None:
        copy_pack(root)
        for path in [p for p in (root / COPY).rglob("*") if p.is_file()]:
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace('"generation_kwh"', '"plant_kwh"'), encoding="utf-8")
        path = root / COPY / "checks.json"
        doc = {k: v for k, v in {**json.loads(path.read_text(encoding="utf-8")), **checks}.items() if v is not None}
        path.write_text(json.dumps(doc), encoding="utf-8")

    edited(tmp_path / "renamed")
    monkeypatch.setenv(PACKS_DIRS_ENV, str(tmp_path / "renamed"))
    original = scenario_packs()[ORIGINAL].document("checks.json")["generation_indicator"]
    assert bootstrap.indicator_packs()[COPY].get("plant_kwh").unit == "kWh"
    assert set(bootstrap.generation_indicators()) == {original, "plant_kwh"}
    first, last = month_span("2026-03")
    series = {"plant_kwh": DailySeries.of(np.arange(first, last + 1), np.full(last - first + 1, 2000.0))}
    bill = {"month": "2026-03", "kwh": str(2000.0 * (last - first + 1) * 1.5), "amount_cny": "1000"}
    records = [{"kind": "feed_in_bills", "first_day": first, "last_day": last, "source": "third_party", "data": bill}]
    devices = [{"device_type": f"{COPY}.pv_inverter", "attributes": {}}]
    (check,) = _pv_checks(1, records, [], series, devices, {})
    assert check.check == "feed_in_vs_generation" and check.indicator == "plant_kwh"
    assert check.status == "overstated" and check.ratio == pytest.approx(1.5)
    assert _pv_checks(1, records, [], {"metered_kwh": series["plant_kwh"]}, devices, {}) == []  # named by no pack
    other = next(d for d in bootstrap.indicator_packs()[COPY].all() if d.unit != "kWh")

    for folder, declared, message in (
        ("unknown", "plant_mwh", "generation_indicator 'plant_mwh' is no indicator of the pack"),
        ("unit", other.name, f"generation_indicator {other.name!r} is in {other.unit!r}, not kWh"),
        ("missing", None, "generation_bills 'feed_in_bills' needs a generation_indicator"),
    ):
        edited(tmp_path / folder, generation_indicator=declared)
        monkeypatch.setenv(PACKS_DIRS_ENV, str(tmp_path / folder))
        with pytest.raises(InvalidInput, match=f"scenario pack {COPY}: {re.escape(message)}"):
            bootstrap.generation_bill_kinds()


def test_without_the_folder_the_copy_is_gone(tmp_path, monkeypatch):
    from wuxin.errors import ThingModelError

    monkeypatch.setenv(PACKS_DIRS_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(ThingModelError, match="nowhere"):
        scenario_packs()
    monkeypatch.delenv(PACKS_DIRS_ENV)
    assert COPY not in scenario_packs() and "solar_farm_operations" not in bootstrap.products()


def test_a_pack_found_twice_is_refused(tmp_path, monkeypatch):
    from wuxin.errors import ThingModelError

    shutil.copytree(PACKS_DIR / ORIGINAL, tmp_path / ORIGINAL, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv(PACKS_DIRS_ENV, str(tmp_path))
    with pytest.raises(ThingModelError, match="found twice"):
        scenario_packs()


@pytest.mark.parametrize("platform", ["sqlite"], indirect=True)
def test_a_copied_pack_gets_a_demo_credit_decision(copied, platform):
    """The demo's credit path on one simulated borrower of the copied industry: its telemetry imported,
    indicators computed, books derived, and a decision on its pack's product."""
    from wuxin.services.credit.decisions import decisions, principal_for_username
    from wuxin.services.demo.credit import load_demo_credit
    from wuxin.services.demo.setup import _onboard, _tenants, _users
    from wuxin.services.devices.registry import sync_builtin_thing_models
    from wuxin.services.indicators import update_indicators
    from wuxin.services.ingest.bulk_import import chunked, import_lines_chunked
    from wuxin.sim.fleet import build_fleet, fleet_telemetry

    sync_builtin_thing_models(platform)  # the copy's thing models too
    fleet = build_fleet([COPY], 1, 7)
    assert fleet[0].industry == COPY and all(d.device_type.startswith(f"{COPY}.") for d in fleet[0].devices)
    bank, other, operator = _tenants(platform)
    ids = [_onboard(platform, spec, bank, operator) for spec in fleet]
    _users(platform, bank, other, operator, ids[0])
    now_ms = platform.clock_ms()
    import_lines_chunked(platform, chunked(fleet_telemetry(fleet, now_ms - 3 * 86_400_000, now_ms, 7)), "bulk")
    update_indicators(platform)
    said = load_demo_credit(platform, fleet, ids, "officer", 7)
    assert said.endswith("1 decisions")
    (decision,) = decisions(platform, principal_for_username(platform, "officer"), ids[0])
    assert decision["product_code"] == "solar_farm_operations"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"colour": "orange"}, "colour must be #rrggbb, got 'orange'"),
        (
            {"roles": {f"{COPY}.pv_inverter": ["meters_generaton"]}},
            r"solar_farm.pv_inverter has unknown roles \['meters_generaton'\]",
        ),
        (
            {"roles": {f"{COPY}.teleporter": ["locates_vehicles"]}},
            "role of unknown device type 'solar_farm.teleporter'",
        ),
        ({"pack_roles": ["demo_everything"]}, r"unknown pack roles \['demo_everything'\]"),
    ],
)
def test_a_bad_manifest_is_refused_naming_the_pack_and_the_field(tmp_path, monkeypatch, change, message):
    import json

    from wuxin.errors import ThingModelError

    copy_pack(tmp_path)
    manifest = tmp_path / COPY / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text(encoding="utf-8")), **change}), encoding="utf-8")
    monkeypatch.setenv(PACKS_DIRS_ENV, str(tmp_path))
    with pytest.raises(ThingModelError, match=f"scenario pack {COPY}: {message}"):
        scenario_packs()


def test_a_bad_check_is_refused_naming_the_pack(copied):
    import json

    from wuxin.errors import InvalidInput

    path = copied.folder / "checks.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["checks"][0]["aggregate"] = "mean"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(
        InvalidInput, match=f"scenario pack {COPY}: check revenue_vs_charging aggregate must be sum or last"
    ):
        bootstrap.checks()
