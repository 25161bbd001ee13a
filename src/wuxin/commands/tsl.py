"""A thing model's services as operations, for the channels that invoke them (Alink service invocation,
ThingsBoard RPC; not JT/T 808, whose operations are its standard messages). Their parameters are checked by the
service's inputData as readings are by the properties."""
from __future__ import annotations

from typing import Any

from wuxin.commands.model import Operation, Params
from wuxin.domain.thing_model import Checker, PointRejected, service_input_checkers
from wuxin.errors import InvalidInput


def tsl_operations(device_type: str, doc: dict) -> dict[str, Operation]:
    """One Operation per TSL service of the document, its parameters checked by the service's inputData."""
    out = {}
    for service in doc.get("services") or []:
        checkers = service_input_checkers(device_type, service)
        name = service["identifier"]
        out[name] = Operation(name, _checked_by(device_type, name, checkers),
                              label={"zh": str(service.get("name", "")), "en": name})
    return out


def _checked_by(device_type: str, service: str, checkers: dict[str, Checker]):
    def check(params: Params) -> dict[str, Any]:
        unknown = sorted(set(params) - set(checkers))
        if unknown:
            raise InvalidInput(f"service {service} of {device_type} takes {sorted(checkers)}, not {unknown}")
        missing = sorted(set(checkers) - set(params))
        if missing:  # every input the thing model declares for the service is needed
            raise InvalidInput(f"service {service} of {device_type} needs {missing}; got {sorted(params)}")
        for key, value in params.items():
            try:
                checkers[key](value)
            except PointRejected as exc:
                raise InvalidInput(f"service {service} parameter {key}: {exc}") from None
        return dict(params)
    return check
