"""Repository of the protocols part: its SQL lives here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from wuxin.store.repos import Row, _record, _records, _Repo
from wuxin.store.rows import (
    AlinkDeviceRow,
    AlinkIdentityRow,
    ConnectivityTransitionRow,
    DeviceCredentialsRow,
    DeviceRow,
    PushPlatformRow,
    SweepDeviceRow,
)
from wuxin.store.tables import device_tokens, devices
from wuxin.store.tables_protocols import (
    alink_identities,
    connectivity_transitions,
    device_attributes,
    device_connectivity,
    gateway_children,
    push_nonces,
    push_platform_enterprises,
    push_platforms,
)


class ProtocolsRepo(_Repo):
    # ---- gateways and their sub-devices

    def attach_child(self, gateway_device_id: int, child_device_id: int, now_ms: int) -> None:
        self.conn.execute(delete(gateway_children).where(gateway_children.c.child_device_id == child_device_id))
        self.conn.execute(
            insert(gateway_children).values(
                gateway_device_id=gateway_device_id, child_device_id=child_device_id, created_ms=now_ms
            )
        )

    def children_by_gateway_key(self) -> dict[str, set[str]]:
        """Gateway device key -> keys of the sub-devices registered behind it."""
        gateway, child = devices.alias("gateway"), devices.alias("child")
        query = (
            select(gateway.c.key.label("gateway"), child.c.key.label("child"))
            .select_from(gateway_children)
            .join(gateway, gateway.c.id == gateway_children.c.gateway_device_id)
            .join(child, child.c.id == gateway_children.c.child_device_id)
        )
        out: dict[str, set[str]] = {}
        for row in self.conn.execute(query):
            out.setdefault(row.gateway, set()).add(row.child)
        return out

    # ---- MQTT broker accounts

    def device_credentials_state(self) -> list[DeviceCredentialsRow]:
        """Every device with its type and whether it holds a live token (for broker reconciliation)."""
        live = (
            select(func.count())
            .select_from(device_tokens)
            .where(device_tokens.c.device_id == devices.c.id, device_tokens.c.revoked_ms.is_(None))
            .scalar_subquery()
        )
        query = select(devices.c.id, devices.c.key, devices.c.device_type, live.label("live_tokens")).order_by(
            devices.c.id
        )
        return _records(self.conn.execute(query), DeviceCredentialsRow)

    # ---- vendor SDK identities and attributes

    def set_alink_identity(
        self, device_id: int, product_key: str, device_name: str, secret_ciphertext: str, now_ms: int
    ) -> None:
        self.conn.execute(delete(alink_identities).where(alink_identities.c.device_id == device_id))
        self.conn.execute(
            insert(alink_identities).values(
                device_id=device_id,
                product_key=product_key,
                device_name=device_name,
                secret_ciphertext=secret_ciphertext,
                created_ms=now_ms,
            )
        )

    def alink_identity(self, product_key: str, device_name: str) -> AlinkDeviceRow | None:
        """The device LinkKit calls (productKey, deviceName), with its key, type and encrypted secret."""
        query = (
            select(alink_identities, devices.c.key, devices.c.device_type, devices.c.enterprise_id)
            .join(devices, devices.c.id == alink_identities.c.device_id)
            .where(alink_identities.c.product_key == product_key, alink_identities.c.device_name == device_name)
        )
        return _record(self.conn.execute(query), AlinkDeviceRow)

    def alink_identity_of_device(self, device_id: int) -> AlinkIdentityRow | None:
        return _record(
            self.conn.execute(select(alink_identities).where(alink_identities.c.device_id == device_id)),
            AlinkIdentityRow,
        )

    def upsert_attributes(self, rows: Sequence[dict]) -> None:
        """rows: device_id, key, value_json, updated_ms; a newer value replaces the stored one."""
        if not rows:
            return
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(device_attributes)
        statement = statement.on_conflict_do_update(
            index_elements=["device_id", "key"],
            set_={"value_json": statement.excluded.value_json, "updated_ms": statement.excluded.updated_ms},
            where=device_attributes.c.updated_ms <= statement.excluded.updated_ms,
        )
        self.conn.execute(statement, sorted(rows, key=lambda r: (r["device_id"], r["key"])))

    def attributes(self, device_id: int, keys: Iterable[str] | None = None) -> dict[str, str]:
        """key -> stored JSON text of a device's client attributes (all of them when keys is None)."""
        query = select(device_attributes.c.key, device_attributes.c.value_json).where(
            device_attributes.c.device_id == device_id
        )
        if keys is not None:
            query = query.where(device_attributes.c.key.in_(list(keys)))
        return {row.key: row.value_json for row in self.conn.execute(query)}

    # ---- third-party platforms

    def add_platform(self, name: str, secret_ciphertext: str, now_ms: int) -> int:
        values = dict(name=name, secret_ciphertext=secret_ciphertext, created_ms=now_ms)
        return self._add(push_platforms, **values)

    def platform_by_name(self, name: str) -> PushPlatformRow | None:
        return _record(self.conn.execute(select(push_platforms).where(push_platforms.c.name == name)), PushPlatformRow)

    def set_platform_secret(self, platform_id: int, secret_ciphertext: str) -> None:
        self.conn.execute(
            update(push_platforms).where(push_platforms.c.id == platform_id).values(secret_ciphertext=secret_ciphertext)
        )

    def serve_enterprise(self, platform_id: int, enterprise_id: int, now_ms: int) -> None:
        exists = self.conn.execute(
            select(push_platform_enterprises.c.platform_id).where(
                push_platform_enterprises.c.platform_id == platform_id,
                push_platform_enterprises.c.enterprise_id == enterprise_id,
            )
        ).first()
        if not exists:
            self.conn.execute(
                insert(push_platform_enterprises).values(
                    platform_id=platform_id, enterprise_id=enterprise_id, added_ms=now_ms
                )
            )

    def served_enterprises(self, platform_id: int) -> set[int]:
        query = select(push_platform_enterprises.c.enterprise_id).where(
            push_platform_enterprises.c.platform_id == platform_id
        )
        return {row[0] for row in self.conn.execute(query)}

    def use_nonce(self, platform_id: int, nonce: str, now_ms: int, expires_ms: int) -> bool:
        """Record a nonce; False when it was already used and has not expired (a replay)."""
        self.conn.execute(delete(push_nonces).where(push_nonces.c.expires_ms < now_ms))
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(push_nonces).values(platform_id=platform_id, nonce=nonce, expires_ms=expires_ms)
        return self.conn.execute(statement.on_conflict_do_nothing().returning(push_nonces.c.nonce)).first() is not None

    # ---- connectivity

    def devices_for_sweep(self, device_ids: Iterable[int] | None = None) -> list[SweepDeviceRow]:
        """Every device (or those named) with its last-seen time and last recorded state (None when never recorded)."""
        query = (
            select(
                devices.c.id,
                devices.c.key,
                devices.c.enterprise_id,
                devices.c.device_type,
                devices.c.last_seen_ms,
                device_connectivity.c.state,
                device_connectivity.c.since_ms,
            )
            .select_from(devices.outerjoin(device_connectivity, device_connectivity.c.device_id == devices.c.id))
            .order_by(devices.c.id)
        )
        if device_ids is not None:
            query = query.where(devices.c.id.in_(list(device_ids)))
        return _records(self.conn.execute(query), SweepDeviceRow)

    def record_transitions(self, transitions: Sequence[Row]) -> None:
        """Insert transitions and move each device's recorded state."""
        if not transitions:
            return
        self.conn.execute(insert(connectivity_transitions), list(transitions))
        ids = [t["device_id"] for t in transitions]
        self.conn.execute(delete(device_connectivity).where(device_connectivity.c.device_id.in_(ids)))
        self.conn.execute(
            insert(device_connectivity),
            [{"device_id": t["device_id"], "state": t["to_state"], "since_ms": t["at_ms"]} for t in transitions],
        )

    def transitions(
        self, device_ids: Iterable[int], from_ms: int, to_ms: int, limit: int
    ) -> list[ConnectivityTransitionRow]:
        query = (
            select(connectivity_transitions, devices.c.key.label("device_key"))
            .join(devices, devices.c.id == connectivity_transitions.c.device_id)
            .where(
                connectivity_transitions.c.device_id.in_(list(device_ids)),
                connectivity_transitions.c.at_ms >= from_ms,
                connectivity_transitions.c.at_ms < to_ms,
            )
            .order_by(connectivity_transitions.c.at_ms, connectivity_transitions.c.id)
            .limit(limit)
        )
        return _records(self.conn.execute(query), ConnectivityTransitionRow)

    # ---- JT/T 808 terminals

    def devices_of_type(self, device_type: str) -> list[DeviceRow]:
        return _records(
            self.conn.execute(select(devices).where(devices.c.device_type == device_type).order_by(devices.c.id)),
            DeviceRow,
        )
