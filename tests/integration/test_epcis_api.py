"""EPCIS 2.0 over HTTP: capture of all five event types (sensor data too), idempotent on the CBV
hash ID, written to the ledger; standard query parameters with pagination; standard errors; consent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.world import build_world, login
from wuxin.ledger.proofs import verify_document
from wuxin.services.evidence import trace
from wuxin.trace.epcis import EVENT_TYPES, event_hash_ids, event_time_ms, events_of

FIXTURES = Path(__file__).parents[1] / "fixtures" / "epcis"
DOCUMENTS = [p for p in sorted(FIXTURES.glob("*.jsonld")) if json.loads(p.read_text())["type"] == "EPCISDocument"]
JSON_LD = {"Content-Type": "application/ld+json"}


@pytest.fixture
def world(platform):
    return build_world(platform)


def _capture(live, headers, document: dict, **params):
    return live.client.post("/epcis/capture", content=json.dumps(document), params=params, headers=headers | JSON_LD)


def _events(live, headers, **params) -> dict:
    response = live.client.get("/epcis/events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_capture_stores_every_event_type_once_and_in_the_ledger(platform, live, world):
    owner = login(live.client, "owner")
    expected = []
    for path in DOCUMENTS:
        document = json.loads(path.read_text())
        response = _capture(live, owner, document)
        assert response.status_code == 202, (path.name, response.text)
        assert response.json()["eventHashIds"] == list(dict.fromkeys(event_hash_ids(document)))
        expected += response.json()["eventHashIds"]
    again = _capture(live, owner, json.loads(DOCUMENTS[0].read_text())).json()
    assert again["captured"] == 0 and again["duplicates"] == len(events_of(json.loads(DOCUMENTS[0].read_text())))
    listed = _events(live, owner, perPage="1000")["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len(listed) == len(set(expected))
    assert {e["type"] for e in listed} == set(EVENT_TYPES)
    assert any("sensorElementList" in e for e in listed)
    assert all("recordTime" in e for e in listed)
    with platform.uow() as uow:
        entries = uow.ledger.entries_by_subjects(expected[:3])
    assert [e["kind"] for e in entries] == ["epcis_event"] * 3
    proof = live.client.get(f"/api/v1/ledger/entries/{entries[0]['leaf_index']}/proof", headers=owner).json()
    assert "verified" not in proof and verify_document(proof).endswith(
        "leaf data matches; signed tree head by " + proof["tree_head"]["public_key"]
    )


def test_query_parameters_filter_and_paginate(platform, live, world):
    owner = login(live.client, "owner")
    for path in DOCUMENTS:
        _capture(live, owner, json.loads(path.read_text()))
    shipping = _events(live, owner, EQ_bizStep="shipping")["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert shipping and all(e["bizStep"] in ("shipping", "urn:epcglobal:cbv:bizstep:shipping") for e in shipping)
    by_epc = _events(live, owner, MATCH_epc="urn:epc:id:sgtin:0614141.107346.2018")
    by_epc_events = by_epc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert by_epc_events and all(
        "https://id.gs1.org/01/10614141073464/21/2018" in json.dumps(e) or "0614141.107346.2018" in json.dumps(e)
        for e in by_epc_events
    )
    by_pattern = _events(live, owner, MATCH_anyEPC="urn:epc:idpat:sgtin:0614141.107346.*")
    assert len(by_pattern["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) >= len(by_epc_events)
    in_2005 = _events(
        live, owner, GE_eventTime="2005-04-04T00:00:00Z", LT_eventTime="2005-04-05T00:00:00Z", eventType="ObjectEvent"
    )["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    day = (event_time_ms({"eventTime": "2005-04-04T00:00:00Z"}), event_time_ms({"eventTime": "2005-04-05T00:00:00Z"}))
    assert in_2005 and all(day[0] <= event_time_ms(e) < day[1] and e["type"] == "ObjectEvent" for e in in_2005)
    assert _events(live, owner, EQ_disposition="in_transit", EQ_readPoint="urn:epc:id:sgln:0614141.07346.1234")[
        "epcisBody"
    ]["queryResults"]["resultsBody"]["eventList"]
    assert not _events(live, owner, EQ_bizLocation="urn:epc:id:sgln:9999999.99999.0")["epcisBody"]["queryResults"][
        "resultsBody"
    ]["eventList"]
    seen, params = [], {"perPage": "2"}
    while True:
        response = live.client.get("/epcis/events", params=params, headers=owner)
        page = response.json()
        seen += page["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        if "nextPageToken" not in page:
            assert "Link" not in response.headers
            break
        assert 'rel="next"' in response.headers["Link"]
        params = {"perPage": "2", "nextPageToken": page["nextPageToken"]}
    everything = _events(live, owner, perPage="1000")["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["eventID"] for e in seen] == [e["eventID"] for e in everything]


def test_bad_documents_get_the_standard_errors(platform, live, world, monkeypatch):
    owner = login(live.client, "owner")
    document = max((json.loads(p.read_text()) for p in DOCUMENTS), key=lambda d: len(events_of(d)))
    broken = json.loads(json.dumps(document))
    broken["epcisBody"]["eventList"][0]["action"] = "TELEPORT"
    response = _capture(live, owner, broken)
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert (
        response.json()["type"] == "epcisException:ValidationException" and "eventList[0]" in response.json()["detail"]
    )
    not_json = live.client.post("/epcis/capture", content=b"{not json", headers=owner | JSON_LD)
    assert not_json.status_code == 400 and not_json.json()["type"] == "epcisException:ValidationException"
    wrong_type = live.client.post(
        "/epcis/capture", content=json.dumps(document), headers=owner | {"Content-Type": "text/xml"}
    )
    assert wrong_type.status_code == 415 and wrong_type.json()["type"] == "epcisException:UnsupportedMediaTypeException"
    monkeypatch.setattr(trace, "MAX_CAPTURE_EVENTS", 1)
    too_many = _capture(live, owner, document)
    assert too_many.status_code == 413 and too_many.json()["type"] == "epcisException:CaptureLimitExceededException"
    too_big = live.client.post("/epcis/capture", content=b" " * (300 * 1024), headers=owner | JSON_LD)
    assert too_big.status_code == 413
    bad_query = live.client.get("/epcis/events", params={"EQ_colour": "red"}, headers=owner)
    assert bad_query.status_code == 400 and bad_query.json()["type"] == "epcisException:QueryParameterException"
    with platform.uow() as uow:
        assert uow.ledger.epcis_event_ids(event_hash_ids(document)) == {}  # nothing of a refused capture is kept


def test_capture_and_query_follow_roles_and_consent(platform, live, world):
    document = json.loads(DOCUMENTS[0].read_text())
    assert live.client.post("/epcis/capture", content=json.dumps(document), headers=JSON_LD).status_code == 401
    assert _capture(live, login(live.client, "officer"), document).status_code == 403  # banks do not capture
    assert _capture(live, login(live.client, "admin"), document).status_code == 422  # admin must name the enterprise
    assert _capture(live, login(live.client, "integrator"), document, enterprise_id=world.fleet).status_code == 404
    assert _capture(live, login(live.client, "integrator"), document, enterprise_id=world.factory).status_code == 202
    fleet_doc = json.loads(DOCUMENTS[1].read_text())
    assert _capture(live, login(live.client, "fleetowner"), fleet_doc).status_code == 202
    count = lambda user: len(
        _events(live, login(live.client, user), perPage="1000")["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    )
    factory_events, fleet_events = len(events_of(document)), len(events_of(fleet_doc))
    assert count("owner") == factory_events and count("fleetowner") == fleet_events
    assert count("officer") == factory_events  # the factory consented to the bank, the fleet did not
    assert count("other") == 0
