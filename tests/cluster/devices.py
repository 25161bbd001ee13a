"""Simulated devices for the cluster harness: one paho-mqtt client per device, its own token, QoS 1.

    python -m tests.cluster.devices CONFIG.json     (the harness runs it in the device host's namespace)

Each device knows the three front ends and starts on its home one; when its connection drops or a connect
fails it moves to the next by itself (paho reconnects, re-sending what was not acknowledged). Every
`interval_s` each device publishes one 3-point ThingsBoard message whose device time is t0_ms + its sequence
number, so a stored reading names the message. SIGTERM stops publishing; the devices then wait (at most
`flush_s`) for what is still unacknowledged, write the result file and exit:
    {"devices": [{"key", "published", "acked": [seq...], "connects": [[front, acks_before, t_s]...]}]}
A status file (counts, connections per front) is rewritten every second while it runs.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

TOPIC = "v1/devices/me/telemetry"


class Device:
    def __init__(self, key: str, token: str, home: int, fronts: list[tuple[str, int]], started: float):
        self.key = key
        self.fronts = fronts
        self.front = home
        self.started = started
        self.seq_by_mid: dict[int, int] = {}
        self.acked_mids: list[int] = []  # appended by paho's thread
        self.connects: list[list] = []
        self.connected = False
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=key, clean_session=True)
        self.client.username_pw_set(token)
        self.client.max_inflight_messages_set(20)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.2, 2)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_lost
        self.client.on_connect_fail = self._on_lost
        self.client.on_publish = self._on_publish

    def start(self) -> None:
        host, port = self.fronts[self.front]
        self.client.connect_async(host, port, keepalive=10)
        self.client.loop_start()

    def _on_connect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        if not reason_code.is_failure:
            self.connected = True
            self.connects.append([self.front, len(self.acked_mids), round(time.monotonic() - self.started, 2)])

    def _on_lost(self, *_args) -> None:
        """The front end is gone or refused: try the next one (paho reconnects to client.host)."""
        self.connected = False
        self.front = (self.front + 1) % len(self.fronts)
        # paho's host setter refuses while the lost connection is still being torn down (it is, in these
        # callbacks); its reconnect reads _host/_port, so they are set directly
        self.client._host, self.client._port = self.fronts[self.front]

    def _on_publish(self, _client, _userdata, mid, _reason_code, _properties) -> None:
        self.acked_mids.append(mid)

    def publish(self, seq: int, t0_ms: int) -> None:
        payload = '{"ts":%d,"values":{"current_a":%.2f,"battery_pct":%.1f,"rssi_dbm":%d}}' % (
            t0_ms + seq,
            1.0 + seq % 50 / 10,
            90.0 - seq % 40,
            -60 - seq % 30,
        )
        info = self.client.publish(TOPIC, payload, qos=1)
        self.seq_by_mid[info.mid] = seq

    @property
    def pending(self) -> int:
        return len(self.seq_by_mid) - len(set(self.acked_mids))

    def result(self) -> dict:
        acked = sorted({self.seq_by_mid[mid] for mid in self.acked_mids if mid in self.seq_by_mid})
        return {"key": self.key, "published": len(self.seq_by_mid), "acked": acked, "connects": self.connects}


def _write(path: str, data: dict) -> None:
    tmp = Path(path + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def _status(devices: list[Device], publishing: bool) -> dict:
    by_front: dict[int, int] = {}
    for d in devices:
        if d.connected:
            by_front[d.front] = by_front.get(d.front, 0) + 1
    return {
        "publishing": publishing,
        "published": sum(len(d.seq_by_mid) for d in devices),
        "acked": sum(len(d.acked_mids) for d in devices),
        "pending": sum(d.pending for d in devices),
        "connected_by_front": {str(k): v for k, v in sorted(by_front.items())},
    }


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    fronts = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in config["fronts"]]
    started = time.monotonic()
    devices = [Device(d["key"], d["token"], d["home"], fronts, started) for d in config["devices"]]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for n, device in enumerate(devices):
        device.start()
        if n % 50 == 49:
            time.sleep(0.2)  # a few hundred CONNECTs spread over a second or two
    interval_s, deadline = config["interval_s"], started + config["max_s"]
    seq = 0
    next_round = time.monotonic()
    while not stop.is_set() and time.monotonic() < deadline:
        for device in devices:
            device.publish(seq, config["t0_ms"])
        seq += 1
        _write(config["status"], _status(devices, True))
        next_round += interval_s
        stop.wait(max(0.0, next_round - time.monotonic()))
    flush_until = time.monotonic() + config["flush_s"]
    while any(d.pending for d in devices) and time.monotonic() < flush_until:
        _write(config["status"], _status(devices, False))
        time.sleep(0.2)
    _write(config["result"], {"devices": [d.result() for d in devices]})
    _write(config["status"], _status(devices, False))
    for device in devices:
        device.client.disconnect()
        device.client.loop_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
