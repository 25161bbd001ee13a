"""Every rule's alarm detail reads as one structure: metric, value, the line or band it left, baseline, unit, window."""

from __future__ import annotations

from wuxin.alerts.explain import explain, summary_numbers


def test_a_threshold_alarm_names_its_metric_value_limit_and_window():
    e = explain(
        "construction.crane_overload",
        {"device": "crane-1", "key": "moment_pct", "value": 150.0, "limit": 130.0, "since_ms": 5},
        {"op": ">", "duration_s": 0},
    )
    assert (
        e["metric"],
        e["metric_kind"],
        e["value"],
        e["threshold"],
        e["comparison"],
        e["window_s"],
        e["since_ms"],
    ) == ("moment_pct", "metric", 150.0, 130.0, "above", 0, 5)
    assert e["facts"] == [] and summary_numbers(e) == (150.0, 130.0)


def test_a_baseline_alarm_names_its_indicator_band_and_days():
    e = explain(
        "manufacturing.utilization_drop",
        {
            "indicator": "utilization_rate",
            "day": 20000,
            "value": 0.31,
            "median": 0.72,
            "low": 0.55,
            "high": 0.9,
            "baseline_days": 28,
            "days_outside": 2,
        },
        {"indicator": "utilization_rate"},
    )
    assert (e["metric"], e["metric_kind"], e["value"], e["low"], e["high"], e["baseline"], e["comparison"]) == (
        "utilization_rate",
        "indicator",
        0.31,
        0.55,
        0.9,
        0.72,
        "below",
    )
    assert e["window_days"] == 28 and summary_numbers(e) == (0.31, 0.55)
    assert {"key": "days_outside", "value": 2} in e["facts"]


def test_own_history_rules_keep_where_their_threshold_came_from():
    e = explain(
        "manufacturing.machine_idle",
        {
            "device": "loom-01",
            "day": 1,
            "running_h": 2.0,
            "usual_h": 9.5,
            "low_h": 6.0,
            "baseline_days": 20,
            "threshold_from": {"zh": "本机自身", "en": "its own days"},
        },
    )
    assert (e["metric"], e["value"], e["threshold"], e["baseline"], e["unit"]) == ("running_h", 2.0, 6.0, 9.5, "h")
    assert e["threshold_from"] == {"zh": "本机自身", "en": "its own days"}


def test_a_coverage_alarm_reads_its_decimal_text_as_a_number_and_an_unknown_detail_keeps_its_facts():
    e = explain("loan.coverage", {"coverage_ratio": "1.05", "status": "margin_call", "outstanding_cny": "1000000.00"})
    assert (e["metric"], e["value"], e["unit"]) == ("coverage_ratio", 1.05, "1")
    odd = explain("x.y", {"device": "d-1", "event": "tamper", "params": {"a": 1}})
    assert odd["metric"] is None and odd["facts"] == [{"key": "event", "value": "tamper"}]
    assert explain("x.y", None)["facts"] == []


def test_a_herd_outlier_is_judged_against_the_herd_median_plus_its_margin_not_the_margin_alone():
    """A cow at 40.4 °C in a herd whose median is 38.74 °C, raised when 0.7 °C above it: the line it crossed is
    39.44 °C (the console said "体温 40.4 °C · 阈值 0.7 °C")."""
    e = explain(
        "dairy.fever",
        {
            "device": "collar-133",
            "key": "body_temp_c",
            "value": 40.4,
            "herd_median": 38.74,
            "excess": 1.66,
            "min_excess": 0.7,
            "since_ms": 1,
        },
        {"key": "body_temp_c", "min_excess": 0.7, "duration_s": 21600},
    )
    assert (e["metric"], e["value"], e["baseline"], e["comparison"]) == ("body_temp_c", 40.4, 38.74, "above")
    assert e["threshold"] == round(38.74 + 0.7, 6) and summary_numbers(e) == (40.4, e["threshold"])


def test_a_coverage_alarm_names_the_loans_own_line_it_fell_below():
    """The margin-call alarm is judged against the loan's maintenance line, the liquidation alarm against its
    liquidation line; the desk showed '阈值 —' for both."""
    from decimal import Decimal

    from wuxin.loans.pledge import Coverage
    from wuxin.services.bootstrap import rule_of_type
    from wuxin.services.credit.pledges import coverage_signals

    loan = {"id": 10, "tenant_id": 1, "enterprise_id": 3, "maintenance_ratio": "1.35", "liquidation_ratio": "1.12"}
    cov = Coverage(Decimal("588000"), Decimal("750000"), Decimal("0.784"), (), "liquidation")
    margin, liquidation = coverage_signals(rule_of_type("coverage", "logistics"), loan, cov, 0)
    for signal, line in ((margin, 1.35), (liquidation, 1.12)):
        e = explain(signal.rule.id, signal.detail, signal.rule.params)
        assert (e["metric"], e["value"], e["unit"], e["comparison"]) == ("coverage_ratio", 0.784, "1", "below")
        assert e["threshold"] == line and summary_numbers(e) == (0.784, line)
