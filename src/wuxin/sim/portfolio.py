"""The demo's credit portfolio: named borrowers with a story each (mills, built by the simulator of the pack playing `demo_portfolio`), their long history and
their books.

Each borrower is a mill of the 盛泽 chemical-fibre cluster (enough of them for the town's industry index)
built by that pack's simulator, then given its story as plain facts: latent health, who installed the
devices, whether it inflates its statements, whether someone tampers with its devices this week. Nothing
here says what the bank should decide; the platform's indicators, cross-verification and product policy
decide, and `tests/integration/test_demo_credit.py` checks that each story is decided for its reason.

History, coarse where it is old (fast to load, still complete for the indicators):
- output counters and the electricity meter report hourly for the whole window (from the start of the oldest
  statement quarter the bank checks), so every checked quarter has its revenue evidence;
- the current bracelets (the activity evidence) were installed `BRACELET_DAYS` ago and report every 5
  minutes (the run-hours indicator holds a reading at most 5 minutes);
- one simulator call covers the whole window, so counters run on without a step and the bracelets and
  counters agree on every day.

The books follow what the counters counted: revenue is the value made, sold at the firm's realised prices
(a few percent off list), part of each quarter invoiced in the next; an inflating firm multiplies it.
Quarters before the devices existed are carried back from the measured ones by the story's earlier level.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from wuxin.indicators.days import CN_OFFSET_MS, DAY_MS, HOUR_MS
from wuxin.scenarios import scenario_packs
from wuxin.sim.fleet import inject
from wuxin.sim.patterns import AnomalyRecord, rng_for
from wuxin.sim.spec import EnterpriseSpec

TOWN = "盛泽"
BRACELET_DAYS = 120  # the activity features look back 90 days against the 90 before (20 known days needed there)
CUMULATIVE = frozenset({"output_count_total", "energy_kwh_total"})
COARSE_INTERVALS_S = {"measures_machine_current": 300, "meters_energy": 3600, "counts_output": 3600}  # by device role
INVOICED_NEXT_QUARTER = 0.08  # share of a quarter's output invoiced in the next one
PRICE_SPREAD = 0.04  # realised prices within +-4% of the list price


@dataclass(frozen=True)
class Story:
    """One borrower's story as facts the simulator and its books act on, with its names in zh-CN and en."""

    key: str
    name_zh: str
    name_en: str
    story_zh: str
    story_en: str
    health: str  # the latent health the simulator drives activity with
    source_mode: str  # who installed and runs every device
    bracelets: int
    earlier_level: float = 1.0  # revenue of the quarters before the devices, against the measured ones
    margin: float = 0.06  # net margin it reports
    debt_to_assets: float = 0.50
    inflation: float = 1.0  # reported revenue over what its books support
    tampered: bool = False  # two bracelets opened and silenced during the last week


STORIES: tuple[Story, ...] = (
    Story(
        "steady",
        "恒盛织造有限公司",
        "Hengsheng Weaving Co.",
        "稳定经营，利润偏薄、负债偏高，银行安装设备，如实申报",
        "steady mill, thin margin, leverage on the high side, bank-installed devices, honest books",
        "stable",
        "bank_installed",
        5,
        margin=0.02,
        debt_to_assets=0.62,
    ),
    Story(
        "growing",
        "鑫达丝绸有限公司",
        "Xinda Silk Co.",
        "去年扩产后收入同比增长约四分之一，高附加值产品利润率高、负债低，银行安装设备，如实申报",
        "expanded last year: revenue up about a quarter on the year, high-value products with a good margin, "
        "low leverage, bank-installed devices, honest books",
        "stable",
        "bank_installed",
        5,
        earlier_level=0.8,
        margin=0.125,
        debt_to_assets=0.40,
    ),
    Story(
        "third_party",
        "华泰纺织有限公司",
        "Huatai Textiles Co.",
        "稳定经营，设备数据来自第三方平台，如实申报",
        "steady mill whose devices report through a third-party platform, honest books",
        "stable",
        "third_party_platform",
        6,
    ),
    Story(
        "declining",
        "永昌化纤有限公司",
        "Yongchang Chemical Fibre Co.",
        "开工下滑，收入同比下降约两成，利润微薄，负债率高，如实申报",
        "activity falling, revenue down about a fifth on the year, thin margin, high leverage, honest books",
        "declining",
        "bank_installed",
        5,
        earlier_level=1.25,
        margin=0.005,
        debt_to_assets=0.66,
    ),
    Story(
        "inflating",
        "金德纺织有限公司",
        "Jinde Textiles Co.",
        "设备正常，但报表收入虚增约八成（并美化利润与负债）",
        "devices fine, but its statements claim about 80% more revenue than it makes (and flatter margin and debt)",
        "stable",
        "bank_installed",
        5,
        margin=0.11,
        debt_to_assets=0.40,
        inflation=1.8,
    ),
    Story(
        "tampered",
        "宏源织造有限公司",
        "Hongyuan Weaving Co.",
        "如实申报，但本周两台电流手环被拆除并停报（防拆报警）",
        "honest books, but two current bracelets were opened and silenced this week (tamper alarms)",
        "stable",
        "bank_installed",
        5,
        tampered=True,
    ),
    Story(
        "shared_only",
        "瑞丰化纤有限公司",
        "Ruifeng Chemical Fibre Co.",
        "如实申报，但所有设备均为企业自有、共享接入",
        "honest books, but every device is the enterprise's own, shared with the bank",
        "stable",
        "enterprise_shared",
        5,
    ),
)


