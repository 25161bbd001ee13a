"""Manufacturing simulator: machines in industrial clusters, watched by current bracelets,
energy meters and output counters.

Machines run the cluster's shift pattern on work days; Spring Festival and statutory
holidays close the plant, the month's order book and the firm's latent health decide how
many machines are busy each day. A running machine draws its load current with a start-up
peak, drops to idle during short stoppages and shift changes, and sits at standby or off
outside its shifts. The energy meter integrates all machines plus the plant's base load;
output counters count units made while their machines run.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from wuxin.sim import patterns as P
from wuxin.sim.spec import DeviceSpec, EnterpriseSpec, SiteSpec, make_uscc

DEFAULT_INTERVALS_S = {
    "manufacturing.current_bracelet": 60,
    "manufacturing.energy_meter": 900,
    "manufacturing.output_counter": 900,
}
KW_PER_A = 3**0.5 * 0.38 * 0.85  # three-phase 380 V, power factor 0.85
EPOCH_2020_MS = 1_577_836_800_000


@dataclass(frozen=True)
class Cluster:
    place: P.Place
    trades: tuple[str, ...]
    shift: str  # "24h" | "2x8" | "day"
    orders: str  # seasonal profile in patterns.seasonal_orders
    machine: str
    rated_a: tuple[float, float]
    products: tuple[tuple[str, float, float], ...]  # (product, CNY per unit, units per running machine-minute)


CLUSTERS = (
    Cluster(
        P.Place("江苏省苏州市吴江区盛泽镇", "吴江盛泽", 30.918, 120.648, "320509"),
        ("化纤", "纺织", "丝绸", "织造"),
        "24h",
        "textile",
        "喷水织机",
        (12, 30),
        (("涤纶长丝坯布(米)", 4.2, 0.9), ("仿真丝面料(米)", 9.5, 0.6)),
    ),
    Cluster(
        P.Place("浙江省绍兴市柯桥区", "绍兴柯桥", 30.089, 120.494, "330603"),
        ("印染", "纺织", "针纺"),
        "24h",
        "textile",
        "定型机",
        (60, 160),
        (("印染布(米)", 3.1, 6.0),),
    ),
    Cluster(
        P.Place("江苏省常州市武进区", "常州武进", 31.701, 119.947, "320412"),
        ("机械", "精密机械", "五金"),
        "2x8",
        "machinery",
        "数控车床",
        (20, 60),
        (("轴承座(件)", 38.0, 0.35), ("齿轮箱壳体(件)", 260.0, 0.06)),
    ),
    Cluster(
        P.Place("广东省东莞市长安镇", "东莞长安", 22.803, 113.804, "441900"),
        ("模具", "五金制品", "电子"),
        "2x8",
        "machinery",
        "注塑机",
        (40, 120),
        (("注塑外壳(件)", 6.5, 1.5),),
    ),
    Cluster(
        P.Place("广东省佛山市顺德区", "佛山顺德", 22.805, 113.293, "440606"),
        ("家具", "电器", "金属制品"),
        "day",
        "machinery",
        "冲压机",
        (30, 90),
        (("电机端盖(件)", 12.0, 2.0),),
    ),
    Cluster(
        P.Place("江苏省苏州市昆山市", "昆山", 31.385, 120.981, "320583"),
        ("电子", "精密", "科技"),
        "2x8",
        "flat",
        "贴片机",
        (8, 25),
        (("PCBA板(件)", 45.0, 0.8),),
    ),
)


# Labelled anomalies this pack can inject (see wuxin.sim.fleet.plan_anomalies).
ANOMALIES = {
    "machine_idle": P.AnomalySpec(
        "manufacturing.current_bracelet",
        "set",
        (2 * 86400, 4 * 86400),
        values=lambda d: {"current_a": 0.0},
        share=0.7,
        expect="current_a 0 on the listed bracelets from start to end: run hours and utilisation drop",
    ),
    "fabricated_copy": P.fabricated_copy("manufacturing.current_bracelet"),
    "fabricated_smooth": P.fabricated_smooth(
        "manufacturing.current_bracelet",
        lambda d: {
            "current_a": {"mean": round(0.72 * d.attributes["rated_current_a"], 1), "amplitude": 0.0, "decimals": 2}
        },
        expect="current_a exactly constant (72 % of rated, no noise, no stops, no start-up peaks) day and night",
    ),
}

MAINTENANCE = {"scope": "plant"}  # a planned stop switches every machine off (wuxin.sim.benign; telemetry `benign`)
COUNTERS = {"manufacturing.energy_meter": "energy_kwh_total", "manufacturing.output_counter": "output_count_total"}


def build_enterprise(rng: random.Random, index: int) -> EnterpriseSpec:
    cluster = rng.choice(CLUSTERS)
    place = cluster.place
    name = P.company_name(rng, place, cluster.trades, ("有限公司", "股份有限公司", "科技有限公司"))
    prefix = P.key_prefix("mfg", index, rng)
    lat, lon = P.jitter(rng, place.lat, place.lon)
    site = SiteSpec(f"{name}厂区", place.region, lat, lon)
    mode = P.choose_source_mode(rng)
    devices = []
    for m in range(rng.randint(6, 14)):
        rated = round(rng.uniform(*cluster.rated_a), 1)
        devices.append(
            DeviceSpec(
                f"{prefix}-bracelet-{m + 1:02d}",
                "manufacturing.current_bracelet",
                site.name,
                mode,
                {
                    "rated_current_a": rated,
                    "run_threshold_a": round(rated * 0.45, 1),
                    "machine_id": f"{cluster.machine}-{m + 1:02d}",
                },
            )
        )
    devices.append(
        DeviceSpec(
            f"{prefix}-meter-01",
            "manufacturing.energy_meter",
            site.name,
            "enterprise_shared" if rng.random() < 0.2 else mode,
            {"meter_id": f"32{rng.randrange(10**10):010d}"},
        )
    )
    for c, (product, price, _) in enumerate(cluster.products):
        devices.append(
            DeviceSpec(
                f"{prefix}-counter-{c + 1:02d}",
                "manufacturing.output_counter",
                site.name,
                mode,
                {"product": product, "unit_price_cny": price},
            )
        )
    return EnterpriseSpec(
        name, make_uscc(rng, place.code), "manufacturing", place.region, P.choose_health(rng), (site,), tuple(devices)
    )


def rest_weekdays(enterprise: EnterpriseSpec) -> frozenset[int]:
    """The weekdays the plant rests (0 = Monday): Sunday on shift plants, none on a 24-hour plant."""
    return frozenset() if _cluster_of(enterprise).shift == "24h" else frozenset({6})


def _cluster_of(enterprise: EnterpriseSpec) -> Cluster:
    for cluster in CLUSTERS:
        if cluster.place.region == enterprise.region:
            return cluster
    return CLUSTERS[0]


def _scheduled(shift: str, hour: np.ndarray, weekday: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scheduled to run, shift-change or break) for each sample."""
    if shift == "24h":
        change = ((hour >= 7.0) & (hour < 7.4)) | ((hour >= 19.0) & (hour < 19.4))
        return np.ones_like(hour, dtype=bool), change
    workday = weekday < 6  # Saturday is a work day in most SMEs
    if shift == "2x8":
        on = workday & (hour >= 8.0) & (hour < 24.0)
        brk = ((hour >= 12.0) & (hour < 12.5)) | ((hour >= 16.0) & (hour < 16.4)) | ((hour >= 18.0) & (hour < 18.5))
        return on, brk
    on = workday & (((hour >= 8.0) & (hour < 17.5)) | ((weekday < 5) & (hour >= 18.5) & (hour < 20.5)))
    brk = (hour >= 12.0) & (hour < 13.0)
    return on, brk


