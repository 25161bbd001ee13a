"""Text the database cannot store, refused at the API boundary with the place and the value named (422).

A NUL character (U+0000: PostgreSQL's text refuses it) or a lone surrogate (not Unicode: neither driver can encode
it) in a path or query parameter or anywhere in a request body. Telemetry bodies are the ingest parser's: it refuses
such a point and keeps the good points of the batch. Runs as a dependency of every route (`create_app`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

INGEST_ROUTES = frozenset(
    {"/api/v1/{device_token}/telemetry", "/api/v1/devices/me/telemetry", "/api/v1/platforms/{name}/telemetry"}
)
MAX_PROBLEMS = 5
# what a body must hold for it to hide such text: a NUL byte, a \u0000 escape, or an escaped surrogate
_SUSPECT = re.compile(rb"\x00|\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_NUL = re.compile(rb"\x00|\\u0000")


async def refuse_unstorable_text(request: Request) -> None:
    problems = [
        (("path", name), value) for name, value in request.path_params.items() if isinstance(value, str) and _why(value)
    ]
    problems += [
        (("query", name), value) for name, value in request.query_params.multi_items() if _why(name) or _why(value)
    ]
    route = request.scope.get("route")
    multipart = request.headers.get("content-type", "").startswith("multipart/form-data")  # uploaded files: the
    # route's service checks its own file (an XLSX is a zip, NUL bytes and all), and the form is already read
    if (
        request.method in ("POST", "PUT", "PATCH")
        and getattr(route, "path", None) not in INGEST_ROUTES
        and not multipart
    ):
        body = await request.body()
        if _SUSPECT.search(body):
            problems += _body_problems(body)
    if problems:
        raise RequestValidationError([_error(loc, value) for loc, value in problems[:MAX_PROBLEMS]])


def _why(text: str) -> str | None:
    """Why the database cannot store this text, or None."""
    if "\x00" in text:
        return "contains a NUL character (U+0000), which the database cannot store"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains a lone surrogate U+{ord(text[exc.start]):04X}, which is not Unicode text"
    return None


def _error(loc: tuple, value: str) -> dict:
    why = _why(value) or _why("\x00")  # not JSON: the raw bytes held a NUL
    return {"loc": loc, "msg": why, "type": "unstorable_text", "input": value}


def _body_problems(body: bytes) -> list[tuple[tuple, str]]:
    """Where in a JSON body the bad text is; for a body that is not JSON (CSV, JSON Lines), where a NUL is."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        nul = _NUL.search(body)
        return [(("body", f"byte {nul.start()}"), body[nul.start() : nul.end()].decode("latin-1"))] if nul else []
    problems: list[tuple[tuple, str]] = []
    stack: list[tuple[tuple, Any]] = [(("body",), document)]
    while stack and len(problems) < MAX_PROBLEMS:
        loc, value = stack.pop()
        if isinstance(value, str):
            if _why(value):
                problems.append((loc, value))
        elif isinstance(value, dict):
            problems += [(loc + (key,), key) for key in value if _why(key)]
            stack += [(loc + (key,), item) for key, item in reversed(value.items())]
        elif isinstance(value, list):
            stack += [(loc + (index,), item) for index, item in reversed(list(enumerate(value)))]
    return problems
