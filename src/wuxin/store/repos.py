"""Repositories: every SQL statement of the platform lives here (and in bulk.py)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from wuxin.store.rows import (
    BatchRow,
    ConsentRow,
    DeviceRow,
    DeviceTokenStatusRow,
    EnterpriseRow,
    QuarantineRow,
    SiteRow,
    TenantRow,
    ThingModelRow,
    UserRow,
)
from wuxin.store.tables import (
    access_log,
    api_tokens,
    audit_log,
    batches,
    consents,
    device_tokens,
    devices,
    enterprises,
    events,
    quarantine,
    readings,
    sites,
    tenants,
    thing_model_products,
    thing_models,
    users,
)

Row = dict[str, Any]
Record = TypeVar("Record")  # a TypedDict of wuxin.store.rows


def _rows(result) -> list[Row]:
    return [dict(r._mapping) for r in result]


def _one(result) -> Row | None:
    row = result.first()
    return dict(row._mapping) if row else None


def _records(result, record: type[Record]) -> list[Record]:
    """The rows as typed records: still plain dicts, but mypy checks every key read (wuxin.store.rows)."""
    return cast(list[Record], _rows(result))


def _record(result, record: type[Record]) -> Record | None:
    """The first row as a typed record, or None."""
    return cast("Record | None", _one(result))


class _Repo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def _add(self, table, **values) -> int:
        """INSERT one row and return its new id."""
        key = self.conn.execute(insert(table).values(**values)).inserted_primary_key
        if key is None:
            raise RuntimeError(f"the database returned no id for the new {table.name} row")
        return int(key[0])

    def _insert_ignoring_duplicates(self, table, rows: Sequence[Row]) -> None:
        """INSERT ... ON CONFLICT DO NOTHING: re-sent points are harmless."""
        if not rows:
            return
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        self.conn.execute(dialect.insert(table).on_conflict_do_nothing(), list(rows))


class IdentityRepo(_Repo):
    def add_tenant(self, name: str, kind: str, now_ms: int) -> int:
        return self._add(tenants, name=name, kind=kind, created_ms=now_ms)

    def tenant(self, tenant_id: int) -> TenantRow | None:
        return _record(self.conn.execute(select(tenants).where(tenants.c.id == tenant_id)), TenantRow)

    def tenant_by_name(self, name: str) -> TenantRow | None:
        return _record(self.conn.execute(select(tenants).where(tenants.c.name == name)), TenantRow)

    def list_tenants(self) -> list[TenantRow]:
        return _records(self.conn.execute(select(tenants).order_by(tenants.c.id)), TenantRow)

    def add_user(self, **values) -> int:
        return self._add(users, **values)

    def user(self, user_id: int) -> UserRow | None:
        return _record(self.conn.execute(select(users).where(users.c.id == user_id)), UserRow)

    def user_by_username(self, username: str) -> UserRow | None:
        return _record(self.conn.execute(select(users).where(users.c.username == username)), UserRow)

    def list_users(self, tenant_id: int | None = None) -> list[UserRow]:
        query = select(users).order_by(users.c.id)
        if tenant_id is not None:
            query = query.where(users.c.tenant_id == tenant_id)
        return _records(self.conn.execute(query), UserRow)

    def add_api_token(self, user_id: int, token_hash: str, now_ms: int, expires_ms: int) -> None:
        self.conn.execute(
            insert(api_tokens).values(user_id=user_id, token_hash=token_hash, created_ms=now_ms, expires_ms=expires_ms)
        )

    def user_by_token_hash(self, token_hash: str, now_ms: int) -> UserRow | None:
        query = (
            select(users)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(
                api_tokens.c.token_hash == token_hash,
                api_tokens.c.revoked_ms.is_(None),
                api_tokens.c.expires_ms > now_ms,
                users.c.disabled.is_(False),
            )
        )
        return _record(self.conn.execute(query), UserRow)

    def revoke_api_token(self, token_hash: str, now_ms: int) -> None:
        self.conn.execute(update(api_tokens).where(api_tokens.c.token_hash == token_hash).values(revoked_ms=now_ms))


class EnterpriseRepo(_Repo):
    def add(self, **values) -> int:
        return self._add(enterprises, **values)

    def get(self, enterprise_id: int) -> EnterpriseRow | None:
        return _record(self.conn.execute(select(enterprises).where(enterprises.c.id == enterprise_id)), EnterpriseRow)

    def by_uscc(self, uscc: str) -> EnterpriseRow | None:
        return _record(self.conn.execute(select(enterprises).where(enterprises.c.uscc == uscc)), EnterpriseRow)

    def list(self, ids: Iterable[int] | None = None) -> builtins.list[EnterpriseRow]:
        query = select(enterprises).order_by(enterprises.c.id)
        if ids is not None:
            query = query.where(enterprises.c.id.in_(list(ids)))
        return _records(self.conn.execute(query), EnterpriseRow)

    def add_site(self, **values) -> int:
        return self._add(sites, **values)

    def sites(self, enterprise_id: int) -> builtins.list[SiteRow]:
        return _records(
            self.conn.execute(select(sites).where(sites.c.enterprise_id == enterprise_id).order_by(sites.c.id)), SiteRow
        )

    def site(self, site_id: int) -> SiteRow | None:
        return _record(self.conn.execute(select(sites).where(sites.c.id == site_id)), SiteRow)


class DeviceRepo(_Repo):
    def upsert_thing_model(self, device_type: str, scenario: str, version: str, tsl: dict, now_ms: int) -> None:
        exists = self.conn.execute(
            select(thing_models.c.device_type).where(thing_models.c.device_type == device_type)
        ).first()
        values = dict(scenario=scenario, version=version, tsl=tsl, updated_ms=now_ms)
        if exists:
            self.conn.execute(update(thing_models).where(thing_models.c.device_type == device_type).values(**values))
        else:
            self.conn.execute(insert(thing_models).values(device_type=device_type, **values))

    def product_device_type(self, product_key: str) -> str | None:
        """The device type an Alibaba productKey was imported as, or None."""
        return self.conn.execute(
            select(thing_model_products.c.device_type).where(thing_model_products.c.product_key == product_key)
        ).scalar()

    def map_product(self, product_key: str, device_type: str, now_ms: int, user_id: int | None) -> None:
        values = dict(device_type=device_type, mapped_ms=now_ms, mapped_by_user_id=user_id)
        if self.product_device_type(product_key) is None:
            self.conn.execute(insert(thing_model_products).values(product_key=product_key, **values))
        else:
            self.conn.execute(
                update(thing_model_products).where(thing_model_products.c.product_key == product_key).values(**values)
            )

    def thing_models(self) -> list[ThingModelRow]:
        return _records(self.conn.execute(select(thing_models).order_by(thing_models.c.device_type)), ThingModelRow)

    def thing_model(self, device_type: str) -> ThingModelRow | None:
        return _record(
            self.conn.execute(select(thing_models).where(thing_models.c.device_type == device_type)), ThingModelRow
        )

    def add(self, **values) -> int:
        return self._add(devices, **values)

    def get(self, device_id: int) -> DeviceRow | None:
        return _record(self.conn.execute(select(devices).where(devices.c.id == device_id)), DeviceRow)

    def by_key(self, key: str) -> DeviceRow | None:
        return _record(self.conn.execute(select(devices).where(devices.c.key == key)), DeviceRow)

    def by_keys(self, keys: Iterable[str]) -> list[DeviceRow]:
        return _records(self.conn.execute(select(devices).where(devices.c.key.in_(list(keys)))), DeviceRow)

    def list(self, enterprise_id: int | None = None) -> builtins.list[DeviceRow]:
        query = select(devices).order_by(devices.c.id)
        if enterprise_id is not None:
            query = query.where(devices.c.enterprise_id == enterprise_id)
        return _records(self.conn.execute(query), DeviceRow)

    def add_token(self, device_id: int, token_hash: str, now_ms: int) -> None:
        self.conn.execute(insert(device_tokens).values(device_id=device_id, token_hash=token_hash, created_ms=now_ms))

    def revoke_tokens(self, device_id: int, now_ms: int) -> int:
        result = self.conn.execute(
            update(device_tokens)
            .where(device_tokens.c.device_id == device_id, device_tokens.c.revoked_ms.is_(None))
            .values(revoked_ms=now_ms)
        )
        return result.rowcount

    def token_status(self, token_hash: str) -> DeviceTokenStatusRow | None:
        """The device a token belongs to, with the token's revocation time (None = live)."""
        query = (
            select(devices, device_tokens.c.revoked_ms.label("token_revoked_ms"))
            .join(device_tokens, device_tokens.c.device_id == devices.c.id)
            .where(device_tokens.c.token_hash == token_hash)
        )
        return _record(self.conn.execute(query), DeviceTokenStatusRow)

    def live_token_count(self, device_id: int) -> int:
        return self.conn.execute(
            select(func.count())
            .select_from(device_tokens)
            .where(device_tokens.c.device_id == device_id, device_tokens.c.revoked_ms.is_(None))
        ).scalar_one()

    def mark_seen(self, last_seen_ms_by_device: dict[int, int]) -> None:
        if not last_seen_ms_by_device:
            return
        statement = (
            update(devices)
            .where(
                devices.c.id == bindparam("device_id"), func.coalesce(devices.c.last_seen_ms, 0) < bindparam("seen_ms")
            )
            .values(last_seen_ms=bindparam("seen_ms"))
        )
        # in device order, so that concurrent writers lock the same rows in the same order (no deadlock)
        self.conn.execute(
            statement, [{"device_id": d, "seen_ms": t} for d, t in sorted(last_seen_ms_by_device.items())]
        )


