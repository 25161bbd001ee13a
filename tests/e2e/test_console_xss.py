"""A hostile borrower: every field a borrower (or its integrator) can set through the API holds
HTML or an ECharts template, and a credit officer and the borrower's own user open every console
page, hover every chart item so the tooltip formatters run, and open the HTML credit report.
Nothing may run (the payloads call window.X(); an element with an on* attribute appearing in the
page is an injection even where the Content-Security-Policy blocks it), no policy violation may
be reported, and the hostile text must be on screen as the text it is."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.test_console import _settle
from wuxin.indicators.days import DAY_MS
from wuxin.services.demo.people import DEMO_PASSWORD
from wuxin.sim.spec import make_uscc


def hostile(field: str) -> str:
    """HTML that runs window.X() if it is ever parsed, an attribute break-out, and ECharts' {b} / {a} template
    fields, ending with the field's name so that a finding says where it came from."""
    return f'<img src=x onerror=X()>{{b}}{{a}}"><svg onload=X()>{field}'


FIELDS = {
    "enterprise_name": hostile("enterprise_name"),
    "enterprise_region": hostile("enterprise_region"),
    "site_name": hostile("site_name"),
    "site_region": hostile("site_region"),
    "machine_id": hostile("machine_id"),
    "meter_id": hostile("meter_id"),
    "product": hostile("product"),
    "plate": "<svg onload=X()>",  # the thing model allows 16 characters
    "gate_sku": "<img src=x onerror=X()>",  # a text reading (32 characters)
    "consent_purpose": hostile("consent_purpose"),
    "statement_period": hostile("statement_period"),
    "loan_product": hostile("loan_product"),
    "lot_sku": hostile("lot_sku"),
    "display_name": hostile("display_name"),
    "probe_label": hostile("probe_label"),
    "probe_property": hostile("probe_property"),
    "command_answer": "<img src=x onerror=X()><svg onload=X()>command_answer",  # shown as raw JSON: no quotes
}
XSS_OWNER = "xss-owner"
PROBE_MODEL = {  # a device type the admin imports (POST /api/v1/thing-models), its names for people hostile
    "profile": {"productKey": "manufacturing.xss_probe", "version": "1"},
    "wuxin": {
        "scenario": "manufacturing",
        "label": {"zh": FIELDS["probe_label"], "en": FIELDS["probe_label"]},
        "heartbeat_timeout_s": 1800,
    },
    "properties": [
        {
            "identifier": "level_pct",
            "name": FIELDS["probe_property"],
            "accessMode": "r",
            "required": False,
            "dataType": {
                "type": "float",
                "specs": {"min": "0", "max": "100", "unit": "%", "unitName": FIELDS["probe_property"]},
            },
        }
    ],
    "events": [],
    "services": [],
}

# Runs before the console's own scripts in every document of the context (the report's blob: too).
WATCH = """
window.X = () => { window.__xss = (window.__xss || 0) + 1; };
window.__injected = []; window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber} ${e.sample}`), true);
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) {
    if (n.nodeType !== 1) continue;
    for (const el of [n, ...n.querySelectorAll('*')])
      if ([...el.attributes].some((a) => a.name.startsWith('on')) || el.localName === 'script' && !el.src)
        window.__injected.push(el.outerHTML.slice(0, 160));
  }
}).observe(document, { childList: true, subtree: true });
"""

# Every item of every chart on the page shown with its tooltip (ECharts runs the formatter and sets the HTML),
# returning the tooltips' text.
HOVER_ALL = """() => {
  const texts = [];
  for (const el of document.querySelectorAll('[_echarts_instance_]')) {
    const chart = echarts.getInstanceByDom(el);
    if (!chart || !(chart.getOption().tooltip || []).length) continue;
    chart.getOption().series.forEach((s, seriesIndex) => {
      for (let dataIndex = 0; dataIndex < Math.min((s.data || []).length, 40); dataIndex++) {
        chart.dispatchAction({ type: 'showTip', seriesIndex, dataIndex });
        texts.push(el.innerText);
      }
    });
    chart.dispatchAction({ type: 'hideTip' });
  }
  return texts;
}"""


@dataclass
class Borrower:
    id: int
    owner: str
    loan: int


