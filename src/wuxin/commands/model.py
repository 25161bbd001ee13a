"""A command's life as a state machine, and what each operation asks of whoever requests it.

requested -> approved -> sent -> acknowledged | failed, and at any point before an answer expired;
requested -> refused (the approver said no), requested | approved -> cancelled (before it left).
An operation that needs no second person is approved as it is requested.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wuxin.errors import Conflict, InvalidInput

STATES = ("requested", "approved", "sent", "acknowledged", "failed", "expired", "refused", "cancelled")
FINAL_STATES = frozenset({"acknowledged", "failed", "expired", "refused", "cancelled"})
OPEN_STATES = frozenset({"requested", "approved", "sent"})

# step -> (states it may leave from, state it leads to)
STEPS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"requested"}), "approved"),
    "reject": (frozenset({"requested"}), "refused"),
    "cancel": (frozenset({"requested", "approved"}), "cancelled"),
    "send": (frozenset({"approved"}), "sent"),
    "acknowledge": (frozenset({"sent"}), "acknowledged"),
    "fail": (frozenset({"sent"}), "failed"),
    "undeliverable": (frozenset({"approved"}), "failed"),  # the channel cannot carry it to this device
    "expire": (OPEN_STATES, "expired"),
}

# what a vehicle's reports say of what commands act on (speed and ACC for the cut; JT/T 808 status bits 10-12)
VEHICLE_STATE_KEYS = ("speed_kmh", "acc_on", "oil_cut", "circuit_cut", "doors_locked")
MIN_REASON_CHARS = 3
DEFAULT_TTL_S = 24 * 3600
MAX_TTL_S = 7 * 86_400
ANSWER_WINDOW_S = 300  # a sent command the terminal has not answered in this long is expired


def next_state(state: str, step: str, command_id: int | str = "?") -> str:
    """The state after `step`, or Conflict naming the command, its state and where the step may start."""
    if step not in STEPS:
        raise InvalidInput(f"command step {step!r} is not one of {sorted(STEPS)}")
    sources, target = STEPS[step]
    if state not in sources:
        raise Conflict(f"command {command_id} is {state}: it cannot {step} (only from {', '.join(sorted(sources))})")
    return target


def checked_reason(reason: str | None, what: str = "a reason") -> str:
    """A stated reason of at least MIN_REASON_CHARS characters, trimmed, at most 500."""
    text = (reason or "").strip()
    if len(text) < MIN_REASON_CHARS:
        raise InvalidInput(f"{what} of at least {MIN_REASON_CHARS} characters is needed, got {reason!r}")
    return text[:500]


def checked_ttl_s(ttl_s: int | None) -> int:
    """How long a command may wait for approval and delivery: 60 s to 7 days (default one day)."""
    ttl = DEFAULT_TTL_S if ttl_s is None else ttl_s
    if not isinstance(ttl, int) or not 60 <= ttl <= MAX_TTL_S:
        raise InvalidInput(f"ttl_s {ttl_s!r} is not between 60 and {MAX_TTL_S} seconds (7 days)")
    return ttl


# ---------------------------------------------------------------- operations

Params = Mapping[str, Any]


@dataclass(frozen=True)
class Operation:
    """What may be asked of a device and by whom.

    lender: only the lending bank's staff, for a vehicle pledged on one of its loans in `loan_states`;
    four_eyes: a different user of the same bank approves; stationary: the vehicle last reported
    speed 0 and ACC off (at request, approval and delivery)."""

    name: str
    check_params: Callable[[Params], dict[str, Any]]
    lender: bool = False
    four_eyes: bool = False
    stationary: bool = False
    loan_states: frozenset[str] | None = None  # None: any state of a loan of the bank (an undo)
    readers_may_request: bool = False  # a bank with consent to read the device may ask (location, text)
    label: dict[str, str] = field(default_factory=dict)


def no_params(operation: str) -> Callable[[Params], dict[str, Any]]:
    def check(params: Params) -> dict[str, Any]:
        if params:
            raise InvalidInput(f"operation {operation} takes no parameters, got {sorted(params)}")
        return {}

    return check


@dataclass(frozen=True)
class Channel:
    """A way commands reach devices (jt808 now; ThingsBoard RPC and Alink services plug in the same way)."""

    name: str
    operations: dict[str, Operation]

    def operation(self, name: str) -> Operation:
        spec = self.operations.get(name)
        if spec is None:
            raise InvalidInput(
                f"operation {name!r} is not one of channel {self.name}'s: {', '.join(sorted(self.operations))}"
            )
        return spec


def moving_refusal(speed_kmh: float | None, acc_on: float | bool | None, device_key: str) -> str | None:
    """Why the vehicle may not be cut now (None when it last reported speed 0 and ACC off)."""
    if speed_kmh is None or acc_on is None:
        return f"vehicle {device_key} has reported no speed and ignition yet: the cut needs it standing with ACC off"
    if speed_kmh > 0:
        return f"vehicle {device_key} last reported speed {speed_kmh} km/h: the cut needs it standing (0 km/h)"
    if bool(acc_on):
        return f"vehicle {device_key} last reported ACC on: the cut needs the ignition off"
    return None


def loan_refusal(spec: Operation, loan: Mapping[str, Any] | None, device_key: str) -> str | None:
    """Why the loan does not allow this operation on the vehicle (None when it does)."""
    if loan is None:
        return f"operation {spec.name} on {device_key} needs a loan of your bank with this vehicle as collateral"
    if spec.loan_states is not None and loan["state"] not in spec.loan_states:
        return (
            f"loan {loan['id']} is {loan['state']}: {spec.name} is allowed only while it is "
            f"{' or '.join(sorted(spec.loan_states))}"
        )
    return None
