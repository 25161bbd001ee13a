"""Commands to devices: request, four-eyes approval, refusal, cancellation, delivery through a channel's
gateway, the device's answer, expiry (design.md, Commands). Every step is audited and entered in the
evidence ledger (kind `device_command`, subject `command:<id>`, owned by the requesting tenant).

Who may ask what (the operation's flags, wuxin.commands.model.Operation):
- configuration (query/set parameters): the platform admin, or an integrator managing the device;
- location query and text message: those, or a bank's staff whose valid consent covers the device;
- door lock / immobilise and their undo: only the lending bank's credit officers and risk managers, on a
  vehicle that is collateral of one of the bank's loans (in its monitoring plan, or pledged by VIN), with
  the loan in a state that allows it, a stated reason, and a second person of the same bank approving.
  The cut also needs the vehicle standing with the ignition off when requested, approved and sent.
Nobody commands a decommissioned device; enterprise users and regulators command nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from wuxin.bootstrap import Platform
from wuxin.commands.jt808 import JT808, TEXT_MAX_CHARS, judge_answer
from wuxin.commands.model import (
    ANSWER_WINDOW_S,
    STATES,
    VEHICLE_STATE_KEYS,
    Channel,
    Operation,
    checked_reason,
    checked_ttl_s,
    loan_refusal,
    moving_refusal,
    next_state,
)
from wuxin.commands.rpc import ALINK, RPC_CHANNELS, THINGSBOARD, rpc_channel
from wuxin.domain.model import BANK_ROLES, Role
from wuxin.errors import Conflict, Denied, InvalidInput, NotFound
from wuxin.ingest.jt808.commands import PARAMETERS
from wuxin.ingest.jt808.gateway import OutgoingCommand
from wuxin.security.policy import Principal, consented_device_keys, may_know_enterprise
from wuxin.services.credit.loans import own_loan
from wuxin.services.devices.registry import consent_views, known_device, require_device_manager_of
from wuxin.services.evidence.record import record_evidence
from wuxin.services.monitoring.alarms import readable_alarm
from wuxin.store.rows import CommandRow, DeviceRow, LoanRow
from wuxin.store.uow import UnitOfWork

log = logging.getLogger(__name__)
CHANNELS: dict[str, Channel] = {"jt808": JT808}


# ---------------------------------------------------------------- requesting


def request_command(
    platform: Platform,
    principal: Principal,
    device_key: str,
    operation: str,
    params: dict[str, Any] | None,
    reason: str,
    *,
    loan_id: int | None = None,
    alarm_id: int | None = None,
    ttl_s: int | None = None,
) -> dict:
    """Ask a device to do something; a four-eyes operation waits for approval, any other is approved at once."""
    reason = checked_reason(reason)
    ttl = checked_ttl_s(ttl_s)
    if params is not None and not isinstance(params, dict):
        raise InvalidInput(f"params must be an object, got {type(params).__name__}")
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        device = known_device(platform, uow, principal, device_key)
        channel = _channel(platform, uow, device)
        spec = channel.operation(operation)
        checked = spec.check_params(params or {})
        _require_requester(platform, uow, principal, device, spec)
        loan: LoanRow | None
        if spec.lender:
            loan = _lender_checks(platform, uow, principal, device, spec, loan_id)
        else:
            loan = _loan_of(uow, principal, device, loan_id)
        if alarm_id is not None:
            _require_alarm_of(uow, principal, device, alarm_id, now_ms)
        state = "requested" if spec.four_eyes else "approved"
        command_id = uow.commands.add(
            device_id=device["id"],
            enterprise_id=device["enterprise_id"],
            tenant_id=principal.tenant_id,
            channel=channel.name,
            operation=spec.name,
            params=checked,
            reason=reason,
            loan_id=loan["id"] if loan else None,
            alarm_id=alarm_id,
            state=state,
            four_eyes=int(spec.four_eyes),
            requested_by=principal.user_id,
            requested_ms=now_ms,
            expires_ms=now_ms + ttl * 1000,
            updated_ms=now_ms,
        )
        row = _stored(uow, command_id)
        _record(
            platform,
            uow,
            row,
            "request",
            principal.user_id,
            now_ms,
            {"reason": reason, "params": checked, "approval": "four_eyes" if spec.four_eyes else "not_needed"},
        )
        uow.commit()
        return public_command(_stored(uow, command_id))


def _channel(platform: Platform, uow: UnitOfWork, device: DeviceRow) -> Channel:
    """The channel a device is commanded through: a provisioned JT/T 808 terminal; a LinkKit device (Alink
    identity); a ThingsBoard device (live access token, or a sub-device behind a ThingsBoard gateway)."""
    if uow.jt808.of_device(device["id"]) is not None:
        return CHANNELS["jt808"]
    if uow.protocols.alink_identity_of_device(device["id"]) is not None:
        return _rpc_channel(platform, ALINK, device["device_type"])
    behind_gateway = any(device["key"] in children for children in uow.protocols.children_by_gateway_key().values())
    if behind_gateway or uow.devices.live_token_count(device["id"]) > 0:
        return _rpc_channel(platform, THINGSBOARD, device["device_type"])
    raise Conflict(
        f"device {device['key']!r} has no command channel: it is neither a provisioned JT/T 808 terminal, "
        "nor a LinkKit device, nor a ThingsBoard device with an access token or gateway"
    )


def _rpc_channel(platform: Platform, name: str, device_type: str) -> Channel:
    model = platform.thing_models.get(device_type)
    return rpc_channel(name, device_type, model.source if model is not None else None)


def _operation_of(platform: Platform, row: CommandRow, device: DeviceRow) -> Operation:
    """The operation a stored command asks for, as its channel defines it now."""
    if row["channel"] in RPC_CHANNELS:
        return _rpc_channel(platform, row["channel"], device["device_type"]).operation(row["operation"])
    return CHANNELS[row["channel"]].operation(row["operation"])


def _decommissioned(device: DeviceRow, now_ms: int) -> bool:
    gone_ms = device["decommissioned_ms"]
    return gone_ms is not None and gone_ms <= now_ms


def _require_live(device: DeviceRow, now_ms: int) -> None:
    if _decommissioned(device, now_ms):
        raise Conflict(f"device {device['key']!r} is decommissioned: it takes no commands")


def _require_requester(
    platform: Platform, uow: UnitOfWork, principal: Principal, device: DeviceRow, spec: Operation
) -> None:
    """The role and the tenant's right for this operation on this device (the device is known to them)."""
    _require_live(device, platform.clock_ms())
    if principal.role in (Role.ENTERPRISE_USER, Role.REGULATOR):
        raise Denied(f"role {principal.role.value} may not command devices")
    if spec.lender:
        if principal.role not in BANK_ROLES:
            raise Denied(
                f"only the lending bank's credit officers and risk managers may request {spec.name}, "
                f"not role {principal.role.value}"
            )
        _require_consent_covers(platform, uow, principal, device)
        return
    if spec.readers_may_request and principal.role in BANK_ROLES:
        _require_consent_covers(platform, uow, principal, device)
        return
    if principal.role in BANK_ROLES:
        raise Denied(
            f"role {principal.role.value} may not request {spec.name}: the integrator managing the device "
            "sets its parameters"
        )
    require_device_manager_of(platform, uow, principal, device)


