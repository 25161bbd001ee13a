"""The enterprise page's headline figures, read off the page in Chromium and computed again here from the
API's own data: run hours per day over the days with data (today apart), the range fitted to the data,
partial days apart from the indicator line, y-axis labels that never repeat, peer percentiles, the device
count and the decision's score and limit. Screenshots in zh-CN and en go to test-artifacts/e2e/."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.test_console import _api, _settle, _town_mill

WORDS = {"zh-CN": ("小时/天", "天", "无数据"), "en": ("h/d", "d", "no data")}


def _one_decimal(x: float) -> str:
    """As Intl.NumberFormat prints it with at most one decimal (half away from zero, no trailing .0)."""
    text = str(Decimal(repr(x)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return text[:-2] if text.endswith(".0") else text


def _expected_run_hours(machine: dict, first_day: dt.date, today: dt.date, lang: str) -> str:
    """Hours per day over the complete days with any observed slot; today (still open) left out."""
    per_day = []
    for i in range(len(machine["slots"]) // 96):
        chunk = machine["slots"][i * 96 : (i + 1) * 96]
        if first_day + dt.timedelta(days=i) != today and set(chunk) != {"-"}:
            per_day.append(chunk.count("R") * 0.25)
    unit, d, none = WORDS[lang]
    return f"{_one_decimal(sum(per_day) / len(per_day))} {unit} ({len(per_day)} {d})" if per_day else none


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_enterprise_page_headline_figures_match_the_api_data(console_as, demo, lang):
    officer = _api(demo, "officer")
    mill = _town_mill(demo)
    eid = mill["id"]
    c = console_as("officer", lang)
    c.open(f"#/enterprise/{eid}", "[data-run-hours]")
    c.page.wait_for_selector("[data-indicator-chart][data-ready]")
    c.page.wait_for_selector("[data-peers]")
    c.page.wait_for_selector("[data-assessment]")
    _settle(c)

    # run hours per machine, as the API's own slots give them
    timeline = officer.get(f"/api/v1/console/enterprises/{eid}/equipment-timeline", params={"days": 30}).json()
    today = dt.datetime.now(ZoneInfo(timeline["timezone"])).date()
    first = dt.date.fromisoformat(timeline["first_day"])
    shown = {
        el.get_attribute("data-run-hours"): el.inner_text().strip() for el in c.page.locator("[data-run-hours]").all()
    }
    assert shown and set(shown) == {m["machine_id"] for m in timeline["machines"]}
    for m in timeline["machines"]:
        assert shown[m["machine_id"]] == _expected_run_hours(m, first, today, lang), m["machine_id"]
    assert any(text != WORDS[lang][2] for text in shown.values())  # the demo's machines ran

    # the window shown starts at the first day with data (at least 7 days)
    first_data = min(
        dt.date.fromisoformat(m["summary"]["first_day_with_data"])
        for m in timeline["machines"]
        if m["summary"]["first_day_with_data"]
    )
    span = (dt.date.fromisoformat(timeline["last_day"]) - first_data).days + 1
    if max(7, span) < 30:  # the 30-day default is cut to the data, not left mostly empty
        assert c.page.locator("[data-range-fitted]").get_attribute("data-range-fitted") == str(max(7, span))
    else:
        assert c.page.locator("[data-range-fitted]").count() == 0

    # the indicator chart: a partial day is off the line (a hollow point), days without data are gaps, ticks unique
    chart = c.page.evaluate("""() => {
        const ch = echarts.getInstanceByDom(document.querySelector('[data-indicator-chart]')), o = ch.getOption();
        const labels = ch.getModel().getComponent('yAxis', 0).axis.getViewLabels().map((l) => l.formattedLabel);
        return { days: o.xAxis[0].data, series: o.series.map((s) => ({ name: s.name, type: s.type, data: s.data })), labels,
                 chosen: document.querySelector('[data-indicator-chart]').dataset.ready };
    }""")
    assert len(chart["labels"]) >= 2 and len(set(chart["labels"])) == len(chart["labels"]), chart["labels"]
    values = officer.get(
        f"/api/v1/enterprises/{eid}/indicators", params={"from": chart["days"][0], "to": chart["days"][-1]}
    ).json()["values"]
    mine = {v["day"]: v for v in values if v["indicator"] == chart["chosen"] and v["value"] is not None}
    assert mine, "the town mill has indicator values"
    line = [s for s in chart["series"] if s["type"] == "line"][
        -1
    ]  # the band's series first, the enterprise's line last
    assert len(chart["days"]) >= 7 and chart["days"][0] <= min(mine)  # the range starts at the data, at least a week
    for day, x in zip(chart["days"], line["data"]):
        v = mine.get(day)
        if v is None or v["quality"] == "partial":
            assert x is None, day  # no data: a gap; partial: not on the line
        else:
            assert x == pytest.approx(v["value"]), day
    partial_days = {d for d, v in mine.items() if v["quality"] == "partial"}
    if partial_days:
        hollow = next(s for s in chart["series"] if s["type"] == "scatter")
        assert {d for d, x in zip(chart["days"], hollow["data"]) if x is not None} == partial_days

    # peer percentiles as the percentile API gives them
    for el in c.page.locator("[data-percentile]").all():
        name = el.get_attribute("data-percentile")
        for back in (1, 2, 3):
            day = (today - dt.timedelta(days=back)).isoformat()
            p = officer.get(f"/api/v1/enterprises/{eid}/percentile", params={"indicator": name, "day": day}).json()
            if p["percentile"] is not None:
                break
        assert (
            el.inner_text() == f"P{int(Decimal(repr(p['percentile'])).quantize(Decimal('1'), rounding=ROUND_HALF_UP))}"
        )

    # the device count, and the decision's score and limit
    devices = officer.get(f"/api/v1/enterprises/{eid}/devices").json()
    c.page.wait_for_selector("[data-group='all']")  # the device list's "all devices (N)" group
    assert c.page.locator("[data-group='all']", has_text=f"({len(devices)})").count() == 1
    decisions = officer.get(f"/api/v1/enterprises/{eid}/credit/decisions").json()
    if decisions:
        latest = max(decisions, key=lambda d: d["decided_ms"])
        if latest["limit_cny"] is not None:
            assert float(c.page.locator("[data-limit-cny]").get_attribute("data-limit-cny")) == float(
                latest["limit_cny"]
            )
    else:
        assert "—" not in c.page.locator("[data-decision='none']").inner_text()
    c.page.locator("[data-assessment]").scroll_into_view_if_needed()
    c.page.evaluate("window.scrollTo(0, 0)")
    c.shot(f"figures-enterprise-{lang}")
    assert c.errors == []


def test_the_evidence_page_says_what_a_signed_tree_head_and_a_proof_are(console_as):
    c = console_as("officer", "en")
    c.open("#/evidence", "[data-explain='tree-head']")
    assert "fingerprint" in c.page.locator("[data-explain='tree-head']").inner_text()
    assert "check" in c.page.locator("[data-explain='proof']").first.inner_text()
    c.shot("figures-evidence-en")
    assert c.errors == []


def test_cross_verification_never_shows_a_raw_none_and_no_statements_is_neutral(console_as, demo):
    officer = _api(demo, "officer")
    assessments = {}
    for e in officer.get("/api/v1/enterprises").json():
        r = officer.get(f"/api/v1/enterprises/{e['id']}/credit/assessment")
        if r.status_code == 200:
            assessments[e["id"]] = r.json()
    assert assessments
    texts = [c["finding"] for a in assessments.values() for c in a["cross_checks"]]
    assert not [t for t in texts if "None" in t]
    c = console_as("officer", "en")
    bare = [eid for eid, a in assessments.items() if a["statements_count"] == 0]
    for eid in [*bare[:1], *list(assessments)[:1]]:
        c.open(f"#/enterprise/{eid}", "[data-assessment]")
        card = c.page.locator("[data-assessment]")
        assert "None" not in card.inner_text() and "null" not in card.inner_text()
        badge = c.page.locator("[data-verification]")
        if assessments[eid]["statements_count"] == 0:  # nothing reported: neither passed nor failed
            assert badge.get_attribute("data-verification") == "none" and "offline" not in badge.get_attribute("class")
            assert "upload" in c.page.locator("[data-empty='cross-checks']").inner_text()
    assert c.errors == []


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_exposure_axis_reads_as_money_in_the_readers_units(console_as, lang):
    """The exposure chart's amounts: ¥120万 / CN¥1.2M, each label once, none overlapping the next (English read
    '00k', and '300k600k900k1200k' run together once the names took the width)."""
    c = console_as("risk", lang)
    c.open("#/portfolio", "[data-wired='exposure']")
    c.page.wait_for_function("() => echarts.getInstanceByDom(document.querySelector(\"[data-wired='exposure']\"))")
    axis = c.page.evaluate("""() => {
        const ch = echarts.getInstanceByDom(document.querySelector("[data-wired='exposure']"));
        const x = ch.getModel().getComponent('xAxis', 0).axis;
        const at = Object.fromEntries(x.getTicksCoords().map((t) => [t.tickValue, t.coord]));
        const labels = x.getViewLabels().map((l) => ({ text: l.formattedLabel, at: at[l.tick.value] }));
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = '12px sans-serif';
        return labels.map((l) => ({ ...l, width: ctx.measureText(l.text).width }));
    }""")
    money = re.compile(r"^¥\d+(\.\d)?万?$" if lang == "zh-CN" else r"^CN¥\d+(\.\d)?[KM]?$")
    texts = [a["text"] for a in axis]
    assert len(texts) >= 2 and all(money.match(x) for x in texts) and len(set(texts)) == len(texts), texts
    for left, right in zip(axis, axis[1:]):  # centred labels: half of each width on either side of its tick
        assert right["at"] - left["at"] > (left["width"] + right["width"]) / 2, axis
    c.shot(f"figures-portfolio-exposure-{lang}")
    assert c.errors == []
