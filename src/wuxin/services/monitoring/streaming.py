"""Rules evaluated as data arrives (`on_batch`, called once from `services.ingest.telemetry.store_validated`).

A batch is first filtered by the rule index (one dict lookup per point); only watched points reach the evaluators,
their state is read and written in the batch's own transaction, and alarms are stored in it too, so an alarm
exists exactly when its data does."""

from __future__ import annotations

from wuxin.alerts.engine import Evaluation, evaluate_clock, evaluate_device, points_by_device
from wuxin.bootstrap import Platform
from wuxin.services.monitoring.alarms import apply_signals
from wuxin.services.monitoring.rule_cache import rule_index
from wuxin.store.uow import UnitOfWork

# ---------------------------------------------------------------- evaluation as data arrives


def on_batch(platform: Platform, uow: UnitOfWork, validated) -> int:
    """Evaluate the stream rules on a validated batch inside the caller's transaction; returns signals applied."""
    if not validated.readings and not validated.events:
        return 0
    index = rule_index(platform, uow)
    device_ids = set(validated.last_seen_ms) | {e[0] for e in validated.events}
    watched, infos, clocks = {}, {}, {}
    for device_id in device_ids:
        entry = index.device(uow, platform, device_id)
        if entry is None:
            continue
        infos[device_id] = entry
        if entry[2]:
            watched[device_id] = entry[2]
        clock_rules = [(scope, rule) for scope, rule in entry[1] if rule.type == "clock_skew"]
        if clock_rules and device_id in validated.last_seen_ms:
            clocks[device_id] = clock_rules
    points = points_by_device(validated.readings, validated.events, watched)
    if not points and not clocks:
        return 0
    wanted = [(scope, rule.id, str(d)) for d in set(points) | set(clocks) for scope, rule in infos[d][1]]
    stored = uow.monitoring.states(wanted)
    states = {(s, r, int(subject)): dict(state) for (s, r, subject), state in stored.items()}
    out = Evaluation()
    now_ms = platform.clock_ms()
    for device_id, device_points in points.items():
        info, rules, _ = infos[device_id]
        evaluate_device(info, rules, device_points, states, out)
    for device_id, clock_rules in clocks.items():  # the batch arrives now: its newest stamp says how the clock is set
        evaluate_clock(infos[device_id][0], clock_rules, validated.last_seen_ms[device_id], now_ms, states, out)
    uow.monitoring.save_states({(s, r, str(d)): states[(s, r, d)] for s, r, d in out.changed}, now_ms)
    apply_signals(platform, uow, out.signals, now_ms)
    return len(out.signals)