def _require_consent_covers(platform: Platform, uow: UnitOfWork, principal: Principal, device: DeviceRow) -> None:
    consents = consent_views(uow.consents.for_enterprise(device["enterprise_id"]))
    keys, _ = consented_device_keys(
        principal.tenant_id, [(device["key"], device["device_type"])], consents, platform.clock_ms()
    )
    if device["key"] not in keys:
        raise Denied(
            f"no valid consent of enterprise {device['enterprise_id']} to your bank covers device {device['key']!r}"
        )


def _loan_of(uow: UnitOfWork, principal: Principal, device: DeviceRow, loan_id: int | None) -> LoanRow | None:
    """The loan a command names, when it names one: the caller's bank's, on the device's enterprise."""
    if loan_id is None:
        return None
    loan = own_loan(uow, principal, loan_id)
    if loan["enterprise_id"] != device["enterprise_id"]:
        raise InvalidInput(f"loan {loan_id} is not a loan of the enterprise of device {device['key']!r}")
    return loan


def _lender_checks(
    platform: Platform, uow: UnitOfWork, principal: Principal, device: DeviceRow, spec: Operation, loan_id: int | None
) -> LoanRow:
    """The bank's loan with this vehicle as collateral, in a state allowing the operation; standing still for the cut."""
    loan = _loan_of(uow, principal, device, loan_id) if loan_id is not None else None
    if loan is not None and not _is_collateral(uow, loan, device):
        raise Conflict(
            f"device {device['key']!r} is not on the collateral of loan {loan['id']} (neither in its "
            "monitoring plan nor pledged by its VIN)"
        )
    refusal = loan_refusal(spec, loan, device["key"])
    if refusal:
        raise Conflict(refusal)
    assert loan is not None
    _require_standing(platform, uow, device, spec)
    return loan


