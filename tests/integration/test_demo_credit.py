"""The demo's credit portfolio is decided for the reasons its stories give, through the real pipeline: the demo's
data load (simulated telemetry imported, indicators computed, alarms raised, books imported), cross-verification
and the product policy. Nothing here or in the demo names a borrower to force an outcome: each story is a set of
facts the simulator acts on (wuxin.sim.portfolio), and this test checks what the platform made of them."""

from __future__ import annotations

import pytest

from wuxin.risk.crossverify import MIN_COVERAGE
from wuxin.risk.decisions import DEFAULT_GRADES
from wuxin.services.credit.decisions import decisions, principal_for_username
from wuxin.services.demo.setup import load_demo
from wuxin.sim.portfolio import STORIES, portfolio

SEED = 2026  # the seed `make demo` uses
T0_MS = 1_790_000_000_000  # 2026-09-21T14:13:20Z, the tests' "now" (tests/conftest.py)
GRADES = [band.grade for band in DEFAULT_GRADES]  # best first
HEALTHY = ("steady", "growing", "third_party")


@pytest.fixture(scope="module")
def demo_decisions(tmp_path_factory, sqlite_template):
    """The demo loaded once (its credit applicants only) on SQLite at the tests' clock; the latest decision of
    each enterprise, keyed by story (or by industry for an enterprise outside the portfolio)."""
    import shutil

    from wuxin.bootstrap import build_platform
    from wuxin.config import Settings
    from wuxin.services.devices.registry import sync_builtin_thing_models

    path = tmp_path_factory.mktemp("demo-credit") / "wuxin.db"
    shutil.copy(sqlite_template, path)
    platform = build_platform(Settings(database_url=f"sqlite:///{path}", environment="test"), clock_ms=lambda: T0_MS)
    sync_builtin_thing_models(platform)
    load_demo(platform, days=7, per_scenario=0, seed=SEED, progress=lambda _: None)
    officer = principal_for_username(platform, "officer")
    story_of = {spec.uscc: story.key for story, spec in portfolio(SEED)}
    with platform.uow() as uow:
        enterprises = uow.enterprises.list()
    out = {}
    for e in enterprises:
        decided = decisions(platform, officer, e["id"])
        if decided:
            out[story_of.get(e["uscc"], e["industry"])] = decided[0]
    yield out
    platform.close()


def deciding(decision: dict) -> set[str]:
    return {f["code"] for f in decision["decision"]["decided_by"]}


def finding(decision: dict, code: str) -> dict:
    return next(f for f in decision["decision"]["policy"] if f["code"] == code)


def verification(decision: dict) -> str:
    return finding(decision, "cross_verification_failed")["measured"]


def test_every_story_is_in_the_demo_and_decided(demo_decisions):
    assert {s.key for s in STORIES} <= set(demo_decisions)


def test_healthy_mills_are_approved_on_verified_revenue_below_the_cap(demo_decisions):
    for key in HEALTHY:
        d = demo_decisions[key]
        assert d["outcome"] == "approve", (key, d["grade"], deciding(d))
        assert verification(d) == "verified"
        limit = d["decision"]["limit"]
        assert limit["basis_label"] == "iot_verified" and not limit["capped"]
        assert float(limit["limit"]) == pytest.approx(0.20 * float(limit["basis_amount"]), abs=0.01)  # 20% of revenue
    assert len({demo_decisions[k]["grade"] for k in HEALTHY}) >= 2, "the healthy mills should spread over grades"


def test_the_declining_mill_is_graded_worse_and_not_approved(demo_decisions):
    d = demo_decisions["declining"]
    assert d["outcome"] in ("refer", "decline")
    assert deciding(d) <= {"grade_band", "pd_above_ceiling"}, deciding(d)  # its grade decided, nothing else
    assert verification(d) == "verified"  # its books are honest: the decline is in what it does
    worst_healthy = max(GRADES.index(demo_decisions[k]["grade"]) for k in HEALTHY)
    assert GRADES.index(d["grade"]) > worst_healthy
    assert d["features"]["activity_change_vs_index"] < 0 and d["features"]["reported_revenue_growth"] < 0


def test_the_inflating_mill_is_declined_because_cross_verification_fails(demo_decisions):
    d = demo_decisions["inflating"]
    assert d["outcome"] == "decline" and "cross_verification_failed" in deciding(d)
    assert verification(d) == "failed"
    overstated = [c for c in d["cross_checks"] if c["status"] == "overstated"]
    assert len(overstated) >= 3 and all(c["ratio"] > 1.5 for c in overstated)
    assert d["decision"]["limit"] is None


def test_the_tampered_mill_is_referred_for_its_open_tamper_alarms(demo_decisions):
    d = demo_decisions["tampered"]
    assert d["outcome"] == "refer" and deciding(d) == {"tamper_alarms_open"}
    assert finding(d, "tamper_alarms_open")["measured"] >= 2  # two bracelets opened this week
    assert verification(d) == "verified"  # its books are fine: the devices are the question


