"""ThingsBoard's Python SDK (tb-mqtt-client) as its documentation uses it, driven line by line.

Runs in the SDK's own virtualenv (.venv-sdk-tb): `python tb_driver.py '{"host", "port", "token", "gateway"}'`,
then one JSON command per stdin line, one JSON answer per stdout line. With "provision": {"key", "secret",
"device_name"} instead of a token it runs the SDK's own provisioning call and answers its credentials once.
Nothing of the platform is imported.
"""

import json
import logging
import sys
import threading
import time

from tb_device_http import TBHTTPDevice
from tb_device_mqtt import TBDeviceMqttClient
from tb_gateway_mqtt import TBGatewayMqttClient

SDK_LOG: list = []
RPC_REQUESTS: list = []  # server-side RPC the device (or gateway) received, in order
RPC_SEEN = threading.Condition()


def _rpc_received(entry):
    with RPC_SEEN:
        RPC_REQUESTS.append(entry)
        RPC_SEEN.notify_all()


def _rpc_requests(count, timeout_s=15.0):
    with RPC_SEEN:
        RPC_SEEN.wait_for(lambda: len(RPC_REQUESTS) >= count, timeout_s)
        return list(RPC_REQUESTS)


class _Recorder(logging.Handler):
    def emit(self, record):
        SDK_LOG.append(record.getMessage())


def _wait(condition, timeout_s=15.0):
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def _answer(request):
    """Call request(callback) and wait for the SDK to call the callback with its answer."""
    got, done = [], threading.Event()

    def callback(*args):
        got.append(args)
        done.set()

    request(callback)
    done.wait(15)
    return next((a for a in got[0] if isinstance(a, dict)), None) if got else None  # (id,) content (, error)


def http_main(config):
    """ThingsBoard's HTTP device client: connect() posts an empty telemetry to test the token."""
    client = TBHTTPDevice(config["host"], config["token"])
    print("@@ " + json.dumps({"connected": client.connect()}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        op, out = command["op"], {}
        try:
            if op == "telemetry":
                out["answer"] = client.send_telemetry(command["values"], queued=False)
            elif op == "attributes":
                out["answer"] = client.send_attributes(command["values"])
            elif op == "request_attributes":
                out["answer"] = client.request_attributes(
                    client_keys=command.get("client_keys"), shared_keys=command.get("shared_keys")
                )
            elif op == "rpc":
                out["answer"] = client.send_rpc(command["method"], command.get("params"))
            elif op == "serve_rpc":  # ThingsBoard's documented way: subscribe('rpc') polls, send_rpc(rpc_id=) answers
                answer = command.get("answer")

                def on_rpc(request, answer=answer):
                    _rpc_received(request)
                    if answer is not None:
                        client.send_rpc(name=request["method"], params=answer, rpc_id=request["id"])

                client.subscribe("rpc", on_rpc)
            elif op == "rpc_requests":
                out["requests"] = _rpc_requests(command["count"])
            elif op == "stop":
                client.unsubscribe("rpc")
                client.stop_publish_worker()
                print("@@ " + json.dumps({"stopped": True}), flush=True)
                return
        except Exception as exc:  # the SDK raises requests' HTTPError for a refusal: report it
            out["error"] = f"{type(exc).__name__}: {exc}"
            out["status"] = getattr(getattr(exc, "response", None), "status_code", None)
        print("@@ " + json.dumps(out, default=str), flush=True)


def provision_main(config):
    """TBDeviceMqttClient.provision as ThingsBoard documents it: the credentials, or None with the SDK's log."""
    logging.getLogger("tb_connection").addHandler(_Recorder())
    logging.getLogger("tb_connection").setLevel(logging.DEBUG)
    request = config["provision"]
    credentials = TBDeviceMqttClient.provision(
        config["host"],
        request["key"],
        request["secret"],
        port=config["port"],
        device_name=request.get("device_name"),
        **{k: request[k] for k in ("access_token",) if k in request},
    )
    print("@@ " + json.dumps({"credentials": credentials, "log": SDK_LOG[-20:]}), flush=True)
    for line in sys.stdin:
        if json.loads(line)["op"] == "stop":
            print("@@ " + json.dumps({"stopped": True}), flush=True)
            return


def main():
    config = json.loads(sys.argv[1])
    if config.get("http"):
        return http_main(config)
    if config.get("provision"):
        return provision_main(config)
    logging.getLogger("tb_connection").addHandler(_Recorder())
    logging.getLogger("tb_connection").setLevel(logging.DEBUG)
    kind = TBGatewayMqttClient if config.get("gateway") else TBDeviceMqttClient
    client = kind(config["host"], port=config["port"], username=config["token"])
    answer = config.get("rpc_answer")  # what the device answers a server-side RPC (None: it stays silent)
    if config.get("gateway"):

        def on_gateway_rpc(gateway, content):
            _rpc_received(content)
            if answer is not None:
                gateway.gw_send_rpc_reply(content["device"], content["data"]["id"], answer)

        client.gw_set_server_side_rpc_request_handler(on_gateway_rpc)
    else:

        def on_rpc(request_id, request):
            _rpc_received({"id": request_id, **request})
            if answer is not None:
                client.send_rpc_reply(request_id, answer)

        client.set_server_side_rpc_request_handler(on_rpc)
    client.connect()
    connected = _wait(client.is_connected, config.get("connect_timeout_s", 15))
    print("@@ " + json.dumps({"connected": connected}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        op, out = command["op"], {}
        if op == "telemetry":
            out["rc"] = client.send_telemetry(command["values"]).get()
        elif op == "attributes":
            out["rc"] = client.send_attributes(command["values"]).get()
        elif op == "request_attributes":
            out["answer"] = _answer(
                lambda cb: client.request_attributes(
                    client_keys=command.get("client_keys"), shared_keys=command.get("shared_keys"), callback=cb
                )
            )
        elif op == "rpc":
            out["answer"] = _answer(lambda cb: client.send_rpc_call(command["method"], command.get("params", {}), cb))
        elif op == "gw_connect":
            out["rc"] = client.gw_connect_device(command["device"]).get()
        elif op == "gw_telemetry":
            out["rc"] = client.gw_send_telemetry(command["device"], command["values"]).get()
        elif op == "gw_attributes":
            out["rc"] = client.gw_send_attributes(command["device"], command["values"]).get()
        elif op == "gw_request_client_attributes":
            out["answer"] = _answer(
                lambda cb: client.gw_request_client_attributes(command["device"], command["keys"], cb)
            )
        elif op == "rpc_requests":
            out["requests"] = _rpc_requests(command["count"], command.get("timeout_s", 15))
        elif op == "rpc_reply":  # an answer of the device's own making (a repeat, another id)
            client.send_rpc_reply(str(command["id"]), command["answer"], wait_for_publish=True)
        elif op == "gw_rpc_reply":
            out["rc"] = client.gw_send_rpc_reply(command["device"], command["id"], command["answer"]).get()
        elif op == "wait_disconnected":
            out["disconnected"] = _wait(lambda: not client.is_connected(), command.get("timeout_s", 15))
        elif op == "status":
            pass
        elif op == "stop":
            client.disconnect()
            print("@@ " + json.dumps({"stopped": True}), flush=True)
            return
        out["connected"] = client.is_connected()
        out["log"] = SDK_LOG[-50:]
        print("@@ " + json.dumps(out, default=str), flush=True)


if __name__ == "__main__":
    main()