def _is_collateral(uow: UnitOfWork, loan: LoanRow, device: DeviceRow) -> bool:
    if device["key"] in (loan["monitoring_plan"] or {}).get("devices", []):
        return True
    vin = str((device["attributes"] or {}).get("vin") or "").strip().upper()
    return bool(vin) and any(item["identity"] == f"serial:{vin}" for item in uow.monitoring.items(loan["id"]))


def _require_standing(platform: Platform, uow: UnitOfWork, device: DeviceRow, spec: Operation) -> None:
    refusal = _standing_refusal(platform, uow, device, spec)
    if refusal:
        raise Conflict(refusal)


def _standing_refusal(platform: Platform, uow: UnitOfWork, device: DeviceRow, spec: Operation) -> str | None:
    if not spec.stationary:
        return None
    now_ms = platform.clock_ms()
    speed = uow.monitoring.latest_value([device["id"]], "speed_kmh", now_ms).get(device["id"])
    acc = uow.monitoring.latest_value([device["id"]], "acc_on", now_ms).get(device["id"])
    return moving_refusal(speed, acc, device["key"])


def _require_alarm_of(uow: UnitOfWork, principal: Principal, device: DeviceRow, alarm_id: int, now_ms: int) -> None:
    alarm = readable_alarm(uow, principal, alarm_id, now_ms)
    if alarm["enterprise_id"] not in (None, device["enterprise_id"]) or not (
        alarm["device_id"] in (None, device["id"]) or _same_vehicle(uow, alarm["device_id"], device)
    ):
        raise InvalidInput(f"alarm {alarm_id} is not about device {device['key']!r}, its vehicle or its enterprise")


def _same_vehicle(uow: UnitOfWork, unit_id: int, device: DeviceRow) -> bool:
    """Another unit on the same vehicle (an ADAS camera beside the GPS terminal): same enterprise, same plate."""
    unit = uow.devices.get(unit_id)
    plate = str((device["attributes"] or {}).get("plate") or "").strip()
    return bool(
        unit
        and plate
        and unit["enterprise_id"] == device["enterprise_id"]
        and str((unit["attributes"] or {}).get("plate") or "").strip() == plate
    )


# ---------------------------------------------------------------- deciding


def approve_command(platform: Platform, principal: Principal, command_id: int, reason: str | None = None) -> dict:
    """A second person of the requesting bank approves a four-eyes command; the rules are checked again now."""
    return _decide(platform, principal, command_id, "approve", (reason or "").strip()[:500] or None)


