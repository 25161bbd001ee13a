"""Response models of the commands to devices (routes_commands): what /docs shows of a command, of the operations
a device takes and of a vehicle's last reported state. Every field is listed; none is added or dropped."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Command(BaseModel):
    """One command to a device, from its request to the device's answer."""

    id: int = Field(description="The command's id")
    device_key: str = Field(description="The device it is for")
    channel: str = Field(description="How it reaches the device: jt808, thingsboard_rpc, alink_service")
    operation: str = Field(description="e.g. query_location, set_parameters, immobilise (see GET /api/v1/labels)")
    params: dict[str, Any] = Field(description="The operation's parameters, as checked (open: they vary by operation)")
    reason: str = Field(description="Why it was asked")
    loan_id: int | None = Field(description="The loan whose collateral it acts on")
    alarm_id: int | None = Field(description="The alarm that prompted it")
    state: str = Field(
        description="requested, approved, sent, acknowledged, failed, expired, refused or cancelled (command_state)"
    )
    requested_by: int = Field(description="The user who asked")
    requested_ms: int = Field(description="When it was asked (epoch ms)")
    expires_ms: int = Field(description="Not sent by then: expired (epoch ms)")
    decided_by: int | None = Field(description="Who approved, refused or cancelled it")
    decided_ms: int | None = Field(description="When (epoch ms)")
    decision_reason: str | None = Field(description="The reason given with the decision")
    serial: int | None = Field(description="The JT/T 808 serial it was sent with")
    sent_ms: int | None = Field(description="When it was sent (epoch ms)")
    answered_ms: int | None = Field(description="When the device answered (epoch ms)")
    answer: dict[str, Any] | None = Field(
        description="What the device said: result, parameters, vehicle state (open: it varies by operation)"
    )
    failure: str | None = Field(description="Why it failed or expired")
    four_eyes: bool = Field(description="A second person of the same bank must approve it")
    msg_id: str | None = Field(description="The message it was sent as, e.g. '0x8500'")


class CommandOperation(BaseModel):
    """One operation a device takes, what it needs, and whether the caller may request it now."""

    operation: str = Field(description="The operation's code (command_operation in GET /api/v1/labels)")
    channel: str = Field(description="The device's command channel")
    lender: bool = Field(description="Only the lending bank's staff, for a vehicle pledged on one of its loans")
    four_eyes: bool = Field(description="A second person of the same bank approves")
    stationary: bool = Field(description="The vehicle must have last reported speed 0 and ignition off")
    loan_states: list[str] | None = Field(description="The loan states it may be asked in; null: any")
    params: dict[str, dict[str, Any]] = Field(
        description="Each parameter with its type and bounds, e.g. {'type': 'integer', 'min': 0, 'max': 3600}"
    )
    refusal: str | None = Field(description="Why the caller may not request it now; null: they may")


class VehicleStateValue(BaseModel):
    value: bool | int | float = Field(description="A boolean for ignition, oil and circuit cut, doors; else km/h")
    ts_ms: int = Field(description="When the device reported it (epoch ms)")


class VehicleState(BaseModel):
    """What the vehicle last reported of what commands act on; a key it never reported is absent."""

    device_key: str
    state: dict[str, VehicleStateValue] = Field(
        description="By key: speed_kmh, acc_on, oil_cut, circuit_cut, doors_locked (vehicle_state labels)"
    )
