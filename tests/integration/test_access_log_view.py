"""The enterprise sees who read its data: the access-log view and its CSV export, and every denial, over HTTP."""

from __future__ import annotations

import csv
import io

from tests.world import DAY_MS, PASSWORD, build_world, login
from wuxin.services.access import consent, identity


def _url(enterprise_id: int) -> str:
    return f"/api/v1/enterprises/{enterprise_id}/access-log"


def test_the_owner_sees_which_bank_read_what_under_which_consent(live, platform):
    world = build_world(platform)
    officer = login(live.client, "officer")
    assert live.client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=officer).status_code == 200
    assert (
        live.client.get(f"/api/v1/enterprises/{world.factory}/devices/loom-01/telemetry", headers=officer).status_code
        == 200
    )
    response = live.client.get(_url(world.factory), headers=login(live.client, "owner"))
    assert response.status_code == 200, response.text
    telemetry, listing = response.json()
    assert (listing["username"], listing["role"], listing["tenant_name"], listing["action"], listing["consent_id"]) == (
        "officer",
        "credit_officer",
        "Test Bank",
        "devices.list",
        world.consent_bank_factory,
    )
    assert (telemetry["action"], telemetry["device_key"], telemetry["tenant_id"]) == (
        "telemetry.read",
        "loom-01",
        world.bank,
    )
    assert listing["rows"] == 3 and listing["at_ms"] == platform.clock_ms()
    admin = live.client.get(_url(world.factory), headers=login(live.client, "admin"))
    assert admin.status_code == 200 and [e["id"] for e in admin.json()] == [telemetry["id"], listing["id"]]


def test_everyone_but_the_enterprise_and_the_admin_is_refused_as_the_conventions_say(live, platform):
    world = build_world(platform)
    url = _url(world.factory)
    assert live.client.get(url).status_code == 401
    for consented in ("officer", "risk", "integrator"):  # their tenant holds a consent: they may know it exists
        response = live.client.get(url, headers=login(live.client, consented))
        assert response.status_code == 403 and "access log" in response.json()["message"], consented
    for stranger in ("other", "fleetowner"):  # no consent / another enterprise: as if it did not exist
        response = live.client.get(url, headers=login(live.client, stranger))
        assert response.status_code == 404, stranger
        assert response.json()["message"] == f"enterprise {world.factory} does not exist"
    assert live.client.get(url + "?format=csv", headers=login(live.client, "other")).status_code == 404
    owner = login(live.client, "owner")
    assert live.client.get(_url(world.fleet), headers=owner).status_code == 404
    assert live.client.get(_url(999_999), headers=owner).status_code == 404
    assert live.client.get(url + "?format=xml", headers=owner).status_code == 422


def test_after_revocation_the_bank_is_a_stranger_but_its_old_reads_stay_listed(live, platform):
    world = build_world(platform)
    officer = login(live.client, "officer")
    live.client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=officer)
    owner = login(live.client, "owner")
    assert live.client.post(f"/api/v1/consents/{world.consent_bank_factory}/revoke", headers=owner).status_code == 200
    assert live.client.get(_url(world.factory), headers=officer).status_code == 404
    assert [e["username"] for e in live.client.get(_url(world.factory), headers=owner).json()] == ["officer"]


def test_pages_with_before_id_and_filters_by_tenant_and_time(live, platform):
    world = build_world(platform)
    officer, integrator = login(live.client, "officer"), login(live.client, "integrator")
    for who in (officer, integrator, officer, integrator, officer):
        live.client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=who)
        platform.clock.advance(60_000)
    owner = login(live.client, "owner")
    seen, url = [], _url(world.factory) + "?limit=2"
    while url:
        response = live.client.get(url, headers=owner)
        assert response.status_code == 200 and len(response.json()) <= 2
        seen += response.json()
        nxt = response.headers.get("X-Next-Before-Id")
        url = f"{_url(world.factory)}?limit=2&before_id={nxt}" if nxt else None
    assert len(seen) == 5 and [e["id"] for e in seen] == sorted((e["id"] for e in seen), reverse=True)
    live.client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=owner)  # its own read: no tenant
    assert len(live.client.get(_url(world.factory), headers=owner).json()) == 6
    assert len(live.client.get(_url(world.factory), params={"tenants_only": "true"}, headers=owner).json()) == 5
    bank_only = live.client.get(_url(world.factory), params={"tenant_id": world.operator}, headers=owner).json()
    assert [e["username"] for e in bank_only] == ["integrator", "integrator"]
    first = min(e["at_ms"] for e in seen)
    window = live.client.get(_url(world.factory), params={"from": first + 60_000, "to": first + 180_000}, headers=owner)
    assert [e["at_ms"] - first for e in window.json()] == [120_000, 60_000]


def test_csv_export_escapes_quotes_commas_and_formula_cells(live, platform):
    world = build_world(platform)
    hostile = identity.create_tenant(platform, '=HYPERLINK("http://evil","bank, ltd")', "bank")
    identity.create_user(platform, "hostile", PASSWORD, "credit_officer", hostile, display_name="@SUM(1+1) 王")
    consent.grant(platform, None, world.factory, hostile, "all", [], "credit assessment", platform.clock_ms() + DAY_MS)
    live.client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=login(live.client, "hostile"))
    response = live.client.get(_url(world.factory) + "?format=csv", headers=login(live.client, "owner"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffid,at_ms,at_china_time,")
    (row,) = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert row["tenant_name"] == "'" + '=HYPERLINK("http://evil","bank, ltd")'
    assert row["display_name"] == "'@SUM(1+1) 王" and row["username"] == "hostile"
    assert row["action"] == "devices.list" and row["at_china_time"].endswith("+08:00")
    assert '"\'=HYPERLINK(""http://evil"",""bank, ltd"")"' in text  # RFC 4180 quoting of the raw line