def reject_command(platform: Platform, principal: Principal, command_id: int, reason: str) -> dict:
    """The approver refuses it, saying why."""
    return _decide(platform, principal, command_id, "reject", checked_reason(reason))


def cancel_command(platform: Platform, principal: Principal, command_id: int, reason: str) -> dict:
    """The requester (or a colleague of the same tenant, or the admin) withdraws a command not yet sent."""
    return _decide(platform, principal, command_id, "cancel", checked_reason(reason))


def _decide(platform: Platform, principal: Principal, command_id: int, step: str, reason: str | None) -> dict:
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        row = readable_command(uow, principal, command_id, now_ms)
        target = next_state(row["state"], step, command_id)
        if step == "cancel":
            _require_canceller(principal, row)
        else:
            _require_approver(platform, uow, principal, row, recheck=step == "approve")
        if not uow.commands.move(
            command_id,
            {row["state"]},
            state=target,
            decided_by=principal.user_id,
            decided_ms=now_ms,
            decision_reason=reason,
            updated_ms=now_ms,
        ):
            raise Conflict(f"command {command_id} changed meanwhile: read it again")
        _record(platform, uow, _stored(uow, command_id), step, principal.user_id, now_ms, {"reason": reason})
        uow.commit()
        return public_command(_stored(uow, command_id))


def _require_canceller(principal: Principal, row: CommandRow) -> None:
    if principal.is_admin or (principal.tenant_id is not None and principal.tenant_id == row["tenant_id"]):
        return
    raise Denied(f"only the requesting tenant may cancel command {row['id']}")


def _require_approver(
    platform: Platform, uow: UnitOfWork, principal: Principal, row: CommandRow, recheck: bool
) -> None:
    """Four eyes: a bank role of the requesting bank, not the requester; the device, loan and vehicle still allow it."""
    if principal.role not in BANK_ROLES or principal.tenant_id != row["tenant_id"]:
        raise Denied(f"command {row['id']} is decided by a credit officer or risk manager of the requesting bank")
    if principal.user_id == row["requested_by"]:
        raise Denied(f"four eyes: user {principal.username} requested command {row['id']} and may not decide it")
    device = uow.devices.by_key(row["device_key"])
    assert device is not None
    spec = _operation_of(platform, row, device)
    _require_live(device, platform.clock_ms())
    loan = uow.monitoring.loan(row["loan_id"]) if row["loan_id"] is not None else None
    if recheck:
        if row["expires_ms"] <= platform.clock_ms():
            raise Conflict(f"command {row['id']} expired at {row['expires_ms']} (epoch ms): request it again")
        _require_consent_covers(platform, uow, principal, device)
        refusal = loan_refusal(spec, loan, device["key"]) or _standing_refusal(platform, uow, device, spec)
        if refusal:
            raise Conflict(f"command {row['id']} cannot be approved now: {refusal}")


# ---------------------------------------------------------------- reading


def readable_command(uow: UnitOfWork, principal: Principal, command_id: int, now_ms: int) -> CommandRow:
    """A command this principal may read: the admin, the requesting tenant's users while the enterprise's consent to
    the tenant is valid (an answer may carry the vehicle's position), and the device's own enterprise (a borrower sees
    what was done to its vehicle); for anyone else it does not exist."""
    row = uow.commands.get(command_id)
    if row is None or not _may_read(principal, row) or not _still_consented(uow, principal, row, now_ms):
        raise NotFound(f"command {command_id} does not exist")
    return row


def _may_read(principal: Principal, row: CommandRow) -> bool:
    if principal.is_admin:
        return True
    if principal.role is Role.ENTERPRISE_USER:
        return principal.enterprise_id == row["enterprise_id"]
    return principal.tenant_id is not None and principal.tenant_id == row["tenant_id"]


