"""docs/onboarding.md walked end to end, as an integrator and a bank would, with the commands the document shows.

Every command line run here is asserted to be in the document (so the two cannot drift apart), and so are the
answers it says to expect. The path: the platform operator's tenants and users, the admin's enterprise, the
enterprise's own user and its consents, the installer's site and bulk import (with the document's two faulty rows),
the served API, then a device on ThingsBoard's official SDK, unchanged, through the platform's MQTT front end with
the token from the import's credentials file; its readings become indicators with nobody running a command; the
bank reads them; the enterprise sees who read its data and under which consent."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from tests.conftest import free_port
from tests.integration.mqtt_env import start_broker, wait_for, worker_url
from tests.integration.vendor_sdk.run import ROOT as REPO_ROOT
from tests.integration.vendor_sdk.run import SdkProcess
from wuxin.cli.ingest import serve_background
from wuxin.cli.main import app
from wuxin.config import get_settings
from wuxin.ingest.jt808 import messages as m
from wuxin.ingest.jt808.simulator import SimulatedTerminal, fix
from wuxin.ingest.mqtt.broker import provision_front

DOC_PATH = Path(__file__).resolve().parents[2] / "docs/onboarding.md"
DOC = DOC_PATH.read_text(encoding="utf-8")
FLAT_DOC = " ".join(DOC.replace("\\\n", " ").split())  # shell continuations joined, spaces collapsed
FRONT_USER, FRONT_PASSWORD = "wuxin-front", "front-secret-for-the-walk"
CHINA = ZoneInfo("Asia/Shanghai")


def documented(text: str) -> str:
    """`text` as the document has it (a command, an answer): the test follows the document, not the reverse."""
    assert " ".join(text.split()) in FLAT_DOC, f"docs/onboarding.md does not show: {text}"
    return text


class Shell:
    """The walk-through's `wuxin` lines, run as written (a `printf '...' |` becomes the command's input)."""

    def __init__(self, workdir: Path):
        self.workdir, self.runner = workdir, CliRunner()

    def __call__(self, line: str, exit_code: int = 0) -> str:
        documented(line)
        stdin = None
        if line.startswith("printf "):
            printed, line = line.split(" | ", 1)
            stdin = shlex.split(printed)[1].replace("\\n", "\n")
        args = shlex.split(line.split("  #")[0])
        assert args[0] == "wuxin", line
        result = self.runner.invoke(app, args[1:], input=stdin)
        assert result.exit_code == exit_code, f"{line}\n{result.output}"
        return result.output


def expect(output: str, *answers: str) -> None:
    """Each answer the document prints after a command is in what the command printed."""
    for answer in answers:
        documented(answer)
        assert answer in output, f"expected {answer!r} in:\n{output}"


def _heredoc(name: str) -> str:
    match = re.search(rf"cat > {re.escape(name)} <<'CSV'\n(.*?)\nCSV\n", DOC, re.S)
    assert match, f"docs/onboarding.md has no {name} here-document"
    return match.group(1) + "\n"


@pytest.fixture
def walk(platform, tmp_path, monkeypatch, request):
    """A fresh platform: the CLI on its database, then `wuxin serve` with the MQTT worker and front end."""
    monkeypatch.setenv("WUXIN_DATABASE_URL", platform.settings.database_url)
    monkeypatch.chdir(tmp_path)  # the walk-through's files (devices.csv, tokens.csv) are in the working directory
    get_settings.cache_clear()
    platform.clock.now_ms = int(time.time() * 1000)  # the CLI, the SDK and the consents run on the real clock
    broker, admin = start_broker(tmp_path / "broker")
    provision_front(admin, FRONT_USER, FRONT_PASSWORD)  # `wuxin ingest mqtt-front-account`
    platform.settings = platform.settings.model_copy(
        update={  # what the document's `wuxin serve` is given
            "mqtt_url": worker_url(broker),
            "mqtt_front_url": broker.url(FRONT_USER, FRONT_PASSWORD),
            "mqtt_front_port": free_port(),
            "indicators_interval_s": 1.0,
        }
    )
    yield Shell(tmp_path), platform
    get_settings.cache_clear()
    admin.close()
    broker.stop()


def test_the_documented_onboarding_from_nothing_to_indicators(walk, request):
    sh, platform = walk
    # the platform operator: tenants and users
    expect(sh('wuxin users add-tenant "苏州示范银行" --kind bank'), "tenant 1 created")
    expect(sh('wuxin users add-tenant "苏州物联安装有限公司" --kind operator'), "tenant 2 created")
    sh("printf 'admin-pass-2026\\n' | wuxin users add admin --role platform_admin --password-file -")
    sh("printf 'installer-pass-2026\\n' | wuxin users add installer --role integrator --tenant-id 2 --password-file -")
    sh("printf 'officer-pass-2026\\n' | wuxin users add officer --role credit_officer --tenant-id 1 --password-file -")
    # the enterprise: the installer may not create it, the admin does
    enterprise = (
        'wuxin enterprise add "吴江恒达化纤有限公司" --uscc 913205093E20AC5C5K --industry manufacturing '
        "--region 江苏省苏州市吴江区"
    )
    expect(
        sh(enterprise + " --as installer", exit_code=2),
        "error: role integrator may not do this (allowed: platform_admin)",
    )
    expect(sh(enterprise + " --as admin"), "enterprise 1 created: 吴江恒达化纤有限公司 (913205093E20AC5C5K)")
    expect(
        sh("wuxin site add 1 一号车间 --region 江苏省苏州市吴江区 --as installer", exit_code=2),
        "error: enterprise 1 does not exist",
    )
    # the enterprise's own user grants the consents
    sh(
        "printf 'hengda-pass-2026\\n' | wuxin users add hengda --role enterprise_user --enterprise-id 1 --password-file -"
    )
    expect(
        sh(
            'wuxin consent add 1 --tenant 2 --purpose "设备安装与维护 device installation and maintenance" '
            "--days 365 --as hengda"
        ),
        "consent 1 granted to tenant 2 for 365 days (all)",
    )
    expect(
        sh(
            'wuxin consent add 1 --tenant 1 --purpose "授信评估与贷后监测 credit assessment and monitoring" '
            "--days 365 --as hengda"
        ),
        "consent 2 granted to tenant 1 for 365 days (all)",
    )
    expect(
        sh("wuxin site add 1 二号车间 --region 江苏省苏州市吴江区 --as officer", exit_code=2),
        "error: user officer may not manage devices of enterprise 1",
    )
    expect(
        sh("wuxin site add 1 一号车间 --region 江苏省苏州市吴江区 --lat 30.91 --lon 120.64 --as installer"),
        "site 1 created: 一号车间",
    )
    # the devices from the document's file, with its two faults
    (sh.workdir / "devices.csv").write_text(_heredoc("devices.csv"), encoding="utf-8")
    faults = (
        "row 4, column site, value '三号车间': no site of this enterprise has this name or id",
        "row 6, column key, value 'hd-loom-01': the key is already in row 2 of this file",
    )
    expect(
        sh("wuxin device import devices.csv --enterprise 1 --as installer --dry-run", exit_code=1),
        *faults,
        "5 rows: 3 devices would be created (dry run), 2 rows refused",
    )
    expect(
        sh("wuxin device import devices.csv --enterprise 1 --as installer --credentials-out tokens.csv", exit_code=1),
        *faults,
        "5 rows: 3 devices created, 2 rows refused",
        "wrote 3 device tokens to tokens.csv (shown once)",
    )
    with (sh.workdir / "tokens.csv").open(encoding="utf-8") as sheet:
        tokens = {row["key"]: row["access_token"] for row in csv.DictReader(sheet)}
    documented("row,key,device_type,site,source_mode,access_token")
    assert sorted(tokens) == ["hd-loom-01", "hd-loom-02", "hd-meter-01"]
    listed = sh("wuxin device list 1 --as installer")
    assert [line.split()[0] for line in listed.splitlines()] == ["hd-loom-01", "hd-loom-02", "hd-meter-01"]

    # `wuxin serve` with the MQTT worker and front end (WUXIN_MQTT_URL, WUXIN_MQTT_FRONT_URL, _PORT)
    for setting in ("export WUXIN_MQTT_URL=", "export WUXIN_MQTT_FRONT_URL=", "export WUXIN_MQTT_FRONT_PORT="):
        documented(setting)
    live = request.getfixturevalue("live")
    stop = serve_background(platform)
    try:
        _the_served_walk(platform, live, tokens)
        _the_vendors_walk(sh, platform, live)
    finally:
        stop.set()


def _login(live, username: str, password: str) -> dict:
    answer = live.client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _the_served_walk(platform, live, tokens: dict) -> None:
    # a device posts over HTTP with its token in a header
    documented('curl -s -X POST http://127.0.0.1:49233/api/v1/devices/me/telemetry -H "Authorization: Bearer $TOKEN"')
    posted = live.client.post(
        "/api/v1/devices/me/telemetry",
        json={"current_a": 12.5, "battery_pct": 88},
        headers={"Authorization": f"Bearer {tokens['hd-loom-01']}"},
    )
    assert posted.status_code == 200 and posted.json()["accepted"] == 2, posted.text
    installer = _login(live, documented("installer"), "installer-pass-2026")
    officer = _login(live, "officer", documented("officer-pass-2026"))
    more = (
        "key,device_type,site,source_mode,attr.run_threshold_a\nhd-loom-04,manufacturing.current_bracelet,一号车间,"
        "bank_installed,5.0\nhd-loom-05,manufacturing.current_bracelet,一号车间,leased,5.0\n"
    )
    documented("printf '" + more.replace("\n", "\\n") + "' > more.csv")
    imported = live.client.post(
        "/api/v1/enterprises/1/devices/import", headers=installer, files={"file": ("more.csv", more.encode())}
    )
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert (report["created_count"], report["refused_rows"], report["errors"][0]["value"]) == (1, 1, "leased")
    refused = live.client.post(
        "/api/v1/enterprises/1/devices/import", headers=officer, files={"file": ("more.csv", more.encode())}
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == documented("user officer may not manage devices of enterprise 1")

    # a device on ThingsBoard's SDK, unchanged: the token from tokens.csv is its MQTT username
    now_ms = int(time.time() * 1000)
    minutes = [{"ts": now_ms - m * 60_000, "values": {"current_a": 12.5}} for m in range(10, 0, -1)]
    loom = SdkProcess(
        "tb",
        "tb_driver.py",
        {"host": "127.0.0.1", "port": platform.settings.mqtt_front_port, "token": tokens["hd-loom-02"]},
    )
    try:
        assert loom.hello == {"connected": True}
        assert loom.call("telemetry", values=minutes)["rc"] == 0
        listed = live.client.get("/api/v1/enterprises/1/devices", headers=officer).json()
        assert {d["key"]: d["connectivity"] for d in listed}["hd-loom-02"] == "online"
        # nobody runs `wuxin indicators update`: the served job computes the new device-days
        day = dt.datetime.fromtimestamp(now_ms / 1000, CHINA).date()
        window = {"from": str(day - dt.timedelta(days=1)), "to": str(day + dt.timedelta(days=1)), "name": "run_hours"}

        documented('curl -s "http://127.0.0.1:49233/api/v1/enterprises/1/indicators?from=')

        def run_hours() -> list:
            answer = live.client.get("/api/v1/enterprises/1/indicators", headers=officer, params=window)
            assert answer.status_code == 200, answer.text
            return [row["value"] for row in answer.json()["values"] if row["indicator"] == "run_hours" and row["value"]]

        wait_for(run_hours, timeout_s=30, what="the new device's run hours, computed by the served job")
        assert 0 < max(run_hours()) <= 15 / 60  # ten minutes at 12.5 A (the 5 A threshold), each held <= 5 min
    finally:
        loom.close()
    readings = live.client.get(
        "/api/v1/enterprises/1/devices/hd-loom-02/telemetry", headers=officer, params={"key": "current_a"}
    ).json()["readings"]
    assert len(readings) == 10

    # the enterprise sees who read its data, from which bank, under which consent
    owner = _login(live, "hengda", "hengda-pass-2026")
    documented('curl -s "http://127.0.0.1:49233/api/v1/enterprises/1/access-log?tenants_only=true"')
    log = live.client.get("/api/v1/enterprises/1/access-log", headers=owner, params={"tenants_only": True}).json()
    reads = {(e["username"], e["tenant_id"], e["action"], e["consent_id"]) for e in log}
    assert ("officer", 1, "telemetry.read", 2) in reads and ("officer", 1, "indicators.enterprise_day", 2) in reads
    refused = live.client.get("/api/v1/enterprises/1/access-log", headers=officer)
    assert refused.status_code == 403 and refused.json()["detail"] == documented(
        "only enterprise 1 itself and the platform admin read its access log (role credit_officer)"
    )


def _the_vendors_walk(sh: Shell, platform, live) -> None:
    """A maker's Alibaba TSL export imported as exported, its controller on LinkKit with the maker's productKey; a
    2013 JT/T 808 terminal that sets bit 14, imported from a file, registering and reporting through the gateway."""
    officer = _login(live, "officer", "officer-pass-2026")
    shutil.copy(REPO_ROOT / "tests/fixtures/tsl/alibaba_oven_controller_export.json", sh.workdir / "oven_tsl.json")
    documented('cp "$REPO"/tests/fixtures/tsl/alibaba_oven_controller_export.json oven_tsl.json')
    expect(
        sh("wuxin thing-model import oven_tsl.json --device-type manufacturing.oven_controller"),
        "imported thing model manufacturing.oven_controller",
    )
    sh(
        "wuxin device add 1 hd-oven-01 --type manufacturing.oven_controller --source-mode bank_installed "
        "--site 一号车间 --as installer"
    )
    secret = sh("wuxin ingest alink-secret hd-oven-01 --product-key a1Bc2De3F4g").strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", secret), secret
    oven = SdkProcess(
        "linkkit",
        "linkkit_driver.py",
        {
            "host": "127.0.0.1",
            "port": platform.settings.mqtt_front_port,
            "product_key": "a1Bc2De3F4g",
            "device_name": "hd-oven-01",
            "device_secret": secret,
            "tsl": str(sh.workdir / "oven_tsl.json"),
        },
    )
    try:
        assert oven.hello == {"connected": True}
        documented('lk.thing_post_property({"CurrentTemperature": 182.5, "WorkMode": 1})')
        good = oven.call("post_property", params={"CurrentTemperature": 182.5, "WorkMode": 1})
        assert good["reply"]["code"] == 200, good
        documented('lk.thing_post_property({"CurrentTemperature": 950.0})')
        hot = oven.call("post_property", params={"CurrentTemperature": 950.0})
        assert hot["reply"]["code"] == 460 and "CurrentTemperature" in hot["reply"]["message"], hot
    finally:
        oven.close()
    temperatures = live.client.get(
        "/api/v1/enterprises/1/devices/hd-oven-01/telemetry", headers=officer, params={"key": "CurrentTemperature"}
    ).json()["readings"]
    assert [r["value"] for r in temperatures] == [182.5]

    (sh.workdir / "trucks.csv").write_text(_heredoc("trucks.csv"), encoding="utf-8")
    expect(
        sh("wuxin device import trucks.csv --enterprise 1 --as installer --credentials-out truck-tokens.csv"),
        "1 rows: 1 devices created, 0 rows refused",
    )
    position = _a_bit_14_terminal_reports_through_the_gateway()
    readings = live.client.get(
        documented("/api/v1/enterprises/1/devices/hd-truck-01/telemetry?key=lat").split("?")[0],
        headers=officer,
        params={"key": "lat"},
    ).json()["readings"]
    assert [r["value"] for r in readings] == [position]


def _a_bit_14_terminal_reports_through_the_gateway() -> float:
    """`wuxin jt808 serve` as its own process on the walk's database; the terminal registers, logs in and reports."""
    port = free_port()
    line = documented("wuxin jt808 serve --port 6808 &").replace("6808", str(port)).rstrip(" &")
    gateway = subprocess.Popen(
        [sys.executable, "-m", "wuxin.cli.main", *shlex.split(line)[1:]], env=dict(os.environ), stderr=subprocess.PIPE
    )
    lat = 31.2989

    async def drive() -> dict:
        terminal = SimulatedTerminal("013800138000", "2013", terminal_id="T0001", bit14_quirk=True)
        for _ in range(600):  # the gateway process is listening once it accepts (60 s: a loaded machine)
            try:
                await terminal.connect("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        auth_code = await terminal.login("苏E5T201")
        now = dt.datetime.now(dt.UTC)
        (ack,) = await terminal.request(terminal.builder.location(fix(now, lat, 120.6419, speed_kmh=0.0)))
        await terminal.close()
        return {"auth_code": auth_code, "ack": ack}

    try:  # in a thread of its own: a test run before this one may have left an event loop running in this one
        with ThreadPoolExecutor(max_workers=1) as pool:
            answers = pool.submit(asyncio.run, drive()).result(timeout=180)
    finally:
        gateway.terminate()
        gateway.wait(timeout=10)
    assert answers["auth_code"].startswith("wxj_")
    ack = answers["ack"]
    assert ack.header.version == "2013" and m.parse_general_response(ack.body)["result"] == m.RESULT_OK
    return lat
