"""Evidence hook: what the platform accepts is recorded in the ledger (filled in by the ledger part)."""
from __future__ import annotations

from wuxin.store.uow import UnitOfWork


def record_evidence(uow: UnitOfWork, kind: str, subject: str, data: dict) -> None:
    """Append one entry describing `subject` to the evidence ledger, in the caller's transaction."""
    return None
