"""Alibaba's LinkKit (aliyun-iot-linkkit) as its documentation uses it (一机一密), driven line by line.

Runs in the SDK's own virtualenv (.venv-sdk-linkkit):
`python linkkit_driver.py '{"host", "port", "product_key", "device_name", "device_secret", "tsl"}'` (with
"cadata", the broker CA's PEM: over TLS, securemode=2),
then one JSON command per stdin line, one JSON answer per stdout line. Nothing of the platform is imported.
"""

import json
import sys
import threading

from linkkit import linkkit

EVENTS: list = []
CHANGED = threading.Condition()


def _record(kind, **fields):
    with CHANGED:
        EVENTS.append({"kind": kind, **fields})
        CHANGED.notify_all()


def _wait_for(predicate, timeout_s=15.0):
    with CHANGED:
        CHANGED.wait_for(lambda: any(predicate(e) for e in EVENTS), timeout_s)
        return [e for e in EVENTS if predicate(e)]


def main():
    config = json.loads(sys.argv[1])
    lk = linkkit.LinkKit(
        host_name=config["host"],
        product_key=config["product_key"],
        device_name=config["device_name"],
        device_secret=config["device_secret"],
    )
    tls = {"secure": "TLS", "cadata": config["cadata"]} if config.get("cadata") else {"secure": ""}
    lk.config_mqtt(port=config["port"], keep_alive=60, auto_reconnect_min_sec=1, auto_reconnect_max_sec=2, **tls)
    lk.on_connect = lambda session_flag, rc, userdata: _record("connect", rc=rc)
    lk.on_disconnect = lambda rc, userdata: _record("disconnect", rc=rc)
    lk.on_thing_enable = lambda userdata: _record("enable")
    lk.on_thing_prop_post = lambda request_id, code, data, message, userdata: _record(
        "prop_reply", id=str(request_id), code=code, message=message
    )
    lk.on_thing_event_post = lambda event, request_id, code, data, message, userdata: _record(
        "event_reply", event=event, id=str(request_id), code=code, message=message
    )
    lk.on_publish_topic = lambda mid, userdata: _record("puback", mid=mid)
    answers = config.get("service_answers", {})  # service identifier -> [code, data]; absent: no answer

    def on_call_service(identifier, request_id, params, userdata):
        _record("service_call", identifier=identifier, id=str(request_id), params=params)
        if identifier in answers:
            code, data = answers[identifier]
            lk.thing_answer_service(identifier, request_id, code, data)

    lk.on_thing_call_service = on_call_service
    lk.on_thing_prop_changed = lambda params, userdata: _record("prop_set", params=params)  # LinkKit replies 200
    lk.thing_setup(config["tsl"])
    lk.connect_async()
    enabled = _wait_for(lambda e: e["kind"] == "enable", config.get("connect_timeout_s", 15))
    # LinkKit calls on_thing_enable after a failed attempt too (a socket or TLS error: on_connect with rc 9)
    connected = enabled and any(e["kind"] == "connect" and e["rc"] == 0 for e in EVENTS)
    print("@@ " + json.dumps({"connected": bool(connected)}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        op, out = command["op"], {}
        if op == "post_property":
            rc, request_id = lk.thing_post_property(command["params"])
            out["rc"] = rc
            replies = _wait_for(lambda e: e["kind"] == "prop_reply" and e["id"] == str(request_id))
            out["reply"] = replies[0] if replies else None
        elif op == "trigger_event":
            rc, request_id = lk.thing_trigger_event((command["event"], command["params"]))
            out["rc"] = rc
            replies = _wait_for(lambda e: e["kind"] == "event_reply" and e["id"] == str(request_id))
            out["reply"] = replies[0] if replies else None
        elif op == "publish_topic":
            out["rc"] = list(lk.publish_topic(command["topic"], command["payload"], 1))
            out["disconnects"] = _wait_for(lambda e: e["kind"] == "disconnect")
        elif op == "calls":  # wait for this many service calls and property sets
            _wait_for(
                lambda e: len([x for x in EVENTS if x["kind"] in ("service_call", "prop_set")]) >= command["count"],
                command.get("timeout_s", 15),
            )
            out["calls"] = [e for e in EVENTS if e["kind"] in ("service_call", "prop_set")]
        elif op == "answer_service":  # an answer of the device's own making (a repeat, another id)
            out["rc"] = lk.thing_answer_service(
                command["identifier"], command["id"], command["code"], command.get("data")
            )
        elif op == "status":
            pass
        elif op == "stop":
            lk.disconnect()
            print("@@ " + json.dumps({"stopped": True}), flush=True)
            return
        out["events"] = EVENTS[-50:]
        out["state"] = str(lk.check_state())
        print("@@ " + json.dumps(out, default=str), flush=True)


if __name__ == "__main__":
    main()
