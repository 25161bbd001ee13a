"""Repository of the risk workbench: the figures of many borrowers in a few queries, and the watch-list.

Every read takes the enterprise ids the service has already found visible (consent checked there) and, where the
data is a bank's own, the caller's tenant: nothing here decides who may read what.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, insert, or_, select

from wuxin.store.repos import _records, _Repo
from wuxin.store.rows import AlarmCountRow, DecisionGradeRow, DeviceRow, EnterpriseValueRow, LatestDecisionRow, LoanRow
from wuxin.store.tables import devices
from wuxin.store.tables_credit import credit_decisions
from wuxin.store.tables_credit_workflow import credit_workflows
from wuxin.store.tables_indicators import enterprise_day_indicators
from wuxin.store.tables_monitoring import alarms, loans
from wuxin.store.tables_portfolio import watchlist

OPEN_STATES = ("active", "acknowledged")


class PortfolioRepo(_Repo):
    # ------------------------------------------------------------ borrowers' figures

    def devices_of(self, enterprise_ids: Sequence[int]) -> list[DeviceRow]:
        """Every device of the enterprises (the caller keeps those its consent covers)."""
        if not enterprise_ids:
            return []
        return _records(
            self.conn.execute(
                select(devices).where(devices.c.enterprise_id.in_(list(enterprise_ids))).order_by(devices.c.id)
            ),
            DeviceRow,
        )

    def latest_decisions(
        self, enterprise_ids: Sequence[int], tenant_id: int, per_enterprise: int = 2
    ) -> list[LatestDecisionRow]:
        """The tenant's newest `per_enterprise` decisions on each enterprise (rank 1 = latest), with where each stands
        in the officer's workflow (None when it was never read since the workflow existed)."""
        if not enterprise_ids:
            return []
        d, w = credit_decisions, credit_workflows
        rank = func.row_number().over(partition_by=d.c.enterprise_id, order_by=d.c.id.desc()).label("rank")
        inner = (
            select(
                d.c.id,
                d.c.enterprise_id,
                d.c.grade,
                d.c.score,
                d.c.pd,
                d.c.approved,
                d.c.limit_cny,
                d.c.product_code,
                d.c.decided_ms,
                d.c.as_of_day,
                rank,
            )
            .where(d.c.tenant_id == tenant_id, d.c.enterprise_id.in_(list(enterprise_ids)))
            .subquery()
        )
        query = (
            select(
                inner,
                w.c.state.label("standing"),
                w.c.outcome.label("standing_outcome"),
                w.c.limit_cny.label("standing_limit_cny"),
            )
            .outerjoin(w, w.c.decision_id == inner.c.id)
            .where(inner.c.rank <= per_enterprise)
        )
        return _records(self.conn.execute(query.order_by(inner.c.enterprise_id, inner.c.rank)), LatestDecisionRow)

    def decision_outcomes(self, decision_ids: Sequence[int]) -> dict[int, str | None]:
        """The policy's outcome stored with each decision (approve, refer, decline; None in older records)."""
        if not decision_ids:
            return {}
        rows = self.conn.execute(
            select(credit_decisions.c.id, credit_decisions.c.decision).where(
                credit_decisions.c.id.in_(list(decision_ids))
            )
        )
        return {i: (doc or {}).get("outcome") for i, doc in rows}

    def decisions_since(self, enterprise_ids: Sequence[int], tenant_id: int, since_ms: int) -> list[DecisionGradeRow]:
        """The tenant's decisions on the enterprises made at or after `since_ms`, each with the grade of the decision
        before it on the same enterprise (any time before; None for a first decision)."""
        if not enterprise_ids:
            return []
        d = credit_decisions
        previous = func.lag(d.c.grade).over(partition_by=d.c.enterprise_id, order_by=d.c.id).label("previous_grade")
        inner = (
            select(d.c.id, d.c.enterprise_id, d.c.grade, d.c.approved, d.c.decided_ms, previous)
            .where(d.c.tenant_id == tenant_id, d.c.enterprise_id.in_(list(enterprise_ids)))
            .subquery()
        )
        return _records(
            self.conn.execute(select(inner).where(inner.c.decided_ms >= since_ms).order_by(inner.c.id)),
            DecisionGradeRow,
        )

    def tenant_loans(self, enterprise_ids: Sequence[int], tenant_id: int) -> list[LoanRow]:
        """The tenant's loans to the enterprises, every state."""
        if not enterprise_ids:
            return []
        return _records(
            self.conn.execute(
                select(loans)
                .where(loans.c.tenant_id == tenant_id, loans.c.enterprise_id.in_(list(enterprise_ids)))
                .order_by(loans.c.id)
            ),
            LoanRow,
        )

    def alarm_counts(
        self,
        enterprise_ids: Sequence[int],
        tenant_id: int,
        open_only: bool = True,
        started_since_ms: int | None = None,
        severity: str | None = None,
    ) -> list[AlarmCountRow]:
        """Alarm counts per (enterprise, severity, scope, rule) among the platform's and the tenant's own alarms; the
        caller drops the platform rules the tenant tuned (they show as the tenant's variant)."""
        if not enterprise_ids:
            return []
        a = alarms
        query = select(a.c.enterprise_id, a.c.severity, a.c.scope, a.c.rule_id, func.count().label("alarms")).where(
            a.c.enterprise_id.in_(list(enterprise_ids)), or_(a.c.tenant_id.is_(None), a.c.tenant_id == tenant_id)
        )
        if open_only:
            query = query.where(a.c.status.in_(OPEN_STATES))
        if started_since_ms is not None:
            query = query.where(a.c.started_ms >= started_since_ms)
        if severity is not None:
            query = query.where(a.c.severity == severity)
        return _records(
            self.conn.execute(query.group_by(a.c.enterprise_id, a.c.severity, a.c.scope, a.c.rule_id)), AlarmCountRow
        )

    def enterprise_values(
        self, enterprise_ids: Sequence[int], indicators: Iterable[str], from_day: int, to_day: int
    ) -> list[EnterpriseValueRow]:
        """Enterprise day values of the indicators over the days (a day without a row is unknown)."""
        names = list(indicators)
        if not enterprise_ids or not names:
            return []
        t = enterprise_day_indicators
        query = select(t.c.enterprise_id, t.c.day, t.c.indicator, t.c.value, t.c.quality).where(
            t.c.enterprise_id.in_(list(enterprise_ids)), t.c.indicator.in_(names), t.c.day.between(from_day, to_day)
        )
        return _records(self.conn.execute(query.order_by(t.c.enterprise_id, t.c.day)), EnterpriseValueRow)

    # ------------------------------------------------------------ watch-list

    def watched(self, user_id: int, tenant_id: int) -> set[int]:
        """Enterprise ids on the user's watch-list, added while in this tenant."""
        query = select(watchlist.c.enterprise_id).where(
            watchlist.c.user_id == user_id, watchlist.c.tenant_id == tenant_id
        )
        return {r for (r,) in self.conn.execute(query)}

    def watch(self, user_id: int, tenant_id: int, enterprise_id: int, now_ms: int) -> bool:
        """Add the borrower to the user's list; False when it was on it already."""
        if enterprise_id in self.watched(user_id, tenant_id):
            return False
        self.unwatch(user_id, enterprise_id)  # a row from a former tenant gives way
        self.conn.execute(
            insert(watchlist).values(user_id=user_id, tenant_id=tenant_id, enterprise_id=enterprise_id, added_ms=now_ms)
        )
        return True

    def unwatch(self, user_id: int, enterprise_id: int) -> bool:
        """Take the borrower off the user's list; False when it was not on it."""
        done = self.conn.execute(
            delete(watchlist).where(watchlist.c.user_id == user_id, watchlist.c.enterprise_id == enterprise_id)
        )
        return done.rowcount > 0
