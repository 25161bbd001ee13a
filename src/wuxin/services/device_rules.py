"""Daily per-device and per-machine rules judged against each device's own history (alerts/odometer.py,
alerts/machines.py, alerts/meters.py): the readings are loaded here, the verdicts are pure functions there."""
from __future__ import annotations

from collections import defaultdict

from wuxin.alerts.catalog import default_rules
from wuxin.alerts.engine import Signal
from wuxin.alerts.machines import DEFAULTS as MACHINE_DEFAULTS
from wuxin.alerts.machines import daily_hours, judge_machines
from wuxin.alerts.meters import DEFAULTS as METER_DEFAULTS
from wuxin.alerts.meters import judge_meter
from wuxin.alerts.odometer import DEFAULTS as ODOMETER_DEFAULTS
from wuxin.alerts.odometer import judge as judge_odometer
from wuxin.alerts.rules import Rule
from wuxin.alerts.stock import DEFAULTS as LOT_DEFAULTS
from wuxin.alerts.stock import lot_positions, lot_step, readers_of
from wuxin.store.uow import UnitOfWork

DAY_MS = 86_400_000
CN_OFFSET_MS = 8 * 3_600_000
PLATFORM_SCOPE = "platform"
LIMIT = 5_000_000


def day_start(day: int) -> int:
    """The first ms of a local (China) day number."""
    return day * DAY_MS - CN_OFFSET_MS


def device_rule_signals(uow: UnitOfWork, day: int, now_ms: int) -> list[Signal]:
    """Odometer, machine-idle and meter-balance rules for the local `day`; a clear only where an alarm is open."""
    rules = [r for r in default_rules().values() if r.enabled and r.type in ("odometer", "machine_idle", "meter_balance")]
    signals: list[Signal] = []
    for enterprise in uow.enterprises.list() if rules else []:
        devices = uow.devices.list(enterprise["id"])
        for rule in rules:
            mine = [d for d in devices if rule.applies_to(d["device_type"])]
            if not mine:
                continue
            if rule.type == "odometer":
                signals += _odometer(uow, rule, enterprise["id"], mine, day, now_ms)
            elif rule.type == "machine_idle":
                signals += _machines(uow, rule, enterprise["id"], mine, day, now_ms)
            else:
                signals += _meters(uow, rule, enterprise["id"], mine, devices, day, now_ms)
    return [s for s in signals if s.action == "raise" or uow.monitoring.open_alarm(s.scope, s.source, s.rule.alarm_type)]


def _series(uow: UnitOfWork, device_ids: list[int], keys: set[str], from_ms: int, to_ms: int) -> dict[int, dict[str, list]]:
    out: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for key in keys:
        for r in uow.telemetry.readings(device_ids, key, from_ms, to_ms, LIMIT):
            if r["num"] is not None:
                out[r["device_id"]][key].append((r["ts_ms"], float(r["num"])))
    return out


def _signal(action: str, rule: Rule, enterprise_id: int, device: dict, now_ms: int, detail: dict) -> Signal:
    return Signal(action, PLATFORM_SCOPE, rule, f"device:{device['id']}", enterprise_id, now_ms,
                  {"device": device["key"], **detail}, device["id"])


def _odometer(uow, rule: Rule, enterprise_id: int, devices: list[dict], day: int, now_ms: int) -> list[Signal]:
    p = {**ODOMETER_DEFAULTS, **rule.params}
    key = p.get("odometer_key", "odometer_km")
    start = day_start(day)
    data = _series(uow, [d["id"] for d in devices], {key, "lat", "lon"}, start - (int(p["history_days"]) + 1) * DAY_MS,
                   start + DAY_MS)
    out = []
    for d in devices:
        series = data.get(d["id"], {})
        lat, lon = dict(series.get("lat", [])), series.get("lon", [])
        track = [(ts, lat[ts], v) for ts, v in lon if ts in lat]
        odometer = series.get(key, [])
        if not odometer:
            continue
        verdict = judge_odometer(odometer, track, start, p)
        if verdict:
            out.append(_signal("raise", rule, enterprise_id, d, now_ms, {"day": day, **verdict}))
    return out


