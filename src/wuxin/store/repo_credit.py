"""Repository of the credit part: business data, the model registry and credit decisions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from wuxin.store.repos import Row, _record, _records, _Repo
from wuxin.store.rows import (
    BusinessImportRow,
    BusinessRecordRow,
    BusinessRejectionRow,
    CreditDecisionRow,
    CreditModelRow,
    CreditModelStateRow,
    CreditModelSummaryRow,
    DecisionScoreRow,
    ModelStabilityRow,
)
from wuxin.store.tables import tenants
from wuxin.store.tables_credit import (
    business_imports,
    business_records,
    business_rejections,
    credit_decisions,
    credit_model_states,
    credit_models,
    model_stability,
)


class CreditRepo(_Repo):
    # ------------------------------------------------------------ business data

    def add_import(self, **values: Any) -> int:
        return self._add(business_imports, **values)

    def finish_import(self, import_id: int, accepted: int, duplicate: int, rejected: int) -> None:
        self.conn.execute(
            update(business_imports)
            .where(business_imports.c.id == import_id)
            .values(rows_accepted=accepted, rows_duplicate=duplicate, rows_rejected=rejected)
        )

    def get_import(self, import_id: int) -> BusinessImportRow | None:
        query = select(business_imports).where(business_imports.c.id == import_id)
        return _record(self.conn.execute(query), BusinessImportRow)

    def add_records(self, rows: Sequence[Row]) -> list[tuple[int, int | None]]:
        """Insert rows whose dedupe_key is new; returns (id, enterprise_id) of those inserted (a re-sent row is ignored)."""
        if not rows:
            return []
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        keys = [r["dedupe_key"] for r in rows]
        self.conn.execute(dialect.insert(business_records).on_conflict_do_nothing(), list(rows))
        t = business_records
        import_id = rows[0]["import_id"]
        stored: list[Any] = []
        for start in range(0, len(keys), 1000):
            stored += self.conn.execute(
                select(t.c.id, t.c.enterprise_id).where(
                    t.c.dedupe_key.in_(keys[start : start + 1000]), t.c.import_id == import_id
                )
            ).all()
        return [(r.id, r.enterprise_id) for r in stored]

    def set_record_leaf(self, record_ids: Sequence[int], leaf: int) -> None:
        if record_ids:
            self.conn.execute(
                update(business_records).where(business_records.c.id.in_(list(record_ids))).values(ledger_leaf=leaf)
            )

    def records(
        self,
        enterprise_id: int | None,
        kinds: Sequence[str] | None = None,
        tenant_id: int | None = None,
        every_tenant: bool = False,
        limit: int = 10_000,
    ) -> list[BusinessRecordRow]:
        """Records of an enterprise (or market data when None): shared ones, plus the tenant's own."""
        t = business_records
        query = select(t).where(
            t.c.enterprise_id == enterprise_id if enterprise_id is not None else t.c.enterprise_id.is_(None)
        )
        if kinds:
            query = query.where(t.c.kind.in_(list(kinds)))
        if not every_tenant:
            query = query.where(or_(t.c.tenant_id.is_(None), t.c.tenant_id == tenant_id))
        return _records(
            self.conn.execute(query.order_by(t.c.kind, t.c.last_day, t.c.id).limit(limit)), BusinessRecordRow
        )

    def shared_records_between(
        self, enterprise_id: int, kind: str, first_day: int, last_day: int, limit: int = 100_000
    ) -> list[BusinessRecordRow]:
        """An enterprise's records of one kind shared with every reader (no tenant's own), covering a day in
        [first_day, last_day]: what the platform-wide monitoring may read."""
        t = business_records
        return _records(
            self.conn.execute(
                select(t)
                .where(
                    t.c.enterprise_id == enterprise_id,
                    t.c.kind == kind,
                    t.c.tenant_id.is_(None),
                    t.c.last_day >= first_day,
                    t.c.first_day <= last_day,
                )
                .order_by(t.c.first_day, t.c.id)
                .limit(limit)
            ),
            BusinessRecordRow,
        )

    def add_rejections(self, rows: Sequence[Row]) -> None:
        if rows:
            self.conn.execute(insert(business_rejections), list(rows))

    def rejections(self, import_id: int) -> list[BusinessRejectionRow]:
        t = business_rejections
        query = select(t).where(t.c.import_id == import_id).order_by(t.c.row_index, t.c.id)
        return _records(self.conn.execute(query), BusinessRejectionRow)

    def loan_outcomes(self, tenant_id: int | None) -> list[BusinessRecordRow]:
        """Every loan outcome the tenant imported (all of them for the platform itself: tenant None)."""
        t = business_records
        query = select(t).where(t.c.kind == "loan_outcomes")
        if tenant_id is not None:
            query = query.where(t.c.tenant_id == tenant_id)
        return _records(self.conn.execute(query.order_by(t.c.id)), BusinessRecordRow)

    # ------------------------------------------------------------ model registry

    def save_model(self, **values: Any) -> None:
        if (
            self.conn.execute(
                select(credit_models.c.version).where(credit_models.c.version == values["version"])
            ).first()
            is None
        ):
            self.conn.execute(insert(credit_models).values(**values))

    def model(self, version: str) -> CreditModelRow | None:
        query = select(credit_models).where(credit_models.c.version == version)
        return _record(self.conn.execute(query), CreditModelRow)

    def models(self, tenant_id: int | None) -> list[CreditModelSummaryRow]:
        """The tenant's models and the platform's, newest first (without their bodies)."""
        t = credit_models
        columns = [c for c in t.c if c.name != "body"]
        query = select(*columns).where(or_(t.c.tenant_id.is_(None), t.c.tenant_id == tenant_id))
        return _records(self.conn.execute(query.order_by(t.c.trained_ms.desc(), t.c.version)), CreditModelSummaryRow)

    # ------------------------------------------------------------ model governance (0011)

    def tenant_is_demo(self, tenant_id: int | None) -> bool:
        if tenant_id is None:
            return False
        return bool(self.conn.execute(select(tenants.c.demo).where(tenants.c.id == tenant_id)).scalar())

    def set_tenant_demo(self, tenant_id: int, demo: bool) -> None:
        self.conn.execute(update(tenants).where(tenants.c.id == tenant_id).values(demo=demo))

    def model_state(self, tenant_id: int, version: str) -> CreditModelStateRow | None:
        t = credit_model_states
        query = select(t).where(t.c.tenant_id == tenant_id, t.c.version == version)
        return _record(self.conn.execute(query), CreditModelStateRow)

    def model_states(self, tenant_id: int) -> list[CreditModelStateRow]:
        t = credit_model_states
        query = select(t).where(t.c.tenant_id == tenant_id).order_by(t.c.updated_ms.desc(), t.c.version)
        return _records(self.conn.execute(query), CreditModelStateRow)

    def put_model_state(self, tenant_id: int, version: str, **values: Any) -> None:
        t = credit_model_states
        if self.model_state(tenant_id, version) is None:
            self.conn.execute(insert(t).values(tenant_id=tenant_id, version=version, **values))
        else:
            self.conn.execute(update(t).where(t.c.tenant_id == tenant_id, t.c.version == version).values(**values))

    def active_versions(self, tenant_id: int) -> list[str]:
        t = credit_model_states
        return list(
            self.conn.execute(
                select(t.c.version)
                .where(t.c.tenant_id == tenant_id, t.c.state == "active")
                .order_by(t.c.activated_ms.desc())
            ).scalars()
        )

    def tenants_with_active_models(self) -> list[tuple[int, str]]:
        t = credit_model_states
        return [
            (r.tenant_id, r.version)
            for r in self.conn.execute(
                select(t.c.tenant_id, t.c.version).where(t.c.state == "active").order_by(t.c.tenant_id)
            )
        ]

    def decisions_of_tenant(
        self, tenant_id: int, version: str, since_ms: int, limit: int = 10_000
    ) -> list[DecisionScoreRow]:
        t = credit_decisions
        return _records(
            self.conn.execute(
                select(t.c.id, t.c.features, t.c.score)
                .where(t.c.tenant_id == tenant_id, t.c.model_version == version, t.c.decided_ms >= since_ms)
                .order_by(t.c.id)
                .limit(limit)
            ),
            DecisionScoreRow,
        )

    def put_stability(self, **values: Any) -> None:
        t = model_stability
        self.conn.execute(
            t.delete().where(
                t.c.tenant_id == values["tenant_id"], t.c.version == values["version"], t.c.day == values["day"]
            )
        )
        self.conn.execute(insert(t).values(**values))

    def stability(self, tenant_id: int, limit: int = 100) -> list[ModelStabilityRow]:
        t = model_stability
        query = select(t).where(t.c.tenant_id == tenant_id).order_by(t.c.day.desc(), t.c.id.desc()).limit(limit)
        return _records(self.conn.execute(query), ModelStabilityRow)

    # ------------------------------------------------------------ decisions

    def add_decision(self, **values: Any) -> int:
        return self._add(credit_decisions, **values)

    def set_decision_leaf(self, decision_id: int, leaf: int) -> None:
        self.conn.execute(update(credit_decisions).where(credit_decisions.c.id == decision_id).values(ledger_leaf=leaf))

    def decision(self, decision_id: int) -> CreditDecisionRow | None:
        query = select(credit_decisions).where(credit_decisions.c.id == decision_id)
        return _record(self.conn.execute(query), CreditDecisionRow)

    def decisions(self, enterprise_id: int, tenant_id: int | None, limit: int = 100) -> list[CreditDecisionRow]:
        t = credit_decisions
        query = select(t).where(t.c.enterprise_id == enterprise_id)
        if tenant_id is not None:
            query = query.where(t.c.tenant_id == tenant_id)
        return _records(self.conn.execute(query.order_by(t.c.id.desc()).limit(limit)), CreditDecisionRow)
