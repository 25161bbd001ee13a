"""/docs is enough for an integrator: every operation is described, the integrator's path answers typed bodies,
and every error is documented as a problem document."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from wuxin.api.app import create_app

# The operations an integrator calls to connect a borrower's devices (docs/onboarding.md).
INTEGRATOR_PATH = [
    ("post", "/api/v1/auth/login"),
    ("get", "/api/v1/me"),
    ("post", "/api/v1/enterprises"),
    ("post", "/api/v1/enterprises/{enterprise_id}/sites"),
    ("post", "/api/v1/enterprises/{enterprise_id}/devices"),
    ("post", "/api/v1/devices/{device_key}/token/rotate"),
    ("post", "/api/v1/devices/{device_key}/token/revoke"),
    ("post", "/api/v1/enterprises/{enterprise_id}/consents"),
    ("post", "/api/v1/enterprises/{enterprise_id}/devices/import"),
    ("get", "/api/v1/enterprises/{enterprise_id}/devices"),
    ("get", "/api/v1/thing-models"),
    ("post", "/api/v1/{device_token}/telemetry"),
    ("post", "/api/v1/devices/me/telemetry"),
]


# Every operation under these tags is on an integrator's, a device's or a bank's reading path and answers a typed body.
INTEGRATOR_TAGS = {
    "auth",
    "enterprises",
    "devices",
    "telemetry",
    "consent",
    "thing models",
    "platforms",
    "provisioning",
    "indicators",
}

# The operator's, the bank's desk and the console's tags: every operation under them answers a typed body too.
OPERATIONS_TAGS = {
    "commands",
    "alarms",
    "calendars",
    "console",
    "monitoring",
    "quarantine",
    "admin",
    "operations",
    "labels",
}

# The credit, ledger and traceability areas: a bank's and a verifier's reading path, typed as well. An operation
# belongs to the area of its first tag (its router's): GET /loans/{id}/commands is a command operation.
CREDIT_TAGS = {"credit", "ledger", "portfolio", "pledges", "loans", "trace", "epcis", "verification"}


@pytest.fixture(scope="module")
def spec() -> dict:
    platform = MagicMock()  # openapi() touches no database nor broker
    platform.settings.max_body_bytes = 1000
    return create_app(platform).openapi()


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_every_operation_has_a_description(spec):
    undescribed = [f"{m.upper()} {p}" for m, p, op in _operations(spec) if not op.get("description", "").strip()]
    assert undescribed == []


def _typed(schema: dict | None, spec: dict) -> bool:
    if not schema:
        return False
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return bool(spec["components"]["schemas"][name].get("properties"))
    if schema.get("type") == "array":
        return _typed(schema.get("items"), spec)
    if "anyOf" in schema:  # one of several shapes (a list, or a page of it): each must be typed
        return all(_typed(s, spec) for s in schema["anyOf"])
    return bool(schema.get("properties"))


def _untyped_successes(spec: dict, method: str, path: str) -> list[str]:
    """The 2xx answers of an operation whose body is not typed (a JSON body without properties); a body of
    another kind (CSV) needs its schema; a 204 has no body; no 2xx at all counts as untyped."""
    operation = spec["paths"][path][method]
    successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
    if not successes:
        return [f"{method.upper()} {path}: no 2xx answer documented"]
    untyped = []
    for code, response in successes.items():
        content = response.get("content", {})
        if code == "204" and not content:
            continue
        if "application/json" in content:
            typed = _typed(content["application/json"].get("schema"), spec)
        else:
            typed = bool(content) and all(c.get("schema") for c in content.values())
        if not typed:
            untyped.append(f"{method.upper()} {path} {code}: {content}")
    return untyped


@pytest.mark.parametrize("method,path", INTEGRATOR_PATH)
def test_integrator_path_answers_a_typed_body(spec, method, path):
    assert _untyped_successes(spec, method, path) == []


def test_every_operation_of_the_integrators_tags_answers_a_typed_body(spec):
    operations = [(m, p) for m, p, op in _operations(spec) if INTEGRATOR_TAGS & set(op.get("tags", []))]
    assert len(operations) >= 35  # the tags are the ones the routers use: a renamed tag must not empty this test
    assert [line for m, p in operations for line in _untyped_successes(spec, m, p)] == []


def test_every_operation_of_the_operations_tags_answers_a_typed_body(spec):
    operations = [(m, p) for m, p, op in _operations(spec) if OPERATIONS_TAGS & set(op.get("tags", []))]
    assert len(operations) >= 40  # the tags are the ones the routers use: a renamed tag must not empty this test
    assert [line for m, p in operations for line in _untyped_successes(spec, m, p)] == []


def test_a_204_has_no_body_to_type(spec):
    operation = spec["paths"]["/api/v1/enterprises/{enterprise_id}/calendar/{period_id}"]["delete"]
    assert operation["responses"]["204"].get("content", {}) == {}


def test_every_operation_of_the_credit_tags_answers_a_typed_body(spec):
    operations = [(m, p) for m, p, op in _operations(spec) if (op.get("tags") or [""])[0] in CREDIT_TAGS]
    assert len(operations) >= 45  # the tags are the ones the routers use: a renamed tag must not empty this test
    assert [line for m, p in operations for line in _untyped_successes(spec, m, p)] == []


def test_every_operation_of_the_whole_api_answers_a_typed_body_and_its_area_is_known(spec):
    """/docs is enough to integrate: no operation anywhere answers an untyped body, and a new router's tag must
    join one of the areas above (so that its own test counts it)."""
    operations = list(_operations(spec))
    assert len(operations) >= 130
    areas = INTEGRATOR_TAGS | OPERATIONS_TAGS | CREDIT_TAGS
    assert sorted({t for _, _, op in operations for t in op.get("tags", [])} - areas) == []
    assert [line for m, p, _ in operations for line in _untyped_successes(spec, m, p)] == []


def test_the_device_api_documents_its_refusals(spec):
    for path in ("/api/v1/{device_token}/attributes", "/api/v1/{device_token}/rpc"):
        for method, operation in spec["paths"][path].items():
            assert {"401", "429"} <= set(operation["responses"]), f"{method.upper()} {path}"


def test_device_telemetry_has_an_example(spec):
    content = spec["paths"]["/api/v1/{device_token}/telemetry"]["post"]["responses"]["200"]["content"]
    assert content["application/json"]["example"]["accepted"] >= 0


def test_errors_are_documented_as_problem_documents(spec):
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["properties"])
    for method, path, operation in _operations(spec):
        assert "4XX" in operation["responses"], f"{method.upper()} {path}"


# Answers of 4XX/5XX status that are not problem documents: a body of their own, or none.
OWN_ERROR_BODIES = {
    ("400", "#/components/schemas/TelemetryAnswer"),  # every point refused: the same answer as a partial success
    ("503", "#/components/schemas/Health"),  # /health: the health report says what is down
    ("408", None),  # a device's long poll with nothing pending: an empty body, as ThingsBoard answers
}


def test_every_error_answer_is_documented_as_application_problem_json(spec):
    """Whatever the route's own media type (text/plain for /metrics, text/csv for exports), its 4XX/5XX answers are
    problem documents under application/problem+json; only the answers listed above say otherwise."""
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    offenders, own = [], set()
    for method, path, operation in _operations(spec):
        for code, response in operation["responses"].items():
            if code[0] not in "45":
                continue
            content = response.get("content")
            if content == {"application/problem+json": problem}:
                continue
            refs = {c.get("schema", {}).get("$ref") for c in (content or {}).values()} or {None}
            if len(refs) == 1 and (code, *refs) in OWN_ERROR_BODIES:
                own.add((code, *refs))
            else:
                offenders.append(f"{method.upper()} {path} {code}: {sorted(content or {})}")
    assert offenders == []
    assert own == OWN_ERROR_BODIES  # the exceptions are still real
    text_routes = [("get", "/metrics"), ("get", "/api/v1/alarms/export.csv")]
    for method, path in text_routes:
        assert set(spec["paths"][path][method]["responses"]["4XX"]["content"]) == {"application/problem+json"}
