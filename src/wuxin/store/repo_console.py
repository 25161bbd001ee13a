"""Repository of the web console's read model: the machines' 15-minute run/stop slots per day."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import and_, delete, insert, select

from wuxin.store.repos import _Repo
from wuxin.store.tables_console import machine_day_slots
from wuxin.store.tables_indicators import indicator_dirty


class ConsoleRepo(_Repo):
    def put_run_slots(self, device_id: int, rows: Sequence[tuple[int, str]], now_ms: int) -> None:
        """Replace the machine's slot strings of the given (day, slots) pairs."""
        if not rows:
            return
        days = [day for day, _ in rows]
        self.conn.execute(
            delete(machine_day_slots).where(
                machine_day_slots.c.device_id == device_id, machine_day_slots.c.day.in_(days)
            )
        )
        self.conn.execute(
            insert(machine_day_slots),
            [dict(device_id=device_id, day=day, slots=slots, computed_ms=now_ms) for day, slots in rows],
        )

    def run_slots(self, device_ids: Iterable[int], first_day: int, last_day: int) -> dict[tuple[int, int], str]:
        """(device_id, day) -> slots for the stored days of the range."""
        ids = list(device_ids)
        if not ids:
            return {}
        query = select(machine_day_slots.c.device_id, machine_day_slots.c.day, machine_day_slots.c.slots).where(
            machine_day_slots.c.device_id.in_(ids), machine_day_slots.c.day.between(first_day, last_day)
        )
        return {(d, day): slots for d, day, slots in self.conn.execute(query)}

    def stale_days(self, device_ids: Iterable[int], first_day: int, last_day: int) -> set[tuple[int, int]]:
        """(device_id, day) pairs of the range that have new points not yet recomputed (indicator_dirty)."""
        ids = list(device_ids)
        if not ids:
            return set()
        query = select(indicator_dirty.c.device_id, indicator_dirty.c.day).where(
            and_(indicator_dirty.c.device_id.in_(ids), indicator_dirty.c.day.between(first_day, last_day))
        )
        return {(d, day) for d, day in self.conn.execute(query)}
