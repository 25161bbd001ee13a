"""Payloads that once stopped ingestion (found by an outside attacker test), and a store that refuses one value.

`LONE_SURROGATE` and `DEEP` parse only with the stdlib fallback (orjson refuses them): a lone
surrogate cannot be encoded for any database, and 5,000 levels of nesting overflow the stdlib
parser. `nul_text` is valid JSON that PostgreSQL refuses (NUL in text).
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DataError, OperationalError

from wuxin.store import bulk

POISON_NUM = 666.0  # the value `refusing_store` refuses, as a database would refuse data it cannot keep


def good(ts: int, current_a: float) -> bytes:
    return b'{"ts": %d, "values": {"current_a": %r}}' % (ts, current_a)


def lone_surrogate(ts: int) -> bytes:
    return b'{"ts": %d, "values": {"current_a": 1.5, "note": "\\ud800"}}' % ts


def deep(ts: int, levels: int = 5000) -> bytes:
    return b'{"ts": %d, "values": {"current_a": %s1%s}}' % (ts, b"[" * levels, b"]" * levels)


def line(device: str, body: bytes) -> bytes:
    """A bulk-format line from a ThingsBoard {"ts", "values"} body."""
    return b'{"device": "%s", %s' % (device.encode(), body[1:])


class RefusingStore:
    """Patches the readings writer: a batch holding POISON_NUM fails as a data error would; `outages`
    next writes fail as a cut connection would."""

    def __init__(self, monkeypatch):
        self.outages = 0
        self.refused = 0
        original = bulk.write_readings

        def write_readings(conn, rows):
            if self.outages:
                self.outages -= 1
                raise OperationalError("INSERT INTO readings", {}, ConnectionError("server closed the connection"))
            if any(row[3] == POISON_NUM for row in rows):
                self.refused += 1
                raise DataError("INSERT INTO readings", {}, ValueError("value 666 refused by the test's database"))
            return original(conn, rows)

        monkeypatch.setattr(bulk, "write_readings", write_readings)


@pytest.fixture
def refusing_store(monkeypatch) -> RefusingStore:
    return RefusingStore(monkeypatch)