class ConsentRepo(_Repo):
    def add(self, **values) -> int:
        return self._add(consents, **values)

    def get(self, consent_id: int) -> ConsentRow | None:
        return _record(self.conn.execute(select(consents).where(consents.c.id == consent_id)), ConsentRow)

    def for_enterprise(self, enterprise_id: int) -> list[ConsentRow]:
        return _records(
            self.conn.execute(
                select(consents).where(consents.c.enterprise_id == enterprise_id).order_by(consents.c.id)
            ),
            ConsentRow,
        )

    def for_tenant(self, tenant_id: int, enterprise_id: int | None = None) -> list[ConsentRow]:
        query = select(consents).where(consents.c.tenant_id == tenant_id).order_by(consents.c.id)
        if enterprise_id is not None:
            query = query.where(consents.c.enterprise_id == enterprise_id)
        return _records(self.conn.execute(query), ConsentRow)

    def update(self, consent_id: int, **values) -> None:
        self.conn.execute(update(consents).where(consents.c.id == consent_id).values(**values))


class TelemetryRepo(_Repo):
    def add_batch(self, channel: str, source_mode: str | None, received_ms: int, payload_sha256: str | None) -> int:
        values = dict(
            channel=channel,
            source_mode=source_mode,
            received_ms=received_ms,
            payload_sha256=payload_sha256,
            points_accepted=0,
            points_rejected=0,
        )
        return self._add(batches, **values)

    def finish_batch(self, batch_id: int, accepted: int, rejected: int) -> None:
        self.conn.execute(
            update(batches).where(batches.c.id == batch_id).values(points_accepted=accepted, points_rejected=rejected)
        )

    def batch(self, batch_id: int) -> BatchRow | None:
        return _record(self.conn.execute(select(batches).where(batches.c.id == batch_id)), BatchRow)

    def add_readings(self, rows: Sequence[Row]) -> None:
        self._insert_ignoring_duplicates(readings, rows)

    def add_events(self, rows: Sequence[Row]) -> None:
        self._insert_ignoring_duplicates(events, rows)

    def readings(self, device_ids: Sequence[int], key: str | None, from_ms: int, to_ms: int, limit: int) -> list[Row]:
        query = (
            select(readings)
            .where(readings.c.device_id.in_(list(device_ids)), readings.c.ts_ms >= from_ms, readings.c.ts_ms < to_ms)
            .order_by(readings.c.device_id, readings.c.key, readings.c.ts_ms)
            .limit(limit)
        )
        if key is not None:
            query = query.where(readings.c.key == key)
        return _rows(self.conn.execute(query))

    def events(self, device_ids: Sequence[int], from_ms: int, to_ms: int, limit: int) -> list[Row]:
        query = (
            select(events)
            .where(events.c.device_id.in_(list(device_ids)), events.c.ts_ms >= from_ms, events.c.ts_ms < to_ms)
            .order_by(events.c.device_id, events.c.ts_ms)
            .limit(limit)
        )
        return _rows(self.conn.execute(query))

    def count_readings(self, device_id: int | None = None) -> int:
        query = select(func.count()).select_from(readings)
        if device_id is not None:
            query = query.where(readings.c.device_id == device_id)
        return self.conn.execute(query).scalar_one()

    def count_events(self, device_id: int | None = None) -> int:
        query = select(func.count()).select_from(events)
        if device_id is not None:
            query = query.where(events.c.device_id == device_id)
        return self.conn.execute(query).scalar_one()


