"""Messages as a code plus parameters, said in zh-CN and English from one catalogue (wuxin.risk.messages): every
cross-verification finding and every reason code the credit engine can emit has words in both languages, the
Chinese has no English words or raw codes in it, and the labels endpoint's catalogue carries the same templates."""

from __future__ import annotations

import re

import numpy as np
import pytest

from wuxin.labels import all_labels
from wuxin.risk.crossverify import ReportedFigure, SourceShares, check_figure
from wuxin.risk.features import EXPLANATIONS, EXPLANATIONS_ZH, IOT_FEATURES, STATEMENT_FEATURES, DailySeries
from wuxin.risk.messages import (
    FINDING_CODES,
    FINDING_TEMPLATES,
    PROVENANCE_CODES,
    SOURCE_WORDS,
    reason_text,
    reason_texts,
    render_finding,
)
from wuxin.risk.pv_messages import PV_CHECK_WORDS
from wuxin.services.bootstrap import check_words, checks

CHECKS, CHECK_WORDS = checks(), check_words()
# Abbreviations and unit symbols Chinese text writes so too.
ALLOWED = {"WMS", "RFID", "GPS", "IoT", "kWh", "kg", "km"}
WORD = re.compile(r"(?<![\w\-./])[A-Za-z]{2,}(?![\w\-./])")
RAW_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
DAYS = np.arange(20_000, 20_092)
ENGINE_FEATURES = [f.name for f in IOT_FEATURES + STATEMENT_FEATURES]  # services.credit.train_model's features


def english_in(text: str) -> list[str]:
    return sorted({w for w in WORD.findall(text) if w not in ALLOWED} | set(RAW_CODE.findall(text)))


def test_the_checker_finds_english_and_codes():
    assert english_in("申报收入 revenue_vs_output 与 the meters 一致，RFID 10 kWh") == [
        "meters",
        "revenue_vs_output",
        "the",
    ]


@pytest.mark.parametrize("check", [c.name for c in CHECKS])
def test_every_check_has_its_words_in_both_languages(check):
    words = CHECK_WORDS[check]
    assert set(words) == {"name", "what", "evidence"}
    for zh, en in words.values():
        assert zh and en and english_in(zh) == [] and re.search(r"[\u4e00-\u9fff]", zh)


def _result(check_name: str, reported: float, per_day: float, missing: int, sources: dict, figure_source: str):
    spec = next(c for c in CHECKS if c.name == check_name)
    values = np.full(len(DAYS), per_day)
    values[:missing] = np.nan
    figure = ReportedFigure(spec.reported, int(DAYS[0]), int(DAYS[-1]), reported, "2026-Q3", figure_source)
    shares = SourceShares.constant(sources, int(DAYS[0]), int(DAYS[-1])) if sources else None
    return check_figure(spec, figure, DailySeries.of(DAYS, values), shares)


CASES = [  # (check, reported, evidence per day, days missing, sources, figure source) -> finding code, provenance
    ("revenue_vs_output", 2.4 * 920_000, 10_000.0, 0, {"bank_installed": 1.0}, "enterprise_reported"),
    ("revenue_vs_output", 920_000, 10_000.0, 0, {"bank_installed": 1.0}, "enterprise_reported"),
    ("electricity_bill_vs_meter", 920_000, 10_000.0, 0, {"enterprise_shared": 1.0}, "bank"),
    ("electricity_bill_vs_meter", 920_000, 10_000.0, 0, {"enterprise_shared": 1.0}, "enterprise_reported"),
    (
        "milk_sales_vs_meters",
        0.3 * 920_000,
        10_000.0,
        0,
        {"third_party_platform": 0.5, "enterprise_shared": 0.5},
        "enterprise_reported",
    ),
    ("fleet_km_vs_tracks", 920_000, 10_000.0, 60, {}, "enterprise_reported"),
    ("stock_vs_count", 500, 10_000.0, 92, {}, "enterprise_reported"),
    ("wms_outbound_vs_camera", 3.0 * 920_000, 10_000.0, 0, {"enterprise_shared": 1.0}, "enterprise_reported"),
]


@pytest.mark.parametrize("case", CASES)
def test_a_finding_is_a_code_with_parameters_said_in_both_languages(case):
    result = _result(*case)
    data = result.to_dict()
    assert data["finding_code"] in FINDING_CODES and data["finding_params"]["check"] == case[0]
    assert data["finding_en"] == result.finding  # the English sentence the API always carried
    zh = data["finding_zh"]
    assert english_in(zh) == [], zh
    assert english_in(data["tolerance_basis_zh"]) == [] and data["tolerance_basis_en"] == result.tolerance_basis
    assert re.search(r"[\u4e00-\u9fff]", zh) and "2026-Q3" in zh
    assert CHECK_WORDS[case[0]]["evidence"][0] in zh and CHECK_WORDS[case[0]]["evidence"][1] in data["finding_en"]


