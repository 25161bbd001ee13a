"""A thing model's services as operations, for the channels that invoke them (Alink service invocation,
ThingsBoard RPC; not JT/T 808, whose operations are its standard messages). Their parameters are checked by the
service's inputData as readings are by the properties. A service the thing model marks `wuxin_command` acts on a
pledged asset ({"lender", "four_eyes", "stationary", "loan_states"}: the rules of wuxin.commands.model.Operation),
so the same role, loan-state and four-eyes rules hold on every channel (an MQTT GPS tracker's immobilise as a
JT/T 808 terminal's)."""

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
        out[name] = Operation(
            name,
            _checked_by(device_type, name, checkers),
            label={"zh": str(service.get("name", "")), "en": name},
            **_lender_rules(device_type, name, service.get("wuxin_command")),
        )
    return out


def _lender_rules(device_type: str, service: str, rules: Any) -> dict[str, Any]:
    """The Operation flags a service's `wuxin_command` asks for; a lender operation always needs four eyes."""
    if rules is None:
        return {}
    unknown = (
        sorted(set(rules) - {"lender", "four_eyes", "stationary", "loan_states"}) if isinstance(rules, dict) else None
    )
    if unknown is None or unknown:
        raise InvalidInput(
            f"service {service} of {device_type}: wuxin_command must be an object of lender, four_eyes, "
            f"stationary and loan_states, got {rules!r}"
        )
    lender = rules.get("lender") is True
    states = rules.get("loan_states")
    return {
        "lender": lender,
        "four_eyes": lender or rules.get("four_eyes") is True,
        "stationary": rules.get("stationary") is True,
        "loan_states": frozenset(states) if isinstance(states, list) and states else None,
    }


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
