"""Seeded simulated fleets: enterprises from every requested scenario pack, and their telemetry.

The packs are found by `wuxin.scenarios.scenario_packs()`; nothing here names a scenario.
"""
from __future__ import annotations

import random
from typing import Iterator

from wuxin.scenarios import scenario_packs
from wuxin.sim.patterns import COMMON_ANOMALIES, AnomalyRecord, AnomalySpec, check_fleet_unique
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


def fleet_telemetry(fleet: list[EnterpriseSpec], start_ms: int, end_ms: int, seed: int,
                    anomalies: list[AnomalyRecord] | None = None) -> Iterator[dict]:
    """Every enterprise's bulk-import lines in turn (time-ordered per device), with the
    labelled `anomalies` (see `plan_anomalies`) applied when given."""
    packs = scenario_packs()
    for enterprise in fleet:
        lines = packs[enterprise.industry].sim().telemetry(enterprise, start_ms, end_ms, seed)
        mine = [a for a in anomalies or () if a.enterprise_uscc == enterprise.uscc]
        yield from inject(lines, mine) if mine else lines


def anomaly_kinds(enterprise: EnterpriseSpec) -> dict[str, AnomalySpec]:
    """The anomalies that can be injected into an enterprise: common ones plus its pack's own."""
    own = getattr(scenario_packs()[enterprise.industry].sim(), "ANOMALIES", {})
    return {**COMMON_ANOMALIES, **own}


def plan_anomalies(fleet: list[EnterpriseSpec], kinds: list[str], start_ms: int, end_ms: int, seed: int) -> list[AnomalyRecord]:
    """One labelled anomaly per kind, placed in a fleet enterprise whose pack supports it.
    Pass the records to `fleet_telemetry(..., anomalies=records)`; they are the ground truth."""
    rng = random.Random(f"wuxin-anomalies|{seed}")
    records = []
    for kind in kinds:
        hosts = [e for e in fleet if kind in anomaly_kinds(e)]
        if not hosts:
            raise KeyError(f"no enterprise in the fleet supports anomaly {kind!r}")
        enterprise = rng.choice(hosts)
        spec = anomaly_kinds(enterprise)[kind]
        pool = [d for d in enterprise.devices if spec.device_type in ("*", d.device_type)]
        devices = rng.sample(pool, max(1, round(spec.share * len(pool))))
        duration = rng.randint(*spec.duration_s) * 1000
        t0 = rng.randint(start_ms, max(start_ms, end_ms - max(min(duration, (end_ms - start_ms) // 2), 3_600_000)))
        values = spec.values(devices[0]) if callable(spec.values) else {}
        records.append(AnomalyRecord(kind, enterprise.uscc, tuple(sorted(d.key for d in devices)), t0,
                                     t0 + duration, spec.effect, dict(values), spec.tamper))
    return records


def inject(lines: Iterator[dict], records: list[AnomalyRecord]) -> Iterator[dict]:
    """Apply the anomalies to a line stream (time-ordered per device)."""
    by_device: dict[str, list[AnomalyRecord]] = {}
    for rec in records:
        for key in rec.devices:
            by_device.setdefault(key, []).append(rec)
    marked: set[tuple[str, int]] = set()
    done_once: set[tuple[str, int]] = set()
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
                line = {**line, "values": {**line["values"], **{k: v for k, v in rec.values.items() if k in line["values"]}}}
            elif "values" in line and rec.effect == "offset" and rec.start_ms <= ts and (line["device"], i) not in done_once:
                if rec.end_ms == rec.start_ms:
                    done_once.add((line["device"], i))
                elif ts >= rec.end_ms:
                    continue
                shifted = {k: round(line["values"][k] + v, 6) for k, v in rec.values.items() if k in line["values"]}
                line = {**line, "values": {**line["values"], **shifted}}
        if not drop:
            yield line
