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
from wuxin.store.uow import UnitOfWork

DAY_MS = 86_400_000
CN_OFFSET_MS = 8 * 3_600_000
PLATFORM_SCOPE = "platform"
LIMIT = 5_000_000


def day_start(day: int) -> int:
    """The first ms of a local (China) day number."""
    return day * DAY_MS - CN_OFFSET_MS


def device_rule_signals(uow: UnitOfWork, day: int, now_ms: int) -> list[Signal]:
    """Odometer, machine-idle and meter-balance rules for the local `day`."""
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
    return signals


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
