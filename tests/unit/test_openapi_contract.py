"""/docs is enough for an integrator: every operation is described, the integrator's path answers typed bodies,
and every error is documented as a problem document."""
from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from wuxin.api.app import create_app

# The operations an integrator calls to connect a borrower's devices (docs/onboarding.md).
INTEGRATOR_PATH = [
    ("post", "/api/v1/auth/login"), ("get", "/api/v1/me"), ("post", "/api/v1/enterprises"),
    ("post", "/api/v1/enterprises/{enterprise_id}/sites"), ("post", "/api/v1/enterprises/{enterprise_id}/devices"),
    ("post", "/api/v1/devices/{device_key}/token/rotate"), ("post", "/api/v1/devices/{device_key}/token/revoke"),
    ("post", "/api/v1/enterprises/{enterprise_id}/consents"),
    ("post", "/api/v1/enterprises/{enterprise_id}/devices/import"),
    ("get", "/api/v1/enterprises/{enterprise_id}/devices"), ("get", "/api/v1/thing-models"),
    ("post", "/api/v1/{device_token}/telemetry"), ("post", "/api/v1/devices/me/telemetry"),
]


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


@pytest.mark.parametrize("method,path", INTEGRATOR_PATH)
def test_integrator_path_answers_a_typed_body(spec, method, path):
    operation = spec["paths"][path][method]
    successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
    assert successes, f"{method.upper()} {path} documents no 2xx answer"
    for code, response in successes.items():
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        assert _typed(schema, spec), f"{method.upper()} {path} answers {code} with an untyped body: {schema}"


def test_device_telemetry_has_an_example(spec):
    content = spec["paths"]["/api/v1/{device_token}/telemetry"]["post"]["responses"]["200"]["content"]
    assert content["application/json"]["example"]["accepted"] >= 0


def test_errors_are_documented_as_problem_documents(spec):
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["properties"])
    for method, path, operation in _operations(spec):
        assert "4XX" in operation["responses"], f"{method.upper()} {path}"
