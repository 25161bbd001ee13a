"""`wuxin enterprise|site|device|consent` and `wuxin device import`: the documented onboarding order from the
command line, as named users, and the refusals of the wrong role."""

from __future__ import annotations

import json
import stat
import time

import pytest
from typer.testing import CliRunner

from tests.integration.test_provisioning import BAD_ROWS, device_file
from tests.world import build_world
from wuxin.cli.main import app
from wuxin.config import get_settings
from wuxin.sim.spec import make_uscc

USCC = make_uscc(__import__("random").Random(77))


@pytest.fixture
def cli(platform, monkeypatch):
    monkeypatch.setenv("WUXIN_DATABASE_URL", platform.settings.database_url)
    get_settings.cache_clear()
    platform.clock.now_ms = int(time.time() * 1000)  # the CLI's platform runs on the real clock: consents must be live
    build_world(platform)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    yield run
    get_settings.cache_clear()


def test_the_onboarding_order_from_the_command_line(platform, cli):
    # an integrator may not create an enterprise: only the platform admin registers borrowers
    refused = cli(
        "enterprise",
        "add",
        "苏州新纺织有限公司",
        "--uscc",
        USCC,
        "--industry",
        "manufacturing",
        "--region",
        "江苏省苏州市",
        "--as",
        "integrator",
    )
    assert refused.exit_code == 2 and "platform_admin" in refused.output
    made = cli(
        "enterprise",
        "add",
        "苏州新纺织有限公司",
        "--uscc",
        USCC,
        "--industry",
        "manufacturing",
        "--region",
        "江苏省苏州市",
        "--as",
        "admin",
    )
    assert made.exit_code == 0, made.output
    enterprise_id = int(made.output.split()[1])
    # before the enterprise consents, the integrator does not know it
    early = cli("site", "add", USCC, "一号车间", "--region", "江苏省苏州市", "--as", "integrator")
    assert early.exit_code == 2 and "does not exist" in early.output
    # the admin creates the enterprise's user (users add), which grants the operator's tenant a consent
    from wuxin.services.access import identity

    identity.create_user(platform, "newowner", "correct-horse-battery", "enterprise_user", None, enterprise_id)
    operator = next(t["id"] for t in _tenants(platform) if t["kind"] == "operator")
    granted = cli(
        "consent",
        "add",
        str(enterprise_id),
        "--tenant",
        operator,
        "--purpose",
        "device installation",
        "--days",
        "90",
        "--as",
        "newowner",
    )
    assert granted.exit_code == 0, granted.output
    consent_id = int(granted.output.split()[1])
    assert cli("consent", "list", "--as", "newowner").output.startswith(f"{consent_id}\tenterprise {enterprise_id}")
    assert json.loads(cli("consent", "show", consent_id, "--as", "integrator").output)["tenant_id"] == operator
    # now the integrator adds the site and devices
    site = cli("site", "add", USCC, "一号车间", "--region", "江苏省苏州市", "--as", "integrator")
    assert site.exit_code == 0, site.output
    assert "一号车间" in cli("site", "list", enterprise_id, "--as", "integrator").output
    assert json.loads(cli("site", "show", enterprise_id, "一号车间", "--as", "integrator").output)["name"] == "一号车间"
    device = cli(
        "device",
        "add",
        enterprise_id,
        "new-loom-1",
        "--type",
        "manufacturing.current_bracelet",
        "--source-mode",
        "bank_installed",
        "--site",
        "一号车间",
        "--attr",
        "run_threshold_a=4.5",
        "--as",
        "integrator",
    )
    assert device.exit_code == 0, device.output
    assert json.loads(device.output)["access_token"].startswith("wxd_")
    shown = json.loads(cli("device", "show", enterprise_id, "new-loom-1", "--as", "integrator").output)
    assert shown["attributes"] == {"run_threshold_a": 4.5} and shown["source_mode"] == "bank_installed"
    assert cli("device", "list", enterprise_id, "--as", "integrator").output.startswith("new-loom-1\t")
    assert str(enterprise_id) in cli("enterprise", "list", "--as", "integrator").output
    assert json.loads(cli("enterprise", "show", USCC, "--as", "integrator").output)["sites"][0]["name"] == "一号车间"


def _tenants(platform) -> list[dict]:
    from sqlalchemy import text

    with platform.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text("select id, kind from tenants"))]


def test_an_officer_adding_a_site_is_told_it_may_not_manage_devices(platform, cli):
    factory = _factory(platform)
    result = cli("site", "add", factory, "二号车间", "--region", "江苏省", "--as", "officer")
    assert result.exit_code == 2 and f"may not manage devices of enterprise {factory}" in result.output


def _factory(platform) -> int:
    with platform.uow() as uow:
        return uow.devices.by_key("loom-01")["enterprise_id"]


def test_device_import_writes_credentials_once_and_reports_bad_rows(platform, cli, tmp_path):
    factory = _factory(platform)
    source = tmp_path / "devices.csv"
    source.write_bytes(device_file(500))
    sheet = tmp_path / "tokens.csv"
    result = cli("device", "import", source, "--enterprise", factory, "--as", "integrator", "--credentials-out", sheet)
    assert result.exit_code == 1  # some rows were refused
    assert "500 rows: 497 devices created, 3 rows refused" in result.output
    for row, (_, column, value) in BAD_ROWS.items():
        assert f"row {row}, column {column}, value {value!r}" in result.output
    lines = sheet.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 497 and all(line.split(",")[-1].startswith("wxd_") for line in lines[1:])
    assert stat.S_IMODE(sheet.stat().st_mode) == 0o600
    again = cli("device", "import", source, "--enterprise", factory, "--as", "integrator", "--credentials-out", sheet)
    assert again.exit_code == 2 and "exists" in again.output  # tokens are never overwritten
    with platform.uow() as uow:
        assert len(uow.devices.list(factory)) == 3 + 497


def test_device_import_refused_for_an_integrator_without_consent(platform, cli, tmp_path):
    with platform.uow() as uow:
        fleet = uow.devices.by_key("truck-01")["enterprise_id"]
    source = tmp_path / "devices.csv"
    source.write_bytes(device_file(3))
    result = cli("device", "import", source, "--enterprise", fleet, "--as", "integrator")
    assert result.exit_code == 2 and f"enterprise {fleet} does not exist" in result.output
    with platform.uow() as uow:
        assert len(uow.devices.list(fleet)) == 1