def _still_consented(uow: UnitOfWork, principal: Principal, row: Mapping[str, Any], now_ms: int) -> bool:
    consents = consent_views(uow.consents.for_enterprise(row["enterprise_id"]))
    return may_know_enterprise(principal, row["enterprise_id"], consents, now_ms)


def command_detail(platform: Platform, principal: Principal, command_id: int) -> dict:
    with platform.uow() as uow:
        return public_command(readable_command(uow, principal, command_id, platform.clock_ms()))


def device_commands(platform: Platform, principal: Principal, device_key: str) -> list[dict]:
    """The device's commands the caller may read, newest first."""
    with platform.uow() as uow:
        device = known_device(platform, uow, principal, device_key)
        return [public_command(r) for r in uow.commands.listed(device_id=device["id"]) if _may_read(principal, r)]


def loan_commands(platform: Platform, principal: Principal, loan_id: int) -> list[dict]:
    """Commands acting on a loan's collateral (the bank's own loan only)."""
    with platform.uow() as uow:
        loan = own_loan(uow, principal, loan_id)
        if not _still_consented(uow, principal, {"enterprise_id": loan["enterprise_id"]}, platform.clock_ms()):
            return []
        return [public_command(r) for r in uow.commands.listed(loan_id=loan_id) if _may_read(principal, r)]


def alarm_commands(platform: Platform, principal: Principal, alarm_id: int) -> list[dict]:
    """Commands an alarm prompted, of those the caller may read."""
    with platform.uow() as uow:
        readable_alarm(uow, principal, alarm_id, platform.clock_ms())
        return [public_command(r) for r in uow.commands.listed(alarm_id=alarm_id) if _may_read(principal, r)]


def listed_commands(platform: Platform, principal: Principal, state: str | None = None) -> list[dict]:
    """The commands the caller may read across devices, newest first: a tenant's own requests (a bank's pending
    approvals among them), an enterprise user's every command to its devices (read-only), the admin's all."""
    if state is not None and state not in STATES:
        raise InvalidInput(f"state must be one of {', '.join(STATES)}, got {state!r}")
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        if principal.is_admin:
            rows = uow.commands.listed(state=state)
        elif principal.role is Role.ENTERPRISE_USER:
            rows = uow.commands.listed(enterprise_id=principal.enterprise_id, state=state)
        elif principal.tenant_id is not None and principal.role is not Role.REGULATOR:
            rows = uow.commands.listed(tenant_id=principal.tenant_id, state=state)
        else:
            rows = []
        return [
            public_command(r) for r in rows if _may_read(principal, r) and _still_consented(uow, principal, r, now_ms)
        ]


def device_operations(platform: Platform, principal: Principal, device_key: str) -> list[dict]:
    """The operations the device's channel offers, each with what it needs (loan, four eyes, standing still) and
    whether this caller may request it on this device now (`refusal` says why not); an unknown device is NotFound."""
    with platform.uow() as uow:
        device = known_device(platform, uow, principal, device_key)
        try:
            channel = _channel(platform, uow, device)
        except Conflict:
            return []
        out = []
        for spec in channel.operations.values():
            try:
                _require_requester(platform, uow, principal, device, spec)
                refusal = None
            except (Denied, Conflict) as exc:
                refusal = str(exc)
            out.append(
                {
                    "operation": spec.name,
                    "channel": channel.name,
                    "lender": spec.lender,
                    "four_eyes": spec.four_eyes,
                    "stationary": spec.stationary,
                    "loan_states": sorted(spec.loan_states) if spec.loan_states else None,
                    "params": OPERATION_PARAMS.get(spec.name, {}),
                    "refusal": refusal,
                }
            )
        return out


BOOLEAN_STATE_KEYS = frozenset(VEHICLE_STATE_KEYS[1:])


