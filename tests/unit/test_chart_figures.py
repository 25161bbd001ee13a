"""The credit report's charts and figures: the activity chart cut to the days with data, round ticks from
0 with their unit, and shares printed as percentages (never '0.31, unit 1')."""

from __future__ import annotations

from wuxin.risk.report import fit_activity, fmt_unit, nice_ticks


def _activity(values, median):
    return {"days": [f"d{i}" for i in range(len(values))], "values": values, "index_median": median, "unit": "1"}


def test_a_long_window_with_recent_data_only_starts_at_the_first_day_with_data():
    values = [None] * 170 + [0.3] * 10
    a = fit_activity(_activity(values, [None] * 168 + [0.25] * 12))
    assert a["days"][0] == "d166" and len(a["days"]) == 14  # at least 14 days shown
    a = fit_activity(_activity([None] * 100 + [0.3] * 80, [None] * 180))
    assert a["days"][0] == "d100" and a["values"] == [0.3] * 80 and a["window_days"] == 180


def test_a_window_with_data_from_its_first_day_is_left_whole_and_gaps_stay_gaps():
    values = [0.3, None, 0.2] + [None] * 20 + [0.4]
    a = fit_activity(_activity(values, [None] * len(values)))
    assert a["values"] == values and "window_days" not in a
    assert fit_activity(None) is None


def test_ticks_are_round_start_at_zero_and_never_repeat():
    for high in (0.31, 0.999, 9.5, 20.3, 1234.0, 2_000_000.0):
        ticks = nice_ticks(high)
        assert ticks[0] == 0 and ticks[-1] >= high and len(set(ticks)) == len(ticks)
        assert ticks[-1] < high * 2.5  # the top is near the data, not far above it
    assert nice_ticks(20.3) == [0, 10, 20, 30]


def test_values_carry_their_unit_in_words_people_read():
    assert fmt_unit(0.31, "1") == "31.0%"
    assert fmt_unit(20.2, "kg/head") == "20.20 kg/head" and fmt_unit(2e6, "CNY") == "CNY 2,000,000"
    assert fmt_unit(None, "kg/head") == "unknown"
