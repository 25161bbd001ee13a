"""Dairy simulator: a herd of Holstein cows on a northern farm.

Each cow has a lactation stage (days in milk) and parity; her daily yield follows Wood's
lactation curve y = a * d^b * exp(-c d), split over two or three milkings a day. Collars
report hourly activity, rumination and body temperature with the herd's daily rhythm
(walking to the parlour, feeding after each milking, resting and ruminating at night),
21-day oestrus cycles, heat stress from the barn temperature, and sickness episodes
(fever, less rumination, less milk). Ear tags are read at the parlour entrance at each
milking; milk meters record each cow's milking; barn sensors follow the local climate;
the TMR wagon loads after each milking. Latent health sets yields, sickness and, for
failing farms, a herd sell-off: collars of sold cows are cut off (tamper) and fall silent.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np

from wuxin.sim import patterns as P
from wuxin.sim.spec import DeviceSpec, EnterpriseSpec, SiteSpec, make_uscc

DEFAULT_INTERVALS_S = {"dairy.collar": 3600, "dairy.env_sensor": 600}

PLACES = (
    P.Place("内蒙古自治区呼和浩特市和林格尔县", "和林格尔", 40.379, 111.822, "150123", 1100),
    P.Place("内蒙古自治区呼和浩特市土默特左旗", "土默特左旗", 40.720, 111.163, "150121", 1000),
    P.Place("内蒙古自治区巴彦淖尔市临河区", "巴彦淖尔", 40.751, 107.388, "150802", 1040),
    P.Place("宁夏回族自治区吴忠市利通区", "吴忠", 37.985, 106.199, "640302", 1130),
    P.Place("黑龙江省齐齐哈尔市甘南县", "甘南", 47.922, 123.507, "230225", 180),
    P.Place("河北省石家庄市行唐县", "行唐", 38.438, 114.553, "130125", 120),
)
MILKINGS = {2: (5.5, 17.5), 3: (4.5, 12.5, 20.5)}  # local session start hours
RATIONS = ("泌乳牛高产TMR", "泌乳牛中产TMR", "干奶牛TMR")


FEVER_C = 39.5


def _sick_facts(
    rng: random.Random, enterprise: EnterpriseSpec, collars: list[DeviceSpec], start_ms: int, end_ms: int
) -> dict:
    return {
        "collars": sorted(d.key for d in collars),
        "animal_ids": sorted(d.attributes["animal_id"] for d in collars),
        "fever_c": FEVER_C,
        "rumination_factor": 0.55,
        "activity_factor": 0.6,
        "milk_factor": 0.65,
    }


def _with_milk_meters(enterprise: EnterpriseSpec, collars: list[DeviceSpec]) -> list[DeviceSpec]:
    return collars + [d for d in enterprise.devices if d.device_type == "dairy.milk_meter"]


def fall_sick(lines: list[dict], record) -> list[dict]:
    """sick_animals: from start to end the sick cows' collars read a fever (>= FEVER_C, about 1.3 C up), less
    rumination and activity, and the milk meters record less of their milk."""
    f = record.facts
    collar = lines and lines[0]["device"] in f["collars"]
    sick = set(f["animal_ids"])
    out = []
    for l in lines:
        if "values" in l and record.start_ms <= l["ts"] < record.end_ms:
            v = l["values"]
            if collar:
                v = {
                    **v,
                    **(
                        {"body_temp_c": round(min(max(v["body_temp_c"] + 1.3, f["fever_c"] + 0.05), 42.0), 2)}
                        if "body_temp_c" in v
                        else {}
                    ),
                    **(
                        {"rumination_min": round(v["rumination_min"] * f["rumination_factor"], 1)}
                        if "rumination_min" in v
                        else {}
                    ),
                    **(
                        {"activity_steps": int(round(v["activity_steps"] * f["activity_factor"]))}
                        if "activity_steps" in v
                        else {}
                    ),
                }
            elif v.get("animal_id") in sick and "milk_kg" in v:
                v = {**v, "milk_kg": round(v["milk_kg"] * f["milk_factor"], 2)}
            l = {**l, "values": v}
        out.append(l)
    return out


ANOMALIES = {  # labelled anomalies this pack can inject (see wuxin.sim.fleet.plan_anomalies)
    "herd_drop": P.AnomalySpec(
        "dairy.collar",
        "silence",
        (3 * 86400, 7 * 86400),
        share=0.3,
        expect="a share of the herd's collars silent from start to end, no tamper event",
    ),
    "sick_animals": P.AnomalySpec(
        "dairy.collar",
        "rewrite",
        (3 * 86400, 6 * 86400),
        share=0.04,
        facts=_sick_facts,
        widen=_with_milk_meters,
        rewrite=fall_sick,
        expect="the listed cows' body_temp_c >= fever_c on every collar reading from start to end, "
        "rumination_min and activity_steps scaled down by their factors, and their milk_kg "
        "at the milk meters scaled by milk_factor",
    ),
    "fabricated_copy": P.fabricated_copy("dairy.milk_meter"),
    "fabricated_smooth": P.fabricated_smooth(
        "dairy.collar",
        lambda d: {
            "body_temp_c": {"mean": 38.6, "amplitude": 0.2, "peak_hour": 17.0, "decimals": 2},
            "rumination_min": {"mean": 24.0, "amplitude": 8.0, "peak_hour": 2.0, "decimals": 1},
            "activity_steps": {"mean": 260.0, "amplitude": 120.0, "peak_hour": 12.0, "decimals": 0},
        },
    ),
}

CULL_RATE_PER_COW_DAY = 0.33 / 365  # about a third of a dairy herd is replaced each year
FIRST_CALVING_SHARE = 0.35  # of the calvings, heifers joining the milking herd (fitted with a collar and a tag then)
CALVING_RATE_PER_COW_DAY = 1 / 395  # a calving interval of about 13 months


def benign_events(enterprise: EnterpriseSpec, start_ms: int, end_ms: int, seed: int) -> list[P.AnomalyRecord]:
    """No-risk herd events: culls (a cow sold for slaughter on the cattle trader's day, 09:00-12:00: her collar and tag
    are taken off and stop for good, the farm records the decommission date; effect "cull"), heifers calving into the
    milking herd (fitted with a collar and an ear tag when they calve, installed then; effect "join": the devices send
    nothing before), and the dry cows the simulator lets calve on their own (effect "calendar": the data already hold
    it). Drawn from a stream of their own, so the herd's data do not change with them."""
    r = P.py_rng_for(seed, enterprise.uscc, "herd-events")
    collars = [d for d in enterprise.devices if d.device_type == "dairy.collar"]
    tags = {d.attributes["animal_id"]: d.key for d in enterprise.devices if d.device_type == "dairy.ear_tag"}
    days = (end_ms - start_ms) / P.DAY_MS
    out: list[P.AnomalyRecord] = []
    calved: dict = {}
    for _ in telemetry(enterprise, start_ms, end_ms, seed, calvings=calved):
        pass
    pool = list(collars)
    r.shuffle(pool)
    culls = min(len(pool) // 10, _poisson(r, CULL_RATE_PER_COW_DAY * len(collars) * days))
    heifers = min(len(pool) // 10, _poisson(r, FIRST_CALVING_SHARE * CALVING_RATE_PER_COW_DAY * len(collars) * days))
    first_day = int(P.local_day(np.int64(start_ms))) + 2
    last_day = int(P.local_day(np.int64(end_ms - 1))) - 1
    for n, collar in enumerate(pool[: culls + heifers]):
        animal = collar.attributes["animal_id"]
        devices = tuple(sorted({collar.key, tags.get(animal, collar.key)}))
        if n < culls:
            t = P.day_ms(r.randint(first_day, last_day)) + int(r.uniform(9, 12) * P.HOUR_MS)
            out.append(
                P.AnomalyRecord(
                    "cull",
                    enterprise.uscc,
                    devices,
                    t,
                    t + P.HOUR_MS,
                    "cull",
                    {},
                    facts={"animal_id": animal, "decommissioned_ms": t},
                    expect="the cow's collar, tag and milk records stop for good at start; her devices "
                    "are decommissioned at start",
                )
            )
        else:
            t = r.randint(P.day_ms(first_day), P.day_ms(last_day))
            out.append(
                P.AnomalyRecord(
                    "calving",
                    enterprise.uscc,
                    devices,
                    t,
                    t + 6 * P.HOUR_MS,
                    "join",
                    {},
                    facts={"animal_id": animal, "installed_ms": t, "first_calving": True},
                    expect="a heifer calves and joins the milking herd: her collar and tag are installed "
                    "at start and report from then on; the herd grows by one",
                )
            )
    joined = {d for rec in out for d in rec.devices}
    for collar in collars:
        calved_at = calved.get(collar.key)
        if calved_at is not None and collar.key not in joined and start_ms <= calved_at < end_ms:
            out.append(
                P.AnomalyRecord(
                    "calving",
                    enterprise.uscc,
                    (collar.key,),
                    calved_at,
                    calved_at + 6 * P.HOUR_MS,
                    "calendar",
                    {},
                    facts={"animal_id": collar.attributes["animal_id"], "first_calving": False},
                    expect="a dry cow calves: milked again from then on",
                )
            )
    return out


def _poisson(r: random.Random, mean: float) -> int:
    """A Poisson draw from a Python generator (Knuth; the means here are small)."""
    limit, k, p = np.exp(-mean), 0, 1.0
    while True:
        p *= r.random()
        if p <= limit:
            return k
        k += 1


def build_enterprise(rng: random.Random, index: int) -> EnterpriseSpec:
    place = rng.choice(PLACES)
    name = P.company_name(rng, place, ("牧业", "奶牛养殖", "乳业", "生态牧业"), ("有限公司", "有限责任公司"))
    lat, lon = P.jitter(rng, place.lat, place.lon, 10)
    site = SiteSpec(f"{name}牧场", place.region, lat, lon)
    mode = P.choose_source_mode(rng)
    prefix = P.key_prefix("dai", index, rng)
    devices = []
    for c in range(rng.randint(60, 140)):
        animal = f"{rng.randint(15, 23):02d}{rng.randrange(10**4):04d}{c:03d}"
        devices.append(
            DeviceSpec(f"{prefix}-collar-{c + 1:03d}", "dairy.collar", site.name, mode, {"animal_id": animal})
        )
        devices.append(DeviceSpec(f"{prefix}-tag-{c + 1:03d}", "dairy.ear_tag", site.name, mode, {"animal_id": animal}))
    for m in range(rng.randint(2, 4)):
        devices.append(
            DeviceSpec(f"{prefix}-milkmeter-{m + 1}", "dairy.milk_meter", site.name, mode, {"parlour_id": "P1"})
        )
    for b in range(rng.randint(2, 3)):
        devices.append(
            DeviceSpec(f"{prefix}-env-{b + 1}", "dairy.env_sensor", site.name, mode, {"barn_id": f"B{b + 1}"})
        )
    for f in range(rng.randint(1, 2)):
        devices.append(
            DeviceSpec(f"{prefix}-tmr-{f + 1}", "dairy.tmr_feeder", site.name, mode, {"ration": RATIONS[f % 2]})
        )
    return EnterpriseSpec(
        name, make_uscc(rng, place.code), "dairy", place.region, P.choose_health(rng), (site,), tuple(devices)
    )


def _place_of(enterprise: EnterpriseSpec) -> P.Place:
    return next((p for p in PLACES if p.region == enterprise.region), PLACES[0])


SICK_RATE_PER_DAY = {"growing": 0.003, "stable": 0.004, "declining": 0.008, "failing": 0.015}


def sickness(enterprise: EnterpriseSpec, ts_h: np.ndarray, seed: int, interval_s: int) -> np.ndarray:
    """Cows x collar hours: True where a cow is sick of her own accord (mastitis, lameness ...), episodes of about
    5 days, more often on a struggling farm; drawn from a stream of its own so `natural_anomalies` can name them."""
    r = P.rng_for(seed, enterprise.uscc, "sickness")
    n = sum(1 for d in enterprise.devices if d.device_type == "dairy.collar")
    rate = SICK_RATE_PER_DAY[enterprise.health] * interval_s / 86400
    return np.array(
        [P.segments_mask(r, len(ts_h), rate, 5 * 86400 / interval_s) for _ in range(n)], dtype=bool
    ).reshape(n, len(ts_h))


def natural_anomalies(
    enterprise: EnterpriseSpec, start_ms: int, end_ms: int, seed: int, intervals_s: dict[str, int] | None = None
) -> list[P.AnomalyRecord]:
    """The sickness episodes `telemetry` simulates on its own, as sick_animals records: real events a lender's risk
    officer would want flagged, not noise. A cow sold before her episode sends nothing then; the record still says
    she was sick."""
    interval_s = {**DEFAULT_INTERVALS_S, **(intervals_s or {})}["dairy.collar"]
    ts_h = P.grid(start_ms, end_ms, interval_s * 1000)
    collars = [d for d in enterprise.devices if d.device_type == "dairy.collar"]
    out = []
    for collar, sick in zip(collars, sickness(enterprise, ts_h, seed, interval_s)):
        edges = np.flatnonzero(np.diff(np.concatenate(([0], sick.astype(np.int8), [0]))))
        for first, stop in zip(edges[::2], edges[1::2]):
            t0, t1 = int(ts_h[first]), int(ts_h[stop - 1]) + interval_s * 1000
            out.append(
                P.AnomalyRecord(
                    "sick_animals",
                    enterprise.uscc,
                    (collar.key,),
                    t0,
                    t1,
                    "natural",
                    {},
                    facts={"animal_ids": [collar.attributes["animal_id"]], "natural": True},
                    expect="the cow's body temperature about 1-2 C above the herd's, less rumination, "
                    "activity and milk, from start to end",
                )
            )
    return out


def wood_daily_kg(dim: np.ndarray, parity: np.ndarray) -> np.ndarray:
    """Wood's lactation curve; first-lactation heifers peak lower and later."""
    a = np.where(parity == 1, 13.0, 16.5)
    b = np.where(parity == 1, 0.20, 0.23)
    c = np.where(parity == 1, 0.0025, 0.0037)
    d = np.maximum(dim, 1.0)
    return a * d**b * np.exp(-c * d)


def _thi(temp_c: np.ndarray, rh: np.ndarray) -> np.ndarray:
    return (1.8 * temp_c + 32) - (0.55 - 0.0055 * rh) * (1.8 * temp_c - 26)


def telemetry(
    enterprise: EnterpriseSpec,
    start_ms: int,
    end_ms: int,
    seed: int,
    *,
    intervals_s: dict[str, int] | None = None,
    truth: dict | None = None,
    calvings: dict | None = None,
) -> Iterator[dict]:
    """Lines of every device; `truth`, when given, receives {(uscc, local day): cows whose tag was read};
    `calvings`, when given, receives {collar key: epoch ms} of the dry cows that calve in the window (their
    lactation starts again: tag reads move from the sorting gate to the parlour, the milk meters record them)."""
    iv = {**DEFAULT_INTERVALS_S, **(intervals_s or {})}
    place = _place_of(enterprise)
    health = enterprise.health
    er = P.rng_for(seed, enterprise.uscc, "farm")
    collars = [d for d in enterprise.devices if d.device_type == "dairy.collar"]
    tags = {d.attributes["animal_id"]: d for d in enterprise.devices if d.device_type == "dairy.ear_tag"}
    meters = [d for d in enterprise.devices if d.device_type == "dairy.milk_meter"]
    n = len(collars)
    n_milk = 3 if er.random() < 0.6 else 2

    # climate and barn
    ts_env = P.grid(start_ms, end_ms, iv["dairy.env_sensor"] * 1000)
    if len(ts_env) == 0:
        return
    outdoor = P.climate_temp_c(place.lat, place.altitude_m, ts_env, er)
    barn_t = np.where(outdoor < 5, outdoor + (5 - outdoor) * 0.55, outdoor + 1.0)
    rh = np.clip(70 - 1.2 * (barn_t - barn_t.mean()) + P.smooth_noise(er, len(ts_env), 6, 0.98), 20, 98)

    # herd traits
    dim0 = er.uniform(0, 365, n)
    parity = er.choice([1, 2, 3, 4, 5], n, p=[0.35, 0.28, 0.2, 0.12, 0.05])
    farm_yield = {"growing": 1.05, "stable": 1.0, "declining": 0.9, "failing": 0.85}[health] * er.uniform(0.9, 1.05)
    gone_at = np.full(n, np.iinfo(np.int64).max)  # sold or lost cows
    lost_share = {"failing": er.uniform(0.15, 0.35), "declining": er.uniform(0.0, 0.06)}.get(health, 0.0)
    if lost_share:
        span = end_ms - start_ms
        who = er.random(n) < lost_share
        when = start_ms + (er.uniform(0.45, 0.9) * span if health == "failing" else er.uniform(0.1, 0.95, n) * span)
        gone_at = np.where(who, np.asarray(when + er.normal(0, 3 * P.HOUR_MS, n), dtype=np.int64), gone_at)
    oestrus_phase = er.uniform(0, 21, n)
    if calvings is not None:
        due = start_ms + ((365 - dim0 % 365) * P.DAY_MS).astype(np.int64)
        calvings.update({c.key: int(t) for c, t, gone in zip(collars, due, gone_at) if t < min(end_ms, gone)})

    # collars: hourly matrix cows x hours
    ts_h = P.grid(start_ms, end_ms, iv["dairy.collar"] * 1000)
    hour = P.local_hour(ts_h)
    days_since = (ts_h - start_ms) / P.DAY_MS
    dim = dim0[:, None] + days_since[None, :]
    env_at_h = np.searchsorted(ts_env, ts_h).clip(0, len(ts_env) - 1)
    thi = _thi(barn_t, rh)[env_at_h]
    heat = np.clip((thi - 72) / 10, 0, 1.5)[None, :]
    sick = sickness(enterprise, ts_h, seed, iv["dairy.collar"])
    cyc = (dim % 21 - oestrus_phase[:, None]) % 21
    oestrus = (cyc < 0.7) & ((dim % 365) > 45) & ((dim % 365) < 200)

    rhythm = np.full_like(hour, 0.35)
    for m in MILKINGS[n_milk]:
        rhythm += 1.6 * np.exp(-0.5 * ((hour - m - 0.7) / 0.8) ** 2)
    rhythm += 0.5 * ((hour > 7) & (hour < 19))
    activity = 160 * rhythm[None, :] * er.lognormal(0, 0.2, (n, 1)) * (1 + 1.6 * oestrus) * (1 - 0.45 * sick)
    activity = np.clip(activity * er.lognormal(0, 0.15, activity.shape), 0, 9000).round()
    rum_rhythm = np.clip(34 - 14 * rhythm, 4, 40)
    rumination = (
        rum_rhythm[None, :] * (1 - 0.45 * oestrus - 0.5 * sick - 0.15 * heat) * er.lognormal(0, 0.12, activity.shape)
    )
    rumination = np.clip(rumination, 0, 60)
    temp = (
        38.55
        + 0.25 * np.cos(2 * np.pi * (hour - 17) / 24)[None, :]
        + 0.5 * heat
        + 1.6 * sick * er.uniform(0.6, 1.2, (n, 1))
        + 0.3 * oestrus
        + er.normal(0, 0.08, activity.shape)
    )
    temp = np.clip(temp, 30, 45)

    for i, dev in enumerate(collars):
        r = P.rng_for(seed, dev.key)
        alive = ts_h < gone_at[i]
        ts_i = ts_h[alive]
        cols = {
            "activity_steps": activity[i, alive],
            "rumination_min": rumination[i, alive],
            "body_temp_c": temp[i, alive],
            **P.status_columns(r, ts_i, every_ms=6 * P.HOUR_MS),
        }
        values = P.lines_from_arrays(
            dev.key, ts_i, cols, {"activity_steps": 0, "rumination_min": 1, "battery_pct": 1, "rssi_dbm": 0}
        )
        gone: list[tuple[int, str, dict]] = [(int(gone_at[i]), "tamper", {})] if gone_at[i] < end_ms else []
        yield from P.device_stream(dev.key, r, start_ms, min(end_ms, int(gone_at[i])), health, values, gone)

    # milkings: one record per lactating cow per session
    first_day, last_day = int(P.local_day(np.int64(start_ms))), int(P.local_day(np.int64(end_ms - 1)))
    order = er.permutation(n)
    pos = order.argsort()  # each cow's place in the parlour queue
    session_min = max(n / 1.6, 30.0)  # a 20-stall parallel parlour milks about 100 cows an hour
    meter_rows: dict[str, list] = {m.key: [] for m in meters}
    tag_rows: dict[str, list] = {}
    for day in range(first_day, last_day + 1):
        for s, h in enumerate(MILKINGS[n_milk]):
            t0 = P.day_ms(day) + int(h * P.HOUR_MS)
            t_cow = t0 + (pos * session_min / n * P.MINUTE_MS).astype(np.int64) + er.integers(0, 40_000, n)
            hi = np.searchsorted(ts_h, t_cow).clip(0, len(ts_h) - 1) if len(ts_h) else np.zeros(n, dtype=int)
            d = dim0 + (t_cow - start_ms) / P.DAY_MS
            daily = wood_daily_kg(d % 365, parity) * farm_yield
            share = (0.36, 0.32, 0.32)[s] if n_milk == 3 else (0.53, 0.47)[s]
            factor = 1.0
            if len(ts_h):
                factor = 1 - 0.3 * sick[np.arange(n), hi] - 0.1 * oestrus[np.arange(n), hi] - 0.12 * heat[0, hi]
            kg = np.clip(daily * share * factor * er.lognormal(0, 0.06, n), 0, 80)
            for i in range(n):
                t = int(t_cow[i])
                if not (start_ms <= t < end_ms) or t >= gone_at[i]:
                    continue
                animal = collars[i].attributes["animal_id"]
                tag = tags.get(animal)
                if (d[i] % 365) >= 305:  # dry cow: read at the sorting gate once a day, not milked
                    if s == 0 and tag is not None:
                        tag_rows.setdefault(tag.key, []).append((t, animal, "GATE-SORT"))
                    continue
                if tag is not None:
                    tag_rows.setdefault(tag.key, []).append((t - 60_000, animal, "P1-ENTRY"))
                if meters:
                    meter_rows[meters[int(pos[i]) % len(meters)].key].append((t, round(float(kg[i]), 2), animal))
    if truth is not None:  # the herd present and read each day, from the reads the tags will report
        for key, rows in tag_rows.items():
            for day in {int(P.local_day(np.int64(t))) for t, *_ in rows}:
                truth[(enterprise.uscc, day)] = truth.get((enterprise.uscc, day), 0) + 1
    for dev in enterprise.devices:
        if dev.device_type == "dairy.ear_tag":
            rows = sorted(tag_rows.get(dev.key, []))
            ts = np.array([x[0] for x in rows], dtype=np.int64)
            values = P.lines_from_arrays(
                dev.key,
                ts,
                {
                    "animal_id": np.array([x[1] for x in rows], dtype=object),
                    "reader_id": np.array([x[2] for x in rows], dtype=object),
                },
            )
            yield from P.device_stream(dev.key, P.rng_for(seed, dev.key), start_ms, end_ms, "stable", values)
        elif dev.device_type == "dairy.milk_meter":
            rows = sorted(meter_rows[dev.key])
            ts = np.array([x[0] for x in rows], dtype=np.int64)
            values = P.lines_from_arrays(
                dev.key,
                ts,
                {"milk_kg": np.array([x[1] for x in rows]), "animal_id": np.array([x[2] for x in rows], dtype=object)},
            )
            yield from P.device_stream(dev.key, P.rng_for(seed, dev.key), start_ms, end_ms, health, values)
        elif dev.device_type == "dairy.env_sensor":
            r = P.rng_for(seed, dev.key)
            k = len(ts_env)
            closed = np.clip((5 - outdoor) / 20, 0, 1)  # barns are shut in the cold: air goes stale
            night = (P.local_hour(ts_env) < 6) | (P.local_hour(ts_env) > 21)
            cols = {
                "temp_c": barn_t + r.normal(0, 0.3, k) + r.uniform(-0.8, 0.8),
                "humidity_pct": np.clip(rh + r.normal(0, 1.5, k), 0, 100),
                "nh3_ppm": np.clip(6 + 14 * closed + 4 * night + P.smooth_noise(r, k, 2.0, 0.97), 0, 500),
                "co2_ppm": np.clip(650 + 1500 * closed + 300 * night + P.smooth_noise(r, k, 120, 0.97), 350, 20000),
                **P.status_columns(r, ts_env, mains=True),
            }
            values = P.lines_from_arrays(
                dev.key,
                ts_env,
                cols,
                {"temp_c": 1, "humidity_pct": 1, "nh3_ppm": 1, "co2_ppm": 0, "battery_pct": 1, "rssi_dbm": 0},
            )
            yield from P.device_stream(dev.key, r, start_ms, end_ms, health, values)
        elif dev.device_type == "dairy.tmr_feeder":
            r = P.rng_for(seed, dev.key)
            feeders = sum(1 for d in enterprise.devices if d.device_type == "dairy.tmr_feeder")
            rows = []
            for day in range(first_day, last_day + 1):
                for h in MILKINGS[n_milk]:
                    t = P.day_ms(day) + int((h + 1.5 + r.uniform(0, 0.5)) * P.HOUR_MS)
                    if start_ms <= t < end_ms:
                        herd = int(np.sum(gone_at > t))
                        rows.append((t, herd * 48.0 / n_milk / feeders * r.lognormal(0, 0.04)))
            ts = np.array([x[0] for x in rows], dtype=np.int64)
            values = P.lines_from_arrays(dev.key, ts, {"feed_kg": np.array([x[1] for x in rows])}, {"feed_kg": 1})
            yield from P.device_stream(dev.key, r, start_ms, end_ms, health, values)