def vehicle_state(platform: Platform, principal: Principal, device_key: str) -> dict:
    """What the vehicle's latest reports say of what commands act on (speed, ignition, oil and electric circuit,
    doors), each with its time: a cut is confirmed by the reports that follow it, not by its answer alone. Read by
    the admin, the owning enterprise, and a bank or integrator whose valid consent covers the device (its type)."""
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        device = known_device(platform, uow, principal, device_key)  # a regulator (no consent) does not know it
        if not principal.is_admin and not (
            principal.role is Role.ENTERPRISE_USER and principal.enterprise_id == device["enterprise_id"]
        ):
            _require_consent_covers(platform, uow, principal, device)
        state = {}
        for key in VEHICLE_STATE_KEYS:
            point = uow.monitoring.latest_points([device["id"]], key, now_ms).get(device["id"])
            if point is not None:
                ts_ms, value = point
                state[key] = {"value": bool(value) if key in BOOLEAN_STATE_KEYS else value, "ts_ms": ts_ms}
        return {"device_key": device_key, "state": state}


def _parameter_fields() -> dict[str, dict]:
    return {name: {"type": "integer", "min": low, "max": high} for name, (_, low, high) in PARAMETERS.items()}


OPERATION_PARAMS: dict[str, dict[str, dict]] = {
    "set_parameters": _parameter_fields(),
    "send_text": {"text": {"type": "string", "max_chars": TEXT_MAX_CHARS}, "tts": {"type": "boolean"}},
}


def public_command(row: CommandRow) -> dict:
    out = {
        k: row[k]
        for k in (
            "id",
            "device_key",
            "channel",
            "operation",
            "params",
            "reason",
            "loan_id",
            "alarm_id",
            "state",
            "requested_by",
            "requested_ms",
            "expires_ms",
            "decided_by",
            "decided_ms",
            "decision_reason",
            "serial",
            "sent_ms",
            "answered_ms",
            "answer",
            "failure",
        )
    }
    out["four_eyes"] = bool(row["four_eyes"])
    out["msg_id"] = f"0x{row['msg_id']:04x}" if row["msg_id"] is not None else None
    return out


# ---------------------------------------------------------------- the ledger and the audit log


def _stored(uow: UnitOfWork, command_id: int) -> CommandRow:
    """The command as stored now (the caller wrote or read it in this unit of work, so it exists)."""
    row = uow.commands.get(command_id)
    if row is None:
        raise NotFound(f"command {command_id} does not exist")
    return row


def _record(
    platform: Platform, uow: UnitOfWork, row: CommandRow, step: str, user_id: int | None, now_ms: int, extra: dict
) -> None:
    """One audit entry and one evidence entry per step of the command's life (counted once committed: close enough)."""
    platform.metrics.commands.labels(row["operation"], step).inc()
    fact = {
        "command_id": row["id"],
        "step": step,
        "state": row["state"],
        "device": row["device_key"],
        "operation": row["operation"],
        "channel": row["channel"],
        "loan_id": row["loan_id"],
        "alarm_id": row["alarm_id"],
        "by_user_id": user_id,
        **extra,
    }
    uow.logs.audit(now_ms, user_id, f"command.{step}", f"command:{row['id']}", fact)
    record_evidence(
        uow,
        "device_command",
        f"command:{row['id']}",
        {**fact, "enterprise_id": row["enterprise_id"], "at_ms": now_ms},
        owner_tenant_id=row["tenant_id"],
    )


# ---------------------------------------------------------------- expiry


def expire_commands(platform: Platform) -> int:
    """Expire open commands past their expiry, and sent ones unanswered for ANSWER_WINDOW_S; returns how many."""
    now_ms = platform.clock_ms()
    expired = 0
    with platform.uow() as uow:
        for row in uow.commands.overdue(now_ms, ANSWER_WINDOW_S * 1000):
            why = (
                f"no answer from the device within {ANSWER_WINDOW_S} s of sending"
                if row["state"] == "sent"
                else f"not {'approved and ' if row['state'] == 'requested' else ''}delivered before it expired"
            )
            if uow.commands.move(row["id"], {row["state"]}, state="expired", failure=why, updated_ms=now_ms):
                _record(platform, uow, _stored(uow, row["id"]), "expire", None, now_ms, {"failure": why})
                expired += 1
        uow.commit()
    return expired


