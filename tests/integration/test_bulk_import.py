"""`wuxin import FILE.jsonl` on both databases: good, bad and malformed lines, re-imports, the CLI."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from tests.conftest import T0_MS
from tests.world import build_world
from wuxin.services.ingest.bulk_import import import_file


@pytest.fixture
def world(platform):
    return build_world(platform)


def write_jsonl(path, lines) -> None:
    path.write_bytes(b"".join((l if isinstance(l, bytes) else orjson.dumps(l)) + b"\n" for l in lines))


def good_lines(n: int) -> list[dict]:
    return [
        {"device": "meter-01", "ts": T0_MS - i * 60_000, "values": {"energy_kwh_total": 1000.0 + i, "power_kw": 12.5}}
        for i in range(n)
    ]


def test_import_stores_good_lines_and_quarantines_the_rest(platform, world, tmp_path):
    path = tmp_path / "history.jsonl"
    write_jsonl(
        path,
        good_lines(300)
        + [
            {"device": "ghost-99", "ts": T0_MS, "values": {"current_a": 1.0}},
            {"device": "loom-01", "ts": "2026-09-21 10:00", "values": {"current_a": 1.0}},
            {"device": "loom-01", "ts": "2026-09-21T10:00:00+08:00", "event": "tamper", "params": {}},
            b'{"device": "loom-01", "ts": 1, "values": {',
            b'{"device": "loom-01", "ts": %d, "values": {"current_a": NaN}}' % (T0_MS - 5),
            {"device": "loom-01", "ts": T0_MS - 7, "values": {"current_a": 3.5, "temperature": 20}},
        ],
    )
    summary = import_file(platform, path)
    assert (summary.lines, summary.readings, summary.events, summary.rejected) == (306, 601, 1, 5)
    with platform.uow() as uow:
        reasons = sorted(q["reason"] for q in uow.quarantine.list("open", 100))
        assert uow.telemetry.count_readings() == 601 and uow.telemetry.count_events() == 1
    assert reasons == ["bad_timestamp", "malformed_json", "not_finite", "unknown_device", "unknown_property"]


def test_reimporting_the_same_file_adds_no_row(platform, world, tmp_path):
    path = tmp_path / "history.jsonl"
    write_jsonl(path, good_lines(500) + good_lines(10))  # duplicates inside the file too
    for _ in range(3):
        import_file(platform, path)
    with platform.uow() as uow:
        assert uow.telemetry.count_readings() == 1000


def test_import_spanning_several_chunks_keeps_line_numbers(platform, world, tmp_path, monkeypatch):
    import wuxin.services.ingest.bulk_import as bulk_import

    monkeypatch.setattr(bulk_import, "CHUNK_LINES", 100)
    path = tmp_path / "history.jsonl"
    write_jsonl(path, good_lines(250) + [b"not json"])
    summary = import_file(platform, path)
    assert summary.readings == 500 and summary.rejected == 1
    with platform.uow() as uow:
        [entry] = uow.quarantine.list("open", 10)
    assert entry["message"].startswith("line 251:") and entry["payload"] == "not json"


def test_cli_import_prints_a_summary(platform, world, tmp_path, monkeypatch):
    from wuxin.cli.main import app
    from wuxin.config import get_settings

    monkeypatch.setenv("WUXIN_DATABASE_URL", platform.settings.database_url)
    monkeypatch.setenv("WUXIN_MAX_FUTURE_SKEW_S", str(10 * 365 * 86400))
    get_settings.cache_clear()
    path = tmp_path / "history.jsonl"
    write_jsonl(path, good_lines(20))
    result = CliRunner().invoke(app, ["import", str(path)])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "40 readings and 0 events stored, 0 rejected" in result.output
    with platform.uow() as uow:
        assert uow.telemetry.count_readings() == 40
