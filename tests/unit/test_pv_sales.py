"""PV sales against metered generation: an inflated feed-in bill or declared revenue is flagged with its derived
tolerance stated in zh and en; an honest plant with a steady small bias, shifted billing dates or a missing month
is not."""

import random

import numpy as np
import pytest

from wuxin.bench.pv_sales import run
from wuxin.risk.business import month_span, validate_rows
from wuxin.risk.crossverify import ReportedFigure, SourceShares, verification
from wuxin.risk.features import DailySeries
from wuxin.risk.pv_messages import pv_finding_texts
from wuxin.risk.pv_sales import PvBound, PvFigure, pv_cross_verify, tariff_from_bills, timing_factor
from wuxin.services.bootstrap import business_kinds

GEN = "plant_kwh"  # any name: the pack names its generation indicator, the check carries it
FIRST, LAST = month_span("2026-01")[0], month_span("2026-06")[1]


def generation(seed: int = 1) -> DailySeries:
    rng = random.Random(seed)
    days = np.arange(FIRST, LAST + 1)
    return DailySeries.of(days, [2000 * rng.choice((rng.uniform(0.8, 1.0), rng.uniform(0.2, 0.5))) for _ in days])


def bill(series: DailySeries, month: str, factor: float = 1.0, source: str = "third_party") -> PvFigure:
    a, b = month_span(month)
    return PvFigure(ReportedFigure("feed_in_kwh", a, b, float(np.nansum(series.on_days(a, b))) * factor, month, source))


MONTHS = ("2026-02", "2026-03", "2026-04", "2026-05")


def test_honest_bills_with_a_steady_small_bias_agree_and_an_inflated_one_is_flagged():
    series = generation()
    honest = pv_cross_verify([bill(series, m, 0.99 * 1.03) for m in MONTHS], series, PvBound(), indicator=GEN)
    assert [r.status for r in honest] == ["consistent"] * 4  # bills 2 % above the inverters every month: inside 3.5 %
    inflated = pv_cross_verify(
        [bill(series, m, 1.5 if m == "2026-04" else 1.0) for m in MONTHS], series, PvBound(), indicator=GEN
    )
    assert [r.status for r in inflated] == ["consistent", "consistent", "overstated", "consistent"]
    assert {r.indicator for r in honest + inflated} == {GEN}  # the name the caller gave, not one of the core's
    flagged = inflated[2]
    assert flagged.finding_code == "pv_overstated" and flagged.finding_params["meter_factor"] == pytest.approx(1.035)
    texts = pv_finding_texts(flagged.finding_code, flagged.finding_params)
    assert "1.50x" in texts["finding_en"] and "grid meter 0.5% + inverters 3%" in texts["finding_en"]
    assert "1.50 倍" in texts["finding_zh"] and "电网表 0.5%" in texts["finding_zh"] and "弃光" in texts["finding_zh"]
    assert 1.035 < flagged.tolerance < 1.3 and "billing period off by up to 5 days" in flagged.tolerance_basis


def test_a_bill_dated_five_days_off_the_month_is_within_its_timing_allowance():
    series = generation(3)
    a, b = month_span("2026-03")
    shifted = PvFigure(
        ReportedFigure("feed_in_kwh", a, b, float(np.nansum(series.on_days(a + 5, b + 5))), "2026-03", "bank")
    )
    (result,) = pv_cross_verify([shifted], series, PvBound(), indicator=GEN)
    assert result.status in ("consistent", "understated") and result.level == "verified"  # a bank's figure agreeing
    assert timing_factor(series, a, b, 5) >= result.ratio / 1.035
    exact = PvFigure(shifted.figure, exact_dates=True)
    assert pv_cross_verify([exact], series, PvBound(), indicator=GEN)[0].finding_params["shift_days"] == 1


def test_a_missing_month_caught_up_by_the_next_bill_is_not_flagged_but_a_doubled_month_is():
    series = generation(4)
    mar, apr = bill(series, "2026-03"), bill(series, "2026-04")
    catch_up = PvFigure(
        ReportedFigure(
            "feed_in_kwh",
            *month_span("2026-05"),
            apr.figure.value + bill(series, "2026-05").figure.value,
            "2026-05",
            "third_party",
        )
    )
    results = pv_cross_verify(
        [mar, catch_up], series, PvBound(), indicator=GEN
    )  # April unbilled: May's bill carries it
    assert [r.status for r in results] == ["consistent", "consistent"]
    assert results[1].finding_params["unbilled_days"] == 30 and "unbilled" in results[1].finding
    doubled = pv_cross_verify(
        [
            mar,
            apr,
            PvFigure(
                ReportedFigure("feed_in_kwh", *month_span("2026-05"), catch_up.figure.value, "2026-05", "third_party")
            ),
        ],
        series,
        PvBound(),
        indicator=GEN,
    )
    assert doubled[2].status == "overstated"  # April was billed: May cannot also hold it


