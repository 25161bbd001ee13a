"""Seeded simulated fleets: enterprises from every requested scenario pack, and their telemetry.

The packs are found by `wuxin.scenarios.scenario_packs()`; nothing here names a scenario.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from wuxin.indicators.days import DAY_MS
from wuxin.scenarios import scenario_packs
from wuxin.sim.patterns import COMMON_ANOMALIES, AnomalyRecord, AnomalySpec, check_fleet_unique, curve_value
from wuxin.sim.spec import EnterpriseSpec


def build_fleet(scenarios: list[str], per_scenario: int, seed: int) -> list[EnterpriseSpec]:
    """`per_scenario` enterprises from each named pack; the same seed gives the same fleet."""
    packs = scenario_packs()
    unknown = [s for s in scenarios if s not in packs]
    if unknown:
        raise KeyError(f"no scenario pack named {unknown}; known: {sorted(packs)}")
    fleet = []
    index = 0
    for name in scenarios:
        sim = packs[name].sim()
        rng = random.Random(f"wuxin-fleet|{seed}|{name}")
        for _ in range(per_scenario):
            index += 1
            fleet.append(sim.build_enterprise(rng, index))
    check_fleet_unique(fleet)
    return fleet


def fleet_telemetry(
    fleet: list[EnterpriseSpec],
    start_ms: int,
    end_ms: int,
    seed: int,
    anomalies: list[AnomalyRecord] | None = None,
    benign: list[AnomalyRecord] | None = None,
) -> Iterator[dict]:
    """Every enterprise's bulk-import lines in turn (time-ordered per device, except a skewed clock's lines,
    which stay in sending order and carry the true time they were sent as `sent_ms`, a field the platform ignores),
    with the labelled `anomalies` (see `plan_anomalies`) applied when given, and the planned stops among the `benign`
    records (wuxin.sim.benign; effect "sim") handed to the pack's simulator; wuxin.sim.benign.apply_benign applies
    the rest."""
    packs = scenario_packs()
    for enterprise in fleet:
        sim = packs[enterprise.industry].sim()
        mine = [a for a in anomalies or () if a.enterprise_uscc == enterprise.uscc]
        in_sim = [a for a in mine if a.effect == "sim"]
        stops = [b for b in benign or () if b.enterprise_uscc == enterprise.uscc and b.effect == "sim"]
        extra = {**({"anomalies": in_sim} if in_sim else {}), **({"benign": stops} if stops else {})}
        lines = sim.telemetry(enterprise, start_ms, end_ms, seed, **extra)
        rest = [a for a in mine if a.effect != "sim"]
        yield from inject(lines, rest, anomaly_kinds(enterprise)) if rest else lines


def natural_anomalies(fleet: list[EnterpriseSpec], start_ms: int, end_ms: int, seed: int) -> list[AnomalyRecord]:
    """Ground truth the simulators make on their own, not injected (a cow falling sick): each pack's
    `natural_anomalies(enterprise, start_ms, end_ms, seed)` where it has one. Never pass these to `fleet_telemetry`:
    the telemetry already holds them."""
    packs = scenario_packs()
    out: list[AnomalyRecord] = []
    for enterprise in fleet:
        own = getattr(packs[enterprise.industry].sim(), "natural_anomalies", None)
        out += own(enterprise, start_ms, end_ms, seed) if own else []
    return out


def anomaly_kinds(enterprise: EnterpriseSpec) -> dict[str, AnomalySpec]:
    """The anomalies that can be injected into an enterprise: common ones plus its pack's own."""
    own = getattr(scenario_packs()[enterprise.industry].sim(), "ANOMALIES", {})
    return {**COMMON_ANOMALIES, **own}


def all_anomaly_kinds() -> list[str]:
    """Every anomaly kind some pack can inject."""
    kinds = set(COMMON_ANOMALIES)
    for pack in scenario_packs().values():
        kinds |= set(getattr(pack.sim(), "ANOMALIES", {}))
    return sorted(kinds)


def plan_anomalies(
    fleet: list[EnterpriseSpec], kinds: list[str], start_ms: int, end_ms: int, seed: int, tries: int = 30
) -> list[AnomalyRecord]:
    """One labelled anomaly per kind, placed in a fleet enterprise whose pack supports it, never on a device an
    earlier record touches within a day of it when `tries` draws can avoid that (two anomalies on one device would
    blur both labels). Pass the records to `fleet_telemetry(..., anomalies=records)`; they are the ground truth."""
    rng = random.Random(f"wuxin-anomalies|{seed}")
    records: list[AnomalyRecord] = []
    for kind in kinds:
        hosts = [e for e in fleet if kind in anomaly_kinds(e) and _pool(e, anomaly_kinds(e)[kind])]
        if not hosts:
            raise KeyError(
                f"no enterprise in the fleet supports anomaly {kind!r}; the fleet supports "
                f"{sorted({k for e in fleet for k in anomaly_kinds(e)})}"
            )
        for _ in range(tries):
            record = _place(rng, kind, hosts, start_ms, end_ms)
            if not any(collide(record, other) for other in records):
                break
        records.append(record)
    return records