def portfolio(seed: int, first_index: int = 900) -> list[tuple[Story, EnterpriseSpec]]:
    """The stories' mills: built by that pack's simulator in the 盛泽 cluster, given each story's facts."""
    sim = story_pack().sim()
    rng = random.Random(f"wuxin-credit-portfolio|{seed}")
    out, index = [], first_index
    for story in STORIES:
        while True:
            index += 1
            spec = sim.build_enterprise(rng, index)
            if TOWN in spec.region:
                break
        out.append((story, _with_story(spec, story)))
    return out


def story_pack():
    """The pack whose simulator builds the stories' borrowers (manifest pack role `demo_portfolio`)."""
    named = [pack for pack in scenario_packs().values() if "demo_portfolio" in pack.pack_roles]
    if not named:
        raise LookupError("no scenario pack plays the pack role demo_portfolio")
    return named[0]


def _typed(role: str) -> tuple[str, ...]:
    return story_pack().device_types_with(role)


def _with_story(spec: EnterpriseSpec, story: Story) -> EnterpriseSpec:
    """The simulator's mill under the story's name: its sites too (they were named after the simulator's firm, so
    恒盛织造's devices stood in "吴江盛泽隆安纺织股份有限公司厂区")."""
    site = {s.name: s.name.replace(spec.name, story.name_zh, 1) for s in spec.sites}
    bracelets = [d for d in spec.devices if d.device_type in _typed("measures_machine_current")][: story.bracelets]
    others = [d for d in spec.devices if d.device_type not in _typed("measures_machine_current")]
    devices = tuple(
        dataclasses.replace(d, source_mode=story.source_mode, site=site.get(d.site, d.site)) for d in bracelets + others
    )
    sites = tuple(dataclasses.replace(s, name=site[s.name]) for s in spec.sites)
    return dataclasses.replace(spec, name=story.name_zh, health=story.health, sites=sites, devices=devices)


def history_start_ms(first_quarter_day: int) -> int:
    """Local midnight of the day before the oldest checked quarter (the counters need a reading before it)."""
    return (first_quarter_day - 1) * DAY_MS - CN_OFFSET_MS


def history_lines(
    stories: Sequence[tuple[Story, EnterpriseSpec]],
    start_ms: int,
    fine_from_ms: int,
    end_ms: int,
    seed: int,
    made: dict[str, dict[int, float]] | None = None,
) -> Iterator[dict]:
    """Each mill's history: coarse from start, at the devices' own cadence from `fine_from_ms` to the end (the
    cumulative counters carried on across the join), its tampering applied; `made`, when given, receives per
    USCC the list value (CNY) its counters counted each local day (what its books follow)."""
    sim = story_pack().sim()
    installed = {t: end_ms - BRACELET_DAYS * DAY_MS for t in _typed("measures_machine_current")}
    intervals = {t: s for role, s in COARSE_INTERVALS_S.items() for t in _typed(role)}
    for story, spec in stories:
        coarse = sim.telemetry(spec, start_ms, end_ms, seed, intervals_s=intervals, installed_ms=installed)
        lines = _joined(coarse, sim.telemetry(spec, fine_from_ms, end_ms, seed), fine_from_ms)
        if story.tampered:
            lines = inject(lines, [tamper_record(spec, end_ms, seed)])
        yield from _counting(lines, spec, made) if made is not None else lines


