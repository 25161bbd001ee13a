"""Repository of JT/T 808 enrolment: provisioned terminals and their auth codes."""

from __future__ import annotations

from sqlalchemy import insert, select, update

from wuxin.store.repos import _one, _record, _Repo
from wuxin.store.rows import Jt808TerminalRow
from wuxin.store.tables import devices
from wuxin.store.tables_jt808 import jt808_terminals

_WITH_DEVICE = select(jt808_terminals, devices.c.key.label("device_key"), devices.c.attributes).join(
    devices, devices.c.id == jt808_terminals.c.device_id
)


class Jt808Repo(_Repo):
    def provision(
        self,
        device_id: int,
        phone: str,
        terminal_id: str,
        manufacturer_id: str | None,
        terminal_model: str | None,
        imei: str | None,
        now_ms: int,
        user_id: int | None,
        enrol_until_ms: int,
        header_version: str | None = None,
    ) -> bool:
        """Provision the device's terminal, or provision it again: the window opens, a live auth code is dropped.

        True when the device had a live auth code."""
        values = dict(
            phone=phone,
            terminal_id=terminal_id,
            manufacturer_id=manufacturer_id,
            terminal_model=terminal_model,
            imei=imei,
            provisioned_ms=now_ms,
            provisioned_by_user_id=user_id,
            enrol_until_ms=enrol_until_ms,
            auth_code_hash=None,
            enrolled_ms=None,
            header_version=header_version,
        )
        current = _one(self.conn.execute(select(jt808_terminals).where(jt808_terminals.c.device_id == device_id)))
        if current is None:
            self.conn.execute(insert(jt808_terminals).values(device_id=device_id, **values))
            return False
        self.conn.execute(update(jt808_terminals).where(jt808_terminals.c.id == current["id"]).values(**values))
        return current["auth_code_hash"] is not None

    def by_phone(self, phone: str) -> Jt808TerminalRow | None:
        """The terminal provisioned for this SIM number (normalised), with its device's key and attributes."""
        return _record(self.conn.execute(_WITH_DEVICE.where(jt808_terminals.c.phone == phone)), Jt808TerminalRow)

    def by_auth_code(self, auth_code_hash: str) -> Jt808TerminalRow | None:
        query = _WITH_DEVICE.where(jt808_terminals.c.auth_code_hash == auth_code_hash)
        return _record(self.conn.execute(query), Jt808TerminalRow)

    def of_device(self, device_id: int) -> Jt808TerminalRow | None:
        query = _WITH_DEVICE.where(jt808_terminals.c.device_id == device_id)
        return _record(self.conn.execute(query), Jt808TerminalRow)

    def enrol(self, terminal_row_id: int, auth_code_hash: str, now_ms: int) -> bool:
        """Give the terminal its auth code and close its window, only if it has none and the window is open.

        False when another registration won or the window closed meanwhile: one code, never a second."""
        result = self.conn.execute(
            update(jt808_terminals)
            .where(
                jt808_terminals.c.id == terminal_row_id,
                jt808_terminals.c.auth_code_hash.is_(None),
                jt808_terminals.c.enrol_until_ms >= now_ms,
            )
            .values(auth_code_hash=auth_code_hash, enrolled_ms=now_ms, enrol_until_ms=None)
        )
        return result.rowcount == 1

    def revoke(self, device_id: int) -> int:
        """Drop the device's auth code and close its window (1 if it had either, else 0)."""
        result = self.conn.execute(
            update(jt808_terminals)
            .where(
                jt808_terminals.c.device_id == device_id,
                jt808_terminals.c.auth_code_hash.isnot(None) | jt808_terminals.c.enrol_until_ms.isnot(None),
            )
            .values(auth_code_hash=None, enrol_until_ms=None)
        )
        return result.rowcount
