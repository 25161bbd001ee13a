"""Every API error is one RFC 9457 problem document (application/problem+json) with type/title/status/detail/instance;
`detail` is the human sentence naming the thing and the value; validation problems list each field."""

from __future__ import annotations

from tests.world import build_world, login
from wuxin.services.devices import registry

PROBLEM = "application/problem+json"


def _assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"urn:wuxin:problem:{code}" and body["error"] == code
    assert body["status"] == status and body["title"] and body["detail"] == body["message"]
    return body


def test_domain_error_is_a_problem_naming_the_thing(live, platform):
    build_world(platform)
    body = _assert_problem(
        live.client.get("/api/v1/enterprises/987654", headers=login(live.client, "admin")), 404, "not_found"
    )
    assert "987654" in body["detail"] and body["instance"] == "/api/v1/enterprises/987654"


def test_validation_error_lists_each_field_with_its_value(live, platform):
    build_world(platform)
    body = _assert_problem(
        live.client.get("/api/v1/quarantine?after_id=minus-one&limit=-5", headers=login(live.client, "admin")),
        422,
        "invalid_request",
    )
    fields = {tuple(e["loc"]): e for e in body["errors"]}
    assert fields[("query", "after_id")]["value"] == "minus-one" and fields[("query", "after_id")]["msg"]
    assert "query.after_id='minus-one'" in body["detail"]


def test_unauthenticated_http_exception_is_a_problem(live):
    _assert_problem(live.client.get("/api/v1/enterprises"), 401, "unauthenticated")


def test_unknown_route_is_a_problem(live):
    body = _assert_problem(live.client.get("/api/v1/no-such-thing"), 404, "not_found")
    assert body["instance"] == "/api/v1/no-such-thing"


def test_body_over_the_limit_is_a_problem(live, platform):
    over = b"x" * (platform.settings.max_body_bytes + 1)
    body = _assert_problem(
        live.client.post("/api/v1/auth/login", content=over, headers={"content-type": "application/json"}),
        413,
        "body_too_large",
    )
    assert str(platform.settings.max_body_bytes) in body["detail"]


def test_unexpected_error_does_not_leak_internals(live, platform, monkeypatch):
    build_world(platform)
    headers = login(live.client, "admin")

    def broken(*_args, **_kwargs):
        raise KeyError("SECRET-internal-column")

    monkeypatch.setattr(registry, "visible_enterprises", broken)
    response = live.client.get("/api/v1/enterprises", headers=headers)
    body = _assert_problem(response, 500, "internal_error")
    assert "SECRET" not in response.text and "Traceback" not in response.text and "KeyError" in body["detail"]
