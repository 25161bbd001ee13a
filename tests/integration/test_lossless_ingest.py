"""Nothing good is lost: known events with unlisted params, undeclared install attributes, standby noise, alarm pages."""

from __future__ import annotations

import orjson
import pytest

from tests.conftest import T0_MS
from tests.world import build_world, login


@pytest.fixture
def world(platform):
    return build_world(platform)


def post(live, token: str, body):
    return live.client.post(
        f"/api/v1/{token}/telemetry", content=orjson.dumps(body), headers={"content-type": "application/json"}
    )


def stored_events(platform, device_key: str) -> list[dict]:
    with platform.uow() as uow:
        device = uow.devices.by_key(device_key)
        return uow.telemetry.events([device["id"]], 0, 2**62, 100)


def params_of(event: dict) -> dict:
    params = event["params"]
    return orjson.loads(params) if isinstance(params, str) else params


@pytest.mark.parametrize("name", ["tamper", "power_lost", "reboot"])
def test_a_known_event_with_an_unlisted_param_is_stored_and_the_param_kept_and_flagged(platform, live, world, name):
    response = post(
        live,
        world.device_tokens["loom-01"],
        [{"ts": T0_MS - 5, "event": name, "params": {"cover": "open", "source_ip": "10.0.0.7"}}],
    )
    body = response.json()
    assert response.status_code == 200 and body["events"] == 1 and body["rejected"] == 0, body
    [warning] = body["warnings"]
    assert warning["key"] == name and warning["reason"] == "unknown_params_kept"
    assert warning["params"] == ["cover", "source_ip"]
    [event] = stored_events(platform, "loom-01")
    assert event["name"] == name
    assert params_of(event) == {"_unknown": {"cover": "open", "source_ip": "10.0.0.7"}}
    with platform.uow() as uow:
        assert uow.quarantine.list("open", 10) == []


def test_a_listed_param_with_a_bad_value_is_quarantined_alone_and_the_event_kept(platform, live, world):
    from wuxin.services.devices import registry

    _, token = registry.register_device(platform, None, world.factory, "pv-01", "energy.pv_inverter", "bank_installed")
    response = post(
        live, token, [{"ts": T0_MS - 5, "event": "fault", "params": {"code": -3, "message": "grid", "x": 1}}]
    )
    body = response.json()
    assert body["events"] == 1 and body["rejected"] == 1 and body["errors"][0]["key"] == "fault.code", body
    [event] = stored_events(platform, "pv-01")
    assert params_of(event) == {"message": "grid", "_unknown": {"x": 1}, "_invalid": ["code"]}
    with platform.uow() as uow:
        [entry] = uow.quarantine.list("open", 10)
    assert orjson.loads(entry["payload"])["params"] == {"code": -3}


def test_an_unknown_event_is_still_refused(platform, live, world):
    response = post(live, world.device_tokens["loom-01"], [{"ts": T0_MS - 5, "event": "explode", "params": {"a": 1}}])
    body = response.json()
    assert body["events"] == 0 and body["errors"][0]["reason"] == "unknown_event" and body["warnings"] == []
    assert stored_events(platform, "loom-01") == []


def test_undeclared_install_attributes_are_stored_and_returned_as_undeclared(platform, live, world):
    admin = login(live.client, "admin")
    attributes = {
        "meter_id": "M-7",
        "feeds": ["A1", "A2"],
        "voltage_v": 380,
        "power_factor": 0.92,
        "base_load_kw": 12.5,
    }
    response = live.client.post(
        f"/api/v1/enterprises/{world.factory}/devices",
        headers=admin,
        json={
            "key": "meter-02",
            "device_type": "manufacturing.energy_meter",
            "source_mode": "bank_installed",
            "attributes": attributes,
        },
    )
    assert response.status_code == 201, response.text
    response = live.client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=login(live.client, "officer"))
    assert response.status_code == 200, response.text
    devices = response.json()
    [meter] = [d for d in devices if d["key"] == "meter-02"]
    assert meter["attributes"] == attributes
    assert meter["undeclared_attributes"] == ["base_load_kw", "feeds", "power_factor", "voltage_v"]


def test_undeclared_install_attributes_are_bounded_and_declared_ones_still_checked(platform, world):
    from wuxin.errors import ThingModelError

    model = platform.thing_models.get("energy.pv_inverter")
    with pytest.raises(ThingModelError, match="capacity_kwp"):
        model.check_attributes({"capacity_kwp": -1})
    with pytest.raises(ThingModelError, match="not an identifier"):
        model.check_attributes({"bad name": 1})
    with pytest.raises(ThingModelError, match="more than 1024"):
        model.check_attributes({"notes": "x" * 2000})
    with pytest.raises(ThingModelError, match="more than 50"):
        model.check_attributes({f"a{i}": i for i in range(51)})


