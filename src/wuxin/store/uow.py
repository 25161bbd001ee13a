"""Unit of work: one transaction, repositories on it; it rolls back unless committed."""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from wuxin.errors import StorageFull, Unavailable
from wuxin.store.errors import note_storage_full, translate
from wuxin.store.repo_calendars import CalendarRepo
from wuxin.store.repo_commands import CommandRepo
from wuxin.store.repo_console import ConsoleRepo
from wuxin.store.repo_credit import CreditRepo
from wuxin.store.repo_credit_workflow import CreditWorkflowRepo
from wuxin.store.repo_indicators import IndicatorsRepo
from wuxin.store.repo_jt808 import Jt808Repo
from wuxin.store.repo_ledger import LedgerRepo
from wuxin.store.repo_monitoring import MonitoringRepo
from wuxin.store.repo_portfolio import PortfolioRepo
from wuxin.store.repo_protocols import ProtocolsRepo
from wuxin.store.repo_provisioning import ProvisioningRepo
from wuxin.store.repo_retention import RetentionRepo
from wuxin.store.repos import (
    ConsentRepo,
    DeviceRepo,
    EnterpriseRepo,
    IdentityRepo,
    LogRepo,
    QuarantineRepo,
    TelemetryRepo,
)


class UnitOfWork:
    """`with UnitOfWork(engine) as uow: ...; uow.commit()` — anything else rolls back.

    A database failure that ends it and that a caller can act on (a duplicate, a value the column cannot hold, a full
    disk) leaves as the platform's error (`store.errors.translate`), not as the driver's."""

    conn: Connection

    def __init__(self, engine: Engine):
        self._engine = engine

    def __enter__(self) -> UnitOfWork:
        try:
            self.conn = self._engine.connect()
        except (OperationalError, InterfaceError) as exc:
            raise Unavailable(
                f"database {self._engine.url.render_as_string(hide_password=True)} is unreachable: "
                f"{str(exc.orig).strip()[:200]}"
            ) from None
        self._transaction = self.conn.begin()
        self.identity = IdentityRepo(self.conn)
        self.enterprises = EnterpriseRepo(self.conn)
        self.devices = DeviceRepo(self.conn)
        self.consents = ConsentRepo(self.conn)
        self.telemetry = TelemetryRepo(self.conn)
        self.quarantine = QuarantineRepo(self.conn)
        self.logs = LogRepo(self.conn)
        self.ledger = LedgerRepo(self.conn)
        self.protocols = ProtocolsRepo(self.conn)
        self.indicators = IndicatorsRepo(self.conn)
        self.monitoring = MonitoringRepo(self.conn)
        self.credit = CreditRepo(self.conn)
        self.credit_workflow = CreditWorkflowRepo(self.conn)
        self.console = ConsoleRepo(self.conn)
        self.jt808 = Jt808Repo(self.conn)
        self.retention = RetentionRepo(self.conn)
        self.calendars = CalendarRepo(self.conn)
        self.commands = CommandRepo(self.conn)
        self.portfolio = PortfolioRepo(self.conn)
        self.provisioning = ProvisioningRepo(self.conn)
        return self

    def commit(self) -> None:
        self._transaction.commit()
        self._transaction = self.conn.begin()

    def rollback(self) -> None:
        """Undo the open transaction (after a failed write) and begin the next one."""
        self._transaction.rollback()
        self._transaction = self.conn.begin()

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self.conn.close()
        translated = translate(exc) if exc is not None else None
        if isinstance(translated, StorageFull):
            note_storage_full(self._engine)
        if translated is not None:
            raise translated from exc
