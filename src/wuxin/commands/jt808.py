"""The JT/T 808 channel's operations: what each asks for and which message carries it (the bytes are
wuxin.ingest.jt808.commands)."""

from __future__ import annotations

from typing import Any

from wuxin.commands.model import Channel, Operation, Params, no_params
from wuxin.errors import InvalidInput
from wuxin.ingest.jt808.commands import PARAMETERS

RECOVERY_STATES = frozenset({"warning", "disposal"})  # overdue or in recovery: the bank may act on the vehicle
TEXT_MAX_CHARS = 200


def _parameters(params: Params) -> dict[str, Any]:
    if not params:
        raise InvalidInput(f"set_parameters needs at least one of {', '.join(PARAMETERS)}")
    out = {}
    for name, value in params.items():
        if name not in PARAMETERS:
            raise InvalidInput(f"parameter {name!r} is not one of {', '.join(PARAMETERS)}")
        _, low, high = PARAMETERS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"parameter {name} must be a whole number from {low} to {high}, got {value!r}")
        out[name] = value
    return out


def _text(params: Params) -> dict[str, Any]:
    extra = sorted(set(params) - {"text", "tts"})
    if extra:
        raise InvalidInput(f"send_text takes text and tts, not {extra}")
    text = params.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > TEXT_MAX_CHARS:
        raise InvalidInput(f"text must be 1-{TEXT_MAX_CHARS} characters, got {str(text)[:40]!r}")
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        raise InvalidInput(f"text {text[:40]!r} has characters a JT/T 808 terminal cannot show (GBK)") from None
    tts = params.get("tts", False)
    if not isinstance(tts, bool):
        raise InvalidInput(f"tts must be true or false, got {tts!r}")
    return {"text": text.strip(), "tts": tts}


JT808 = Channel(
    "jt808",
    {
        op.name: op
        for op in (
            Operation("query_parameters", no_params("query_parameters")),
            Operation("set_parameters", _parameters),
            Operation("query_location", no_params("query_location"), readers_may_request=True),
            Operation("send_text", _text, readers_may_request=True),
            Operation("lock_doors", no_params("lock_doors"), lender=True, four_eyes=True, loan_states=RECOVERY_STATES),
            Operation("unlock_doors", no_params("unlock_doors"), lender=True, four_eyes=True),
            Operation(
                "immobilise",
                no_params("immobilise"),
                lender=True,
                four_eyes=True,
                stationary=True,
                loan_states=RECOVERY_STATES,
            ),
            Operation("restore", no_params("restore"), lender=True, four_eyes=True),
        )
    },
)

# the message each operation is sent as, and the reply that closes it
MESSAGES: dict[str, tuple[int, int]] = {
    "query_parameters": (0x8104, 0x0104),
    "set_parameters": (0x8103, 0x0001),
    "query_location": (0x8201, 0x0201),
    "send_text": (0x8300, 0x0001),
    "lock_doors": (0x8500, 0x0500),
    "unlock_doors": (0x8500, 0x0500),
    "immobilise": (0x8500, 0x0500),
    "restore": (0x8500, 0x0500),
}

GENERAL_REPLY = 0x0001
RESULT_WORDS = {1: "failure", 2: "message error", 3: "not supported"}
# what the vehicle must report after a control: key -> wanted value
CONTROL_OUTCOMES: dict[str, dict[str, bool]] = {
    "lock_doors": {"doors_locked": True},
    "unlock_doors": {"doors_locked": False},
    "immobilise": {"oil_cut": True, "circuit_cut": True},
    "restore": {"oil_cut": False, "circuit_cut": False},
}


def judge_answer(
    operation: str, sent_msg_id: int, reply_msg_id: int, answer: dict[str, Any]
) -> tuple[str | None, str | None]:
    """(step, failure) for a terminal's answer to a sent command: ("acknowledge", None), ("fail", why),
    ("wait", None) for a general reply 0 before the data reply, or (None, None) when it answers something else."""
    wanted_reply = MESSAGES[operation][1]
    if reply_msg_id == GENERAL_REPLY:
        if answer.get("reply_msg_id") != sent_msg_id:
            return None, None
        result = answer.get("result")
        if result != 0:
            return (
                "fail",
                f"the terminal answered 0x{sent_msg_id:04x} with result {result} ({RESULT_WORDS.get(int(result), 'unknown') if isinstance(result, int) else 'unknown'})",
            )
        return ("acknowledge", None) if wanted_reply == GENERAL_REPLY else ("wait", None)
    if reply_msg_id != wanted_reply:
        return None, None
    vehicle = answer.get("vehicle") or {}
    wrong = {
        key: vehicle.get(key)
        for key, want in CONTROL_OUTCOMES.get(operation, {}).items()
        if vehicle.get(key) is not want
    }
    if wrong:
        return (
            "fail",
            f"after {operation} the vehicle reports {', '.join(f'{k}={v}' for k, v in sorted(wrong.items()))}",
        )
    return "acknowledge", None
