"""HTTP routes of commands to devices: request, approve, reject, cancel, and the commands of a device, a loan or an
alarm (services.commands; every rule of who may ask and who may approve lives there)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import Id, RequestModel
from wuxin.api.schemas_commands import Command, CommandOperation, VehicleState
from wuxin.commands.model import MAX_TTL_S
from wuxin.services.devices import commands

router = APIRouter(prefix="/api/v1", tags=["commands"])


class CommandIn(RequestModel):
    operation: str = Field(max_length=40, description="e.g. query_location, set_parameters, immobilise")
    params: dict[str, Any] = Field(default_factory=dict, description="the operation's parameters")
    reason: str = Field(max_length=500, description="why (required, at least 3 characters)")
    loan_id: Id | None = Field(default=None, description="the loan whose collateral it acts on (lock/immobilise)")
    alarm_id: Id | None = Field(default=None, description="the alarm that prompted it")
    ttl_s: int | None = Field(default=None, ge=60, le=MAX_TTL_S, description="how long it may wait (default 1 day)")


class DecisionIn(RequestModel):
    reason: str = Field(default="", max_length=500)


@router.post("/devices/{device_key}/commands", status_code=201, response_model=Command)
def request(device_key: str, body: CommandIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Ask the device to do something; lock and immobilise wait for a second person of the bank."""
    return commands.request_command(
        platform,
        user,
        device_key,
        body.operation,
        body.params,
        body.reason,
        loan_id=body.loan_id,
        alarm_id=body.alarm_id,
        ttl_s=body.ttl_s,
    )


@router.get("/devices/{device_key}/commands", response_model=list[Command])
def of_device(device_key: str, user: CurrentUser, platform: PlatformDep) -> list[dict]:
    """The commands of one device (proposed, sent, answered ...)."""
    return commands.device_commands(platform, user, device_key)


@router.get("/devices/{device_key}/command-operations", response_model=list[CommandOperation])
def operations(device_key: str, user: CurrentUser, platform: PlatformDep) -> list[dict]:
    """The operations the device takes, what each needs, and whether you may request it now (refusal: why not)."""
    return commands.device_operations(platform, user, device_key)


@router.get("/devices/{device_key}/command-state", response_model=VehicleState)
def command_state(device_key: str, user: CurrentUser, platform: PlatformDep) -> dict:
    """What the vehicle last reported of speed, ignition, oil and electric circuit and doors, with times."""
    return commands.vehicle_state(platform, user, device_key)


@router.get("/commands", response_model=list[Command])
def listed(user: CurrentUser, platform: PlatformDep, state: str | None = None) -> list[dict]:
    """Your tenant's commands (pending approvals: state=requested); an enterprise user's, those to its devices."""
    return commands.listed_commands(platform, user, state)


@router.get("/loans/{loan_id}/commands", tags=["loans"], response_model=list[Command])
def of_loan(loan_id: Id, user: CurrentUser, platform: PlatformDep) -> list[dict]:
    """The commands raised for the devices pledged to one loan."""
    return commands.loan_commands(platform, user, loan_id)


@router.get("/alarms/{alarm_id}/commands", tags=["alarms"], response_model=list[Command])
def of_alarm(alarm_id: Id, user: CurrentUser, platform: PlatformDep) -> list[dict]:
    """The commands raised by one alarm."""
    return commands.alarm_commands(platform, user, alarm_id)


@router.get("/commands/{command_id}", response_model=Command)
def detail(command_id: Id, user: CurrentUser, platform: PlatformDep) -> dict:
    """One command: its state, who proposed and approved it, and the device's answer."""
    return commands.command_detail(platform, user, command_id)


@router.post("/commands/{command_id}/approve", response_model=Command)
def approve(command_id: Id, body: DecisionIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Four eyes: another credit officer or risk manager of the requesting bank."""
    return commands.approve_command(platform, user, command_id, body.reason)


@router.post("/commands/{command_id}/reject", response_model=Command)
def reject(command_id: Id, body: DecisionIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Reject a proposed command (a second person's decision); it is never sent."""
    return commands.reject_command(platform, user, command_id, body.reason)


@router.post("/commands/{command_id}/cancel", response_model=Command)
def cancel(command_id: Id, body: DecisionIn, user: CurrentUser, platform: PlatformDep) -> dict:
    """Cancel a command that was not yet delivered to its device."""
    return commands.cancel_command(platform, user, command_id, body.reason)