def test_the_codes_cover_every_status_and_provenance():
    codes = {(r.finding_code, r.finding_params["provenance"]) for r in (_result(*c) for c in CASES)}
    assert {c for c, _ in codes} == set(FINDING_CODES)
    assert {p for _, p in codes} == set(PROVENANCE_CODES) | {None}


def test_the_numbers_are_said_the_readers_way():
    overstated = _result(*CASES[0])
    assert "is 2.4x what the machines' metered output support" in overstated.finding
    assert "CNY 2.21M" in overstated.finding and "220.80 万元" in overstated.to_dict()["finding_zh"]
    assert "2.4 倍" in overstated.to_dict()["finding_zh"] and "银行自装 100%" in overstated.to_dict()["finding_zh"]
    figure = _result(*CASES[2]).to_dict()
    assert "verified by a bank figure" in figure["finding_en"] and "由银行数据验证" in figure["finding_zh"]


def test_a_finding_of_an_unknown_check_or_source_still_renders():
    text = render_finding(
        "consistent",
        {
            "check": "tomorrows_check",
            "indicator": "x_y",
            "unit": "t",
            "reported": 5.0,
            "evidenced": 5.0,
            "ratio": 1.0,
            "known_days": 3,
            "days": 3,
            "tolerance": 1.3,
            "provenance": "evidence_from",
            "sources": {"martian": 1.0},
        },
        "zh",
    )
    assert "tomorrows_check" in text and "martian 100%" in text  # said as given, never a KeyError


def test_the_labels_serve_the_check_names_and_the_finding_templates():
    labels = all_labels()
    assert set(labels["check"]) == {c.name for c in CHECKS} | set(PV_CHECK_WORDS)
    assert labels["finding"]["overstated"] == {
        "zh": FINDING_TEMPLATES["overstated"][0],
        "en": FINDING_TEMPLATES["overstated"][1],
    }
    assert set(labels["finding"]) == set(FINDING_TEMPLATES)
    assert set(SOURCE_WORDS) >= set(labels["source_mode"])


@pytest.mark.parametrize("feature", ENGINE_FEATURES)
@pytest.mark.parametrize("value", [0.42, -0.1, 1.7, None])
def test_every_reason_code_the_engine_can_emit_has_zh_and_en_text(feature, value):
    assert feature in EXPLANATIONS and feature in EXPLANATIONS_ZH
    reason = {"feature": feature, "value": value, "points_below_best": 12.4}
    texts = reason_texts(reason)
    assert texts["text_zh"].endswith("（−12 分）") and english_in(texts["text_zh"]) == [], texts["text_zh"]
    assert texts["text_en"].endswith("(-12 points)") and re.search(r"[a-z]{3,}", texts["text_en"])
    assert not re.search(r"[\u4e00-\u9fff]", texts["text_en"])


SIGNED = sorted(f for f in ENGINE_FEATURES if "{value:+" in EXPLANATIONS[f])


@pytest.mark.parametrize("feature", SIGNED)
def test_a_small_change_is_said_with_its_size_never_as_minus_zero(feature):
    """ "上季度相对行业指数变化 -0%（−7 分）": a bank does not accept points taken for "-0%"."""
    assert SIGNED  # the changes and growths are said with their sign
    small, tiny = (reason_texts({"feature": feature, "value": v, "points_below_best": 7}) for v in (-0.005, -0.00001))
    for text in (*small.values(), *tiny.values()):
        assert not re.search(r"-0(\.0)?%", text), text
    assert "-0.5%" in small["text_zh"] and "-0.5%" in small["text_en"]


def test_the_stored_english_text_is_kept_and_chinese_is_said_from_the_value():
    reason = {
        "feature": "net_margin",
        "value": 0.031,
        "points_below_best": 7,
        "text": "reported net margin is 3.1% (-7 points)",
    }
    assert reason_text(reason, "en") == reason["text"]
    assert reason_text(reason, "zh") == "申报净利率 3.1%（−7 分）"
    assert (
        reason_text({"feature": "net_margin", "value": None, "points_below_best": 7}, "zh")
        == "净利率未报告（按最差档计分）（−7 分）"
    )


def test_the_catalogue_covers_the_features_and_nothing_else():
    assert set(EXPLANATIONS) == set(EXPLANATIONS_ZH) == set(ENGINE_FEATURES)