def _joined(coarse: Iterator[dict], fine: Iterator[dict], join_ms: int) -> Iterator[dict]:
    """The coarse lines before `join_ms`, then the fine ones, each cumulative counter of the fine run shifted to
    go on from where the coarse run left it (two simulator runs start their counters independently)."""
    last: dict[tuple[str, str], float] = {}
    for line in coarse:
        if line["ts"] >= join_ms:
            continue
        for key in CUMULATIVE.intersection(line.get("values", ())):
            last[(line["device"], key)] = line["values"][key]
        yield line
    shift: dict[tuple[str, str], float] = {}
    for line in fine:
        keys = CUMULATIVE.intersection(line.get("values", ()))
        if keys:
            values = dict(line["values"])
            for key in keys:
                at = (line["device"], key)
                if at not in shift:
                    shift[at] = last[at] - values[key] if at in last else 0
                values[key] = type(values[key])(round(values[key] + shift[at], 3))
            line = {**line, "values": values}
        yield line


def tamper_record(spec: EnterpriseSpec, end_ms: int, seed: int) -> AnomalyRecord:
    """Two bracelets opened (a tamper event each) and silent for half a day, three days before the end."""
    rng = rng_for(seed, "portfolio-tamper", spec.uscc)
    keys = tuple(sorted(d.key for d in spec.devices if d.device_type in _typed("measures_machine_current"))[:2])
    start = end_ms - 3 * DAY_MS + int(rng.integers(0, 12)) * HOUR_MS
    return AnomalyRecord(
        "device_off",
        spec.uscc,
        keys,
        start,
        start + 12 * HOUR_MS,
        "silence",
        {},
        True,
        {},
        "a tamper event at start, then no line from the device until end",
    )


def _counting(lines: Iterator[dict], spec: EnterpriseSpec, made: dict[str, dict[int, float]]) -> Iterator[dict]:
    """Pass the lines on; add up, per local day, the value the output counters counted (units x list price)."""
    price = {
        d.key: float(d.attributes["unit_price_cny"]) for d in spec.devices if d.device_type in _typed("counts_output")
    }
    days = made.setdefault(spec.uscc, {})
    last: dict[str, float] = {}
    for line in lines:
        key = line["device"]
        if key in price and "values" in line and "output_count_total" in line["values"]:
            total = float(line["values"]["output_count_total"])
            if key in last and total >= last[key]:
                day = (line["ts"] + CN_OFFSET_MS) // DAY_MS
                days[day] = days.get(day, 0.0) + (total - last[key]) * price[key]
            last[key] = total
        yield line


# ---------------------------------------------------------------- the books


def statement_rows(
    story: Story,
    spec: EnterpriseSpec,
    made_by_day: dict[int, float],
    quarters: Sequence[tuple[int, int, str]],
    seed: int,
) -> list[dict]:
    """Quarterly statements (the business-data import format) for `quarters`, oldest first. A quarter the
    counters covered reports what was made there, at realised prices, partly invoiced a quarter late; earlier
    quarters are carried back from the measured ones by the story's earlier level. An inflating firm multiplies
    its revenue (its story also flatters margin and leverage, as such firms do)."""
    rng = rng_for(seed, "portfolio-books", spec.uscc)
    price = 1.0 + float(rng.uniform(-PRICE_SPREAD, PRICE_SPREAD))
    measured = {label: _made_in(made_by_day, first, last) for first, last, label in quarters}
    full = [v for (first, last, label), v in zip(quarters, measured.values()) if v is not None]
    typical = sum(full) / len(full) if full else 0.0
    rows, before = [], None
    for first, last, label in quarters:
        made = measured[label]
        if made is None:
            made = typical * story.earlier_level * float(rng.normal(1.0, 0.03))
        invoiced = made * (1 - INVOICED_NEXT_QUARTER) + (before if before is not None else made) * INVOICED_NEXT_QUARTER
        before = made
        revenue = invoiced * price * story.inflation
        margin = story.margin + float(rng.normal(0.0, 0.005))
        leverage = story.debt_to_assets
        assets = typical * 4 * 1.2
        rows.append(
            {
                "uscc": spec.uscc,
                "period": label,
                "period_start": _iso(first),
                "period_end": _iso(last),
                "revenue_cny": f"{revenue:.2f}",
                "net_profit_cny": f"{revenue * margin:.2f}",
                "total_assets_cny": f"{assets:.2f}",
                "total_liabilities_cny": f"{assets * leverage:.2f}",
            }
        )
    return rows


def _made_in(made_by_day: dict[int, float], first: int, last: int) -> float | None:
    """The value counted over a quarter, or None when the counters did not cover all of it."""
    days = [made_by_day.get(d) for d in range(first, last + 1)]
    known = [v for v in days if v is not None]
    return float(sum(known)) if len(known) == len(days) else None


def _iso(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day))).isoformat()