def test_the_shared_only_mill_is_referred_and_its_basis_is_supported_not_verified(demo_decisions):
    d = demo_decisions["shared_only"]
    assert d["outcome"] == "refer" and deciding(d) == {"enterprise_shared_evidence_only"}
    assert verification(d) == "supported"
    limit = d["decision"]["limit"]
    assert limit["basis_label"] == "iot_supported" and limit["haircut_rate"] == "0.30"


def test_no_approval_without_verification_and_no_verified_basis_without_evidence(demo_decisions):
    outcomes = {d["outcome"] for d in demo_decisions.values()}
    assert outcomes == {"approve", "refer", "decline"}
    for key, d in demo_decisions.items():
        if d["outcome"] == "approve":
            assert verification(d) not in ("failed", "undecided"), key
        limit = d["decision"]["limit"]
        if limit and limit["basis_label"] == "iot_verified":
            covered = [
                c
                for c in d["cross_checks"]
                if c["status"] == "consistent"
                and c["coverage"] >= MIN_COVERAGE
                and c["level"] == "verified"
                and c["independent_share"] >= 0.5
            ]
            decided = [c for c in d["cross_checks"] if c["status"] != "insufficient_evidence"]
            assert decided and len(covered) * 2 >= len(decided), key  # most decided periods verified by devices
            assert finding(d, "iot_coverage_below")["measured"] >= 0.6, key
            assert (
                float(limit["basis_amount"])
                <= sum(c["evidenced"] for c in covered) * 365 / sum(c["last_day"] - c["first_day"] + 1 for c in covered)
                + 0.01
            ), key  # no more than the devices saw


@pytest.mark.parametrize("platform", ["sqlite"], indirect=True)
def test_a_construction_contractor_is_decided_on_its_sites_crane_hours_and_worker_days(platform):
    """The demo's credit path on two simulated contractors with a week of site data: both are decided on the
    construction pack's product and referred (a week of evidence, nothing reported the devices covered, revenue
    lent on at a haircut); once they report the week's crane hours and worker-days, the one reporting what its
    crane monitors and gates saw passes the cross-checks and is still referred (no device meters a contractor's
    revenue: a person decides), the one reporting 2.5 times as much is declined because its report fails them."""
    import datetime as dt

    from wuxin.services.credit.assessment import _series, default_as_of_day
    from wuxin.services.credit.business_data import import_rows
    from wuxin.services.credit.decisions import decide_credit
    from wuxin.services.demo.credit import load_demo_credit
    from wuxin.services.demo.setup import _onboard, _tenants, _users
    from wuxin.services.devices.registry import sync_builtin_thing_models
    from wuxin.services.indicators import update_indicators
    from wuxin.services.ingest.bulk_import import chunked, import_lines_chunked
    from wuxin.sim.fleet import build_fleet, fleet_telemetry

    sync_builtin_thing_models(platform)
    fleet = build_fleet(["construction"], 2, SEED)
    bank, other, operator = _tenants(platform)
    ids = [_onboard(platform, spec, bank, operator) for spec in fleet]
    _users(platform, bank, other, operator, ids[0])
    now_ms = platform.clock_ms()
    import_lines_chunked(platform, chunked(fleet_telemetry(fleet, now_ms - 7 * 86_400_000, now_ms, SEED)), "bulk")
    update_indicators(platform)
    load_demo_credit(platform, fleet, ids, "officer", SEED)
    officer = principal_for_username(platform, "officer")
    for eid in ids:
        (d,) = decisions(platform, officer, eid)
        assert d["product_code"] == "construction_site" and d["outcome"] == "refer"
        assert {"evidence_days_below", "cross_verification_undecided"} <= deciding(d)
        assert d["decision"]["limit"]["basis_label"] == "reported_unverified"
        assert d["decision"]["limit"]["haircut_rate"] == "0.50"

    last = default_as_of_day(platform)
    first = last - 4
    iso = [(dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat() for day in (first, last)]
    for eid, spec, factor in zip(ids, fleet, (1.0, 2.5)):
        with platform.uow() as uow:
            seen = _series(uow.indicators.enterprise_days(eid, first, last, ["crane_hours", "headcount"]))
        row = {"uscc": spec.uscc, "period": "site-week", "period_start": iso[0], "period_end": iso[1]}
        row["revenue_cny"] = "400000"
        for field, indicator in (("crane_hours", "crane_hours"), ("labour_days", "headcount")):
            row[field] = f"{float(seen[indicator].on_days(first, last).sum()) * factor:.1f}"
        said = import_rows(platform, None, "statements", [row], "enterprise_reported")
        assert said["accepted"] == 1 and said["errors"] == []
        decide_credit(platform, officer, eid, "construction_site")
    honest, inflated = (decisions(platform, officer, eid)[0] for eid in ids)
    checked = {c["check"] for c in honest["cross_checks"]}
    assert checked == {"crane_hours_vs_monitors", "labour_days_vs_gates"}
    assert {c["status"] for c in honest["cross_checks"]} == {"consistent"}
    assert honest["outcome"] == "refer" and "cross_verification_failed" not in deciding(honest)
    assert {"evidence_days_below", "cross_verification_undecided"} <= deciding(honest)
    assert inflated["outcome"] == "decline" and "cross_verification_failed" in deciding(inflated)
    assert {c["status"] for c in inflated["cross_checks"]} == {"overstated"}
