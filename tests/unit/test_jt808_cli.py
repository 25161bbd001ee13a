"""`wuxin jt808 decode`: captured frames as JSON for support staff."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from wuxin.cli.jt808 import app
from wuxin.config import get_settings
from wuxin.ingest.jt808.codec import encode_frame
from wuxin.ingest.jt808.simulator import TerminalSimulator, fix

runner = CliRunner()
PUBLISHED_LOCATION = (
    "7e020000400303000002280042000000000000000301618ab406c31ec800000000000518092116145701040000047830011031"
    "010aeb16000c00b28986011780108622216500060089ffffffffc37e"
)


def decode(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["decode", *args])
    return result.exit_code, result.stdout, result.stderr


def test_decode_location_prints_the_documented_shape() -> None:
    code, out, _ = decode(PUBLISHED_LOCATION)
    assert code == 0
    assert json.loads(out) == {
        "msg_id": "0x0200",
        "version": "2013",
        "phone": "030300000228",
        "serial": 66,
        "subpackage": None,
        "body": {
            "alarm": 0,
            "status": 3,
            "lat": 23.169716,
            "lon": 113.450696,
            "altitude_m": 0,
            "speed_kmh": 0.0,
            "heading_deg": 5,
            "time": "2018-09-21T16:14:57+08:00",
            "mileage_km": 114.4,
            "extras": {"signal_strength": 16, "satellites": 10, "0xeb": "000c00b28986011780108622216500060089ffffffff"},
        },
    }


def test_decode_accepts_spaces_and_missing_delimiters() -> None:
    spaced = " ".join(PUBLISHED_LOCATION[i : i + 2] for i in range(2, len(PUBLISHED_LOCATION) - 2, 2))
    code, out, _ = decode(spaced)
    assert code == 0 and json.loads(out)["serial"] == 66
    code, out, _ = decode(*spaced.split())  # unquoted on a shell: many arguments
    assert code == 0 and json.loads(out)["body"]["heading_deg"] == 5


def test_decode_2019_subpackage_and_fuel() -> None:
    sim = TerminalSimulator("00000000013912345678", "2019")
    (frame,) = sim.location(fix(datetime(2024, 1, 1, tzinfo=UTC), 1.5, 2.5, fuel_l=12.5))
    code, out, _ = decode(frame.hex())
    body = json.loads(out)
    assert code == 0 and body["version"] == "2019" and body["phone"] == "00000000013912345678"
    assert body["body"]["fuel_l"] == 12.5 and body["body"]["time"] == "2024-01-01T08:00:00+08:00"
    part = encode_frame(0x0704, "013912345678", 9, b"\x00\x01", subpackage=(3, 1))
    assert json.loads(decode(part.hex())[1])["subpackage"] == {"total": 3, "index": 1}


def test_bad_checksum_prints_error_and_exits_non_zero() -> None:
    broken = PUBLISHED_LOCATION[:-4] + "c2" + "7e"
    code, out, err = decode(broken)
    assert code == 1 and out == ""
    assert "JT808 checksum mismatch from terminal 030300000228: got 0xc2, want 0xc3" in err


def test_not_hex_and_short_frames_exit_non_zero() -> None:
    assert decode("hello")[0] == 1
    code, _, err = decode("7e 00 02 7e")
    assert code == 1 and "too short" in err


class _RecordingGateway:
    """Stands in for Jt808Gateway: records where serve would listen, then stops it like Ctrl-C."""

    bound: list[tuple[str, int]] = []

    def __init__(self, *_args, **_kwargs) -> None:
        pass

    async def start(self, host: str, port: int) -> int:
        self.bound.append((host, port))
        raise KeyboardInterrupt

    async def stop(self) -> None:
        pass


@pytest.fixture
def recording_gateway(monkeypatch):
    monkeypatch.setattr("wuxin.cli.jt808.Jt808Gateway", _RecordingGateway)
    _RecordingGateway.bound = []
    get_settings.cache_clear()
    yield _RecordingGateway.bound
    get_settings.cache_clear()


def test_serve_listens_on_the_configured_host_by_default(recording_gateway, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("WUXIN_DATABASE_URL", f"sqlite:///{tmp_path}/wuxin.db")  # the platform's gateway (not reached)
    monkeypatch.delenv("WUXIN_HOST", raising=False)
    assert runner.invoke(app, ["serve"]).exit_code == 0
    assert recording_gateway == [("127.0.0.1", 6808)]
    monkeypatch.setenv("WUXIN_HOST", "127.0.0.2")
    get_settings.cache_clear()
    assert runner.invoke(app, ["serve", "--device", "013912345678:T000001=truck-1"]).exit_code == 0
    assert runner.invoke(app, ["serve", "--host", "::1", "--port", "7000"]).exit_code == 0
    assert recording_gateway[1:] == [("127.0.0.2", 6808), ("::1", 7000)]


def test_serve_names_a_device_without_its_terminal_id(recording_gateway) -> None:
    result = runner.invoke(app, ["serve", "--device", "013912345678=truck-1"])
    assert (
        result.exit_code == 2
        and "PHONE:TERMINAL_ID=DEVICE_KEY" in result.output
        and "013912345678=truck-1" in result.output
    )
    assert recording_gateway == []
