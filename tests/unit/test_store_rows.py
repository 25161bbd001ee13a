"""The typed row records (wuxin.store.rows) and the tables cannot drift apart: same keys, same nullability, same
Python types; and the repositories hand back dicts with exactly the record's keys (SQLite in memory)."""

from __future__ import annotations

import typing
from decimal import Decimal

import pytest
from sqlalchemy import Table, create_engine

from wuxin.store import rows
from wuxin.store.metadata import metadata
from wuxin.store.tables import batches, consents, devices, enterprises, quarantine, sites, tenants, thing_models, users
from wuxin.store.tables_monitoring import alarms, loans
from wuxin.store.uow import UnitOfWork

RECORDS: dict[type, Table] = {
    rows.TenantRow: tenants,
    rows.UserRow: users,
    rows.EnterpriseRow: enterprises,
    rows.SiteRow: sites,
    rows.ThingModelRow: thing_models,
    rows.DeviceRow: devices,
    rows.ConsentRow: consents,
    rows.BatchRow: batches,
    rows.QuarantineRow: quarantine,
    rows.LoanRow: loans,
    rows.AlarmRow: alarms,
}
EXTRA_KEYS = {rows.DeviceTokenStatusRow: (devices, {"token_revoked_ms"})}  # a join: the table's columns and a label


def _keys(record: type) -> set[str]:
    return set(typing.get_type_hints(record))


@pytest.mark.parametrize("record", list(RECORDS), ids=lambda r: r.__name__)
def test_a_record_has_exactly_its_tables_columns(record):
    assert _keys(record) == set(RECORDS[record].c.keys())


def test_the_token_status_record_is_the_device_and_the_tokens_revocation():
    for record, (table, extra) in EXTRA_KEYS.items():
        assert _keys(record) == set(table.c.keys()) | extra


@pytest.mark.parametrize("record", list(RECORDS), ids=lambda r: r.__name__)
def test_a_nullable_column_is_optional_in_its_record_and_the_types_agree(record):
    hints = typing.get_type_hints(record)
    for column in RECORDS[record].c:
        hint = hints[column.name]
        members = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, type(int | None)) else (hint,)
        assert (type(None) in members) == column.nullable, f"{record.__name__}.{column.name}: NULL allowed?"
        python_type = column.type.python_type
        if python_type is not object:  # JSON: the record names the shape it is written with
            assert python_type in members, f"{record.__name__}.{column.name}: {hint} for {column.type}"


@pytest.fixture
def uow():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with UnitOfWork(engine) as unit:
        yield unit
    engine.dispose()


def test_the_repositories_return_exactly_the_records_keys(uow):
    now = 1_700_000_000_000
    tenant_id = uow.identity.add_tenant("Bank", "bank", now)
    enterprise_id = uow.enterprises.add(
        name="Farm", uscc="91110000000000000X", industry="pack", region="Region", created_ms=now
    )
    user_id = uow.identity.add_user(
        username="u", display_name="U", password_hash="h", role="credit_officer", tenant_id=tenant_id, created_ms=now
    )
    site_id = uow.enterprises.add_site(enterprise_id=enterprise_id, name="Site", region="Region")
    uow.devices.upsert_thing_model("meter", "pack", "1", {"properties": []}, now)
    device_id = uow.devices.add(
        key="d1",
        enterprise_id=enterprise_id,
        site_id=site_id,
        device_type="meter",
        attributes={},
        source_mode="bank_installed",
        trust_level=1.0,
        created_ms=now,
    )
    uow.devices.add_token(device_id, "a" * 64, now)
    consent_id = uow.consents.add(
        enterprise_id=enterprise_id,
        tenant_id=tenant_id,
        scope="all",
        scope_items=[],
        purpose="credit",
        granted_ms=now,
        expires_ms=now + 1,
    )
    batch_id = uow.telemetry.add_batch("http", None, now, None)
    uow.quarantine.add([dict(received_ms=now, channel="http", reason="bad", message="m", payload="{}")])
    loan_id = uow.monitoring.add_loan(
        tenant_id=tenant_id,
        enterprise_id=enterprise_id,
        product="p",
        amount_cny=Decimal("1.00"),
        outstanding_cny=Decimal("1.00"),
        state="active",
        risk_class="normal",
        monitoring_plan={"devices": ["d1"]},
        maintenance_ratio=Decimal("1.3"),
        liquidation_ratio=Decimal("1.1"),
        created_ms=now,
        updated_ms=now,
    )
    alarm_id, _ = uow.monitoring.raise_alarm(
        dict(
            scope="platform",
            source=f"device:{device_id}",
            alarm_type="offline",
            rule_id="r",
            severity="major",
            status="active",
            device_id=device_id,
            loan_ids=[loan_id],
            started_ms=now,
            last_ms=now,
            stored_ms=now,
            detail={},
        )
    )
    read = {
        rows.TenantRow: uow.identity.tenant(tenant_id),
        rows.UserRow: uow.identity.user(user_id),
        rows.EnterpriseRow: uow.enterprises.get(enterprise_id),
        rows.SiteRow: uow.enterprises.site(site_id),
        rows.ThingModelRow: uow.devices.thing_model("meter"),
        rows.DeviceRow: uow.devices.get(device_id),
        rows.DeviceTokenStatusRow: uow.devices.token_status("a" * 64),
        rows.ConsentRow: uow.consents.get(consent_id),
        rows.BatchRow: uow.telemetry.batch(batch_id),
        rows.QuarantineRow: uow.quarantine.list("open", 10)[0],
        rows.LoanRow: uow.monitoring.loan(loan_id),
        rows.AlarmRow: uow.monitoring.alarm(alarm_id),
    }
    assert set(read) == set(RECORDS) | set(EXTRA_KEYS)
    for record, row in read.items():
        assert row is not None and set(row) == _keys(record), record.__name__
        assert type(row) is dict  # a record is a plain dict: the API's JSON is unchanged
