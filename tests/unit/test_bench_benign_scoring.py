"""`wuxin bench alerts` scoring of healthy data (issue 15, item 6): false alarms inside benign events counted apart,
the total against the 0.5 per 1,000 device-days budget, an undeclared stop's alarm and a meter balance counted true."""

from __future__ import annotations

from rich.console import Console

from wuxin.bench.alerts import budget_line, in_benign, score
from wuxin.sim.patterns import AnomalyRecord

DAY, HOUR = 86_400_000, 3_600_000
DAY0 = 20_000  # a local day number
T0 = DAY0 * DAY - 8 * HOUR  # its local midnight


def alarm(alarm_type, at, device=None, day=None, enterprise=1):
    return {
        "alarm_type": alarm_type,
        "enterprise_id": enterprise,
        "device_key": device,
        "started_ms": at,
        "last_ms": at,
        "detail": {"day": day} if day is not None else {},
    }


def quiet():
    return Console(file=open("/dev/null", "w"))


def test_a_daily_alarm_judging_a_holiday_is_inside_it_and_one_the_day_after_is_not():
    holiday = AnomalyRecord("holiday", "U", (), T0, T0 + DAY, "calendar", {})
    assert in_benign(alarm("utilization_drop", T0 + DAY + HOUR, day=DAY0), holiday, {1: "U"})
    assert not in_benign(alarm("utilization_drop", T0 + 2 * DAY + HOUR, day=DAY0 + 1), holiday, {1: "U"})
    assert not in_benign(alarm("utilization_drop", T0 + DAY + HOUR, day=DAY0), holiday, {1: "V"})  # another firm


def test_a_reboot_explains_its_own_devices_alarm_only():
    reboot = AnomalyRecord("reboot", "U", ("gps-1",), T0, T0 + 5 * 60_000, "reboot", {})
    assert in_benign(alarm("device_offline", T0 + 30 * 60_000, "gps-1"), reboot, {1: "U"})
    assert not in_benign(alarm("device_offline", T0 + 30 * 60_000, "gps-2"), reboot, {1: "U"})
    assert not in_benign(alarm("utilization_drop", T0 + HOUR, None), reboot, {1: "U"})
    assert not in_benign(alarm("device_offline", T0 + 3 * HOUR, "gps-1"), reboot, {1: "U"})


def test_false_alarms_inside_and_outside_benign_events_and_the_budget():
    holiday = AnomalyRecord("holiday", "U", (), T0, T0 + DAY, "calendar", {})
    undeclared = AnomalyRecord("maintenance_undeclared", "U", (), T0 + 3 * DAY, T0 + 4 * DAY, "sim", {})
    copy = AnomalyRecord("fabricated_copy", "U", ("bracelet-1",), T0 + 5 * DAY, T0 + 6 * DAY, "rewrite", {})
    alarms = [
        alarm("fabricated_data", T0 + DAY + HOUR, "bracelet-2", day=DAY0),  # false, on the holiday
        alarm("fabricated_data", T0 + 9 * DAY, "bracelet-2", day=DAY0 + 8),  # false, an ordinary day
        alarm("utilization_drop", T0 + 4 * DAY + HOUR, None, day=DAY0 + 3),  # the undeclared stop: wanted
        alarm("meter_balance", T0 + 6 * DAY + HOUR, "meter-1", day=DAY0 + 5),
    ]  # sees the copied bracelet
    out = score([copy, undeclared], alarms, {1: "U"}, 2000, quiet(), {}, None, [holiday])
    fabricated = out["types"]["fabricated_data"]
    assert (fabricated["false"], fabricated["false_in_benign"]) == (2, 1)
    assert out["types"]["utilization_drop"]["false"] == 0 and out["types"]["utilization_drop"]["true_other_kind"] == 1
    assert out["types"]["meter_balance"]["false"] == 0
    assert out["benign"]["holiday"]["false_alarms"] == {"fabricated_data": 1}
    assert (
        out["total"]["false"] == 2
        and out["total"]["false_per_1k_device_days"] == 1.0
        and not out["total"]["budget_met"]
    )


def test_the_budget_is_met_at_half_a_false_alarm_per_thousand_device_days():
    types = {"device_offline": {"false": 1, "false_in_benign": 0, "precision": 0.99, "recall": 1.0}}
    assert budget_line(types, 2000, quiet())["budget_met"]
    assert not budget_line(types, 1999, quiet())["budget_met"]
    assert budget_line({"x": {"false": 0, "false_in_benign": 0, "precision": 0.97, "recall": 0.9}}, 10, quiet())[
        "precision_short"
    ] == ["x"]