def test_inverter_standby_draw_at_night_is_stored_as_measured_and_a_real_negative_refused(platform, live, world):
    from wuxin.indicators.memory import device_days
    from wuxin.scenarios.energy.indicators import generation_kwh
    from wuxin.services.devices import registry

    _, token = registry.register_device(
        platform, None, world.factory, "pv-01", "energy.pv_inverter", "bank_installed", None, {"capacity_kwp": 100.0}
    )
    night = T0_MS - 3_600_000  # 21:13 in Suzhou
    lines = [
        {"ts": night + i * 600_000, "values": {"ac_power_kw": -0.003, "energy_kwh_total": 5000.0}} for i in range(4)
    ]
    lines.append({"ts": night + 1, "values": {"ac_power_kw": -5.0}})
    body = post(live, token, lines).json()
    assert body["accepted"] == 8 and body["rejected"] == 1, body
    assert body["errors"][0]["key"] == "ac_power_kw" and body["errors"][0]["reason"] == "out_of_range"
    with platform.uow() as uow:
        device = uow.devices.by_key("pv-01")
        rows = uow.telemetry.readings([device["id"]], None, 0, 2**62, 100)
    power = [r["num"] for r in rows if r["key"] == "ac_power_kw"]
    assert power == [-0.003] * 4  # stored as measured, not clamped
    values = {k: [(r["ts_ms"], r["num"]) for r in rows if r["key"] == k] for k in ("ac_power_kw", "energy_kwh_total")}
    generation = generation_kwh(device_days("pv-01", "energy.pv_inverter", {"capacity_kwp": 100.0}, values, {}))
    assert (
        len(generation.value) == 1 and not (generation.value < 0).any()
    )  # generation comes from the energy counter: standby draw is not negative output


def test_a_noise_band_must_be_a_non_negative_number_below_a_declared_min():
    from wuxin.domain.thing_model import compile_thing_model
    from wuxin.errors import ThingModelError

    def model(wuxin: dict, specs: dict) -> dict:
        return {
            "profile": {"productKey": "energy.probe"},
            "properties": [{"identifier": "p_kw", "dataType": {"type": "float", "specs": specs}, "wuxin": wuxin}],
        }

    assert compile_thing_model(model({"noise_below_min": 0.05}, {"min": "0"})).check("p_kw", -0.05) == (-0.05, None)
    with pytest.raises(ThingModelError, match="noise_below_min must be >= 0"):
        compile_thing_model(model({"noise_below_min": -1}, {"min": "0"}))
    with pytest.raises(ThingModelError, match="needs a specs.min"):
        compile_thing_model(model({"noise_below_min": 0.05}, {}))


def seed_alarms(platform, enterprise_id: int, count: int) -> list[int]:
    ids = []
    with platform.uow() as uow:
        for i in range(count):
            alarm_id, _ = uow.monitoring.raise_alarm(
                dict(
                    scope="platform",
                    tenant_id=None,
                    source=f"device:{i}",
                    alarm_type="device_tamper",
                    rule_id="tamper",
                    severity="critical",
                    status="active",
                    enterprise_id=enterprise_id,
                    device_id=None,
                    loan_ids=[],
                    started_ms=T0_MS - i,
                    last_ms=T0_MS - i,
                    stored_ms=T0_MS,
                    detail={},
                )
            )
            ids.append(alarm_id)
        uow.commit()
    return ids


def test_alarms_page_over_250_with_limit_100_in_three_pages_without_duplicates_or_gaps(platform, live, world):
    ids = seed_alarms(platform, world.factory, 250)
    headers = login(live.client, "risk")
    pages, url = [], "/api/v1/alarms?status=active&limit=100"
    while url:
        response = live.client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        pages.append([a["id"] for a in response.json()])
        url = response.links.get("next", {}).get("url")
    assert [len(p) for p in pages] == [100, 100, 50]
    seen = [i for page in pages for i in page]
    assert seen == sorted(ids, reverse=True)  # newest first, each once, none missing
    assert live.client.get("/api/v1/alarms?status=active", headers=headers).headers["X-Next-Before-Id"] == str(
        pages[0][-1]
    )
    assert len(live.client.get("/api/v1/alarms", headers=headers).json()) == 100  # the default page


def test_a_page_of_one_loans_alarms_is_full_while_more_match(platform, world):
    from wuxin.services.access.identity import login as do_login
    from wuxin.services.access.identity import principal_for_token
    from wuxin.services.monitoring import alarms as monitoring

    with platform.uow() as uow:
        for i in range(30):
            uow.monitoring.raise_alarm(
                dict(
                    scope="platform",
                    tenant_id=None,
                    source=f"device:{i}",
                    alarm_type="device_tamper",
                    rule_id="tamper",
                    severity="critical",
                    status="active",
                    enterprise_id=world.factory,
                    device_id=None,
                    loan_ids=[7] if i % 3 == 0 else [],
                    started_ms=T0_MS,
                    last_ms=T0_MS,
                    stored_ms=T0_MS,
                    detail={},
                )
            )
        uow.commit()
    admin = principal_for_token(platform, do_login(platform, "admin", "correct-horse-battery"))
    seen, cursor = [], None
    while True:
        rows, cursor = monitoring.alarm_page(platform, admin, loan_id=7, limit=4, before_id=cursor)
        seen.append(len(rows))
        if cursor is None:
            break
    assert seen == [4, 4, 2]


def test_an_event_reads_back_through_the_typed_telemetry_answer_with_its_params_as_an_object(platform, live, world):
    """The telemetry read's answer is typed: an event's parameters (stored as a JSON object's text) come back as an
    object, never a 500 because the stored text is not the declared object."""
    post(live, world.device_tokens["loom-01"], [{"ts": T0_MS - 5, "event": "tamper", "params": {"cover": "open"}}])
    headers = login(live.client, "officer")
    url = f"/api/v1/enterprises/{world.factory}/devices/loom-01/telemetry?from_ms={T0_MS - 60_000}&to_ms={T0_MS}"
    answer = live.client.get(url, headers=headers)
    assert answer.status_code == 200, answer.text
    [event] = answer.json()["events"]
    assert event["event"] == "tamper" and event["params"] == {"_unknown": {"cover": "open"}}
