"""A genuine Alibaba Cloud TSL export (its own productKey) is imported as exported, the device type chosen at import
or from the stored productKey mapping; a thing model of a scenario the platform does not know is refused."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import T0_MS
from tests.world import build_world, login
from wuxin.cli.main import app
from wuxin.config import get_settings
from wuxin.scenarios import scenario_packs
from wuxin.services.devices import registry
from wuxin.services.ingest.telemetry import ingest_lines

EXPORT = Path(__file__).parents[1] / "fixtures" / "tsl" / "alibaba_oven_controller_export.json"
KNOWN = ", ".join(sorted(scenario_packs()))


def _export(**profile) -> bytes:
    doc = json.loads(EXPORT.read_text(encoding="utf-8"))
    doc["profile"].update(profile)
    return json.dumps(doc, ensure_ascii=False).encode()


def test_an_alibaba_export_is_imported_as_exported_with_the_device_type_given_then_remembered(live, platform):
    world = build_world(platform)
    admin = login(live.client, "admin")
    refused = live.client.post("/api/v1/thing-models", content=_export(), headers=admin)
    assert refused.status_code == 422
    assert "'a1Bc2De3F4g'" in refused.json()["message"] and KNOWN in refused.json()["message"]
    created = live.client.post(
        "/api/v1/thing-models",
        params={"device_type": "manufacturing.oven_controller"},
        content=_export(),
        headers=admin,
    )
    assert created.status_code == 201, created.text
    assert created.json() == {"device_type": "manufacturing.oven_controller"}
    stored = live.client.get("/api/v1/thing-models/manufacturing.oven_controller", headers=admin).json()
    assert stored["profile"] == {"version": "1.0", "productKey": "a1Bc2De3F4g"}  # kept as exported
    newer = live.client.post("/api/v1/thing-models", content=_export(version="1.1"), headers=admin)  # the mapping
    assert newer.status_code == 201 and newer.json()["device_type"] == "manufacturing.oven_controller"
    listing = {m["device_type"]: m for m in live.client.get("/api/v1/thing-models", headers=admin).json()}
    assert listing["manufacturing.oven_controller"]["version"] == "1.1"
    assert listing["manufacturing.oven_controller"]["scenario"] == "manufacturing"
    registry.register_device(
        platform, None, world.factory, "oven-01", "manufacturing.oven_controller", "bank_installed"
    )
    result = ingest_lines(
        platform,
        [
            {
                "device": "oven-01",
                "ts": T0_MS,
                "values": {"CurrentTemperature": 182.5, "WorkMode": 1, "PowerSwitch": True},
            },
            {"device": "oven-01", "ts": T0_MS + 1000, "values": {"CurrentTemperature": 950.0}},  # above the 400 °C max
        ],
        "http",
    )
    assert result.accepted == 3 and len(result.rejections) == 1
    assert "CurrentTemperature" in str(result.rejections[0])


def test_a_thing_model_of_an_unknown_scenario_is_refused_naming_it_and_the_known_ones(live, platform):
    build_world(platform)
    admin = login(live.client, "admin")
    wuxin_style = live.client.post(
        "/api/v1/thing-models", content=_export(productKey="bakery.oven_sensor"), headers=admin
    )
    assert wuxin_style.status_code == 422
    assert wuxin_style.json()["message"] == (
        f"thing model bakery.oven_sensor: scenario 'bakery' is not a known scenario (known: {KNOWN})"
    )
    chosen = live.client.post(
        "/api/v1/thing-models", params={"device_type": "bakery.oven"}, content=_export(), headers=admin
    )
    assert chosen.status_code == 422 and "'bakery'" in chosen.json()["message"]
    malformed = live.client.post(
        "/api/v1/thing-models", params={"device_type": "Oven Controller"}, content=_export(), headers=admin
    )
    assert malformed.status_code == 422 and "'Oven Controller'" in malformed.json()["message"]
    assert (
        live.client.post(
            "/api/v1/thing-models",
            params={"device_type": "manufacturing.oven_controller"},
            content=_export(),
            headers=login(live.client, "officer"),
        ).status_code
        == 403
    )
    assert live.client.get("/api/v1/thing-models/bakery.oven_sensor", headers=admin).status_code == 404
    with platform.uow() as uow:  # nothing of the refused imports was kept, no mapping either
        assert uow.devices.product_device_type("a1Bc2De3F4g") is None


def test_only_the_platform_admin_imports_thing_models_or_repoints_a_product_key(live, platform):
    build_world(platform)
    admin, integrator = login(live.client, "admin"), login(live.client, "integrator")
    assert (
        live.client.post(
            "/api/v1/thing-models",
            params={"device_type": "manufacturing.oven_controller"},
            content=_export(),
            headers=admin,
        ).status_code
        == 201
    )
    before = live.client.get("/api/v1/thing-models/manufacturing.current_bracelet", headers=admin).json()
    bracelet = live.client.post(
        "/api/v1/thing-models",
        params={"device_type": "manufacturing.current_bracelet"},
        content=_export(),
        headers=integrator,
    )  # would replace every bank's bracelet model
    assert bracelet.status_code == 403
    own_type = live.client.post(
        "/api/v1/thing-models", params={"device_type": "manufacturing.oven_two"}, content=_export(), headers=integrator
    )  # would re-point the admin's productKey
    assert own_type.status_code == 403
    assert live.client.get("/api/v1/thing-models/manufacturing.current_bracelet", headers=admin).json() == before
    with platform.uow() as uow:
        assert uow.devices.product_device_type("a1Bc2De3F4g") == "manufacturing.oven_controller"
        assert uow.devices.thing_model("manufacturing.oven_two") is None
    repointed = live.client.post(
        "/api/v1/thing-models", params={"device_type": "manufacturing.oven_two"}, content=_export(), headers=admin
    )
    assert repointed.status_code == 201
    with platform.uow() as uow:
        assert uow.devices.product_device_type("a1Bc2De3F4g") == "manufacturing.oven_two"
        audits = [a for a in uow.logs.audit_entries() if a["action"] == "thing_model.import"]  # newest first
    assert audits[0]["detail"]["replaced_mapping"] == "manufacturing.oven_controller"


def test_the_cli_imports_an_alibaba_export_with_a_device_type(platform, monkeypatch, tmp_path):
    monkeypatch.setenv("WUXIN_DATABASE_URL", platform.settings.database_url)
    get_settings.cache_clear()
    try:
        path = tmp_path / "export.json"
        path.write_bytes(_export())
        refused = CliRunner().invoke(app, ["thing-model", "import", str(path)])
        assert refused.exit_code == 2 and "a1Bc2De3F4g" in refused.output
        ok = CliRunner().invoke(app, ["thing-model", "import", str(path), "--device-type", "energy.oven_meter"])
        assert ok.exit_code == 0 and "energy.oven_meter" in ok.output
    finally:
        get_settings.cache_clear()
    platform.thing_models.reload()
    assert platform.thing_models.get("energy.oven_meter").version == "1.0"
