"""Repository of the officer's workflow on credit decisions: standings and reviews (four eyes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from wuxin.store.repos import _record, _records, _Repo
from wuxin.store.rows import CreditReviewRow, CreditWorkflowRow
from wuxin.store.tables_credit_workflow import credit_reviews, credit_workflows


class CreditWorkflowRepo(_Repo):
    def _locked(self, query):
        return query.with_for_update() if self.conn.dialect.name == "postgresql" else query

    def add_workflow(self, **values: Any) -> None:
        self.conn.execute(insert(credit_workflows).values(**values))

    def workflow(self, decision_id: int, for_update: bool = False) -> CreditWorkflowRow | None:
        query = select(credit_workflows).where(credit_workflows.c.decision_id == decision_id)
        return _record(self.conn.execute(self._locked(query) if for_update else query), CreditWorkflowRow)

    def set_workflow(self, decision_id: int, **values: Any) -> None:
        self.conn.execute(
            update(credit_workflows).where(credit_workflows.c.decision_id == decision_id).values(**values)
        )

    def open_for_loan(self, loan_id: int) -> CreditWorkflowRow | None:
        """A decision on the loan that is not final yet (referred or awaiting four eyes)."""
        t = credit_workflows
        query = select(t).where(t.c.loan_id == loan_id, t.c.state.in_(["referred", "pending_approval"]))
        return _record(self.conn.execute(query.order_by(t.c.decision_id.desc()).limit(1)), CreditWorkflowRow)

    def latest_for_loan(self, loan_id: int) -> CreditWorkflowRow | None:
        """The newest decision requested for the loan, whatever its standing."""
        t = credit_workflows
        query = select(t).where(t.c.loan_id == loan_id).order_by(t.c.decision_id.desc()).limit(1)
        return _record(self.conn.execute(query), CreditWorkflowRow)

    def add_review(self, **values: Any) -> int:
        return self._add(credit_reviews, **values)

    def review(self, review_id: int, for_update: bool = False) -> CreditReviewRow | None:
        query = select(credit_reviews).where(credit_reviews.c.id == review_id)
        return _record(self.conn.execute(self._locked(query) if for_update else query), CreditReviewRow)

    def set_review(self, review_id: int, **values: Any) -> None:
        self.conn.execute(update(credit_reviews).where(credit_reviews.c.id == review_id).values(**values))

    def reviews(self, decision_id: int) -> list[CreditReviewRow]:
        t = credit_reviews
        return _records(
            self.conn.execute(select(t).where(t.c.decision_id == decision_id).order_by(t.c.id)), CreditReviewRow
        )

    def tenant_reviews(
        self, tenant_id: int, state: str | None = None, limit: int = 200, before_id: int | None = None
    ) -> list[CreditReviewRow]:
        """The bank's reviews, newest first, `limit` at a time; the next page starts below `before_id`."""
        t = credit_reviews
        query = select(t).where(t.c.tenant_id == tenant_id)
        if state is not None:
            query = query.where(t.c.state == state)
        if before_id is not None:
            query = query.where(t.c.id < before_id)
        return _records(self.conn.execute(query.order_by(t.c.id.desc()).limit(limit)), CreditReviewRow)