def _client(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    response = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return client


def _ok(response: httpx.Response) -> dict | list:
    assert response.status_code in (200, 201), f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


@pytest.fixture(scope="module")
def borrower(demo) -> Borrower:
    """Registered through the API the way a borrower, its integrator and the bank would."""
    officer, admin = _client(demo, "officer"), _client(demo, "admin")
    uscc = make_uscc(random.Random(4242))
    enterprise = _ok(
        admin.post(
            "/api/v1/enterprises",
            json={
                "name": FIELDS["enterprise_name"],
                "uscc": uscc,
                "industry": "manufacturing",
                "region": FIELDS["enterprise_region"],
            },
        )
    )["id"]
    _ok(
        admin.post(
            "/api/v1/users",
            json={
                "username": XSS_OWNER,
                "password": DEMO_PASSWORD,
                "role": "enterprise_user",
                "enterprise_id": enterprise,
                "display_name": FIELDS["display_name"],
            },
        )
    )
    owner = _client(demo, XSS_OWNER)
    _ok(admin.post("/api/v1/thing-models", content=json.dumps(PROBE_MODEL)))
    site = _ok(
        owner.post(
            f"/api/v1/enterprises/{enterprise}/sites",
            json={"name": FIELDS["site_name"], "region": FIELDS["site_region"], "lat": 31.3, "lon": 120.6},
        )
    )["id"]
    devices = {
        "xss-loom-01": ("manufacturing.current_bracelet", {"machine_id": FIELDS["machine_id"], "run_threshold_a": 5.0}),
        "xss-meter-01": ("manufacturing.energy_meter", {"meter_id": FIELDS["meter_id"]}),
        "xss-counter-01": ("manufacturing.output_counter", {"product": FIELDS["product"], "unit_price_cny": 12.5}),
        "xss-truck-01": ("vehicles.gps_terminal", {"plate": FIELDS["plate"]}),
        "xss-gate-01": ("logistics.gate_camera", {}),
        "xss-probe-01": ("manufacturing.xss_probe", {}),
    }
    tokens = {
        key: _ok(
            owner.post(
                f"/api/v1/enterprises/{enterprise}/devices",
                json={
                    "key": key,
                    "device_type": kind,
                    "source_mode": "enterprise_shared",
                    "site_id": site,
                    "attributes": attributes,
                },
            )
        )["access_token"]
        for key, (kind, attributes) in devices.items()
    }
    bank = _ok(officer.get("/api/v1/me"))["tenant_id"]
    _ok(
        owner.post(
            f"/api/v1/enterprises/{enterprise}/consents",
            json={
                "tenant_id": bank,
                "scope": "all",
                "purpose": FIELDS["consent_purpose"],
                "expires_ms": int(time.time() * 1000) + 90 * DAY_MS,
            },
        )
    )
    _send_history(demo, tokens)
    _ok(admin.post("/api/v1/indicators/update"))
    first, last = _last_quarter()
    statements = [
        {
            "uscc": uscc,
            "period": FIELDS["statement_period"],
            "period_start": first,
            "period_end": last,
            "revenue_cny": "1800000.00",
            "net_profit_cny": "90000.00",
            "total_assets_cny": "8000000",
            "total_liabilities_cny": "4000000",
        }
    ]
    _ok(owner.post("/api/v1/business-data/statements", content=json.dumps(statements)))
    loan = _ok(
        officer.post(
            "/api/v1/loans",
            json={"enterprise_id": enterprise, "product": FIELDS["loan_product"][:60], "amount_cny": "500000.00"},
        )
    )["id"]
    _ok(
        officer.post(
            f"/api/v1/loans/{loan}/pledges",
            json={"items": [{"kind": "lot", "value": "XSS-LOT-2026-01", "sku": FIELDS["lot_sku"], "quantity": "10"}]},
        )
    )
    _answer_a_command(demo, admin, tokens["xss-loom-01"])
    # A device sends a property named with HTML: the quarantine keeps it with its reason for the admin.
    httpx.post(
        f"{demo}/api/v1/{tokens['xss-gate-01']}/telemetry",
        json={"ts": int(time.time() * 1000), "values": {"<b onclick=X()>q": 1}},
    )
    return Borrower(enterprise, XSS_OWNER, loan)


def _answer_a_command(base: str, admin: httpx.Client, token: str) -> None:
    """The admin sets the bracelet's reporting interval; the device takes it by the HTTP long poll and answers with
    HTML, which the console shows as the device's raw answer."""
    asked = _ok(
        admin.post(
            "/api/v1/devices/xss-loom-01/commands",
            json={"operation": "set_report_interval", "params": {"interval_s": 300}, "reason": "hostile answer probe"},
        )
    )
    polled = _ok(httpx.get(f"{base}/api/v1/{token}/rpc", params={"timeout": 10_000}, timeout=30))
    assert polled["id"] == asked["id"], polled
    _ok(httpx.post(f"{base}/api/v1/{token}/rpc/{asked['id']}", json={"note": FIELDS["command_answer"]}))


def _last_quarter() -> tuple[str, str]:
    today = dt.date.today()
    start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = start - dt.timedelta(days=1)
    return dt.date(end.year, 3 * ((end.month - 1) // 3) + 1, 1).isoformat(), end.isoformat()


def _send_history(base: str, tokens: dict[str, str]) -> None:
    """Two days of readings over the ThingsBoard HTTP device API, as the borrower's devices would send them."""
    now = int(time.time() * 1000)
    start = now - 2 * DAY_MS
    steps = range(start, now, 600_000)
    series = {
        "xss-loom-01": [
            {"ts": t, "values": {"current_a": 12.0 if (t // 3_600_000) % 24 in range(8, 20) else 0.5}} for t in steps
        ],
        "xss-meter-01": [
            {"ts": t, "values": {"energy_kwh_total": 1000 + (t - start) / 3_600_000 * 40, "power_kw": 40.0}}
            for t in steps
        ],
        "xss-counter-01": [{"ts": t, "values": {"output_count_total": (t - start) // 60_000}} for t in steps],
        "xss-truck-01": [
            {"ts": t, "values": {"lat": 31.2 + (t - start) / DAY_MS * 0.01, "lon": 120.5, "speed_kmh": 30.0}}
            for t in steps
        ],
        "xss-gate-01": [
            {"ts": now - k * 3_600_000, "values": {"count_in": 3, "sku": FIELDS["gate_sku"]}} for k in range(3)
        ],
        "xss-probe-01": [{"ts": t, "values": {"level_pct": 40.0}} for t in steps],
    }
    for key, points in series.items():
        result = _ok(httpx.post(f"{base}/api/v1/{tokens[key]}/telemetry", json=points, timeout=60))
        assert not result.get("rejected"), result


def _watched(console_as, username: str):
    c = console_as(username, "en")
    c.page.context.add_init_script(WATCH)
    c.page.reload()
    c.page.wait_for_selector(f"[data-user='{username}']")
    return c


def _visit(c, path: str, expected: list[str]) -> None:
    """Open a page, hover every chart item, then: nothing injected, nothing ran, no policy violation,
    and each expected hostile text shown literally (in the page or in a tooltip)."""
    c.open(path, f"[data-page='{path.split('?')[0]}'] h1")
    _settle(c)
    tips = c.page.evaluate(HOVER_ALL)
    shown = c.page.evaluate("() => document.body.innerText") + "\n".join(tips)
    _assert_clean(c, path)
    missing = [name for name in expected if FIELDS[name] not in shown]
    assert missing == [], (path, missing)


def _assert_clean(c, where: str) -> None:
    state = c.page.evaluate("() => ({ xss: window.__xss ?? null, injected: window.__injected, csp: window.__csp })")
    assert state == {"xss": None, "injected": [], "csp": []}, (where, state)


def _hover_the_site_on_the_map(c) -> str:
    """The pointer on the borrower's site, as an officer would move it: ECharts' own mouse path to the tooltip."""
    x, y = c.page.evaluate(
        """(site) => {
        const el = document.getElementById('map'), chart = echarts.getInstanceByDom(el), box = el.getBoundingClientRect();
        const series = chart.getOption().series, s = series.findIndex((x) => (x.data || []).some((d) => d.name.endsWith(site)));
        const point = series[s].data.find((d) => d.name.endsWith(site));
        const [px, py] = chart.convertToPixel({ seriesIndex: s }, point.value);
        return [box.left + px, box.top + py];
    }""",
        FIELDS["site_name"],
    )
    c.page.mouse.move(x, y)
    c.page.wait_for_function(
        "(site) => document.getElementById('map').innerText.includes(site)", arg=FIELDS["site_name"]
    )
    return c.page.evaluate("() => document.getElementById('map').innerText")


def test_a_hostile_borrower_cannot_run_script_in_the_officers_console(console_as, borrower, demo):
    c = _watched(console_as, "officer")
    _visit(c, "#/portfolio", ["enterprise_name", "enterprise_region"])
    _visit(c, "#/map", ["site_name", "enterprise_name", "plate"])
    tip = _hover_the_site_on_the_map(c)
    assert f"{FIELDS['enterprise_name']} · {FIELDS['site_name']}" in tip  # the text itself, not markup
    c.shot("xss-officer-map-tooltip")
    _assert_clean(c, "map, pointer on the site")
    _visit(
        c,
        f"#/enterprise/{borrower.id}",
        ["enterprise_name", "enterprise_region", "site_name", "machine_id", "loan_product"],
    )
    c.page.wait_for_selector("[data-assessment]")
    c.page.wait_for_selector("[data-indicator-chart][data-ready]")
    _visit(c, f"#/enterprise/{borrower.id}", ["statement_period"])  # the cross-checks, once loaded
    c.page.mouse.move(*_timeline_row(c))
    c.page.wait_for_selector(".timeline-wrap .tip", state="visible")
    assert FIELDS["machine_id"] in c.page.inner_text(".timeline-wrap .tip")
    for device, expected in (
        ("xss-loom-01", []),
        ("xss-truck-01", []),
        ("xss-gate-01", ["gate_sku"]),
        ("xss-probe-01", ["probe_property"]),
    ):
        _visit(c, f"#/device/{borrower.id}/{device}", expected)
    day = c.page.evaluate("() => new Date(Date.now() + 8 * 3600e3 - 86400e3).toISOString().slice(0, 10)")
    _visit(c, f"#/evidence/{borrower.id}/run_hours/{day}?device=xss-loom-01", ["enterprise_name"])
    _visit(c, "#/alarms", [])
    _visit(c, "#/loans", ["enterprise_name", "loan_product"])
    c.page.click(f"[data-coverage='{borrower.loan}']")
    c.page.wait_for_selector(f"[data-coverage-card='{borrower.loan}']")
    _visit(c, "#/pledges", ["enterprise_name", "lot_sku"])
    _visit(c, "#/industry", [])
    _visit(c, f"#/evidence?e={borrower.id}", ["enterprise_name"])
    c.shot("xss-officer-evidence")

    c.open(f"#/enterprise/{borrower.id}", "[data-report='html']")
    with c.page.context.expect_page() as popup:
        c.page.click("[data-report='html']")
    report = popup.value
    report.wait_for_load_state()
    text = report.evaluate("() => document.body.innerText")
    assert FIELDS["enterprise_name"] in text and FIELDS["statement_period"] in text
    assert report.evaluate(
        "() => ({ xss: window.__xss ?? null, found: document.querySelectorAll('img, [onload], [onerror]').length })"
    ) == {"xss": None, "found": 0}
    report.close()
    assert c.errors == []


def _timeline_row(c) -> tuple[float, float]:
    box = c.page.locator("[data-testid='timeline']").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + 22 + 6  # the middle of the first machine's row


def test_a_hostile_borrower_cannot_run_script_in_its_own_console(console_as, borrower):
    c = _watched(console_as, borrower.owner)
    _visit(c, "#/my", ["enterprise_name", "enterprise_region"])
    _visit(c, "#/my/devices", ["machine_id"])
    _visit(c, "#/consents", ["consent_purpose"])
    c.page.locator("[data-narrow]").first.click()
    c.page.wait_for_selector("#narrow-save")
    _visit(c, f"#/device/{borrower.id}/xss-gate-01", ["gate_sku"])
    _visit(c, f"#/device/{borrower.id}/xss-probe-01", ["probe_property"])
    _visit(c, "#/commands", ["command_answer"])  # every command to its devices, the device's raw answer as text
    assert c.errors == []


def test_the_admin_sees_a_hostile_quarantined_property_as_text(console_as, borrower):
    c = _watched(console_as, "admin")
    c.open("#/quarantine", "[data-page='#/quarantine'] h1")
    _settle(c)
    assert "<b onclick=X()>q" in c.page.evaluate("() => document.body.innerText")
    _assert_clean(c, "quarantine")
    assert c.errors == []