def collide(a: AnomalyRecord, b: AnomalyRecord) -> bool:
    """Two records share a device within a day of each other."""
    return bool(set(a.devices) & set(b.devices)) and a.start_ms - DAY_MS <= b.end_ms and b.start_ms - DAY_MS <= a.end_ms


def _pool(enterprise: EnterpriseSpec, spec: AnomalySpec) -> list:
    """The enterprise's devices an anomaly of `spec` can be placed on."""
    return [d for d in enterprise.devices if spec.device_type in ("*", d.device_type)]


def _place(rng: random.Random, kind: str, hosts: list[EnterpriseSpec], start_ms: int, end_ms: int) -> AnomalyRecord:
    """One draw of where and when an anomaly of `kind` happens, with its ground-truth facts."""
    enterprise = rng.choice(hosts)
    spec = anomaly_kinds(enterprise)[kind]
    pool = _pool(enterprise, spec)
    devices = rng.sample(pool, max(1, round(spec.share * len(pool))))
    duration = rng.randint(*spec.duration_s) * 1000
    first = min(start_ms + spec.history_s * 1000, end_ms)
    t0 = rng.randint(first, max(first, end_ms - max(min(duration, (end_ms - first) // 2), 3_600_000)))
    values = spec.values(devices[0]) if callable(spec.values) else {}
    facts = spec.facts(rng, enterprise, devices, t0, t0 + duration) if callable(spec.facts) else {}
    touched = spec.widen(enterprise, devices) if callable(spec.widen) else devices
    return AnomalyRecord(
        kind,
        enterprise.uscc,
        tuple(sorted({d.key for d in touched})),
        t0,
        t0 + duration,
        spec.effect,
        dict(values),
        spec.tamper,
        facts,
        spec.expect,
    )


def inject(
    lines: Iterator[dict], records: list[AnomalyRecord], kinds: dict[str, AnomalySpec] | None = None
) -> Iterator[dict]:
    """Apply the anomalies to a line stream (time-ordered per device). Line-by-line effects stream; the lines
    of a device with a "rewrite" anomaly (its function found in `kinds`) are held and come out at the end."""
    by_device: dict[str, list[AnomalyRecord]] = {}
    for rec in records:
        for key in rec.devices:
            by_device.setdefault(key, []).append(rec)
    held: dict[str, list[dict]] = {
        key: [] for key, recs in by_device.items() if any(r.effect == "rewrite" for r in recs)
    }
    marked: set[tuple[str, int]] = set()
    done_once: set[tuple[str, int]] = set()
    last_real: dict[tuple[str, str], float] = {}
    for line in lines:
        recs = by_device.get(line["device"])
        if not recs:
            yield line
            continue
        drop = False
        for i, rec in enumerate(recs):
            ts = line["ts"]
            if rec.effect == "silence" and rec.start_ms <= ts:
                if (line["device"], i) not in marked and rec.tamper:
                    marked.add((line["device"], i))
                    yield {"device": line["device"], "ts": rec.start_ms, "event": "tamper", "params": {}}
                drop = drop or ts < rec.end_ms
            elif "values" in line and rec.effect == "set" and rec.start_ms <= ts < rec.end_ms:
                line = {
                    **line,
                    "values": {**line["values"], **{k: v for k, v in rec.values.items() if k in line["values"]}},
                }
            elif (
                "values" in line
                and rec.effect == "offset"
                and rec.start_ms <= ts
                and (line["device"], i) not in done_once
            ):
                if rec.end_ms == rec.start_ms:
                    done_once.add((line["device"], i))
                elif ts >= rec.end_ms:
                    continue
                shifted = {k: round(line["values"][k] + v, 6) for k, v in rec.values.items() if k in line["values"]}
                line = {**line, "values": {**line["values"], **shifted}}
            elif "values" in line and rec.effect == "curve":
                if ts < rec.start_ms:
                    last_real.update(
                        {(line["device"], k): line["values"][k] for k in rec.values if k in line["values"]}
                    )
                elif ts < rec.end_ms:
                    smooth = {
                        k: curve_value(c, ts, last_real.get((line["device"], k)))
                        for k, c in rec.values.items()
                        if k in line["values"]
                    }
                    line = {**line, "values": {**line["values"], **smooth}}
            elif rec.effect == "skew" and rec.start_ms <= ts < rec.end_ms:
                line = {**line, "ts": ts + rec.facts["skew_ms"], "sent_ms": ts}
        if drop:
            continue
        if line["device"] in held:
            held[line["device"]].append(line)
        else:
            yield line
    for key, device_lines in held.items():
        for rec in by_device[key]:
            if rec.effect == "rewrite":
                rewrite = (kinds or {})[rec.kind].rewrite
                if rewrite is None:
                    raise ValueError(f"anomaly {rec.kind} rewrites lines but declares no rewrite function")
                device_lines = rewrite(device_lines, rec)
        yield from device_lines
