"""Every code the packs and the Python enumerations define has a zh-CN label (with Chinese in it) and an
English one; the API's labels come from those sources, not from a second list."""

from __future__ import annotations

import re

import orjson

from wuxin.alerts.rules import SEVERITIES
from wuxin.labels import PLATFORM_ALARM_TYPES, all_labels, label
from wuxin.loans.lifecycle import STATES
from wuxin.loans.risk_class import RISK_CLASSES
from wuxin.risk.products import CONDITIONS, OUTCOMES
from wuxin.scenarios import scenario_packs
from wuxin.services.bootstrap import default_rules, indicator_packs, products

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_label_has_chinese_and_english():
    bad = [
        f"{kind}.{code}: {entry}"
        for kind, codes in all_labels().items()
        if kind != "unit"
        for code, entry in codes.items()
        if not entry.get("en", "").strip() or not CJK.search(entry.get("zh", "")) and code not in _LATIN_ZH
    ]
    assert bad == []


_LATIN_ZH = {"pm25_ugm3", "pm10_ugm3"}  # PM2.5 and PM10 are written so in Chinese too


def test_every_unit_reads_as_a_symbol_or_in_chinese():
    """A unit's zh label holds no English word: symbols (kWh, °C, μg/m³) stay, counted things get a measure word."""
    words = re.compile(r"[A-Za-z]{3,}")
    units = all_labels()["unit"]
    assert {"count", "kWh", "units", "steps/h"} <= set(units)
    assert [u for u, entry in units.items() if words.search(entry["zh"]) and entry["zh"] not in SYMBOLS] == []


SYMBOLS = {"kWh", "kWh/m²", "dBm", "ppm"}  # SI and trade symbols, written so in Chinese


def test_every_pack_code_is_labelled():
    labels = all_labels()
    missing = []
    for name, pack in scenario_packs().items():
        missing += [f"scenario {name}"] if name not in labels["scenario"] else []
        for doc in pack.thing_model_docs:
            missing += (
                [f"device_type {doc['profile']['productKey']}"]
                if doc["profile"]["productKey"] not in labels["device_type"]
                else []
            )
            names_en = doc["wuxin"].get("names_en", {})
            for item in doc.get("properties", []) + doc.get("events", []):
                if not names_en.get(item["identifier"]):
                    missing.append(f"{doc['profile']['productKey']}: {item['identifier']} has no English name")
        for decl in indicator_packs()[name].all():
            missing += [f"indicator {decl.name}"] if decl.name not in labels["indicator"] else []
    for rule in default_rules().values():
        missing += [f"alarm_type {rule.alarm_type} of {rule.id}"] if rule.alarm_type not in labels["alarm_type"] else []
    assert missing == []


def test_every_enumeration_code_is_labelled():
    labels = all_labels()
    assert set(labels["severity"]) == set(SEVERITIES)
    assert set(labels["loan_state"]) == set(STATES)
    assert set(labels["risk_class"]) == set(RISK_CLASSES)
    assert set(labels["outcome"]) == set(OUTCOMES)
    assert set(labels["condition"]) == set(CONDITIONS)
    assert set(labels["product"]) == set(products())
    assert set(PLATFORM_ALARM_TYPES) <= set(labels["alarm_type"])


def test_metrics_and_indicators_carry_their_units():
    labels = all_labels()
    assert labels["metric"]["current_a"] == {"zh": "电流", "en": "Current", "unit": "A"}
    assert labels["indicator"]["energy_kwh"]["unit"] == "kWh"


def test_pack_alarm_types_are_read_from_the_manifest():
    manifest = orjson.loads((scenario_packs()["manufacturing"].folder / "manifest.json").read_bytes())
    assert all_labels()["alarm_type"]["utilization_drop"] == manifest["alarm_types"]["utilization_drop"]


def test_label_falls_back_to_the_code_for_free_text():
    assert label("risk_class", "substandard") == "次级"
    assert label("risk_class", "substandard", "en") == "Substandard"
    assert label("consent_purpose", "for our own audit") == "for our own audit"


def test_the_report_words_give_reasons_and_codes_in_the_readers_language():
    from wuxin.risk.report import Words

    reason = {
        "feature": "data_completeness",
        "value": 0.42,
        "points_below_best": 31.6,
        "text": "only 42% of the last 90 days ...",
    }
    assert Words("zh-CN").reason(reason) == "近90天仅 42% 的天数数据完整（−32 分）"
    assert Words("en").reason(reason) == reason["text"]
    assert (
        Words("zh-CN").reason({"feature": "net_margin", "value": None, "points_below_best": 5})
        == "净利率未报告（按最差档计分）（−5 分）"
    )
    assert (Words("zh-CN").code("risk_class", "substandard"), Words("en").code("risk_class", "substandard")) == (
        "次级",
        "Substandard",
    )
    assert Words("fr").lang == "zh-CN"  # anything but en reads Chinese


def test_the_coverage_ratio_is_never_called_the_pledge_rate():
    """Pledged value / outstanding (the coverage ratio, falling is bad) is not 质押率, the loan as a share of the
    pledged value (rising is bad; seed 004's tyre line: CNY 15.5M on CNY 31M of tyres, a 50% 质押率). The desk
    said '质押率 78.4%' of a loan whose goods covered 78% of it: a pledge rate of 128%."""
    from decimal import Decimal

    from wuxin.loans.pledge import Coverage
    from wuxin.services.credit.pledges import coverage_signals

    words = [entry["zh"] for codes in all_labels().values() for entry in codes.values() if "zh" in entry]
    rules = [r for r in default_rules().values() if r.type == "coverage"]
    words += [r.label.get("zh", "") for r in rules]
    loan = {"id": 1, "tenant_id": 1, "enterprise_id": 1, "maintenance_ratio": "1.3", "liquidation_ratio": "1.1"}
    cov = Coverage(Decimal("588000"), Decimal("750000"), Decimal("0.784"), (), "liquidation")
    signals = [s for r in rules for s in coverage_signals(r, loan, cov, 0)]
    words += [s.rule.label.get("zh", "") for s in signals]
    assert rules and signals and [w for w in words if "质押率" in w] == []
    assert all("覆盖率" in s.rule.label["zh"] for s in signals)
    assert label("alarm_fact", "coverage_ratio") == "押品覆盖率"
