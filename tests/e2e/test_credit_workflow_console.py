"""The officer's workflow in Chromium: an officer requests a decision for a loan application on the borrower's
page, sees the outcome with the policy findings, the coverage and the limit steps, overrides it with a written
reason in a modal dialog (never window.prompt); a risk manager logs in, approves it in a dialog, and the
application moves on."""

from __future__ import annotations

import httpx

from wuxin.services.demo.people import DEMO_PASSWORD


def _api(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}).json()[
        "access_token"
    ]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_officer_overrides_in_a_dialog_and_a_risk_manager_approves_it(console_as, demo):
    officer = _api(demo, "officer")
    station = next(e for e in officer.get("/api/v1/enterprises").json() if e["industry"] == "energy")
    loan = officer.post(
        "/api/v1/loans",
        json={"enterprise_id": station["id"], "product": "充电站运营贷 <b>x</b>", "amount_cny": "800000"},
    ).json()["id"]

    c = console_as("officer", "en")
    prompts: list[str] = []
    c.page.on("dialog", lambda d: prompts.append(d.type))  # a window.prompt / alert / confirm would show here
    c.open(f"#/enterprise/{station['id']}", "[data-request-decision] #wf-product")
    c.page.select_option("#wf-product", "charging_station")
    c.page.select_option("#wf-loan", str(loan))
    c.page.click("#wf-request")
    c.page.wait_for_selector(f"[data-loan='{loan}']", timeout=30_000)
    decision = officer.get(f"/api/v1/enterprises/{station['id']}/credit/decisions").json()[0]
    assert decision["product_code"] == "charging_station" and decision["outcome"] == "refer"  # two days of evidence
    assert c.page.locator("[data-outcome]").first.get_attribute("data-outcome") == "refer"
    shown = c.page.locator("[data-decided-by] li").all_inner_texts()
    assert shown == [f["text_en"] for f in decision["decision"]["decided_by"]]  # reasons in words, not codes
    assert "evidence_days_below" not in " ".join(shown)
    coverage = next(f for f in decision["decision"]["policy"] if f["code"] == "iot_coverage_below")
    shown_coverage = c.page.locator("[data-coverage]").get_attribute("data-coverage")
    if coverage["measured"] is None:
        assert shown_coverage == "unknown"
    else:
        assert float(shown_coverage) == coverage["measured"]
    steps = decision["decision"]["limit"]["steps"]
    assert c.page.locator("[data-limit-basis] ul li").all_inner_texts() == steps and steps
    assert c.page.locator("[data-wf-state]").inner_text() == "referred to a person"
    c.shot("workflow-officer-referred")

    c.page.click(f"[data-override='{decision['id']}']")
    dialog = c.page.locator("dialog[data-dialog='override']")
    dialog.wait_for(state="visible")
    assert c.page.evaluate("() => document.querySelector(\"dialog[data-dialog='override']\").matches(':modal')")
    dialog.locator("select[name='outcome']").select_option("approve")
    dialog.locator("input[name='limit_cny']").fill(
        "800000"
    )  # the loan asks 800,000: assess needs a limit that covers it
    dialog.locator("textarea[name='reason']").fill("ab")
    dialog.locator("[data-dialog-submit]").click()  # too short: the browser keeps the dialog open
    assert (
        dialog.is_visible()
        and officer.get(f"/api/v1/credit/decisions/{decision['id']}/workflow").json()["state"] == "referred"
    )
    reason = "Station revenue confirmed by the grid operator <script>alert(1)</script>"
    dialog.locator("textarea[name='reason']").fill(reason)
    c.shot("workflow-officer-override-dialog")
    dialog.locator("[data-dialog-submit]").click()
    c.page.wait_for_selector("[data-wf-state='pending_approval'], [data-dialog-error]:not(:empty)")
    assert c.page.locator("[data-dialog-error]").count() == 0, c.page.locator("[data-dialog-error]").inner_text()
    review = officer.get(f"/api/v1/credit/decisions/{decision['id']}/workflow").json()["reviews"][0]
    assert c.page.locator(f"[data-review-reason='{review['id']}']").inner_text() == reason  # shown as text, not markup
    assert officer.get(f"/api/v1/loans/{loan}").json()["state"] == "application"
    c.open("#/reviews", "[data-pending]")
    assert c.page.locator(f"[data-approve='{review['id']}']").count() == 0  # an officer does not approve
    assert c.errors == [] and prompts == []

    r = console_as("risk", "zh-CN")
    r_prompts: list[str] = []
    r.page.on("dialog", lambda d: r_prompts.append(d.type))
    r.open("#/reviews", f"[data-approve='{review['id']}']")
    assert "人工推翻" in r.page.locator("[data-pending]").inner_text()  # labelled in the console's language
    r.page.click(f"[data-approve='{review['id']}']")
    approve = r.page.locator("dialog[data-dialog='approve']")
    approve.wait_for(state="visible")
    approve.locator("textarea[name='reason']").fill("电网结算单已核对，同意")
    r.shot("workflow-risk-approve-dialog")
    approve.locator("[data-dialog-submit]").click()
    r.page.wait_for_selector("[data-pending='none']")
    assert officer.get(f"/api/v1/loans/{loan}").json()["state"] == "assessment"

    r.open(f"#/enterprise/{station['id']}", f"[data-loan='{loan}'][data-loan-state='assessment']")
    assert r.page.locator("[data-wf-state]").inner_text() == "已批准"
    assert r.page.locator("[data-override]").count() == 0  # final
    r.shot("workflow-risk-approved")
    assert r.errors == [] and r_prompts == []