def test_a_month_the_inverters_missed_decides_nothing():
    series = generation(5)
    a, b = month_span("2026-04")
    gappy = DailySeries.of(series.days, np.where((series.days >= a) & (series.days <= b - 10), np.nan, series.values))
    (result,) = pv_cross_verify([bill(series, "2026-04", 1.2)], gappy, PvBound(), indicator=GEN)
    assert result.status == "insufficient_evidence" and result.finding_code == "pv_insufficient_evidence"
    assert verification([result]) == "undecided"


def test_declared_revenue_far_above_generation_times_tariff_fails_with_the_tariff_named():
    series = generation(6)
    tariff, spread = tariff_from_bills([(1000.0, 380.0), (1000.0, 400.0), (1000.0, 370.0)])
    assert tariff == pytest.approx(0.38) and spread == pytest.approx(0.4 / 0.38 - 1)
    a, b = month_span("2026-01")[0], month_span("2026-03")[1]
    sold = float(np.nansum(series.on_days(a, b))) * tariff
    quarter = [
        PvFigure(ReportedFigure("revenue_cny", a, b, sold * k, "2026-Q1", "enterprise_reported")) for k in (1.0, 1.8)
    ]
    bound = PvBound(tariff_cny_per_kwh=tariff, tariff_spread=spread, tariff_from="bills")
    honest, inflated = (pv_cross_verify([f], series, bound, indicator=GEN)[0] for f in quarter)
    assert honest.status == "consistent" and honest.check == "pv_revenue_vs_generation"
    assert inflated.status == "overstated" and "billed tariff CNY 0.3800/kWh" in inflated.finding
    assert "电网账单电价" in pv_finding_texts(inflated.finding_code, inflated.finding_params)["finding_zh"]
    assert pv_cross_verify(quarter, series, PvBound(), indicator=GEN) == []  # no tariff known: no revenue check


def test_only_independent_inverters_verify():
    series = generation(7)
    own = SourceShares.constant({"enterprise_shared": 1.0}, FIRST, LAST)
    (result,) = pv_cross_verify(
        [bill(series, "2026-03", source="enterprise_reported")], series, PvBound(), own, indicator=GEN
    )
    assert result.status == "consistent" and result.level == "supported"
    (bank,) = pv_cross_verify(
        [bill(series, "2026-03", source="enterprise_reported")],
        series,
        PvBound(),
        SourceShares.constant({"bank_installed": 1.0}, FIRST, LAST),
        indicator=GEN,
    )
    assert bank.level == "verified"


def test_feed_in_bills_import_rows_state_their_reading_dates_or_their_month():
    rows = [
        {"uscc": "X", "month": "2026-03", "kwh": "51234.5", "amount_cny": "19469.11"},
        {"uscc": "X", "month": "2026-04", "kwh": "1", "period_start": "2026-03-26", "period_end": "2026-04-25"},
        {"uscc": "X", "month": "2026-05", "kwh": "1", "period_start": "2026-04-26"},
        {"uscc": "X", "month": "2026-06", "kwh": -5},
    ]
    good, bad = validate_rows("feed_in_bills", rows, str, business_kinds())  # the energy pack's kind
    assert [g.index for g in good] == [0, 1] and (good[1].first_day, good[1].last_day) != month_span("2026-04")
    assert (good[0].first_day, good[0].last_day) == month_span("2026-03")
    assert [(b.field, b.value) for b in bad] == [("period_start", "2026-04-26"), ("kwh", "-5")]


def test_generated_honest_plants_are_not_flagged_and_inflated_bills_are_caught():
    figures = run(40, 11)
    assert figures["honest_firms_flagged"] == 0 and figures["honest_bills"] > 300
    caught = sum(c for c, _ in figures["caught_by_factor"].values())
    assert caught >= 15  # of 20 plants with three bills inflated 1.1-2x


def test_a_bill_over_days_without_generation_cannot_be_checked_and_findings_name_their_evidence_in_words():
    series = generation(8)
    a, b = month_span("2026-04")
    silent = DailySeries.of(series.days, np.where((series.days >= a) & (series.days <= b), np.nan, series.values))
    (unchecked,) = pv_cross_verify(
        [bill(series, "2026-04")], silent, PvBound(), indicator=GEN
    )  # no evidence: no provenance
    assert unchecked.status == "insufficient_evidence" and "evidence from" not in unchecked.finding
    (checked,) = pv_cross_verify([bill(series, "2026-03")], series, PvBound(), indicator=GEN)
    assert checked.finding.endswith("; evidence from unknown 100%: verified by a third-party figure")
    assert "证据来源：来源不明 100%" in checked.to_dict()["finding_zh"] and "evidence_" not in checked.finding
