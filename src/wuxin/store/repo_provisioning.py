"""Repository of device provision profiles: a device's claim on one is a compare-and-set on the count."""

from __future__ import annotations

from sqlalchemy import select, update

from wuxin.store.repos import _record, _records, _Repo
from wuxin.store.rows import ProvisionProfileRow
from wuxin.store.tables_provisioning import device_provision_profiles as profiles


class ProvisioningRepo(_Repo):
    def add(self, **values) -> int:
        return self._add(profiles, **values)

    def get(self, profile_id: int) -> ProvisionProfileRow | None:
        return _record(self.conn.execute(select(profiles).where(profiles.c.id == profile_id)), ProvisionProfileRow)

    def by_key(self, provision_key: str) -> ProvisionProfileRow | None:
        query = select(profiles).where(profiles.c.provision_key == provision_key)
        return _record(self.conn.execute(query), ProvisionProfileRow)

    def of_enterprise(self, enterprise_id: int) -> list[ProvisionProfileRow]:
        """The enterprise's profiles, newest first."""
        query = select(profiles).where(profiles.c.enterprise_id == enterprise_id).order_by(profiles.c.id.desc())
        return _records(self.conn.execute(query), ProvisionProfileRow)

    def take_slot(self, profile_id: int, now_ms: int) -> bool:
        """Count one more device against the profile, only if it is unrevoked, unexpired and not exhausted (one
        statement: two devices racing for the last slot cannot both have it)."""
        result = self.conn.execute(
            update(profiles)
            .where(
                profiles.c.id == profile_id,
                profiles.c.revoked_ms.is_(None),
                profiles.c.expires_ms > now_ms,
                profiles.c.provisioned < profiles.c.max_devices,
            )
            .values(provisioned=profiles.c.provisioned + 1)
        )
        return result.rowcount == 1

    def revoke(self, profile_id: int, now_ms: int, user_id: int | None) -> bool:
        """Revoke the profile unless it already is; True when this call revoked it."""
        result = self.conn.execute(
            update(profiles)
            .where(profiles.c.id == profile_id, profiles.c.revoked_ms.is_(None))
            .values(revoked_ms=now_ms, revoked_by=user_id)
        )
        return result.rowcount == 1
