"""The channels of devices on the vendors' SDKs: ThingsBoard server-side RPC (MQTT direct, behind a ThingsBoard
gateway, or the HTTP long poll) and Alibaba Alink service invocation / property set. Their operations are the
device type's thing-model services plus a standard set per channel; the command id is the RPC id on the wire
(ThingsBoard request id, Alink message id), so a device's answer names the command it closes."""

from __future__ import annotations

from typing import Any

from wuxin.commands.model import Channel, Operation, Params
from wuxin.commands.tsl import tsl_operations
from wuxin.errors import InvalidInput

THINGSBOARD, ALINK = "thingsboard", "alink"
RPC_CHANNELS = frozenset({THINGSBOARD, ALINK})
REPORT_INTERVAL_S = (5, 86_400)
ALINK_OK = 200  # Alink reply code of success
PROPERTY_SET = "thing.service.property.set"


def _report_interval(params: Params) -> dict[str, Any]:
    extra = sorted(set(params) - {"interval_s"})
    if extra:
        raise InvalidInput(f"set_report_interval takes interval_s, not {extra}")
    low, high = REPORT_INTERVAL_S
    value = params.get("interval_s")
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"interval_s must be a whole number of seconds from {low} to {high}, got {value!r}")
    return {"interval_s": value}


STANDARD = (
    Operation(
        "set_report_interval", _report_interval, label={"zh": "设置上报间隔", "en": "Set the reporting interval"}
    ),
)


def rpc_channel(name: str, device_type: str, tsl: dict | None) -> Channel:
    """The channel `name` for a device of this type: the standard operations and the thing model's services."""
    operations = {op.name: op for op in STANDARD}
    operations.update(tsl_operations(device_type, tsl or {}))
    return Channel(name, operations)


# ---- ThingsBoard


def thingsboard_request(command_id: int, operation: str, params: dict) -> dict:
    """The server-side RPC body ThingsBoard sends (`v1/devices/me/rpc/request/{id}`, the HTTP poll's answer adds id)."""
    return {"method": operation, "params": params}


def gateway_request(device_key: str, command_id: int, operation: str, params: dict) -> dict:
    """ThingsBoard's gateway RPC, down on `v1/gateway/rpc`."""
    return {"device": device_key, "data": {"id": command_id, "method": operation, "params": params}}


def thingsboard_outcome(answer: Any) -> tuple[str, str | None]:
    """acknowledge, or fail with why: ThingsBoard's RPC has no status; an answer {"error": ...} is a failure."""
    if isinstance(answer, dict) and answer.get("error") not in (None, "", False):
        return "fail", f"the device answered an error: {str(answer['error'])[:300]}"
    return "acknowledge", None


# ---- Alink


def alink_request(command_id: int, operation: str, params: dict) -> tuple[str, dict]:
    """(topic suffix after /sys/{pk}/{dn}/, body): set_report_interval is a property set, a service an invocation."""
    if operation == "set_report_interval":
        return "thing/service/property/set", {
            "id": str(command_id),
            "version": "1.0",
            "method": PROPERTY_SET,
            "params": {"report_interval_s": params["interval_s"]},
        }
    return f"thing/service/{operation}", {
        "id": str(command_id),
        "version": "1.0",
        "method": f"thing.service.{operation}",
        "params": params,
    }


def alink_outcome(body: dict) -> tuple[str, str | None]:
    """Alink reply {"id", "code", "data", "message"}: code 200 acknowledges, any other fails it."""
    code = body.get("code")
    if code == ALINK_OK:
        return "acknowledge", None
    return "fail", f"the device answered code {code!r}: {str(body.get('message') or '')[:300]}"


def command_id_of(value: Any) -> int | None:
    """A command id as a device echoes it (number or decimal string); anything else is no command."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None