class QuarantineRepo(_Repo):
    def add(self, rows: Sequence[Row]) -> None:
        if rows:
            self.conn.execute(insert(quarantine), [dict(status="open", **r) for r in rows])

    def list(
        self, status: str | None, limit: int, after_id: int = 0, reason: str | None = None
    ) -> builtins.list[QuarantineRow]:
        query = select(quarantine).where(quarantine.c.id > after_id).order_by(quarantine.c.id).limit(limit)
        if status:
            query = query.where(quarantine.c.status == status)
        if reason:
            query = query.where(quarantine.c.reason == reason)
        return _records(self.conn.execute(query), QuarantineRow)

    def get_many(self, ids: Sequence[int]) -> builtins.list[QuarantineRow]:
        return _records(
            self.conn.execute(select(quarantine).where(quarantine.c.id.in_(list(ids))).order_by(quarantine.c.id)),
            QuarantineRow,
        )

    def resolve(self, entry_id: int, status: str, now_ms: int) -> None:
        self.conn.execute(
            update(quarantine).where(quarantine.c.id == entry_id).values(status=status, resolved_ms=now_ms)
        )

    def keep_newest(self, reasons: Sequence[str], keep: int) -> int:
        """Delete all but the `keep` (at least 1) newest entries with these reasons; returns how many went."""
        of_reasons = quarantine.c.reason.in_(list(reasons))
        oldest_kept = self.conn.execute(
            select(quarantine.c.id).where(of_reasons).order_by(quarantine.c.id.desc()).offset(max(keep, 1) - 1).limit(1)
        ).scalar()
        if oldest_kept is None:
            return 0
        return self.conn.execute(delete(quarantine).where(of_reasons & (quarantine.c.id < oldest_kept))).rowcount

    def counts_by_reason(self) -> builtins.list[Row]:
        query = select(quarantine.c.reason, quarantine.c.status, func.count().label("n")).group_by(
            quarantine.c.reason, quarantine.c.status
        )
        return _rows(self.conn.execute(query))