# ---------------------------------------------------------------- delivery (the gateway's outbox)

Push = Callable[[set[str]], Awaitable[int]]


async def deliver_due_commands(platform: Platform, outbox: DatabaseOutbox, push: Push) -> int:
    """One round of the gateway's command poll: expire overdue commands, ask once which devices have due ones, and
    push to those (`push(device_keys)`, e.g. `Jt808Gateway.push_commands`); returns what push sent."""
    await asyncio.to_thread(expire_commands, platform)
    due = await asyncio.to_thread(outbox.devices_due)  # one query, not one per connected terminal
    return await push(due) if due else 0


async def command_poll_loop(platform: Platform, outbox: DatabaseOutbox, push: Push, poll_s: float) -> None:
    """Run `deliver_due_commands` every poll_s seconds until cancelled (`wuxin jt808 serve`, the live demo)."""
    while True:
        await asyncio.sleep(poll_s)
        try:
            await deliver_due_commands(platform, outbox, push)
        except Exception:  # the database may be down for a while: keep the schedule
            log.exception("JT808 command delivery failed; retrying")


class DatabaseOutbox:
    """The JT/T 808 gateway's CommandOutbox over the database (synchronous: the gateway runs it in a thread)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def due(self, device_key: str) -> list[OutgoingCommand]:
        """Approved, unexpired commands; a cut waits while the vehicle last reported moving or ACC on."""
        now_ms = self.platform.clock_ms()
        with self.platform.uow() as uow:
            device = uow.devices.by_key(device_key)
            if device is None or _decommissioned(device, now_ms):
                return []
            out = []
            for row in uow.commands.due(device["id"], now_ms):
                if row["channel"] != "jt808":
                    continue
                refusal = _standing_refusal(self.platform, uow, device, _operation_of(self.platform, row, device))
                if refusal:
                    log.info("command %d held: %s", row["id"], refusal)
                    continue
                out.append(OutgoingCommand(row["id"], row["operation"], dict(row["params"])))
            return out

    def devices_due(self) -> set[str]:
        """Devices with approved, unexpired commands: the only sessions the periodic push needs to ask."""
        with self.platform.uow() as uow:
            return uow.commands.devices_with_due(self.platform.clock_ms())

    def claim(self, command_id: int, serial: int, msg_id: int) -> bool:
        now_ms = self.platform.clock_ms()
        with self.platform.uow() as uow:
            if not uow.commands.move(
                command_id, {"approved"}, state="sent", serial=serial, msg_id=msg_id, sent_ms=now_ms, updated_ms=now_ms
            ):
                return False
            _record(
                self.platform,
                uow,
                _stored(uow, command_id),
                "send",
                None,
                now_ms,
                {"serial": serial, "msg_id": f"0x{msg_id:04x}"},
            )
            uow.commit()
        return True

    def undeliverable(self, command_id: int, why: str) -> None:
        now_ms = self.platform.clock_ms()
        with self.platform.uow() as uow:
            if uow.commands.move(command_id, {"approved"}, state="failed", failure=why[:500], updated_ms=now_ms):
                _record(
                    self.platform,
                    uow,
                    _stored(uow, command_id),
                    "undeliverable",
                    None,
                    now_ms,
                    {"failure": why[:500]},
                )
                uow.commit()

    def answered(self, device_key: str, serial: int, msg_id: int, answer: dict[str, Any]) -> str | None:
        """Close the sent command of this device with this serial; a duplicate or foreign answer matches nothing."""
        now_ms = self.platform.clock_ms()
        with self.platform.uow() as uow:
            device = uow.devices.by_key(device_key)
            row = uow.commands.sent_as(device["id"], serial) if device else None
            if row is None or row["msg_id"] is None:  # a sent command has the message id it was sent as
                return None
            step, failure = judge_answer(row["operation"], row["msg_id"], msg_id, answer)
            if step is None:
                return None
            if step == "wait":
                return "sent"
            target = next_state(row["state"], step, row["id"])
            stored = {"msg_id": f"0x{msg_id:04x}", **answer}
            if not uow.commands.move(
                row["id"], {"sent"}, state=target, answered_ms=now_ms, answer=stored, failure=failure, updated_ms=now_ms
            ):
                return None
            _record(
                self.platform,
                uow,
                _stored(uow, row["id"]),
                "acknowledge" if step == "acknowledge" else "fail",
                None,
                now_ms,
                {"answer": stored, "failure": failure},
            )
            uow.commit()
            return target


# ---------------------------------------------------------------- delivery on the vendors' SDKs


class RpcOutbox:
    """ThingsBoard RPC and Alink commands for the MQTT front end and the HTTP long poll: the command id is the
    RPC id on the wire; a command is claimed (approved -> sent) once, by whichever route reaches the device first."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def devices_due(self) -> set[str]:
        with self.platform.uow() as uow:
            return uow.commands.devices_with_due(self.platform.clock_ms())

    def due(self, device_key: str, channel: str | None = None) -> list[dict]:
        """Approved, unexpired commands of the device on the RPC channels ({"id", "channel", "operation", "params"});
        a cut waits while the vehicle last reported moving or ACC on."""
        now_ms = self.platform.clock_ms()
        with self.platform.uow() as uow:
            device = uow.devices.by_key(device_key)
            if device is None or _decommissioned(device, now_ms):
                return []
            out = []
            for row in uow.commands.due(device["id"], now_ms):
                if row["channel"] not in RPC_CHANNELS or (channel is not None and row["channel"] != channel):
                    continue
                refusal = _standing_refusal(self.platform, uow, device, _operation_of(self.platform, row, device))
                if refusal:  # a cut waits while the vehicle moves, as on JT/T 808
                    log.info("command %d held: %s", row["id"], refusal)
                    continue
                out.append(
                    {
                        "id": row["id"],
                        "channel": row["channel"],
                        "operation": row["operation"],
                        "params": dict(row["params"] or {}),
                    }
                )
            return out

    def claim(self, command_id: int, via: str) -> bool:
        """approved -> sent, recorded with the route; False when another route (or a cancel) came first."""
        now_ms = self.platform.clock_ms()
        with self.platform.uow() as uow:
            if not uow.commands.move(command_id, {"approved"}, state="sent", sent_ms=now_ms, updated_ms=now_ms):
                return False
            _record(self.platform, uow, _stored(uow, command_id), "send", None, now_ms, {"via": via})
            uow.commit()
        return True

    def answered(
        self, device_key: str, command_id: int | None, answer: dict[str, Any], step: str, failure: str | None
    ) -> str | None:
        """Close the sent command `command_id` of this device; another device's, a duplicate or an unknown id
        matches nothing (None)."""
        now_ms = self.platform.clock_ms()
        with self.platform.uow() as uow:
            row = uow.commands.get(command_id) if command_id is not None else None
            if (
                row is None
                or row["device_key"] != device_key
                or row["channel"] not in RPC_CHANNELS
                or row["state"] != "sent"
            ):
                log.info(
                    "answer of %s for command %s ignored: it awaits no answer from this device", device_key, command_id
                )
                return None
            target = next_state(row["state"], step, row["id"])
            if not uow.commands.move(
                row["id"], {"sent"}, state=target, answered_ms=now_ms, answer=answer, failure=failure, updated_ms=now_ms
            ):
                return None
            _record(
                self.platform,
                uow,
                _stored(uow, row["id"]),
                step,
                None,
                now_ms,
                {"answer": answer, "failure": failure},
            )
            uow.commit()
            return target
