"""A demo device as a ThingsBoard MQTT client of the platform's front end (ingest/mqtt/front.py): it sends its
telemetry on `v1/devices/me/telemetry` with its own access token and carries out server-side RPC, answered on
`v1/devices/me/rpc/response/{id}` as ThingsBoard's SDK does. `set_report_interval` changes its cadence: from
then on it sends at most one reading per interval (the simulator's own step stays the shortest); a thing-model
service is carried out by echoing what it set; any other method is answered with an error."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import paho.mqtt.client as mqtt

from wuxin.sim.live import thingsboard_item

log = logging.getLogger(__name__)
RPC_REQUESTS = "v1/devices/me/rpc/request/+"


def thinned(lines: list[dict], interval_s: int | None, last_sent_ms: int | None) -> tuple[list[dict], int | None]:
    """The lines a device reporting every interval_s sends (events always), and the time of its last reading."""
    kept = []
    for line in sorted(lines, key=lambda l: l["ts"]):
        if "values" in line:
            if interval_s and last_sent_ms is not None and line["ts"] - last_sent_ms < interval_s * 1000:
                continue
            last_sent_ms = line["ts"]
        kept.append(line)
    return kept, last_sent_ms


class RpcDevice:
    """One device's own MQTT connection; its network I/O runs where `loop()` is called (no thread per device)."""

    def __init__(self, key: str, token: str, host: str, port: int, services: frozenset[str] = frozenset()) -> None:
        self.key, self.services = key, services
        self.report_interval_s: int | None = None  # None: as the simulator steps
        self.last_sent_ms: int | None = None
        self.answers: list[dict] = []  # what it answered, newest last (for the demo's log and the tests)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"demo-{key}")
        self.client.username_pw_set(token)
        self.client.on_connect = lambda client, _u, _f, reason, _p: (
            reason.is_failure or client.subscribe(RPC_REQUESTS, 1)
        )
        self.client.on_message = self._on_request
        self.client.connect(host, port, keepalive=60)

    def loop(self) -> None:
        self.client.loop(timeout=0)

    def connected(self) -> bool:
        return self.client.is_connected()

    def publish(self, lines: list[dict]) -> int:
        """Send what is due at its cadence; returns how many lines went."""
        due, self.last_sent_ms = thinned(lines, self.report_interval_s, self.last_sent_ms)
        if due:
            self.client.publish("v1/devices/me/telemetry", orjson.dumps([thingsboard_item(l) for l in due]), qos=1)
        return len(due)

    def _on_request(self, client: mqtt.Client, _userdata, message: mqtt.MQTTMessage) -> None:
        request_id = message.topic.rsplit("/", 1)[1]
        answer = self.obey(message.payload)
        self.answers.append({"id": request_id, **answer})
        client.publish(f"v1/devices/me/rpc/response/{request_id}", orjson.dumps(answer), qos=1)

    def obey(self, payload: bytes | bytearray) -> dict[str, Any]:
        """Carry out one RPC request {"method", "params"}; the answer ThingsBoard's device would send."""
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return {"error": "the request is not JSON"}
        method = body.get("method") if isinstance(body, dict) else None
        params: dict[str, Any] = (
            body["params"] if isinstance(body, dict) and isinstance(body.get("params"), dict) else {}
        )
        if method == "set_report_interval" and isinstance(params.get("interval_s"), int):
            self.report_interval_s = params["interval_s"]
            return {"report_interval_s": self.report_interval_s}
        if method in self.services:
            return {"done": method, **params}
        return {"error": f"method {str(method)[:60]!r} is not supported by {self.key}"}

    def disconnect(self) -> None:
        self.client.disconnect()
