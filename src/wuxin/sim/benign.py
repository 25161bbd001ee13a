"""Benign events: what healthy plants, farms and fleets do that is no risk, labelled so a bench can count the false
alarms inside them apart (issue 15, item 6).

Each event is an `AnomalyRecord` whose kind is one of BENIGN_KINDS (devices empty: the whole enterprise):

  holiday, makeup_workday  the official PRC calendar's days in the window (wuxin.calendars.official); the simulators
                           already run light on holidays and work a make-up weekend day (patterns.work_factor,
                           patterns.work_weekday): the record only names the day
  rest_day                 a weekday the firm rests on (its pack's REST_WEEKDAYS or rest_weekdays(enterprise)), not
                           a make-up working day
  maintenance_declared     a planned stop, declared through the firm calendar before it starts (a `calendar_period`
                           action): a whole plant (the pack's MAINTENANCE scope "plant", its simulator switches every
                           machine off) or one device powered down for service (scope "device": no line from it)
  maintenance_undeclared   the same stop nobody declared. Decision: an alarm on it is wanted (the bank sees a plant
                           stop or a device gone quiet it was not told of; the firm answers and the officer closes
                           it), so a bench counts such an alarm as true on another kind's label, never as false
  refuelling, cull, calving  the packs' own (`benign_events(enterprise, start_ms, end_ms, seed)`): a truck's
                           service-area stop, a cow sold (collar and tag stop for good, decommissioned), a heifer
                           joining the milking herd (collar and tag installed then) or a dry cow calving
  counter_reset            a cumulative counter's device replaced (the pack's COUNTERS): nothing for 15-45 min,
                           then the counter starts again from 0
  counter_rollover         the counter's register wraps at the next power of ten (999 999.9 -> 0.3)
  reboot                   every `reboot` event the devices send: no line for 1-6 min after it, and a counter
                           kept in volatile memory (half the output counters) starts again from 0

`plan_benign` draws them (seeded, never on the devices of a risk label within a day of it); `apply_benign` changes
the lines (both the labelled and the clean stream, so a bench's "the label changed the data" test still holds) and
returns the reboot records it found; `calendar_actions` lists what the firm's side records in the platform
(declared periods, service dates). The assumptions behind each figure are in docs/design.md, "Benign events".
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from wuxin.calendars.official import CalendarNotCovered, official_day_number
from wuxin.indicators.days import DAY_MS, HOUR_MS
from wuxin.scenarios import scenario_packs
from wuxin.sim import patterns as P
from wuxin.sim.patterns import AnomalyRecord
from wuxin.sim.spec import EnterpriseSpec

MINUTE_MS = P.MINUTE_MS
BENIGN_KINDS = (
    "holiday",
    "makeup_workday",
    "rest_day",
    "maintenance_declared",
    "maintenance_undeclared",
    "refuelling",
    "cull",
    "calving",
    "counter_reset",
    "counter_rollover",
    "reboot",
)
REBOOT_GAP_MIN = (1, 6)  # an embedded terminal boots and its modem re-attaches in a few minutes
SWAP_GAP_MIN = (15, 45)  # an electrician swaps a DIN-rail meter (or a fitter a terminal) in half an hour or so
VOLATILE_COUNTER_SHARE = 0.5  # output counters whose count lives in RAM and restarts at 0 after a reboot


def plan_benign(
    fleet: list[EnterpriseSpec], start_ms: int, end_ms: int, seed: int, avoid: Sequence[AnomalyRecord] = ()
) -> list[AnomalyRecord]:
    """Every benign event of the fleet in [start_ms, end_ms): calendar days, each pack's own events, maintenance
    stops and counter resets (never on a device or firm a record of `avoid` touches within a day)."""
    packs = scenario_packs()
    out: list[AnomalyRecord] = []
    planned_stops = 0
    for enterprise in fleet:
        sim = packs[enterprise.industry].sim()
        out += calendar_events(enterprise, sim, start_ms, end_ms)
        own = getattr(sim, "benign_events", None)
        mine = [a for a in avoid if a.enterprise_uscc == enterprise.uscc]
        if own:
            out += [r for r in own(enterprise, start_ms, end_ms, seed) if not any(_near(r, a) for a in mine)]
        r = random.Random(f"benign|{seed}|{enterprise.uscc}")
        scope = getattr(sim, "MAINTENANCE", None)
        if scope:
            declared = planned_stops % 2 == 0  # the first firm of the fleet able to stop declares, the next does not
            stop = _maintenance(r, enterprise, scope, start_ms, end_ms, declared, mine)
            if stop is not None:
                out.append(stop)
                planned_stops += 1
        counters = getattr(sim, "COUNTERS", {})
        if counters and r.random() < 0.7:
            event = _counter_event(r, enterprise, counters, start_ms, end_ms, mine)
            if event is not None:
                out.append(event)
    return out


def _near(record: AnomalyRecord, label: AnomalyRecord) -> bool:
    shared = not record.devices or not label.devices or set(record.devices) & set(label.devices)
    return bool(shared) and record.start_ms - DAY_MS <= label.end_ms and label.start_ms - DAY_MS <= record.end_ms


def calendar_events(enterprise: EnterpriseSpec, sim, start_ms: int, end_ms: int) -> list[AnomalyRecord]:
    """Holidays and make-up working days of the official calendar, and the firm's rest days, as whole-enterprise
    records of one local day each."""
    rest_of = getattr(sim, "rest_weekdays", None)
    rest: frozenset[int] = rest_of(enterprise) if callable(rest_of) else getattr(sim, "REST_WEEKDAYS", frozenset())
    out = []
    first, last = int(P.local_day(np.int64(start_ms))), int(P.local_day(np.int64(end_ms - 1)))
    for day in range(first, last + 1):
        try:
            official = official_day_number(day)
        except CalendarNotCovered:
            official = None
        kind = None
        if official is not None and official.kind == "holiday":
            kind = "holiday"
        elif official is not None and official.makeup:
            kind = "makeup_workday"
        elif P.date_of_day(day).weekday() in rest:
            kind = "rest_day"
        if kind:
            facts = (
                {"holiday": {"en": official.holiday_en, "zh": official.holiday_zh}}
                if official and official.holiday_en
                else {}
            )
            out.append(
                AnomalyRecord(
                    kind,
                    enterprise.uscc,
                    (),
                    P.day_ms(day),
                    P.day_ms(day + 1),
                    "calendar",
                    {},
                    facts=facts,
                    expect="the firm works light or not at all (holiday, rest day) or works a weekend day",
                )
            )
    return out


def _working_days(first: int, last: int, rest: frozenset = frozenset({5, 6})) -> list[int]:
    out = []
    for day in range(first, last + 1):
        try:
            official = official_day_number(day)
            working = official.working
        except CalendarNotCovered:
            working = P.date_of_day(day).weekday() not in rest
        if working:
            out.append(day)
    return out


def _maintenance(
    r: random.Random, enterprise: EnterpriseSpec, scope: dict, start_ms: int, end_ms: int, declared: bool, avoid: list
) -> AnomalyRecord | None:
    """A planned stop on working days: the plant for 1-2 days from 08:00 (looms and presses overhauled), or one
    device for 4-8 h from 09:00 (an inverter serviced)."""
    kind = "maintenance_declared" if declared else "maintenance_undeclared"
    days = _working_days(int(P.local_day(np.int64(start_ms))) + 2, int(P.local_day(np.int64(end_ms - 1))) - 3)
    pool = [d for d in enterprise.devices if scope.get("device_type") in (None, d.device_type)]
    for _ in range(20):
        if not days or not pool:
            return None
        day = r.choice(days)
        devices: tuple[str, ...]
        if scope["scope"] == "plant":
            t0, devices = P.day_ms(day) + 8 * HOUR_MS, ()
            t1 = t0 + r.randint(1, 2) * DAY_MS
            effect = "sim"
        else:
            t0 = P.day_ms(day) + 9 * HOUR_MS
            t1, devices, effect = t0 + int(r.uniform(4, 8) * HOUR_MS), (r.choice(pool).key,), "silence"
        record = AnomalyRecord(
            kind,
            enterprise.uscc,
            devices,
            t0,
            t1,
            effect,
            {},
            facts={"declared": declared, "scope": scope["scope"]},
            expect=("declared in the firm calendar before it starts; " if declared else "declared nowhere; ")
            + ("every machine off, the plant on its base load" if not devices else "the device sends nothing"),
        )
        if not any(_near(record, a) for a in avoid):
            return record
    return None


def _counter_event(
    r: random.Random, enterprise: EnterpriseSpec, counters: dict, start_ms: int, end_ms: int, avoid: list
) -> AnomalyRecord | None:
    pool = [d for d in enterprise.devices if d.device_type in counters]
    for _ in range(20):
        if not pool:
            return None
        device = r.choice(pool)
        t = r.randint(start_ms + 2 * DAY_MS, end_ms - 3 * DAY_MS)
        if r.random() < 0.5:
            gap = int(r.uniform(*SWAP_GAP_MIN) * MINUTE_MS)
            record = AnomalyRecord(
                "counter_reset",
                enterprise.uscc,
                (device.key,),
                t,
                t + gap,
                "reset",
                {},
                facts={"key": counters[device.device_type]},
                expect="the device replaced: no line from start to end, then the counter from 0",
            )
        else:
            record = AnomalyRecord(
                "counter_rollover",
                enterprise.uscc,
                (device.key,),
                t,
                t + DAY_MS,
                "rollover",
                {},
                facts={"key": counters[device.device_type]},
                expect="the counter's register wraps at the next power of ten at its first step "
                "after start (a parked truck's odometer or a PV meter at night: later)",
            )
        if not any(_near(record, a) for a in avoid):
            return record
    return None


def calendar_actions(records: list[AnomalyRecord]) -> list[dict]:
    """What the firm's side records in the platform, in time order: {"at_ms", "action": "period", "uscc", "period"}
    (declared a week before the stop, or at the window's start if sooner) and {"at_ms", "action": "service_dates",
    "device", "installed_ms" | "decommissioned_ms"} (recorded when it happens)."""
    out = []
    for rec in records:
        if rec.kind == "maintenance_declared":
            period = {
                "kind": "maintenance",
                "start_ms": rec.start_ms,
                "end_ms": rec.end_ms,
                "note": "planned maintenance / 计划检修",
            }
            if rec.devices:
                period["device"] = rec.devices[0]
            out.append(
                {"at_ms": rec.start_ms - 7 * DAY_MS, "action": "period", "uscc": rec.enterprise_uscc, "period": period}
            )
        for name in ("installed_ms", "decommissioned_ms"):
            if name in rec.facts:
                out += [
                    {"at_ms": rec.facts[name], "action": "service_dates", "device": key, name: rec.facts[name]}
                    for key in rec.devices
                ]
    return sorted(out, key=lambda a: a["at_ms"])


def apply_benign(
    lines: list[dict], records: list[AnomalyRecord], seed: int, owners: dict[str, str]
) -> tuple[list[dict], list[AnomalyRecord]]:
    """`owners`: {device key: its enterprise's USCC}. The lines with the benign events' effects (culls, heifers joining, device maintenance, counter resets and
    rollovers, reboots' gaps and volatile counters), and the reboot records found. Lines keep their order per device."""
    by_device: dict[str, list[AnomalyRecord]] = defaultdict(list)
    animals_gone: dict[str, int] = {}
    animals_joined: dict[str, int] = {}
    for rec in records:
        if rec.effect == "cull":
            animals_gone[rec.facts["animal_id"]] = rec.start_ms
        elif rec.effect == "join":
            animals_joined[rec.facts["animal_id"]] = rec.start_ms
        if rec.effect in ("cull", "join", "silence", "reset", "rollover"):
            for key in rec.devices:
                by_device[key].append(rec)
    grouped: dict[str, list[dict]] = defaultdict(list)
    for line in lines:
        grouped[line["device"]].append(line)
    out, reboots = [], []
    for key, mine in grouped.items():
        for rec in by_device.get(key, ()):
            mine = _apply_one(mine, rec)
        if animals_gone or animals_joined:
            mine = [l for l in mine if not _animal_absent(l, animals_gone, animals_joined)]
        mine, found = _reboots(key, owners.get(key, ""), mine, seed)
        reboots += found
        out += mine
    return out, reboots


def _animal_absent(line: dict, gone: dict[str, int], joined: dict[str, int]) -> bool:
    """A milk meter's or a tag reader's record of a cow already sold, or of a heifer not yet in the milking herd."""
    animal = (line.get("values") or {}).get("animal_id")
    if animal is None:
        return False
    return (animal in gone and line["ts"] >= gone[animal]) or (animal in joined and line["ts"] < joined[animal])


def _apply_one(lines: list[dict], rec: AnomalyRecord) -> list[dict]:
    if rec.effect == "cull":
        return [l for l in lines if l["ts"] < rec.start_ms]
    if rec.effect == "join":
        return [l for l in lines if l["ts"] >= rec.start_ms]
    if rec.effect == "silence":
        return [l for l in lines if not rec.start_ms <= l["ts"] < rec.end_ms]
    key = rec.facts["key"]
    if rec.effect == "reset":
        kept = [l for l in lines if not rec.start_ms <= l["ts"] < rec.end_ms]
        before = [l["values"][key] for l in kept if "values" in l and key in l["values"] and l["ts"] < rec.start_ms]
        base = before[-1] if before else 0
        return [_shift(l, key, -base) if l["ts"] >= rec.end_ms else l for l in kept]
    # rollover: the register holds `digits` figures; shift the series so it wraps at start
    at = [l["values"][key] for l in lines if "values" in l and key in l["values"] and l["ts"] < rec.start_ms]
    if not at:
        return lines
    wrap = 10 ** max(len(str(int(at[-1]))), 1)
    lift = wrap - at[-1] - 0.05 * (at[-1] - at[0]) / max(len(at), 1) - 0.1
    return [_wrap(l, key, lift, wrap) for l in lines]


def _round_like(value, like):
    return int(round(value)) if isinstance(like, int) else round(value, 3)


def _shift(line: dict, key: str, by: float) -> dict:
    if "values" not in line or key not in line["values"]:
        return line
    v = line["values"][key]
    return {**line, "values": {**line["values"], key: _round_like(max(v + by, 0), v)}}


def _wrap(line: dict, key: str, lift: float, wrap: int) -> dict:
    if "values" not in line or key not in line["values"]:
        return line
    v = line["values"][key]
    return {**line, "values": {**line["values"], key: _round_like(math.fmod(max(v + lift, 0), wrap), v)}}


def _reboots(key: str, uscc: str, lines: list[dict], seed: int) -> tuple[list[dict], list[AnomalyRecord]]:
    """After each `reboot` event no line for 1-6 min; a volatile counter (output_count_total on half the counters)
    starts again from 0."""
    events = [l["ts"] for l in lines if l.get("event") == "reboot"]
    if not events:
        return lines, []
    r = random.Random(f"reboot|{seed}|{key}")
    volatile = r.random() < VOLATILE_COUNTER_SHARE
    gaps = [(t, t + int(r.uniform(*REBOOT_GAP_MIN) * MINUTE_MS)) for t in events]
    out, lost, last = [], 0, None
    g = 0
    for line in lines:
        while g < len(gaps) and line["ts"] >= gaps[g][1]:
            if volatile and last is not None:
                lost = last  # the count so far is gone; the counter starts again from 0
            g += 1
        if "values" in line and g < len(gaps) and gaps[g][0] < line["ts"] < gaps[g][1]:
            continue
        if volatile and "values" in line and "output_count_total" in line["values"]:
            last = line["values"]["output_count_total"]
            line = _shift(line, "output_count_total", -lost)
        out.append(line)
    return out, [
        AnomalyRecord("reboot", uscc, (key,), t0, t1, "reboot", {}, expect="a reboot event, no line for a few minutes")
        for t0, t1 in gaps
    ]
