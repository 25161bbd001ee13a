"""The daily evaluation: indicators updated for each local day that ended, then the daily rules (baselines,
performance against physics, fabricated data, unbooked and night movements) over those days."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from wuxin.alerts.change import band_check, change_point, days_outside
from wuxin.alerts.copies import DEFAULTS as REPLAY_DEFAULTS
from wuxin.alerts.engine import Signal
from wuxin.alerts.fabricated import fabricated_verdict
from wuxin.alerts.movements import episodes, off_hours, quiet_hours, unconfirmed
from wuxin.alerts.performance import against_physics, explain, ratio_check
from wuxin.alerts.rules import Rule
from wuxin.bootstrap import Platform
from wuxin.calendars.periods import Period, binding, excluded_days, makeup_workdays
from wuxin.indicators.days import DAY_MS, DEFAULT_ZONE, day_start_ms, local_day
from wuxin.services.bootstrap import default_rules
from wuxin.services.credit.governance import daily_stability
from wuxin.services.devices.calendars import enterprise_zones, in_service, periods_by_enterprise
from wuxin.services.indicators import update_indicators
from wuxin.services.monitoring.alarms import apply_signals
from wuxin.services.monitoring.device_rules import device_rule_signals, device_zones
from wuxin.services.monitoring.rule_cache import PLATFORM_SCOPE
from wuxin.store.uow import UnitOfWork

DAILY_CURSOR = ("cursor", "daily", "-")  # the last local day whose daily rules ran
MAX_CATCH_UP_DAYS = 7


# ---------------------------------------------------------------- daily indicators


def daily_cursor(zone: str) -> tuple[str, str, str]:
    """Where the last local day whose daily rules ran is kept, per zone ("-" for the default zone)."""
    return DAILY_CURSOR if zone == DEFAULT_ZONE else ("cursor", "daily", zone)


def run_daily_due(platform: Platform, max_days: int = MAX_CATCH_UP_DAYS) -> int:
    """After local midnight in each zone the enterprises are judged in (their sites' zones; China by default): bring
    the indicators up to date, then run the daily rules on each day not yet evaluated in that zone (at most `max_days`
    back); the last day done is stored per zone, so a restart neither repeats nor skips one, and a plant in Berlin is
    judged after its own midnight, not China's."""
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        zones = sorted(set(enterprise_zones(uow, [e["id"] for e in uow.enterprises.list()]).values()) | {DEFAULT_ZONE})
        cursors = uow.monitoring.states([daily_cursor(z) for z in zones])
    due = {}
    for zone in zones:
        yesterday = local_day(now_ms, zone) - 1
        done = cursors.get(daily_cursor(zone), {}).get("day")
        days = range(max(done + 1 if done is not None else yesterday, yesterday - max_days + 1), yesterday + 1)
        if days:
            due[zone] = days
    if not due:
        return 0
    update_indicators(platform)
    raised = 0
    for zone, days in due.items():
        for day in days:
            raised += evaluate_daily(platform, day, zone=zone)
            with platform.uow() as uow:
                uow.monitoring.save_states({daily_cursor(zone): {"day": day}}, platform.clock_ms())
                uow.commit()
    if DEFAULT_ZONE in due:
        daily_stability(platform, due[DEFAULT_ZONE][-1])  # population stability of each tenant's active credit model
    return raised


@dataclass(frozen=True)
class DayCalendar:
    """What the daily rules need of an enterprise's calendar: the zone its days are cut in and its declared periods."""

    zone: str
    periods: list[Period]
    independent: bool = False  # the enterprise has a bank-installed or third-party device: its own periods do not bind

    def excluded(
        self, days, official: bool, device_id: int | None = None, site_id: int | None = None
    ) -> dict[int, dict]:
        """Days out of an enterprise-level rule's judgement."""
        return excluded_days(days, self.zone, binding(self.periods, self.independent), official, device_id, site_id)


def day_calendars(
    uow: UnitOfWork, enterprises: Sequence[Mapping[str, Any]], first_day: int, last_day: int
) -> dict[int, DayCalendar]:
    ids = [e["id"] for e in enterprises]
    zones = enterprise_zones(uow, ids)
    periods = periods_by_enterprise(
        uow, ids, day_start_ms(first_day, DEFAULT_ZONE) - DAY_MS, day_start_ms(last_day + 1, DEFAULT_ZONE) + DAY_MS
    )
    independent = uow.calendars.with_independent_devices(ids) if ids else set()
    return {e: DayCalendar(zones[e], periods[e], e in independent) for e in ids}


def evaluate_daily(platform: Platform, day: int | None = None, lookback_days: int = 35, zone: str | None = None) -> int:
    """Baseline-change rules on each enterprise's daily indicators (from the indicators part) for `day`, then the
    fabricated-data and unbooked-outbound rules on the day's readings. With `zone`, only the enterprises judged in
    that zone; `day` is a local date of each enterprise's own zone."""
    now_ms = platform.clock_ms()
    day = day if day is not None else local_day(now_ms, zone or DEFAULT_ZONE) - 1
    rules = [r for r in default_rules().values() if r.type == "baseline_change" and r.enabled]
    signals = []
    with platform.uow() as uow:
        enterprises = uow.enterprises.list()
        calendars = day_calendars(uow, enterprises, day - max(lookback_days, PERFORMANCE_HISTORY_DAYS), day)
        if zone is not None:
            enterprises = [e for e in enterprises if calendars[e["id"]].zone == zone]
        for enterprise in enterprises:
            mine = [r for r in rules if r.scenario == enterprise["industry"]]
            if not mine:
                continue
            rows = uow.indicators.enterprise_days(
                enterprise["id"],
                day - lookback_days,
                day,
                [r.params["indicator"] for r in mine]
                + [r.params["expected_indicator"] for r in mine if r.params.get("expected_indicator")],
            )
            for rule in mine:
                series = [
                    (r["day"], r["value"])
                    for r in rows
                    if r["indicator"] == rule.params["indicator"]
                    and r["value"] is not None
                    and r["quality"] != "unknown"
                ]
                official = bool(rule.params.get("official_calendar", False))
                excluded = calendars[enterprise["id"]].excluded({d for d, _ in series} | {day}, official)
                workdays = makeup_workdays({d for d, _ in series} | {day}) if official else frozenset()
                expected = (
                    {
                        r["day"]: r["value"]
                        for r in rows
                        if r["indicator"] == rule.params["expected_indicator"]
                        and r["value"] is not None
                        and r["quality"] != "unknown"
                    }
                    if rule.params.get("expected_indicator")
                    else None
                )
                signal = baseline_signal(enterprise["id"], rule, series, day, now_ms, excluded, workdays, expected)
                if signal:
                    signals.append(signal)
        signals += performance_signals(uow, day, now_ms, enterprises, calendars)
        signals += fabricated_signals(uow, day, now_ms, enterprises=enterprises, calendars=calendars)
        signals += unbooked_signals(uow, day, now_ms, enterprises=enterprises, calendars=calendars)
        signals += device_rule_signals(uow, day, now_ms, enterprises, calendars)
        apply_signals(platform, uow, signals, now_ms)
        uow.commit()
    return len(signals)


PERFORMANCE_HISTORY_DAYS = 400  # how far back a plant's baseline days are looked for


def performance_signals(
    uow: UnitOfWork,
    day: int,
    now_ms: int,
    enterprises: Sequence[Mapping[str, Any]] | None = None,
    calendars: dict[int, DayCalendar] | None = None,
) -> list[Signal]:
    """Performance-ratio rules on each enterprise's measured and expected daily indicators: raise when the window
    ending on `day` leaves the plant's own band in the rule's direction, clear when it is back inside. Days of a
    declared shutdown or maintenance are left out of the baseline and the window, and such a day is not judged."""
    rules = [r for r in default_rules().values() if r.type == "performance_ratio" and r.enabled]
    signals: list[Signal] = []
    if not rules:
        return signals
    enterprises = enterprises if enterprises is not None else uow.enterprises.list()
    if calendars is None:
        calendars = day_calendars(uow, enterprises, day - PERFORMANCE_HISTORY_DAYS, day)
    for enterprise in enterprises:
        for rule in (r for r in rules if r.scenario == enterprise["industry"]):
            p = rule.params
            rows = uow.indicators.enterprise_days(
                enterprise["id"], day - PERFORMANCE_HISTORY_DAYS, day, [p["measured"], p["expected"]]
            )
            values: dict[int, dict[str, float]] = {}
            for r in rows:
                if r["value"] is not None and r["quality"] != "unknown":
                    values.setdefault(r["day"], {})[r["indicator"]] = r["value"]
            excluded = calendars[enterprise["id"]].excluded(set(values) | {day}, False)
            if day in excluded:
                continue
            days = [
                (d, v.get(p["measured"]), v.get(p["expected"])) for d, v in sorted(values.items()) if d not in excluded
            ]
            band = {
                k: p[k]
                for k in (
                    "window_days",
                    "baseline_days",
                    "min_expected_kwh",
                    "max_rise",
                    "max_drop",
                    "model_uncertainty",
                    "quantile",
                    "margin",
                )
                if k in p
            }
            check = ratio_check(days, day, **band)
            if check is None:
                continue
            wanted, source = p["direction"], f"enterprise:{enterprise['id']}"
            action = (
                "raise"
                if check.direction and wanted in (check.direction, "both")
                else "clear"
                if check.direction is None
                else None
            )
            if action:
                detail = explain(check)
                if excluded:
                    detail["excluded_days"] = sorted(excluded.values(), key=lambda x: x["day"])[-10:]
                signals.append(Signal(action, PLATFORM_SCOPE, rule, source, enterprise["id"], now_ms, detail))
    return signals


def fabricated_signals(
    uow: UnitOfWork,
    day: int,
    now_ms: int,
    limit: int = 2_000_000,
    enterprises: Sequence[Mapping[str, Any]] | None = None,
    calendars: dict[int, DayCalendar] | None = None,
) -> list[Signal]:
    """Fabricated-data rules on each device they apply to, for the local `day` against the device's earlier days.
    Raise only: a fabricated day stays under review until a person clears the alarm. A day of a declared shutdown or
    maintenance of the device (its site, its enterprise), or one it was out of service, is not judged: a meter on a
    test signal or a stopped line reads flat and smooth honestly."""
    rules = [r for r in default_rules().values() if r.type == "fabricated_data" and r.enabled]
    if not rules:
        return []
    enterprises = enterprises if enterprises is not None else uow.enterprises.list()
    calendars = calendars if calendars is not None else day_calendars(uow, enterprises, day, day)
    signals = []
    for enterprise in enterprises:
        calendar = calendars[enterprise["id"]]
        site_zones: dict[int | None, str | None] = {
            s["id"]: s.get("timezone") for s in uow.enterprises.sites(enterprise["id"])
        }
        for row in uow.devices.list(enterprise["id"]):
            zone = site_zones.get(row["site_id"]) or DEFAULT_ZONE
            day_start = day_start_ms(day, zone)
            if not (in_service(row, day_start) and in_service(row, day_start_ms(day + 1, zone) - 1)) or excluded_days(
                [day],
                zone,
                binding(calendar.periods, row["source_mode"] != "enterprise_shared"),
                False,
                row["id"],
                row["site_id"],
            ):
                continue
            for rule in (r for r in rules if r.applies_to(row["device_type"])):
                history = fabricated_history_days(rule)
                verdict = device_fabricated(uow, row["id"], rule, day_start, history, limit)
                if verdict:
                    signals.append(
                        Signal(
                            "raise",
                            PLATFORM_SCOPE,
                            rule,
                            f"device:{row['id']}",
                            enterprise["id"],
                            now_ms,
                            {"device": row["key"], "day": day, **verdict},
                            row["id"],
                        )
                    )
    return signals


def unbooked_signals(
    uow: UnitOfWork,
    day: int,
    now_ms: int,
    limit: int = 1_000_000,
    enterprises: Sequence[Mapping[str, Any]] | None = None,
    calendars: dict[int, DayCalendar] | None = None,
) -> list[Signal]:
    """Unbooked-outbound rules: count episodes ending in the local `day` shifted back by the rule's `after_s` (so the
    confirmation has had time to arrive); an enterprise without a confirming device is not judged."""
    rules = [r for r in default_rules().values() if r.type == "unbooked_outbound" and r.enabled]
    signals: list[Signal] = []
    if not rules:
        return signals
    enterprises = enterprises if enterprises is not None else uow.enterprises.list()
    if calendars is None:
        calendars = day_calendars(uow, enterprises, day, day)
    for enterprise in enterprises:
        devices = uow.devices.list(enterprise["id"])
        for rule in (r for r in rules if r.scenario == enterprise["industry"]):
            p = rule.params
            after_ms, before_ms = int(p.get("after_s", 7200) * 1000), int(p.get("before_s", 1800) * 1000)
            judged_to = day_start_ms(day + 1, calendars[enterprise["id"]].zone) - after_ms
            judged_from = judged_to - DAY_MS
            counters = [d for d in devices if rule.device_type in (None, d["device_type"])]
            confirmers = [d["id"] for d in devices if d["device_type"] == p["confirm_device_type"]]
            if counters and not confirmers:
                zones = device_zones(uow, enterprise["id"], counters, calendars[enterprise["id"]].zone)
                signals += night_outbound_signals(
                    uow, rule, enterprise["id"], counters, judged_from, judged_to, now_ms, limit, zones
                )
                continue
            if not counters:
                continue
            stamps = [
                e["ts_ms"]
                for e in uow.telemetry.events(confirmers, judged_from - DAY_MS, judged_to + after_ms, limit)
                if e["name"] == p["confirm_event"] and _params_match(e["params"], p.get("confirm_match", {}))
            ]
            for d in counters:
                counts = [
                    (r["ts_ms"], r["num"])
                    for r in uow.telemetry.readings(
                        [d["id"]], p["count_key"], judged_from - 6 * 3_600_000, judged_to, limit
                    )
                ]
                found = [
                    e for e in episodes(counts, int(p.get("gap_s", 1800) * 1000)) if judged_from <= e.end_ms < judged_to
                ]
                for e in unconfirmed(found, stamps, before_ms, after_ms, p.get("min_units", 1)):
                    signals.append(
                        Signal(
                            "raise",
                            PLATFORM_SCOPE,
                            rule,
                            f"device:{d['id']}",
                            enterprise["id"],
                            now_ms,
                            {
                                "device": d["key"],
                                "units": e.units,
                                "from_ms": e.start_ms,
                                "to_ms": e.end_ms,
                                "unconfirmed_by": p["confirm_event"],
                            },
                            d["id"],
                        )
                    )
    return signals


def night_outbound_signals(
    uow: UnitOfWork,
    rule: Rule,
    enterprise_id: int,
    counters: Sequence[Mapping[str, Any]],
    judged_from: int,
    judged_to: int,
    now_ms: int,
    limit: int,
    zones: dict[int, str] | None = None,
) -> list[Signal]:
    """Without a weighbridge: count-out episodes in the gate's own quiet hours, learnt from its `history_days`
    before the judged window (alerts/movements.py quiet_hours); a gate with under `min_history_days` of counts is not
    judged. Hours and days are those of the gate's site (`zones`, default China): a Berlin warehouse's night is
    Berlin's, through its daylight-saving changes."""
    p = rule.params
    days, quiet_share = int(p.get("history_days", 14)), float(p.get("quiet_share", 0.01))
    signals = []
    for d in counters:
        rows = uow.telemetry.readings([d["id"]], p["count_key"], judged_from - (days + 1) * DAY_MS, judged_to, limit)
        counts = [(r["ts_ms"], r["num"]) for r in rows if r["num"] is not None]
        history = [c for c in counts if c[0] < judged_from - 6 * 3_600_000]
        zone = (zones or {}).get(d["id"], DEFAULT_ZONE)
        moved = [ts for ts, units in history if units and units > 0]
        counted_days = {int(x) for x in local_day(moved, zone)} if moved else set()
        quiet = quiet_hours(history, zone, quiet_share)
        if quiet is None or len(counted_days) < int(p.get("min_history_days", 5)):
            continue
        found = [e for e in episodes(counts, int(p.get("gap_s", 1800) * 1000)) if judged_from <= e.end_ms < judged_to]
        for e in off_hours(found, quiet, zone, p.get("min_units", 1)):
            signals.append(
                Signal(
                    "raise",
                    PLATFORM_SCOPE,
                    rule,
                    f"device:{d['id']}",
                    enterprise_id,
                    now_ms,
                    {
                        "device": d["key"],
                        "units": e.units,
                        "from_ms": e.start_ms,
                        "to_ms": e.end_ms,
                        "unconfirmed_by": "no weighbridge: outside the gate's own outbound hours",
                        "quiet_hours": sorted(quiet),
                        "history_days": len(counted_days),
                        "timezone": zone,
                        "threshold_from": {
                            "en": f"hours outside the shortest span holding {1 - quiet_share:.0%} of this gate's "
                            f"outbound units over its {len(counted_days)} earlier days with counts "
                            f"(local time of its site, {zone})",
                            "zh": f"本道闸此前{len(counted_days)}天出库数量{1 - quiet_share:.0%}所在的最短时段之外"
                            f"(按站点当地时间, {zone})",
                        },
                    },
                    d["id"],
                )
            )
    return signals


def _params_match(raw, wanted: dict) -> bool:
    params = orjson.loads(raw) if isinstance(raw, (str, bytes)) else (raw or {})
    return all(params.get(k) == v for k, v in wanted.items())


def fabricated_history_days(rule: Rule) -> int:
    """Days of readings a fabricated-data rule reads before the judged day: its history, or the replay test's window."""
    tests = rule.params.get("tests", ["copy", "replay", "flat", "smooth"])
    replay = (
        int(rule.params.get("replay", {}).get("window_days", REPLAY_DEFAULTS["window_days"]))
        if "replay" in tests
        else 0
    )
    return max(int(rule.params.get("history_days", 7)), replay)


def device_fabricated(
    uow: UnitOfWork, device_id: int, rule: Rule, day_start: int, history_days: int, limit: int
) -> dict | None:
    """The first property of the device whose day fails a fabricated-data test (its verdict and key), else None."""
    keys = list(rule.params["keys"]) + list(rule.params.get("copy_only_keys", []))
    rows = uow.telemetry.readings(
        [device_id], None, day_start - max(history_days, 2) * DAY_MS, day_start + DAY_MS, limit
    )
    series: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        if r["key"] in keys and r["num"] is not None:
            series.setdefault(r["key"], []).append((r["ts_ms"], r["num"]))
    for key in keys:
        if key not in series:
            continue
        params = dict(rule.params) if key in rule.params["keys"] else {**rule.params, "tests": ["copy"]}
        verdict = fabricated_verdict(series[key], day_start, params)
        if verdict:
            return {"key": key, **verdict}
    return None


def baseline_signal(
    enterprise_id: int,
    rule: Rule,
    series: list[tuple[int, float]],
    day: int,
    now_ms: int,
    excluded: dict[int, dict] | None = None,
    workdays: frozenset[int] = frozenset(),
    expected: dict[int, float] | None = None,
) -> Signal | None:
    """Raise when the day's value, and the `min_days_outside` judged days before, left the band in the rule's
    direction; clear when the day is back inside; say nothing on the borrower's rest days. `excluded` days (declared
    shutdowns and maintenance; with the rule's `official_calendar`, PRC holidays) are left out of the baseline and
    not judged, and the alarm lists those of its window; `workdays` (official make-up working days) are judged even on
    a weekday the borrower usually rests. With the rule's `expected_indicator` (PV generation), the days are judged
    as measured / `expected` (from the plant's own irradiance, alerts/performance.against_physics), raw only without
    one, and the detail says which (`judged_on`)."""
    excluded, expected = excluded or {}, expected or {}
    if day in excluded:
        return None
    series = [(d, v) for d, v in series if d not in excluded]
    judged_on, basis, raw_today = None, None, dict(series).get(day)
    if rule.params.get("expected_indicator"):
        physics, basis, judged_on = against_physics(
            series, expected, day, float(rule.params.get("min_expected_kwh", 1.0)), int(rule.params.get("min_days", 7))
        )
        if physics is None:
            return None
        series = physics
    today = [v for d, v in series if d == day]
    if not today:
        return None
    p = rule.params
    band = {
        "z": p.get("z", 4.0),
        "min_rel_change": p.get("min_rel_change", 0.3),
        "min_days": p.get("min_days", 7),
        "rest_share": p.get("rest_share"),
    }
    check = band_check(series, day, today[0], workday=day in workdays, **band)
    if check is None or check.rest_day:
        return None
    source = f"enterprise:{enterprise_id}"
    wanted, needed = p.get("direction", "below"), int(p.get("min_days_outside", 1))
    detail = {
        "indicator": p["indicator"],
        "day": day,
        "value": check.value,
        "median": round(check.median, 4),
        "low": round(check.low, 4),
        "high": round(check.high, 4),
        "baseline_days": check.baseline_days,
        "threshold_from": baseline_words(check, band),
    }
    if judged_on is not None:
        detail["judged_on"] = judged_on
        if basis == "performance_ratio":
            # the band is on the performance ratio: its indicator's label and unit, the day's kWh beside it
            detail.update(indicator="performance_ratio", measured_kwh=raw_today, expected_kwh=round(expected[day], 2))
        detail["threshold_from"] = {k: f"{judged_on[k]}; {v}" for k, v in detail["threshold_from"].items()}
    if check.direction == wanted or (wanted == "both" and check.direction):
        outside = days_outside(series, day, wanted, needed, workdays, **band)
        if outside < needed:
            return None
        detail["days_outside"] = outside
        if excluded:
            detail["excluded_days"] = sorted(excluded.values(), key=lambda x: x["day"])[-10:]
        values = [v for _, v in sorted(series)]
        start = change_point(values)
        if start is not None:
            detail["regime_since_day"] = sorted(series)[start][0]
        return Signal("raise", PLATFORM_SCOPE, rule, source, enterprise_id, now_ms, detail)
    return (
        Signal("clear", PLATFORM_SCOPE, rule, source, enterprise_id, now_ms, detail)
        if check.direction is None
        else None
    )


def baseline_words(check, band: dict) -> dict:
    """Where a baseline rule's band came from, zh-CN and en: the borrower's own days."""
    rest = band.get("rest_share")
    en = (
        f"this borrower's own {check.baseline_days} comparable days: median {check.median:.4g} -/+ max({band['z']:g} "
        f"robust deviations, {band['min_rel_change']:.0%}) = {check.low:.4g} to {check.high:.4g}"
    )
    zh = (
        f"本企业自身{check.baseline_days}个可比日:中位数{check.median:.4g}加减max({band['z']:g}倍稳健离差, "
        f"{band['min_rel_change']:.0%}) = {check.low:.4g}至{check.high:.4g}"
    )
    if rest is not None:
        en += f"; its own rest days (under {rest:.0%} of its usual high) left out, a weekday it mostly rests not judged"
        zh += f";其自身休息日(低于其常态高值的{rest:.0%})不计入,多为休息的星期几不判断"
    return {"en": en, "zh": zh}