def telemetry(
    enterprise: EnterpriseSpec,
    start_ms: int,
    end_ms: int,
    seed: int,
    *,
    intervals_s: dict[str, int] | None = None,
    truth: dict | None = None,
    installed_ms: dict[str, int] | None = None,
    benign: list | None = None,
) -> Iterator[dict]:
    """Lines of every device; `truth`, when given, receives {(bracelet key, local day): seconds run}.
    `installed_ms` (device type -> epoch ms) holds back a type's lines before it was installed: the plant
    ran all along (the other devices count what it made), those devices only report from then on.
    `benign` (wuxin.sim.benign records) may hold maintenance stops: from start to end every machine is switched off
    (no run, idle or standby current, no output) and the plant's base load falls to its off-shift level."""
    cluster = _cluster_of(enterprise)
    iv = {**DEFAULT_INTERVALS_S, **(intervals_s or {})}
    step = iv["manufacturing.current_bracelet"] * 1000
    ts = P.grid(start_ms, end_ms, step)
    if len(ts) == 0:
        return
    hour, day = P.local_hour(ts), P.local_day(ts)
    days = np.unique(day)
    di = (day - days[0]).astype(int)
    ent_rng = P.rng_for(seed, enterprise.uscc, "plant")
    dates = [P.date_of_day(int(d)) for d in days]
    level = P.health_level(
        enterprise.health,
        P.days_to_end(P.day_ms(days[0]) + (days - days[0]) * P.DAY_MS + P.DAY_MS // 2, end_ms),
        ent_rng,
    )
    orders = np.array([P.work_factor(d) * P.seasonal_orders(d, cluster.orders) for d in dates]) * level
    on, brk = _scheduled(cluster.shift, hour, P.work_weekday(day))
    holiday_closed = np.array([P.work_factor(d) < 0.2 for d in dates])[di]
    down = np.zeros(len(ts), dtype=bool)
    for stop in benign or ():
        if stop.kind.startswith("maintenance"):
            down |= (ts >= stop.start_ms) & (ts < stop.end_ms)
    on = on & ~down

    bracelets = [d for d in enterprise.devices if d.device_type == "manufacturing.current_bracelet"]
    running_all = np.zeros((len(bracelets), len(ts)), dtype=bool)
    kw = np.zeros(len(ts))
    streams = []
    for m, dev in enumerate(bracelets):
        r = P.rng_for(seed, dev.key)
        rated = float(dev.attributes["rated_current_a"])
        base_util = r.uniform(0.8, 1.0)
        busy_day = r.random(len(days)) < np.clip(orders * base_util, 0, 1)
        run = on & busy_day[di] & ~brk
        stops = P.segments_mask(r, len(ts), rate=0.012, mean_len=5)
        running = run & ~stops
        idle = (run & stops) | (on & busy_day[di] & brk)
        standby = ~running & ~idle & (r.random() < 0.6) & ~holiday_closed & ~down
        load = r.uniform(0.6, 0.85) * (1 + P.smooth_noise(r, len(ts), 0.04, 0.95)) + r.normal(0, 0.015, len(ts))
        idle_a = rated * r.uniform(0.22, 0.32) * (1 + r.normal(0, 0.05, len(ts)))
        # a standby current is measured with its noise too (drawn apart, the machine's other draws stay as they were):
        # held exactly constant for hours it read as a fabricated flat run
        hum = P.rng_for(seed, dev.key, "standby").normal(0, 0.05, len(ts))
        standby_a = rated * r.uniform(0.03, 0.07) * (1 + hum)
        current = np.where(running, rated * load, np.where(idle, idle_a, np.where(standby, standby_a, 0.0)))
        started = running & ~np.concatenate(([running[0]], running[:-1]))
        current = np.where(started, rated * r.uniform(1.6, 2.6, len(ts)), current)
        current = np.clip(current, 0.0, 2000.0)
        running_all[m] = running
        if truth is not None:  # ground truth for the indicator benchmarks: a sample stands for one step
            truth.update(
                {
                    (dev.key, int(d)): float(n) * step / 1000
                    for d, n in zip(days, np.bincount(di, weights=running, minlength=len(days)))
                }
            )
        kw += current * KW_PER_A
        cols = {"current_a": current, **P.status_columns(r, ts)}
        shown = ts >= (installed_ms or {}).get(dev.device_type, 0)
        streams.append(
            (
                dev,
                r,
                P.lines_from_arrays(
                    dev.key, ts[shown], {k: v[shown] for k, v in cols.items()}, {"battery_pct": 1, "rssi_dbm": 0}
                ),
            )
        )

    for dev, r, values in streams:
        yield from P.device_stream(
            dev.key, r, max(start_ms, (installed_ms or {}).get(dev.device_type, 0)), end_ms, enterprise.health, values
        )

    base_kw = ent_rng.uniform(5, 25) * np.where(on, 1.0, 0.4)
    kw_total = kw + base_kw * (1 + ent_rng.normal(0, 0.03, len(ts)))
    counters = [d for d in enterprise.devices if d.device_type == "manufacturing.output_counter"]
    for dev in enterprise.devices:
        r = P.rng_for(seed, dev.key)
        if dev.device_type == "manufacturing.energy_meter":
            m_step = iv[dev.device_type] * 1000
            mts, mean_kw = _bucket_mean(ts, kw_total, m_step)
            hours_before = (start_ms - EPOCH_2020_MS) / P.HOUR_MS
            e0 = r.uniform(1e4, 1e5) + float(kw_total.mean()) * 0.8 * max(hours_before, 0.0)
            energy = e0 + np.cumsum(mean_kw) * m_step / P.HOUR_MS
            keep = mts < end_ms
            mts, mean_kw, energy = mts[keep], mean_kw[keep], energy[keep]
            cols = {"power_kw": mean_kw, "energy_kwh_total": energy, **P.status_columns(r, mts, mains=True)}
            yield from P.device_stream(
                dev.key,
                r,
                start_ms,
                end_ms,
                enterprise.health,
                P.lines_from_arrays(dev.key, mts, cols, {"rssi_dbm": 0, "battery_pct": 1}),
            )
        elif dev.device_type == "manufacturing.output_counter":
            c = counters.index(dev)
            rate = cluster.products[c % len(cluster.products)][2]
            mine = running_all[c :: len(counters)].sum(axis=0) if len(bracelets) else np.zeros(len(ts))
            units = r.poisson(mine * rate * step / P.MINUTE_MS)
            o_step = iv[dev.device_type] * 1000
            ots, made = _bucket_sum(ts, units, o_step)
            hours_before = (start_ms - EPOCH_2020_MS) / P.HOUR_MS
            c0 = int(r.uniform(1e3, 1e4) + float(units.mean()) * 0.8 * max(hours_before, 0.0) * P.HOUR_MS / step)
            total = (c0 + np.cumsum(made)).astype(np.int64)
            keep = ots < end_ms
            ots, total = ots[keep], total[keep]
            cols = {"output_count_total": total, **P.status_columns(r, ots, mains=True)}
            yield from P.device_stream(
                dev.key,
                r,
                start_ms,
                end_ms,
                enterprise.health,
                P.lines_from_arrays(dev.key, ots, cols, {"rssi_dbm": 0, "battery_pct": 1}),
            )


def _buckets(ts: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    b = ts // step
    uniq, idx = np.unique(b, return_inverse=True)
    return (uniq + 1) * step, idx  # a period is reported at its end


def _bucket_mean(ts: np.ndarray, x: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    out_ts, idx = _buckets(ts, step)
    return out_ts, np.bincount(idx, weights=x) / np.bincount(idx)


def _bucket_sum(ts: np.ndarray, x: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray]:
    out_ts, idx = _buckets(ts, step)
    return out_ts, np.bincount(idx, weights=x).astype(np.int64)
