"""EPCIS 2.0: schema validation of the GS1 examples, broken documents, and the CBV 2.0 hash vectors."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wuxin.trace.epcis import (
    EVENT_TYPES,
    EpcisError,
    EpcisValidationError,
    event_hash_id,
    event_hash_ids,
    events_of,
    hash_context,
    prehash_string,
    problem_details,
    utc_millisecond_timestamp,
    validate_document,
    validation_errors,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "epcis"
EXAMPLES = sorted(FIXTURES.glob("*.jsonld"))
HASH_VECTORS = json.loads((FIXTURES / "hash_vectors.json").read_text())["vectors"]


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


# ---- validation ----


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_gs1_examples_are_valid(path: Path) -> None:
    document = json.loads(path.read_text())
    assert validation_errors(document) == []
    assert validate_document(document) == events_of(document)


def test_examples_cover_all_five_event_types_and_sensor_data() -> None:
    events = [event for path in EXAMPLES for event in events_of(json.loads(path.read_text()))]
    assert {event["type"] for event in events} == set(EVENT_TYPES)
    assert {event["type"] for event in events if "sensorElementList" in event} >= {
        "ObjectEvent",
        "AggregationEvent",
        "TransformationEvent",
        "AssociationEvent",
    }


def _broken(change) -> dict:
    document = copy.deepcopy(_load("SensorDataExample8.jsonld"))
    change(events_of(document)[0])
    return document


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda e: e.pop("action"), "eventList[0]: 'action' is a required property"),
        (lambda e: e.pop("eventTime"), "'eventTime' is a required property"),
        (
            lambda e: e.update(eventTime="2019-04-02T25:00:00.000+01:00"),
            "eventTime: '2019-04-02T25:00:00.000+01:00' is not a 'date-time'",
        ),
        (lambda e: e.update(eventTime="yesterday"), "is not a 'date-time'"),
        (lambda e: e.update(eventTime="2019-04-02 14:00:00Z"), "is not a 'date-time'"),
        (lambda e: e.update(action="SHOUT"), "action: 'SHOUT' is not one of"),
        (lambda e: e.update(type="Objectevent"), "type: 'Objectevent' is not a 'uri'"),
        (lambda e: e.update(eventTimeZoneOffset="+1:00"), "eventTimeZoneOffset"),
        (lambda e: e["sensorElementList"][0]["sensorMetadata"].update(time="12:00"), "sensorMetadata.time"),
    ],
)
def test_broken_documents_are_rejected_with_a_path(change, expected: str) -> None:
    errors = validation_errors(_broken(change))
    assert any(expected in error for error in errors), errors


def test_validate_document_raises_with_every_error_and_a_problem_body() -> None:
    document = _broken(lambda e: (e.pop("action"), e.update(eventTime="never")))
    with pytest.raises(EpcisValidationError) as caught:
        validate_document(document)
    assert len(caught.value.errors) >= 2
    body = problem_details(caught.value.errors, instance="/events")
    assert body["type"] == "epcisException:ValidationException" and body["status"] == 400
    assert "'action' is a required property" in body["detail"] and body["instance"] == "/events"


def test_events_come_out_in_document_order_for_query_documents() -> None:
    document = _load("EPCISQueryDocument.jsonld")
    listed = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert events_of(document) == listed and len(listed) == 2
    with pytest.raises(EpcisError, match="no epcisBody"):
        events_of({"type": "EPCISDocument"})


# ---- CBV 2.0 event hash IDs ----

_HASH_CASES = [(vector["name"], i) for vector in HASH_VECTORS for i in range(len(vector["expected_event_hash_ids"]))]


@pytest.mark.parametrize("name, index", _HASH_CASES, ids=lambda x: str(x))
def test_hash_vectors_reproduced(name: str, index: int) -> None:
    vector = next(v for v in HASH_VECTORS if v["name"] == name)
    document = vector["document"]
    event = events_of(document)[index]
    assert prehash_string(event, hash_context(document)) == vector["expected_prehash_strings"][index]
    assert event_hash_id(event, hash_context(document)) == vector["expected_event_hash_ids"][index]


def test_hash_vectors_cover_all_five_event_types() -> None:
    assert {t for vector in HASH_VECTORS for t in vector["event_types"]} == set(EVENT_TYPES)
    assert len(_HASH_CASES) == 45


def test_document_hashes_follow_event_order() -> None:
    vector = next(v for v in HASH_VECTORS if v["name"] == "epcisDocWithVariousEventTypes")
    assert event_hash_ids(vector["document"]) == vector["expected_event_hash_ids"]


def _object_event() -> tuple[dict, dict]:
    vector = next(v for v in HASH_VECTORS if v["name"] == "ReferenceEventHashAlgorithm")
    return copy.deepcopy(vector["document"]), events_of(vector["document"])[0]


def test_hash_ignores_list_order_record_time_and_event_id() -> None:
    document, event = _object_event()
    context = hash_context(document)
    shuffled = copy.deepcopy(event) | {
        "epcList": event["epcList"][::-1],
        "recordTime": "2030-01-01T00:00:00Z",
        "eventID": "urn:uuid:x",
    }
    same_instant = copy.deepcopy(event) | {"eventTime": "2020-03-04T10:00:30Z"}
    assert event_hash_id(shuffled, context) == event_hash_id(event, context) == event_hash_id(same_instant, context)


@pytest.mark.parametrize(
    "change",
    [
        {"eventTime": "2020-03-04T11:00:30.001+01:00"},
        {"action": "ADD"},
        {"bizStep": "shipping"},
        {"epcList": ["urn:epc:id:sscc:4012345.0000000333"]},
        {"example:myField2": "1"},
    ],
)
def test_hash_changes_when_content_changes(change: dict) -> None:
    document, event = _object_event()
    context = hash_context(document)
    assert event_hash_id(event | change, context) != event_hash_id(event, context)


def test_hash_of_a_non_event_is_an_error() -> None:
    with pytest.raises(EpcisError, match="'Shipment' is not one of"):
        prehash_string({"type": "Shipment"})


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"),
        ("2023-02-02T11:04:03.1414Z", "2023-02-02T11:04:03.141Z"),
        ("2023-12-31T23:59:59.9996Z", "2024-01-01T00:00:00.000Z"),
        ("2005-04-03T20:33:31.116000-06:00", "2005-04-04T02:33:31.116Z"),
        ("not a time", "not a time"),
    ],
)
def test_timestamps_become_utc_milliseconds(text: str, expected: str) -> None:
    assert utc_millisecond_timestamp(text) == expected


# ---- the command line ----


def _wuxin_app() -> typer.Typer:
    """The real `wuxin` app; while sibling CLI modules are missing, the epcis app mounted the same way."""
    try:
        from wuxin.cli.main import app

        return app
    except ImportError:
        from wuxin.trace.cli import app as epcis_app

        app = typer.Typer()
        app.add_typer(epcis_app, name="epcis")
        return app


def _run(*args: str):
    return CliRunner().invoke(_wuxin_app(), ["epcis", *args])


def test_cli_validate_counts_events() -> None:
    result = _run("validate", str(FIXTURES / "Example-TransactionEvents-2020_07_03y.jsonld"))
    assert result.exit_code == 0 and result.output.strip() == "valid: 2 events"


def test_cli_validate_prints_each_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonld"
    path.write_text(json.dumps(_broken(lambda e: (e.pop("action"), e.update(eventTime="never")))))
    result = _run("validate", str(path))
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) >= 2
    assert any("'action' is a required property" in line for line in lines)
    assert any("'never' is not a 'date-time'" in line for line in lines)


def test_cli_rejects_non_json(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("<epcis/>")
    for command in ("validate", "hash"):
        result = _run(command, str(path))
        assert result.exit_code == 2 and "not valid JSON" in result.output


def test_cli_hash_prints_ids_in_document_order(tmp_path: Path) -> None:
    vector = next(v for v in HASH_VECTORS if v["name"] == "epcisDocWithVariousEventTypes")
    path = tmp_path / "doc.jsonld"
    path.write_text(json.dumps(vector["document"]))
    result = _run("hash", str(path))
    assert result.exit_code == 0
    assert result.output.splitlines() == vector["expected_event_hash_ids"]
