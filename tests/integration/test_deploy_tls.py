"""The deployment kit's TLS, with a throwaway CA: Mosquitto's device listener (mutual TLS plus per-device
credentials) and nginx in front of a live wuxin server (deploy/nginx/wuxin.conf.template)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
import time
from pathlib import Path
from string import Template

import httpx
import paho.mqtt.client as mqtt
import pytest

from tests.conftest import free_port
from tests.integration.mqtt_env import accounts, start_broker
from tests.integration.tls_certs import make_ca
from wuxin.ingest.mqtt.broker import TlsListener

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _tls_client(port: int, ca: Path, cert: Path | None, key: Path | None, username: str, password: str):
    """Connect over TLS; returns (client, reason) where reason is None when the handshake itself failed."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"tls-{username}-{time.monotonic_ns()}")
    client.tls_set(ca_certs=str(ca), certfile=str(cert) if cert else None, keyfile=str(key) if key else None)
    client.username_pw_set(username, password)
    answered, outcome = threading.Event(), []
    client.on_connect = lambda _c, _u, _f, reason, _p: (outcome.append(reason), answered.set())
    try:
        client.connect("127.0.0.1", port, keepalive=30)
    except (ssl.SSLError, OSError):
        return client, None
    client.loop_start()
    answered.wait(10)
    if not outcome:
        client.loop_stop()
        return client, None
    return client, outcome[0]


@pytest.mark.mqtt
def test_a_device_publishes_over_tls_with_its_certificate_and_credentials_and_strangers_are_refused(tmp_path):
    device_ca, other_ca = make_ca(tmp_path / "pki", "wuxin-device-ca"), make_ca(tmp_path / "pki", "someone-else")
    server = device_ca.issue(tmp_path / "pki", "broker", server=True)
    device = device_ca.issue(tmp_path / "pki", "loom-01", server=False)
    stranger = other_ca.issue(tmp_path / "pki", "stranger", server=False)
    tls_port = free_port()
    broker, admin = start_broker(
        tmp_path / "broker", tls=TlsListener(tls_port, device_ca.cert, server.cert, server.key, "127.0.0.1")
    )
    try:
        accounts(admin).provision_device("loom-01", "manufacturing.current_bracelet", "token-loom-01")
        # the device: certificate from the device CA, then its own username and password
        client, reason = _tls_client(tls_port, device_ca.cert, device.cert, device.key, "loom-01", "token-loom-01")
        assert reason is not None and not reason.is_failure, reason
        info = client.publish("v1/devices/loom-01/telemetry", b'{"current_a": 7.5}', qos=1)
        info.wait_for_publish(timeout=10)
        assert info.is_published()
        client.loop_stop()
        client.disconnect()
        # right certificate, wrong password: refused by the dynamic-security plugin
        _client, reason = _tls_client(tls_port, device_ca.cert, device.cert, device.key, "loom-01", "not-the-token")
        assert reason is not None and reason.is_failure
        # a certificate from another CA, or none: refused in the TLS handshake, before any password
        for cert, key in ((stranger.cert, stranger.key), (None, None)):
            client, reason = _tls_client(tls_port, device_ca.cert, cert, key, "loom-01", "token-loom-01")
            assert reason is None or reason.is_failure, f"{cert}: {reason}"
            client.loop_stop()
    finally:
        admin.close()
        broker.stop()


def test_nginx_serves_wuxin_over_https_trusted_with_the_ca_only(live, tmp_path):
    ca = make_ca(tmp_path / "pki", "wuxin-test-ca")
    server = ca.issue(tmp_path / "pki", "wuxin-api", server=True)
    https_port = free_port()
    upstream = live.url.removeprefix("http://")
    site = Template((DEPLOY / "nginx" / "wuxin.conf.template").read_text()).safe_substitute(
        server_name="localhost",
        https_port=https_port,
        http_port=free_port(),
        listen_address="127.0.0.1",
        upstream=upstream,
        cert_file=server.cert,
        key_file=server.key,
    )
    assert "${" not in site  # every placeholder filled
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
{site}
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run(
        [nginx, "-t", "-c", str(conf), "-p", str(tmp_path), "-g", "user root;"], check=True, capture_output=True
    )
    proxy = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off; user root;"], stderr=subprocess.PIPE
    )
    try:
        with httpx.Client(verify=ssl.create_default_context(cafile=str(ca.cert)), timeout=30) as trusted:
            response = _wait_answer(trusted, f"https://127.0.0.1:{https_port}/health", proxy)
            assert response.status_code == 200 and response.json()["status"] == "ok"
            assert response.headers["strict-transport-security"].startswith("max-age=")
        with httpx.Client(timeout=30) as untrusting:  # the system's CAs do not know the throwaway CA
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                untrusting.get(f"https://127.0.0.1:{https_port}/health")
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)


def _wait_answer(client: httpx.Client, url: str, proxy: subprocess.Popen) -> httpx.Response:
    deadline = time.monotonic() + 30  # nginx starting on a loaded machine
    while time.monotonic() < deadline:
        assert proxy.poll() is None, proxy.stderr.read().decode()
        try:
            return client.get(url)
        except httpx.ConnectError as exc:
            if "CERTIFICATE" in str(exc):
                raise
            time.sleep(0.05)
    raise AssertionError(f"nginx did not answer on {url}")
