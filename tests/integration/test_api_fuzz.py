"""Keep the 5xx closed: schemathesis sends every operation of the OpenAPI to the live server, on SQLite and on
PostgreSQL, valid and invalid requests, each as one of the roles (or as nobody); no answer may be a server error.

Bounded so that it stays fast: WUXIN_FUZZ_EXAMPLES (default 12) examples per operation and generation mode, the
role drawn per example. The run is derandomised (a CI run is reproducible); WUXIN_FUZZ_SEED=N explores with seed N.
"""

from __future__ import annotations

import os
from collections import defaultdict

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from tests.world import DAY_MS, PASSWORD, build_world, login
from wuxin.api.app import create_app
from wuxin.api.fields import INT64_MAX, INT64_MIN
from wuxin.bootstrap import build_platform
from wuxin.config import Settings
from wuxin.services.access import identity
from wuxin.services.ingest.telemetry import ingest_lines

EXAMPLES = int(os.environ.get("WUXIN_FUZZ_EXAMPLES", "12"))
SEED = os.environ.get("WUXIN_FUZZ_SEED")
ROLES = ["anonymous", "admin", "officer", "risk", "owner", "integrator", "regulator"]
LAST = ("POST", "/api/v1/auth/logout")  # revokes the token of the role it is sent as


def _seed_world(platform, client) -> dict[str, dict]:
    """The test world, a regulator and a day of readings (so that reads and proofs have data); headers per role."""
    build_world(platform)
    regulator = identity.create_tenant(platform, "Regulator", "regulator")
    identity.create_user(platform, "regulator", PASSWORD, "regulator", regulator)
    start = platform.clock_ms() - DAY_MS
    lines = [{"device": "loom-01", "ts": start + i * 60_000, "values": {"current_a": 12.5}} for i in range(30)]
    assert not ingest_lines(platform, lines, "bulk").rejections
    return {role: {} if role == "anonymous" else login(client, role) for role in ROLES}


def _operations(schema) -> list:
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda op: ((op.method.upper(), op.path) == LAST, op.method, op.path))


def _fuzz(operation, mode: GenerationMode, base_url: str, headers_of: dict, session, failures: dict) -> None:
    """Up to EXAMPLES requests; each server error is kept (not raised, not shrunk) so one run lists them all."""

    @given(case=operation.as_strategy(generation_mode=mode), role=st.sampled_from(ROLES))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case, role) -> None:
        headers = headers_of[role]
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=60)
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=headers)
        except FailureGroup:
            key = (operation.label, response.status_code, response.text[:300])
            failures.setdefault(key, f"as {role}: {case.as_curl_command(headers=headers, base_url=base_url)}")

    if SEED is not None:
        run = seed(int(SEED))(run)
    try:
        run()
    except Unsatisfiable:  # nothing to make invalid: no parameters, no body
        assert mode is GenerationMode.NEGATIVE, f"{operation.label}: no valid request could be generated"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_no_operation_answers_a_server_error(live, platform, mode):
    headers_of = _seed_world(platform, live.client)
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    failures: dict = {}
    with requests.Session() as session:
        for operation in _operations(schema):
            _fuzz(operation, mode, live.url, headers_of, session, failures)
    by_operation = defaultdict(list)
    for (label, status, text), reproduce in failures.items():
        by_operation[label].append(f"{status} {text}\n    {reproduce}")
    report = "\n".join(f"{label}:\n  " + "\n  ".join(items) for label, items in sorted(by_operation.items()))
    assert not failures, f"{len(failures)} server error(s), {mode.value} requests:\n{report}"


def _integers(node, where: str):
    """Every integer schema in an OpenAPI fragment, with where it is."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            yield where, node
        for key, value in node.items():
            yield from _integers(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _integers(value, f"{where}[{index}]")


def _referenced(part: object, schemas: dict) -> set[str]:
    """The component schemas `part` refers to, and those they refer to (answers' schemas are not requests')."""
    found: set[str] = set()
    todo = [part]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.rsplit("/", 1)[-1] not in found:
                found.add(ref.rsplit("/", 1)[-1])
                todo.append(schemas.get(ref.rsplit("/", 1)[-1], {}))
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return found


def test_every_integer_a_request_may_carry_is_bounded_to_64_bits(sqlite_template):
    """The mechanism behind 'ids beyond 64 bits answer 422': a route with a bare `int` fails here, not in production."""
    spec = create_app(
        build_platform(Settings(database_url=f"sqlite:///{sqlite_template}", environment="test"))
    ).openapi()
    paths = {
        path: {
            method: {k: v for k, v in op.items() if k in ("parameters", "requestBody")} for method, op in ops.items()
        }
        for path, ops in spec["paths"].items()
    }
    schemas = spec["components"]["schemas"]
    requests_part = {"paths": paths, "schemas": {name: schemas[name] for name in _referenced(paths, schemas)}}
    unbounded = [
        where
        for where, schema in _integers(requests_part, "")
        if not INT64_MIN <= schema.get("minimum", INT64_MIN - 1) <= schema.get("maximum", INT64_MAX + 1) <= INT64_MAX
    ]
    assert unbounded == [], "\n".join(unbounded)