class LogRepo(_Repo):
    def access(self, **values) -> None:
        self.conn.execute(insert(access_log).values(**values))

    def audit(self, at_ms: int, user_id: int | None, action: str, subject: str, detail: dict) -> None:
        self.conn.execute(
            insert(audit_log).values(at_ms=at_ms, user_id=user_id, action=action, subject=subject, detail=detail)
        )

    def access_entries(self, enterprise_id: int | None = None, limit: int = 100) -> list[Row]:
        query = select(access_log).order_by(access_log.c.id.desc()).limit(limit)
        if enterprise_id is not None:
            query = query.where(access_log.c.enterprise_id == enterprise_id)
        return _rows(self.conn.execute(query))

    def access_page(
        self,
        enterprise_id: int,
        limit: int,
        before_id: int | None = None,
        tenant_id: int | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        tenants_only: bool = False,
    ) -> list[Row]:
        """An enterprise's access log, newest first, with who read (username, role), for which tenant and which
        device; `before_id` starts below that entry (the next page's cursor); `to_ms` is exclusive."""
        query = (
            select(
                access_log,
                users.c.username,
                users.c.display_name,
                users.c.role,
                tenants.c.name.label("tenant_name"),
                devices.c.key.label("device_key"),
            )
            .select_from(
                access_log.outerjoin(users, users.c.id == access_log.c.user_id)
                .outerjoin(tenants, tenants.c.id == access_log.c.tenant_id)
                .outerjoin(devices, devices.c.id == access_log.c.device_id)
            )
            .where(access_log.c.enterprise_id == enterprise_id)
            .order_by(access_log.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            query = query.where(access_log.c.id < before_id)
        if tenant_id is not None:
            query = query.where(access_log.c.tenant_id == tenant_id)
        if tenants_only:  # reads by banks and other organisations, not by the enterprise itself
            query = query.where(access_log.c.tenant_id.is_not(None))
        if from_ms is not None:
            query = query.where(access_log.c.at_ms >= from_ms)
        if to_ms is not None:
            query = query.where(access_log.c.at_ms < to_ms)
        return _rows(self.conn.execute(query))

    def audit_entries(self, limit: int = 100) -> list[Row]:
        return _rows(self.conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)))
