"""JT/T 808 terminals in bulk provisioning: a row with the terminal's id, SIM number (attr.jt808_phone), plate and
header version creates the device AND provisions its terminal; refused rows name row, column, value and reason."""

from __future__ import annotations

import pytest

from tests.world import build_world
from wuxin.services.credit.decisions import principal_for_username
from wuxin.services.devices import provisioning

HEADER = "key,device_type,source_mode,attr.plate,attr.jt808_phone,jt808_terminal_id,jt808_header_version"
GPS = "vehicles.gps_terminal"


@pytest.fixture
def world(platform):
    return build_world(platform)


def _provision(platform, world, lines: list[str], dry_run: bool = False) -> dict:
    body = ("\n".join([HEADER, *lines]) + "\n").encode()
    return provisioning.provision_devices(
        platform, principal_for_username(platform, "admin"), world.fleet, body, "trucks.csv", dry_run
    )


def test_terminal_rows_provision_their_terminal_and_bad_ones_are_named(platform, world):
    report = _provision(
        platform,
        world,
        [
            f"t-01,{GPS},bank_installed,浙B12345,013800138000,T0001,2019",
            f"t-02,{GPS},bank_installed,浙B12346,13800138000,T0002,",  # the same SIM as row 2 (0 leads)
            f"t-03,{GPS},bank_installed,浙B12347,13800138003,T0003,2011",  # no such header version
            f"t-04,{GPS},bank_installed,浙B12348,13800138004,bad id!,",  # not a terminal id
            "t-05,manufacturing.current_bracelet,bank_installed,,,T0005,",  # not a terminal type
            f"t-06,{GPS},bank_installed,浙B12349,,T0006,",  # no SIM number
            f"t-07,{GPS},bank_installed,浙B12350,13800138007,T0007,",  # header version defaults to auto
        ],
    )
    refused = {(e["row"], e["column"]): e for e in report["errors"]}
    assert set(refused) == {
        (3, "attr.jt808_phone"),
        (4, "jt808_header_version"),
        (5, "jt808_terminal_id"),
        (6, "jt808_terminal_id"),
        (7, "attr.jt808_phone"),
    }
    assert "row 2" in refused[(3, "attr.jt808_phone")]["reason"]
    assert refused[(4, "jt808_header_version")]["value"] == "2011"
    assert refused[(5, "jt808_terminal_id")]["value"] == "BAD ID!"
    assert GPS in refused[(6, "jt808_terminal_id")]["reason"]
    created = {c["key"]: c for c in report["created"]}
    assert set(created) == {"t-01", "t-07"}
    assert (created["t-01"]["jt808_terminal_id"], created["t-01"]["jt808_header_version"]) == ("T0001", "2019")
    assert created["t-07"]["jt808_header_version"] == "auto"
    with platform.uow() as uow:
        terminal = uow.jt808.by_phone("13800138000")
        assert (terminal["device_key"], terminal["terminal_id"]) == ("t-01", "T0001")
        assert terminal["attributes"]["plate"] == "浙B12345" and terminal["attributes"]["jt808_phone"] == "013800138000"
        assert terminal["enrol_until_ms"] > platform.clock_ms()
        assert uow.jt808.by_phone("13800138007")["device_key"] == "t-07"


def test_a_sim_number_already_provisioned_on_the_platform_is_refused(platform, world):
    _provision(platform, world, [f"t-01,{GPS},bank_installed,浙B1,13800138000,T0001,"])
    report = _provision(platform, world, [f"t-02,{GPS},bank_installed,浙B2,13800138000,T0002,"])
    [error] = report["errors"]
    assert (error["row"], error["column"], error["value"]) == (2, "attr.jt808_phone", "13800138000")
    assert "already provisioned" in error["reason"] and report["created"] == []


def test_a_dry_run_provisions_no_terminal(platform, world):
    report = _provision(platform, world, [f"t-01,{GPS},bank_installed,浙B1,13800138000,T0001,"], dry_run=True)
    assert report["valid_rows"] == 1 and report["created"] == []
    with platform.uow() as uow:
        assert uow.jt808.by_phone("13800138000") is None
