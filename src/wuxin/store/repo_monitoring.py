"""Repository of the monitoring part (rules, alarms, notifications, loans, pledges): its SQL lives here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from wuxin.store.repos import _record, _records, _Repo
from wuxin.store.rows import (
    AlarmActionRow,
    AlarmRow,
    CollateralItemRow,
    DevicePlaceRow,
    DeviceTransitionRow,
    DueNotificationRow,
    LoanHistoryRow,
    LoanRow,
    NotificationChannelRow,
    NotificationRow,
    PledgeZoneRow,
    RuleOverrideRow,
)
from wuxin.store.tables import devices, enterprises, quarantine, readings, sites, users
from wuxin.store.tables_monitoring import (
    alarm_actions,
    alarms,
    collateral_items,
    loan_history,
    loans,
    notification_channels,
    notifications,
    pledge_zones,
    price_index,
    rule_overrides,
    rule_states,
)
from wuxin.store.tables_protocols import connectivity_transitions, device_connectivity

OPEN = alarms.c.cleared_ms.is_(None)  # the partial unique index predicate


@dataclass(frozen=True)
class AlarmWhere:
    """The alarm list's filters, each optional: codes any of which match, opened in [opened_from_ms, opened_to_ms),
    and the platform rules a bank tuned (their alarms show as the bank's variant instead)."""

    alarm_types: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    opened_from_ms: int | None = None
    opened_to_ms: int | None = None
    hidden_platform_rules: tuple[str, ...] = ()


def _alarm_conditions(
    enterprise_ids: Sequence[int] | None, tenant_id: int | None, status: str | None, where: AlarmWhere | None
) -> list:
    """Who may read (a tenant's own alarms and the platform's, of the enterprises given) and what was asked for."""
    visible = (
        alarms.c.tenant_id.is_(None)
        if tenant_id is None
        else or_(alarms.c.tenant_id.is_(None), alarms.c.tenant_id == tenant_id)
    )
    out = [visible]
    if enterprise_ids is not None:
        out.append(alarms.c.enterprise_id.in_(list(enterprise_ids)))
    if status:
        out.append(alarms.c.status == status)
    w = where or AlarmWhere()
    for column, codes in (
        (alarms.c.alarm_type, w.alarm_types),
        (alarms.c.severity, w.severities),
        (alarms.c.status, w.statuses),
    ):
        if codes:
            out.append(column.in_(list(codes)))
    if w.opened_from_ms is not None:
        out.append(alarms.c.started_ms >= w.opened_from_ms)
    if w.opened_to_ms is not None:
        out.append(alarms.c.started_ms < w.opened_to_ms)
    if w.hidden_platform_rules:
        out.append(or_(alarms.c.scope != "platform", alarms.c.rule_id.notin_(list(w.hidden_platform_rules))))
    return out


class MonitoringRepo(_Repo):
    def _dialect(self):
        return postgresql if self.conn.dialect.name == "postgresql" else sqlite

    # ---- rule overrides and state

    def set_override(
        self, tenant_id: int, product: str, rule_id: str, override: dict, now_ms: int, user_id: int | None
    ) -> None:
        self.conn.execute(
            delete(rule_overrides).where(
                rule_overrides.c.tenant_id == tenant_id,
                rule_overrides.c.product == product,
                rule_overrides.c.rule_id == rule_id,
            )
        )
        self.conn.execute(
            insert(rule_overrides).values(
                tenant_id=tenant_id,
                product=product,
                rule_id=rule_id,
                override=override,
                updated_ms=now_ms,
                updated_by=user_id,
            )
        )

    def delete_override(self, tenant_id: int, product: str, rule_id: str) -> int:
        return self.conn.execute(
            delete(rule_overrides).where(
                rule_overrides.c.tenant_id == tenant_id,
                rule_overrides.c.product == product,
                rule_overrides.c.rule_id == rule_id,
            )
        ).rowcount

    def overrides(self, tenant_id: int | None = None) -> list[RuleOverrideRow]:
        query = select(rule_overrides).order_by(rule_overrides.c.id)
        if tenant_id is not None:
            query = query.where(rule_overrides.c.tenant_id == tenant_id)
        return _records(self.conn.execute(query), RuleOverrideRow)

    def states(self, scope_rule_subjects: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], dict]:
        keys = list(scope_rule_subjects)
        if not keys:
            return {}
        subjects = sorted({k[2] for k in keys})
        rows = self.conn.execute(select(rule_states).where(rule_states.c.subject.in_(subjects)))
        wanted = set(keys)
        return {(r.scope, r.rule_id, r.subject): r.state for r in rows if (r.scope, r.rule_id, r.subject) in wanted}

    def save_states(self, states: dict[tuple[str, str, str], dict], now_ms: int) -> None:
        if not states:
            return
        rows = [
            dict(scope=s, rule_id=r, subject=subj, state=state, updated_ms=now_ms)
            for (s, r, subj), state in states.items()
        ]
        statement = self._dialect().insert(rule_states)
        statement = statement.on_conflict_do_update(
            index_elements=["scope", "rule_id", "subject"],
            set_={"state": statement.excluded.state, "updated_ms": statement.excluded.updated_ms},
        )
        self.conn.execute(statement, rows)

    # ---- alarms

    def raise_alarm(self, values: dict) -> tuple[int, bool]:
        """Insert an open alarm, or fold this occurrence into the open one (scope, source, type); (id, new?)."""
        statement = self._dialect().insert(alarms).values(**values, occurrences=1, escalation_level=0)
        statement = statement.on_conflict_do_update(
            index_elements=["scope", "source", "alarm_type"],
            index_where=OPEN,
            set_={
                "last_ms": func.max(alarms.c.last_ms, statement.excluded.last_ms)
                if self.conn.dialect.name == "sqlite"
                else func.greatest(alarms.c.last_ms, statement.excluded.last_ms),
                "occurrences": alarms.c.occurrences + 1,
            },
        ).returning(alarms.c.id, alarms.c.occurrences)
        row = self.conn.execute(statement).one()
        return row.id, row.occurrences == 1

    def open_alarm(self, scope: str, source: str, alarm_type: str) -> AlarmRow | None:
        return _record(
            self.conn.execute(
                select(alarms).where(
                    alarms.c.scope == scope, alarms.c.source == source, alarms.c.alarm_type == alarm_type, OPEN
                )
            ),
            AlarmRow,
        )

    def alarm(self, alarm_id: int) -> AlarmRow | None:
        return _record(self.conn.execute(select(alarms).where(alarms.c.id == alarm_id)), AlarmRow)

    def set_alarm(self, alarm_id: int, **values) -> None:
        self.conn.execute(update(alarms).where(alarms.c.id == alarm_id).values(**values))

    def list_alarms(
        self,
        enterprise_ids: Sequence[int] | None,
        tenant_id: int | None,
        status: str | None,
        loan_id: int | None,
        limit: int,
        before_id: int | None = None,
        where: AlarmWhere | None = None,
    ) -> list[AlarmRow]:
        """Newest first; `before_id` starts below that alarm id (the next page's cursor)."""
        query = select(alarms).order_by(alarms.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(alarms.c.id < before_id)
        query = query.where(*_alarm_conditions(enterprise_ids, tenant_id, status, where))
        rows = _records(self.conn.execute(query), AlarmRow)
        return [r for r in rows if loan_id is None or loan_id in (r["loan_ids"] or [])]

    def count_filtered_alarms(
        self, enterprise_ids: Sequence[int] | None, tenant_id: int | None, where: AlarmWhere, loan_id: int | None
    ) -> int:
        """How many alarms the same conditions as `list_alarms` match (all pages); a loan's are counted from
        the loan ids each alarm carries (a JSON list, read column-only)."""
        conditions = _alarm_conditions(enterprise_ids, tenant_id, None, where)
        if loan_id is None:
            return self.conn.execute(select(func.count()).select_from(alarms).where(*conditions)).scalar_one()
        return sum(
            1 for r in self.conn.execute(select(alarms.c.loan_ids).where(*conditions)) if loan_id in (r[0] or [])
        )

    def alarm_spans(
        self, enterprise_ids: Sequence[int] | None, tenant_id: int | None, where: AlarmWhere, from_ms: int, to_ms: int
    ) -> list[tuple[int, int | None]]:
        """(started_ms, cleared_ms) of every alarm the same conditions as `list_alarms` match that was open at some
        time in [from_ms, to_ms): column-only and unpaged, for counting."""
        query = select(alarms.c.started_ms, alarms.c.cleared_ms).where(
            *_alarm_conditions(enterprise_ids, tenant_id, None, where),
            alarms.c.started_ms < to_ms,
            or_(alarms.c.cleared_ms.is_(None), alarms.c.cleared_ms >= from_ms),
        )
        return [
            (int(r.started_ms), None if r.cleared_ms is None else int(r.cleared_ms)) for r in self.conn.execute(query)
        ]

    def device_places(self, device_ids: Sequence[int]) -> dict[int, DevicePlaceRow]:
        """Key, type, site name and region of each device (a device without a site has None there)."""
        if not device_ids:
            return {}
        query = (
            select(
                devices.c.id,
                devices.c.key,
                devices.c.device_type,
                devices.c.site_id,
                sites.c.name.label("site_name"),
                sites.c.region.label("site_region"),
            )
            .select_from(devices.outerjoin(sites, sites.c.id == devices.c.site_id))
            .where(devices.c.id.in_(sorted(set(device_ids))))
        )
        return {r["id"]: r for r in _records(self.conn.execute(query), DevicePlaceRow)}

    def enterprise_names(self, enterprise_ids: Sequence[int]) -> dict[int, str]:
        if not enterprise_ids:
            return {}
        query = select(enterprises.c.id, enterprises.c.name).where(enterprises.c.id.in_(sorted(set(enterprise_ids))))
        return {r.id: r.name for r in self.conn.execute(query)}

    def user_names(self, user_ids: Sequence[int | None]) -> dict[int | None, str]:
        """Who acted on an alarm, by login name."""
        wanted = sorted({u for u in user_ids if u is not None})
        if not wanted:
            return {}
        return {
            r.id: r.username
            for r in self.conn.execute(select(users.c.id, users.c.username).where(users.c.id.in_(wanted)))
        }

    def count_alarms(self) -> int:
        return self.conn.execute(select(func.count()).select_from(alarms)).scalar_one()

    def unacknowledged(self) -> list[AlarmRow]:
        return _records(
            self.conn.execute(select(alarms).where(alarms.c.status == "active").order_by(alarms.c.id)), AlarmRow
        )

    def add_action(self, alarm_id: int, at_ms: int, user_id: int | None, action: str, reason: str) -> None:
        self.conn.execute(
            insert(alarm_actions).values(alarm_id=alarm_id, at_ms=at_ms, user_id=user_id, action=action, reason=reason)
        )

    def actions(self, alarm_id: int) -> list[AlarmActionRow]:
        return _records(
            self.conn.execute(
                select(alarm_actions).where(alarm_actions.c.alarm_id == alarm_id).order_by(alarm_actions.c.id)
            ),
            AlarmActionRow,
        )

    # ---- notifications

    def add_channel(self, **values) -> int:
        return self._add(notification_channels, **values)

    def channels(self, tenant_ids: Iterable[int]) -> list[NotificationChannelRow]:
        query = select(notification_channels).where(
            notification_channels.c.tenant_id.in_(list(tenant_ids)), notification_channels.c.disabled_ms.is_(None)
        )
        return _records(self.conn.execute(query.order_by(notification_channels.c.id)), NotificationChannelRow)

    def add_notifications(self, rows: Sequence[dict]) -> None:
        if rows:
            self.conn.execute(insert(notifications), list(rows))

    def due_notifications(self, now_ms: int, limit: int) -> list[DueNotificationRow]:
        query = (
            select(
                notifications,
                notification_channels.c.kind,
                notification_channels.c.target,
                notification_channels.c.secret,
            )
            .join(notification_channels, notification_channels.c.id == notifications.c.channel_id)
            .where(notifications.c.status == "pending", notifications.c.next_attempt_ms <= now_ms)
            .order_by(notifications.c.id)
            .limit(limit)
        )
        return _records(self.conn.execute(query), DueNotificationRow)

    def set_notification(self, notification_id: int, **values) -> None:
        self.conn.execute(update(notifications).where(notifications.c.id == notification_id).values(**values))

    def notifications_for(self, alarm_id: int) -> list[NotificationRow]:
        return _records(
            self.conn.execute(
                select(notifications).where(notifications.c.alarm_id == alarm_id).order_by(notifications.c.id)
            ),
            NotificationRow,
        )

    # ---- loans

    def add_loan(self, **values) -> int:
        return self._add(loans, **values)

    def loan(self, loan_id: int, for_update: bool = False) -> LoanRow | None:
        query = select(loans).where(loans.c.id == loan_id)
        return _record(
            self.conn.execute(
                query.with_for_update() if for_update and self.conn.dialect.name == "postgresql" else query
            ),
            LoanRow,
        )

    def loans(self, tenant_id: int | None = None, enterprise_id: int | None = None) -> list[LoanRow]:
        query = select(loans).order_by(loans.c.id)
        if tenant_id is not None:
            query = query.where(loans.c.tenant_id == tenant_id)
        if enterprise_id is not None:
            query = query.where(loans.c.enterprise_id == enterprise_id)
        return _records(self.conn.execute(query), LoanRow)

    def live_loans(self, enterprise_ids: Iterable[int], states: Iterable[str]) -> list[LoanRow]:
        query = select(loans).where(loans.c.enterprise_id.in_(list(enterprise_ids)), loans.c.state.in_(list(states)))
        return _records(self.conn.execute(query.order_by(loans.c.id)), LoanRow)

    def live_loans_all(self, states: Iterable[str]) -> list[LoanRow]:
        return _records(
            self.conn.execute(select(loans).where(loans.c.state.in_(list(states))).order_by(loans.c.id)), LoanRow
        )

    def set_loan(self, loan_id: int, **values) -> None:
        self.conn.execute(update(loans).where(loans.c.id == loan_id).values(**values))

    def add_history(self, **values) -> None:
        self.conn.execute(insert(loan_history).values(**values))

    def history(self, loan_id: int) -> list[LoanHistoryRow]:
        return _records(
            self.conn.execute(
                select(loan_history).where(loan_history.c.loan_id == loan_id).order_by(loan_history.c.id)
            ),
            LoanHistoryRow,
        )

    # ---- commissioning evidence

    def device_states(self, device_ids: Sequence[int]) -> dict[int, str]:
        query = select(device_connectivity.c.device_id, device_connectivity.c.state).where(
            device_connectivity.c.device_id.in_(list(device_ids))
        )
        return {r.device_id: r.state for r in self.conn.execute(query)}

    def points_since(self, device_ids: Sequence[int], from_ms: int) -> dict[int, int]:
        query = (
            select(readings.c.device_id, func.count().label("n"))
            .where(readings.c.device_id.in_(list(device_ids)), readings.c.ts_ms >= from_ms)
            .group_by(readings.c.device_id)
        )
        return {r.device_id: r.n for r in self.conn.execute(query)}

    def rejections_since(self, device_keys: Sequence[str], from_ms: int) -> dict[str, int]:
        query = (
            select(quarantine.c.device_key, func.count().label("n"))
            .where(quarantine.c.device_key.in_(list(device_keys)), quarantine.c.received_ms >= from_ms)
            .group_by(quarantine.c.device_key)
        )
        return {r.device_key: r.n for r in self.conn.execute(query)}

    def reporting_devices(self, device_ids: Sequence[int], from_ms: int, to_ms: int) -> set[int]:
        query = (
            select(readings.c.device_id)
            .distinct()
            .where(readings.c.device_id.in_(list(device_ids)), readings.c.ts_ms >= from_ms, readings.c.ts_ms < to_ms)
        )
        return {r[0] for r in self.conn.execute(query)}

    def latest_value(self, device_ids: Sequence[int], key: str, at_ms: int) -> dict[int, float]:
        """Latest numeric value of `key` at or before at_ms per device."""
        latest = (
            select(readings.c.device_id, func.max(readings.c.ts_ms).label("ts"))
            .where(readings.c.device_id.in_(list(device_ids)), readings.c.key == key, readings.c.ts_ms <= at_ms)
            .group_by(readings.c.device_id)
            .subquery()
        )
        query = (
            select(readings.c.device_id, readings.c.num)
            .join(latest, and_(readings.c.device_id == latest.c.device_id, readings.c.ts_ms == latest.c.ts))
            .where(readings.c.key == key)
        )
        return {r.device_id: r.num for r in self.conn.execute(query)}

    def latest_points(self, device_ids: Sequence[int], key: str, at_ms: int) -> dict[int, tuple[int, float]]:
        """Latest (ts_ms, numeric value) of `key` at or before at_ms per device."""
        latest = (
            select(readings.c.device_id, func.max(readings.c.ts_ms).label("ts"))
            .where(readings.c.device_id.in_(list(device_ids)), readings.c.key == key, readings.c.ts_ms <= at_ms)
            .group_by(readings.c.device_id)
            .subquery()
        )
        query = (
            select(readings.c.device_id, readings.c.ts_ms, readings.c.num)
            .join(latest, and_(readings.c.device_id == latest.c.device_id, readings.c.ts_ms == latest.c.ts))
            .where(readings.c.key == key)
        )
        return {r.device_id: (r.ts_ms, r.num) for r in self.conn.execute(query)}

    def sum_values(self, device_ids: Sequence[int], key: str, from_ms: int, to_ms: int) -> float | None:
        query = select(func.sum(readings.c.num)).where(
            readings.c.device_id.in_(list(device_ids)),
            readings.c.key == key,
            readings.c.ts_ms >= from_ms,
            readings.c.ts_ms < to_ms,
        )
        return self.conn.execute(query).scalar()

    # ---- connectivity transitions (recorded by the protocols part)

    def transitions_after(self, after_id: int, limit: int) -> list[DeviceTransitionRow]:
        query = (
            select(
                connectivity_transitions,
                devices.c.key,
                devices.c.device_type,
                devices.c.attributes,
                devices.c.site_id,
                devices.c.installed_ms,
                devices.c.decommissioned_ms,
                devices.c.source_mode,
            )
            .join(devices, devices.c.id == connectivity_transitions.c.device_id)
            .where(connectivity_transitions.c.id > after_id)
            .order_by(connectivity_transitions.c.id)
            .limit(limit)
        )
        return _records(self.conn.execute(query), DeviceTransitionRow)

    # ---- collateral registry

    def identity_pledged(self, identities: Sequence[str]) -> set[str]:
        query = select(collateral_items.c.identity).where(
            collateral_items.c.identity.in_(list(identities)), collateral_items.c.released_ms.is_(None)
        )
        return {r[0] for r in self.conn.execute(query)}

    def add_items(self, rows: Sequence[dict]) -> list[int] | None:
        """Insert pledged items; None (and nothing inserted) when an identity is already under an active pledge."""
        try:
            with self.conn.begin_nested():
                return [self._add(collateral_items, **row) for row in rows]
        except IntegrityError:
            return None

    def items(self, loan_id: int, active_only: bool = True) -> list[CollateralItemRow]:
        query = select(collateral_items).where(collateral_items.c.loan_id == loan_id).order_by(collateral_items.c.id)
        if active_only:
            query = query.where(collateral_items.c.released_ms.is_(None))
        return _records(self.conn.execute(query), CollateralItemRow)

    def release_items(self, item_ids: Sequence[int], now_ms: int, reason: str) -> None:
        self.conn.execute(
            update(collateral_items)
            .where(collateral_items.c.id.in_(list(item_ids)))
            .values(released_ms=now_ms, release_reason=reason)
        )

    def add_zone(self, **values) -> int:
        return self._add(pledge_zones, **values)

    def zones(self, loan_ids: Sequence[int]) -> list[PledgeZoneRow]:
        return _records(
            self.conn.execute(
                select(pledge_zones).where(pledge_zones.c.loan_id.in_(list(loan_ids))).order_by(pledge_zones.c.id)
            ),
            PledgeZoneRow,
        )

    def add_price(self, sku: str, at_ms: int, price_cny, source: str) -> None:
        statement = self._dialect().insert(price_index).values(sku=sku, at_ms=at_ms, price_cny=price_cny, source=source)
        self.conn.execute(
            statement.on_conflict_do_update(
                index_elements=["sku", "at_ms"],
                set_={"price_cny": statement.excluded.price_cny, "source": statement.excluded.source},
            )
        )

    def prices(self, skus: Iterable[str], at_ms: int) -> dict[str, Decimal]:
        """Latest price at or before at_ms per sku."""
        latest = (
            select(price_index.c.sku, func.max(price_index.c.at_ms).label("at"))
            .where(price_index.c.sku.in_(list(skus)), price_index.c.at_ms <= at_ms)
            .group_by(price_index.c.sku)
            .subquery()
        )
        query = select(price_index.c.sku, price_index.c.price_cny).join(
            latest, and_(price_index.c.sku == latest.c.sku, price_index.c.at_ms == latest.c.at)
        )
        return {r.sku: r.price_cny for r in self.conn.execute(query)}
