"""deploy/compose.yaml (never run here: no container engine) parses, uses the standard images, runs the same
commands as the systemd units, asks for every secret it uses, and its broker configuration has every directive
of the tested template."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _wuxin_args(command) -> list[str]:
    words = shlex.split(command) if isinstance(command, str) else list(command)
    return words[words.index("/opt/venv/bin/wuxin") + 1 :] if "/opt/venv/bin/wuxin" in words else []


def test_the_compose_file_parses_and_uses_the_standard_images():
    services = _compose()["services"]
    assert {s["image"] for s in services.values()} == {"python:3.11-slim", "postgres:15", "eclipse-mosquitto:2"}
    assert {"api", "mqtt", "jt808", "scheduler", "postgres", "mosquitto"} <= set(services)
    for name in ("api", "mqtt", "jt808", "scheduler"):
        assert services[name]["depends_on"]["install"] == {"condition": "service_completed_successfully"}
        assert services[name]["environment"]["WUXIN_DATABASE_URL"].endswith("@postgres:5432/wuxin")


def test_each_long_running_unit_has_a_service_with_the_same_command():
    services = _compose()["services"]
    compose_commands = [_wuxin_args(s.get("command", [])) for s in services.values()]
    scheduler = " ".join(services["scheduler"]["command"])
    for unit in sorted((DEPLOY / "systemd").glob("wuxin-*.service")):
        [exec_start] = re.findall(r"^ExecStart=(.*)$", unit.read_text(), re.M)
        args = shlex.split(exec_start)
        if args[0] != "/opt/wuxin/.venv/bin/wuxin":
            continue  # the backup's shell line: not in compose (pg_dump is not in python:3.11-slim)
        if (DEPLOY / "systemd" / unit.name.replace(".service", ".timer")).exists():
            assert "/opt/venv/bin/wuxin " + " ".join(args[1:]) in scheduler, unit.name
        else:
            assert args[1:] in compose_commands, unit.name


def test_every_secret_the_compose_file_uses_is_in_the_example_env():
    used = set(re.findall(r"\$\{(\w+):\?", (DEPLOY / "compose.yaml").read_text()))
    listed = set(re.findall(r"^(\w+)=", (DEPLOY / "compose" / "example.env").read_text(), re.M))
    assert used == listed == {"WUXIN_SECRET_KEY", "POSTGRES_PASSWORD", "MQTT_ADMIN_PASSWORD", "MQTT_WORKER_PASSWORD"}


def test_the_brokers_configuration_has_every_directive_of_the_tested_template():
    def directives(path: Path) -> set[str]:
        return {line.split()[0] for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")}

    missing = directives(DEPLOY / "mosquitto" / "mosquitto.conf.template") - directives(
        DEPLOY / "compose" / "mosquitto.conf"
    )
    assert missing == {
        "user",
        "connection_messages",
    }  # user: left to the image (not verified); connection lines: the default


def test_the_units_that_hold_device_connections_may_open_more_files_than_the_front_end_admits():
    """One open file per device socket: systemd's default limit (1,024) would refuse devices long before the MQTT
    front end's own total (WUXIN_MQTT_FRONT_MAX_CONNECTIONS) does."""
    from wuxin.config import Settings

    admitted = Settings.model_fields["mqtt_front_max_connections"].default
    units = ["wuxin-api.service", "wuxin-jt808.service", "mosquitto.service.d/wuxin.conf"]
    for name in units:
        limits = re.findall(r"^LimitNOFILE=(\d+)$", (DEPLOY / "systemd" / name).read_text(), re.M)
        assert limits and int(limits[0]) > 2 * admitted, f"{name}: LimitNOFILE={limits}"
