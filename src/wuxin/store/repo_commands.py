"""Repository of commands to devices: every state change is a compare-and-set on the state it leaves."""

from __future__ import annotations

from sqlalchemy import select, update

from wuxin.store.repos import _record, _records, _Repo
from wuxin.store.rows import CommandRow
from wuxin.store.tables import devices
from wuxin.store.tables_commands import device_commands

_WITH_DEVICE = select(device_commands, devices.c.key.label("device_key")).join(
    devices, devices.c.id == device_commands.c.device_id
)
LIST_LIMIT = 200


class CommandRepo(_Repo):
    def add(self, **values) -> int:
        return self._add(device_commands, **values)

    def get(self, command_id: int) -> CommandRow | None:
        return _record(self.conn.execute(_WITH_DEVICE.where(device_commands.c.id == command_id)), CommandRow)

    def move(self, command_id: int, from_states: frozenset[str] | set[str], **values) -> bool:
        """Set values (a new state among them) only if the command is still in one of from_states."""
        result = self.conn.execute(
            update(device_commands)
            .where(device_commands.c.id == command_id, device_commands.c.state.in_(sorted(from_states)))
            .values(**values)
        )
        return result.rowcount == 1

    def listed(
        self,
        *,
        device_id: int | None = None,
        loan_id: int | None = None,
        alarm_id: int | None = None,
        tenant_id: int | None = None,
        enterprise_id: int | None = None,
        state: str | None = None,
        limit: int = LIST_LIMIT,
    ) -> list[CommandRow]:
        """Newest first, for one device, loan, alarm, requesting tenant or enterprise (and state, when given)."""
        query = _WITH_DEVICE.order_by(device_commands.c.id.desc()).limit(limit)
        for column, value in (
            (device_commands.c.device_id, device_id),
            (device_commands.c.loan_id, loan_id),
            (device_commands.c.alarm_id, alarm_id),
            (device_commands.c.tenant_id, tenant_id),
            (device_commands.c.enterprise_id, enterprise_id),
            (device_commands.c.state, state),
        ):
            if value is not None:
                query = query.where(column == value)
        return _records(self.conn.execute(query), CommandRow)

    def due(self, device_id: int, now_ms: int) -> list[CommandRow]:
        """Approved, unexpired commands of the device, oldest first."""
        return _records(
            self.conn.execute(
                _WITH_DEVICE.where(
                    device_commands.c.device_id == device_id,
                    device_commands.c.state == "approved",
                    device_commands.c.expires_ms > now_ms,
                ).order_by(device_commands.c.id)
            ),
            CommandRow,
        )

    def devices_with_due(self, now_ms: int) -> set[str]:
        """Keys of the devices that have approved, unexpired commands (one query for the gateway's poll)."""
        query = (
            select(devices.c.key)
            .distinct()
            .join(device_commands, devices.c.id == device_commands.c.device_id)
            .where(device_commands.c.state == "approved", device_commands.c.expires_ms > now_ms)
        )
        return set(self.conn.execute(query).scalars())

    def sent_as(self, device_id: int, serial: int) -> CommandRow | None:
        """The sent command of this device with this serial (the newest, should serials have wrapped)."""
        return _record(
            self.conn.execute(
                _WITH_DEVICE.where(
                    device_commands.c.device_id == device_id,
                    device_commands.c.serial == serial,
                    device_commands.c.state == "sent",
                )
                .order_by(device_commands.c.id.desc())
                .limit(1)
            ),
            CommandRow,
        )

    def overdue(self, now_ms: int, answer_window_ms: int) -> list[CommandRow]:
        """Open commands past their expiry, or sent and unanswered for longer than the answer window."""
        c = device_commands.c
        return _records(
            self.conn.execute(
                _WITH_DEVICE.where(
                    (c.state.in_(["requested", "approved"]) & (c.expires_ms <= now_ms))
                    | ((c.state == "sent") & (c.sent_ms <= now_ms - answer_window_ms))
                ).order_by(c.id)
            ),
            CommandRow,
        )