def _machines(uow, rule: Rule, enterprise_id: int, devices: list[dict], day: int, now_ms: int) -> list[Signal]:
    p = {**MACHINE_DEFAULTS, **rule.params}
    key, attr = p.get("current_key", "current_a"), p.get("run_attr", "run_threshold_a")
    first = day - int(p["history_days"])
    data = _series(uow, [d["id"] for d in devices], {key}, day_start(first), day_start(day + 1))
    hours = {}
    for d in devices:
        threshold = (d.get("attributes") or {}).get(attr)
        if isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and data.get(d["id"]):
            hours[d["id"]] = daily_hours(data[d["id"]][key], float(threshold), first, day, day_start,
                                         int(p["max_gap_s"] * 1000))
    by_id = {d["id"]: d for d in devices}
    return [_signal(v.pop("action"), rule, enterprise_id, by_id[device], now_ms, v)
            for device, v in judge_machines(hours, day, p).items()]


def _meters(uow, rule: Rule, enterprise_id: int, meters: list[dict], devices: list[dict], day: int, now_ms: int
            ) -> list[Signal]:
    p = {**METER_DEFAULTS, **rule.params}
    machines = [d for d in devices if d["device_type"] == p["machine_device_type"]]
    if not machines:
        return []
    first = day - int(p["history_days"])
    ids = [d["id"] for d in meters + machines]
    data = _series(uow, ids, {p["energy_key"], p["current_key"]}, day_start(first) - DAY_MS, day_start(day + 1))
    out = []
    for meter in meters:
        fed = [m for m in machines if _feeds(meter, m)]
        if not fed:
            continue
        verdict = judge_meter(data.get(meter["id"], {}).get(p["energy_key"], []),
                              {m["id"]: (data.get(m["id"], {}).get(p["current_key"], []), m.get("attributes") or {})
                               for m in fed},
                              meter.get("attributes") or {}, [day_start(d) for d in range(first, day + 1)], p)
        if verdict:
            out.append(_signal(verdict.pop("action"), rule, enterprise_id, meter, now_ms, {"day": day, **verdict}))
    return out


def _feeds(meter: dict, machine: dict) -> bool:
    """The meter measures the machine: the machine's `meter_id` names the meter's, or the machine names none and the
    meter is the enterprise's only one (checked by the caller's list)."""
    named = (machine.get("attributes") or {}).get("meter_id")
    return named is None or named == (meter.get("attributes") or {}).get("meter_id")


def sweep_lots(platform) -> int:
    """Lot-stock rules on each enterprise's RFID readers: the whole pledged lot's stock against its pledge."""
    from wuxin.services.monitoring import apply_signals

    now_ms = platform.clock_ms()
    rules = [r for r in default_rules().values() if r.type == "lot_stock" and r.enabled]
    signals: list[Signal] = []
    with platform.uow() as uow:
        for enterprise in uow.enterprises.list() if rules else []:
            devices = uow.devices.list(enterprise["id"])
            for rule in rules:
                mine = [d for d in devices if rule.applies_to(d["device_type"])]
                if mine:
                    signals += lot_signals(uow, rule, enterprise["id"], mine, now_ms)
        apply_signals(platform, uow, signals, now_ms)
        uow.commit()
    return len(signals)


def lot_signals(uow: UnitOfWork, rule: Rule, enterprise_id: int, devices: list[dict], now_ms: int) -> list[Signal]:
    p = {**LOT_DEFAULTS, **rule.params}
    readers = readers_of(devices, p["lot_attr"], p["value_attr"], p["lot_value_attr"])
    fresh = {d["id"] for d in devices if d.get("last_seen_ms") is not None and now_ms - d["last_seen_ms"] <= p["fresh_s"] * 1000}
    latest = uow.monitoring.latest_value([r.id for r in readers], p["key"], now_ms)
    positions = lot_positions(readers, latest, fresh)
    keys = {lot: (PLATFORM_SCOPE, rule.id, f"lot:{enterprise_id}:{lot}"[:60]) for lot in positions}
    states = uow.monitoring.states(keys.values())
    changed, out = {}, []
    for lot, position in positions.items():
        state = dict(states.get(keys[lot]) or {})
        before = dict(state)
        action = lot_step(position, state, now_ms, int(p["duration_s"] * 1000))
        if state != before:
            changed[keys[lot]] = state
        if action:
            detail = {"lot": lot, "stock_units": position["stock"], "pledged_units": position["pledged"],
                      "readers": len(position["readers"]), "since_ms": state.get("since", before.get("since")),
                      "threshold_from": {
                          "en": "the pledge set on the lot" if position["declared_on_lot"] else
                                f"the sum of the pledged shares of the lot's {len(position['readers'])} readers",
                          "zh": "质押合同约定的整批数量" if position["declared_on_lot"] else
                                f"该批货{len(position['readers'])}个读写器质押份额之和"}}
            out.append(Signal(action, PLATFORM_SCOPE, rule, keys[lot][2], enterprise_id, now_ms, detail))
    uow.monitoring.save_states(changed, now_ms)
    return out
