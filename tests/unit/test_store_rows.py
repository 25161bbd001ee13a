"""The typed row records (wuxin.store.rows) and the tables cannot drift apart: same keys, same nullability, same
Python types; and the repositories hand back dicts with exactly the record's keys (SQLite in memory)."""

from __future__ import annotations

import typing
from decimal import Decimal

import pytest
from sqlalchemy import Column, Float, Integer, Table, create_engine, insert

from wuxin.store import rows
from wuxin.store.metadata import metadata
from wuxin.store.tables import (
    batches,
    consents,
    device_tokens,
    devices,
    enterprises,
    quarantine,
    readings,
    sites,
    tenants,
    thing_models,
    users,
)
from wuxin.store.tables_calendars import calendar_periods
from wuxin.store.tables_commands import device_commands
from wuxin.store.tables_credit import (
    business_imports,
    business_records,
    business_rejections,
    credit_decisions,
    credit_model_states,
    credit_models,
    model_stability,
)
from wuxin.store.tables_credit_workflow import credit_reviews, credit_workflows
from wuxin.store.tables_indicators import (
    device_day_indicators,
    enterprise_day_indicators,
    enterprise_month_indicators,
    industry_index,
)
from wuxin.store.tables_jt808 import jt808_terminals
from wuxin.store.tables_ledger import (
    epcis_events,
    ledger_entries,
    ledger_keys,
    ledger_tree_heads,
    product_batches,
    product_scans,
    products,
)
from wuxin.store.tables_monitoring import (
    alarm_actions,
    alarms,
    collateral_items,
    loan_history,
    loans,
    notification_channels,
    notifications,
    pledge_zones,
    rule_overrides,
)
from wuxin.store.tables_protocols import alink_identities, connectivity_transitions, device_connectivity, push_platforms
from wuxin.store.tables_provisioning import device_provision_profiles
from wuxin.store.tables_retention import pruned_batches, readings_hourly, retention_marks, retention_policies
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
    rows.CalendarPeriodRow: calendar_periods,
    rows.BusinessImportRow: business_imports,
    rows.BusinessRecordRow: business_records,
    rows.BusinessRejectionRow: business_rejections,
    rows.CreditModelRow: credit_models,
    rows.CreditModelStateRow: credit_model_states,
    rows.ModelStabilityRow: model_stability,
    rows.CreditDecisionRow: credit_decisions,
    rows.CreditWorkflowRow: credit_workflows,
    rows.CreditReviewRow: credit_reviews,
    rows.LedgerEntryRow: ledger_entries,
    rows.TreeHeadRow: ledger_tree_heads,
    rows.SigningKeyRow: ledger_keys,
    rows.ProductBatchRow: product_batches,
    rows.ProductRow: products,
    rows.ProductScanRow: product_scans,
    rows.EpcisEventRow: epcis_events,
    rows.AlinkIdentityRow: alink_identities,
    rows.PushPlatformRow: push_platforms,
    rows.RetentionPolicyRow: retention_policies,
    rows.RetentionMarkRow: retention_marks,
    rows.PrunedBatchRow: pruned_batches,
    rows.HourlyReadingRow: readings_hourly,
    rows.DeviceDayIndicatorRow: device_day_indicators,
    rows.EnterpriseDayIndicatorRow: enterprise_day_indicators,
    rows.EnterpriseMonthIndicatorRow: enterprise_month_indicators,
    rows.IndustryIndexRow: industry_index,
    rows.RuleOverrideRow: rule_overrides,
    rows.AlarmActionRow: alarm_actions,
    rows.NotificationChannelRow: notification_channels,
    rows.NotificationRow: notifications,
    rows.LoanHistoryRow: loan_history,
    rows.CollateralItemRow: collateral_items,
    rows.PledgeZoneRow: pledge_zones,
    rows.ProvisionProfileRow: device_provision_profiles,
}


def _columns(table: Table, without: tuple[str, ...] = ()) -> dict[str, Column]:
    return {c.name: c for c in table.c if c.name not in without}


def _outer(column: Column) -> Column:
    """A column read through an outer join: None when nothing joins."""
    return Column(column.name, column.type, nullable=True)


# A query's own shape: {key: the column it comes from}. A join adds labelled columns; a list may leave some out.
SHAPES: dict[type, dict[str, Column]] = {
    rows.DeviceTokenStatusRow: {**_columns(devices), "token_revoked_ms": device_tokens.c.revoked_ms},
    rows.CommandRow: {**_columns(device_commands), "device_key": devices.c.key},
    rows.Jt808TerminalRow: {
        **_columns(jt808_terminals),
        "device_key": devices.c.key,
        "attributes": devices.c.attributes,
    },
    rows.DeviceCredentialsRow: {
        **{c.name: c for c in (devices.c.id, devices.c.key, devices.c.device_type)},
        "live_tokens": Column("live_tokens", Integer, nullable=False),  # a count
    },
    rows.AlinkDeviceRow: {
        **_columns(alink_identities),
        **{c.name: c for c in (devices.c.key, devices.c.device_type, devices.c.enterprise_id)},
    },
    rows.SweepDeviceRow: {
        **{c.name: c for c in (devices.c.id, devices.c.key, devices.c.enterprise_id, devices.c.device_type)},
        "last_seen_ms": devices.c.last_seen_ms,
        "state": _outer(device_connectivity.c.state),
        "since_ms": _outer(device_connectivity.c.since_ms),
    },
    rows.ConnectivityTransitionRow: {**_columns(connectivity_transitions), "device_key": devices.c.key},
    rows.LatestDecisionRow: {
        **{
            c.name: c
            for c in credit_decisions.c
            if c.name
            in {"id", "enterprise_id", "grade", "score", "pd", "approved", "limit_cny", "product_code", "decided_ms"}
        },
        "as_of_day": credit_decisions.c.as_of_day,
        "rank": Column("rank", Integer, nullable=False),
        "standing": _outer(credit_workflows.c.state),
        "standing_outcome": _outer(credit_workflows.c.outcome),
        "standing_limit_cny": _outer(credit_workflows.c.limit_cny),
    },
    rows.DecisionGradeRow: {
        **{
            c.name: c
            for c in credit_decisions.c
            if c.name in {"id", "enterprise_id", "grade", "approved", "decided_ms"}
        },
        "previous_grade": _outer(credit_decisions.c.grade),  # None for a first decision
    },
    rows.AlarmCountRow: {
        "enterprise_id": Column("enterprise_id", Integer, nullable=False),  # filtered on: never NULL
        **{c.name: c for c in (alarms.c.severity, alarms.c.scope, alarms.c.rule_id)},
        "alarms": Column("alarms", Integer, nullable=False),  # a count
    },
    rows.EnterpriseValueRow: _columns(enterprise_day_indicators, without=("devices", "computed_ms")),
    rows.CreditModelSummaryRow: _columns(credit_models, without=("body",)),
    rows.CounterReadingRow: {c.name: c for c in (readings.c.device_id, readings.c.ts_ms, readings.c.num)},
    rows.DecisionScoreRow: {
        c.name: c for c in (credit_decisions.c.id, credit_decisions.c.features, credit_decisions.c.score)
    },
    rows.IndicatorDeviceRow: {
        c.name: c
        for c in (
            devices.c.id,
            devices.c.key,
            devices.c.enterprise_id,
            devices.c.device_type,
            devices.c.attributes,
            devices.c.site_id,
        )
    },
    rows.DeviceDayValueRow: {
        **_columns(device_day_indicators),
        **{c.name: c for c in (devices.c.device_type, devices.c.key)},
    },
    rows.DeviceValueRow: {
        **{c.name: c for c in (device_day_indicators.c.device_id, device_day_indicators.c.day)},
        "indicator": device_day_indicators.c.indicator,
        "value": Column("value", Float, nullable=False),  # filtered on: never NULL
    },
    rows.PeerValueRow: {
        "enterprise_id": enterprise_day_indicators.c.enterprise_id,
        "value": Column("value", Float, nullable=False),  # filtered on: never NULL
    },
    rows.DevicePlaceRow: {
        **{c.name: c for c in (devices.c.id, devices.c.key, devices.c.device_type, devices.c.site_id)},
        "site_name": _outer(sites.c.name),
        "site_region": _outer(sites.c.region),
    },
    rows.DueNotificationRow: {
        **_columns(notifications),
        **{
            c.name: c
            for c in (notification_channels.c.kind, notification_channels.c.target, notification_channels.c.secret)
        },
    },
    rows.DeviceTransitionRow: {
        **_columns(connectivity_transitions),
        **{
            c.name: c
            for c in (
                devices.c.key,
                devices.c.device_type,
                devices.c.attributes,
                devices.c.site_id,
                devices.c.installed_ms,
                devices.c.decommissioned_ms,
                devices.c.source_mode,
            )
        },
    },
}


def _keys(record: type) -> set[str]:
    return set(typing.get_type_hints(record))


def _source_columns(record: type) -> dict[str, Column]:
    return SHAPES[record] if record in SHAPES else _columns(RECORDS[record])


@pytest.mark.parametrize("record", list(RECORDS), ids=lambda r: r.__name__)
def test_a_record_has_exactly_its_tables_columns(record):
    assert _keys(record) == set(RECORDS[record].c.keys())


@pytest.mark.parametrize("record", list(SHAPES), ids=lambda r: r.__name__)
def test_a_query_record_has_exactly_the_columns_it_selects(record):
    assert _keys(record) == set(SHAPES[record])


@pytest.mark.parametrize("record", list(RECORDS) + list(SHAPES), ids=lambda r: r.__name__)
def test_a_nullable_column_is_optional_in_its_record_and_the_types_agree(record):
    hints = typing.get_type_hints(record)
    for key, column in _source_columns(record).items():
        hint = hints[key]
        members = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, type(int | None)) else (hint,)
        assert (type(None) in members) == column.nullable, f"{record.__name__}.{key}: NULL allowed?"
        python_type = column.type.python_type
        if python_type is not object:  # JSON: the record names the shape it is written with
            assert python_type in members, f"{record.__name__}.{key}: {hint} for {column.type}"


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
        **_device_work_rows(uow, now, tenant_id, enterprise_id, user_id, device_id, loan_id),
        **_provisioning_rows(uow, now, enterprise_id, site_id, user_id),
        **_credit_rows(uow, now, tenant_id, enterprise_id, user_id, loan_id),
        **_ledger_rows(uow, now, enterprise_id, device_id, batch_id),
        **_protocol_rows(uow, now, enterprise_id, device_id),
        **_portfolio_rows(uow, now, tenant_id, enterprise_id, device_id),
        **_retention_rows(uow, now, tenant_id, enterprise_id, device_id, batch_id),
        **_indicator_rows(uow, now, enterprise_id, device_id),
        **_monitoring_rows(uow, now, tenant_id, enterprise_id, user_id, device_id, loan_id, alarm_id),
    }
    assert set(read) == set(RECORDS) | set(SHAPES)
    for record, row in read.items():
        assert row is not None and set(row) == _keys(record), record.__name__
        assert type(row) is dict  # a record is a plain dict: the API's JSON is unchanged
    assert set(uow.protocols.devices_of_type("meter")[0]) == _keys(rows.DeviceRow)
    assert set(uow.portfolio.devices_of([enterprise_id])[0]) == _keys(rows.DeviceRow)
    assert set(uow.indicators.enterprise_devices([enterprise_id])[0]) == _keys(rows.IndicatorDeviceRow)


def _device_work_rows(uow, now, tenant_id, enterprise_id, user_id, device_id, loan_id) -> dict[type, object]:
    """Commands, calendar periods and JT/T 808 terminals, read back."""
    command_id = uow.commands.add(
        device_id=device_id,
        enterprise_id=enterprise_id,
        tenant_id=tenant_id,
        channel="jt808",
        operation="locate",
        params={},
        reason="check",
        loan_id=loan_id,
        state="requested",
        four_eyes=0,
        requested_by=user_id,
        requested_ms=now,
        expires_ms=now + 1,
        updated_ms=now,
    )
    period_id = uow.calendars.add_period(
        enterprise_id=enterprise_id, kind="shutdown", start_ms=now, end_ms=now + 1, note="", created_ms=now
    )
    uow.jt808.provision(device_id, "13800000000", "T1", None, None, None, now, user_id, now + 1)
    return {
        rows.CommandRow: uow.commands.get(command_id),
        rows.CalendarPeriodRow: uow.calendars.period(period_id),
        rows.Jt808TerminalRow: uow.jt808.of_device(device_id),
    }


def _provisioning_rows(uow, now, enterprise_id, site_id, user_id) -> dict[type, object]:
    """A device provision profile, read back."""
    profile_id = uow.provisioning.add(
        provision_key="wxpk_x",
        secret_hash="b" * 64,
        name="",
        enterprise_id=enterprise_id,
        site_id=site_id,
        device_type="meter",
        source_mode="bank_installed",
        max_devices=1,
        provisioned=0,
        expires_ms=now + 1,
        created_by=user_id,
        created_ms=now,
    )
    assert [p["id"] for p in uow.provisioning.of_enterprise(enterprise_id)] == [profile_id]
    return {rows.ProvisionProfileRow: uow.provisioning.by_key("wxpk_x")}


def _credit_rows(uow, now, tenant_id, enterprise_id, user_id, loan_id) -> dict[type, object]:
    """Business data, the model registry, decisions and their workflow, read back."""
    import_id = uow.credit.add_import(
        kind="sales",
        source="bank",
        trust_level=0.8,
        received_ms=now,
        rows_total=2,
        rows_accepted=1,
        rows_duplicate=0,
        rows_rejected=1,
    )
    uow.credit.add_records(
        [
            dict(
                import_id=import_id,
                enterprise_id=enterprise_id,
                tenant_id=tenant_id,
                kind="loan_outcomes",
                record_key="k",
                dedupe_key="d",
                first_day=1,
                last_day=1,
                data={},
                source="bank",
                trust_level=0.8,
                created_ms=now,
            )
        ]
    )
    uow.credit.add_rejections([dict(import_id=import_id, row_index=1, message="bad", payload="{}", received_ms=now)])
    uow.credit.save_model(version="v1", name="m", body={}, tenant_id=tenant_id, trained_ms=now, metrics={}, training={})
    uow.credit.put_model_state(tenant_id, "v1", state="draft", updated_ms=now)
    uow.credit.put_stability(
        tenant_id=tenant_id, version="v1", day=1, score_psi=0.0, band="stable", rows=1, detail={}, created_ms=now
    )
    decision_id = uow.credit.add_decision(
        enterprise_id=enterprise_id,
        tenant_id=tenant_id,
        product_code="p",
        model_version="v1",
        as_of_day=1,
        features={},
        cross_checks=[],
        decision={},
        score=600.0,
        pd=0.01,
        grade="A",
        approved=True,
        expected_loss_cny="0.00",
        decided_ms=now,
    )
    uow.credit_workflow.add_workflow(
        decision_id=decision_id,
        tenant_id=tenant_id,
        enterprise_id=enterprise_id,
        loan_id=loan_id,
        state="referred",
        outcome="refer",
        created_ms=now,
        updated_ms=now,
    )
    review_id = uow.credit_workflow.add_review(
        decision_id=decision_id,
        tenant_id=tenant_id,
        enterprise_id=enterprise_id,
        kind="override",
        requested_by=user_id,
        requested_role="credit_officer",
        reason="r",
        prior_outcome="refer",
        new_outcome="approve",
        state="pending",
        created_ms=now,
    )
    return {
        rows.BusinessImportRow: uow.credit.get_import(import_id),
        rows.BusinessRecordRow: uow.credit.loan_outcomes(tenant_id)[0],
        rows.BusinessRejectionRow: uow.credit.rejections(import_id)[0],
        rows.CreditModelRow: uow.credit.model("v1"),
        rows.CreditModelSummaryRow: uow.credit.models(tenant_id)[0],
        rows.CreditModelStateRow: uow.credit.model_state(tenant_id, "v1"),
        rows.ModelStabilityRow: uow.credit.stability(tenant_id)[0],
        rows.CreditDecisionRow: uow.credit.decision(decision_id),
        rows.DecisionScoreRow: uow.credit.decisions_of_tenant(tenant_id, "v1", now)[0],
        rows.CreditWorkflowRow: uow.credit_workflow.workflow(decision_id),
        rows.CreditReviewRow: uow.credit_workflow.review(review_id),
    }


def _ledger_rows(uow, now, enterprise_id, device_id, batch_id) -> dict[type, object]:
    """Ledger entries, tree heads, the signing key, products and EPCIS events, read back."""
    uow.ledger.add_entry(0, "batch", "batch:1", enterprise_id, None, "platform", "{}", now)
    uow.ledger.add_tree_head(tree_size=1, root_hash="0" * 64, timestamp_ms=now, signature="s", public_key="k")
    uow.ledger.add_signing_key("tree_head", "k", b"secret", now)
    product_batch_id = uow.ledger.add_product_batch(
        enterprise_id=enterprise_id,
        gtin="06901234567892",
        lot="L1",
        company_prefix_digits=7,
        origin="Farm",
        production_start_ms=now,
        production_end_ms=now,
        created_ms=now,
    )
    uow.ledger.add_products(
        [
            dict(
                batch_id=product_batch_id,
                enterprise_id=enterprise_id,
                gtin="06901234567892",
                serial="1",
                epc="urn:epc:id:sgtin:0690123.456789.1",
                digital_link="https://id.gs1.org/01/06901234567892/21/1",
                issued_ms=now,
                leaf_index=0,
            )
        ]
    )
    product = uow.ledger.product("06901234567892", "1")
    uow.ledger.add_scan(
        product_id=product["id"], gtin="06901234567892", serial="1", scanned_ms=now, client_hash="h", verdict="genuine"
    )
    uow.ledger.add_epcis_event(
        hash_id="ni:///sha-256;x",
        enterprise_id=enterprise_id,
        event_type="ObjectEvent",
        event_time_ms=now,
        record_time_ms=now,
        event="{}",
        leaf_index=0,
    )
    uow.telemetry.add_readings(
        [dict(device_id=device_id, key="counter", ts_ms=now, num=1.0, batch_id=batch_id, received_ms=now)]
    )
    return {
        rows.LedgerEntryRow: uow.ledger.entry(0),
        rows.TreeHeadRow: uow.ledger.latest_tree_head(),
        rows.SigningKeyRow: uow.ledger.signing_key("tree_head"),
        rows.ProductBatchRow: uow.ledger.product_batch(product_batch_id),
        rows.ProductRow: product,
        rows.ProductScanRow: uow.ledger.scans(product["id"])[0],
        rows.EpcisEventRow: uow.ledger.query_epcis_events({}, None, 0, 10)[0],
        rows.CounterReadingRow: uow.ledger.counter_readings(enterprise_id, ["meter"], "counter", now, now)[0],
    }


def _protocol_rows(uow, now, enterprise_id, device_id) -> dict[type, object]:
    """Vendor identities, push platforms and connectivity, read back."""
    uow.protocols.set_alink_identity(device_id, "pk", "dn", "secret", now)
    uow.protocols.add_platform("tb", "secret", now)
    uow.protocols.record_transitions(
        [
            dict(
                device_id=device_id,
                enterprise_id=enterprise_id,
                from_state="unknown",
                to_state="online",
                at_ms=now,
                cause="data",
            )
        ]
    )
    return {
        rows.DeviceCredentialsRow: uow.protocols.device_credentials_state()[0],
        rows.AlinkIdentityRow: uow.protocols.alink_identity_of_device(device_id),
        rows.AlinkDeviceRow: uow.protocols.alink_identity("pk", "dn"),
        rows.PushPlatformRow: uow.protocols.platform_by_name("tb"),
        rows.SweepDeviceRow: uow.protocols.devices_for_sweep()[0],
        rows.ConnectivityTransitionRow: uow.protocols.transitions([device_id], now, now + 1, 10)[0],
    }


def _portfolio_rows(uow, now, tenant_id, enterprise_id, device_id) -> dict[type, object]:
    """A bank's portfolio figures (after _credit_rows made a decision), read back."""
    uow.monitoring.raise_alarm(
        dict(
            scope="platform",
            source=f"enterprise:{enterprise_id}",
            alarm_type="idle",
            rule_id="r2",
            severity="minor",
            status="active",
            enterprise_id=enterprise_id,
            loan_ids=[],
            started_ms=now,
            last_ms=now,
            stored_ms=now,
            detail={},
        )
    )
    uow.conn.execute(
        insert(enterprise_day_indicators).values(
            enterprise_id=enterprise_id, day=1, indicator="x", value=1.0, quality="ok", devices=1, computed_ms=now
        )
    )
    return {
        rows.LatestDecisionRow: uow.portfolio.latest_decisions([enterprise_id], tenant_id)[0],
        rows.DecisionGradeRow: uow.portfolio.decisions_since([enterprise_id], tenant_id, now)[0],
        rows.AlarmCountRow: uow.portfolio.alarm_counts([enterprise_id], tenant_id)[0],
        rows.EnterpriseValueRow: uow.portfolio.enterprise_values([enterprise_id], ["x"], 1, 1)[0],
    }


def _retention_rows(uow, now, tenant_id, enterprise_id, device_id, batch_id) -> dict[type, object]:
    """Retention policies, marks, pruned batches and hourly aggregates, read back."""
    uow.retention.set_policy(tenant_id, 30, 365, now)
    uow.retention.move_marks([enterprise_id], now, 30, now, now)
    uow.conn.execute(insert(pruned_batches).values(batch_id=batch_id, pruned_ms=now))
    uow.conn.execute(
        insert(readings_hourly).values(
            device_id=device_id, key="k", hour_ms=now, n=1, n_num=1, last_ts_ms=now, raw_deleted=False, computed_ms=now
        )
    )
    assert set(uow.retention.marks()[enterprise_id]) == _keys(rows.RetentionMarkRow)
    return {
        rows.RetentionPolicyRow: uow.retention.policies()[0],
        rows.RetentionMarkRow: uow.retention.mark(enterprise_id),
        rows.PrunedBatchRow: uow.retention.pruned_batch(batch_id),
        rows.HourlyReadingRow: uow.retention.hourly([device_id], now, now + 1)[0],
    }


def _indicator_rows(uow, now, enterprise_id, device_id) -> dict[type, object]:
    """Device and enterprise indicator values, peers and the industry index, read back (after _portfolio_rows wrote
    the enterprise's day value of "x")."""
    uow.conn.execute(
        insert(device_day_indicators).values(
            device_id=device_id,
            day=1,
            indicator="x",
            enterprise_id=enterprise_id,
            value=1.0,
            quality="complete",
            points=1,
            computed_ms=now,
        )
    )
    uow.conn.execute(
        insert(enterprise_month_indicators).values(
            enterprise_id=enterprise_id, month=197001, indicator="x", value=1.0, quality="ok", days=1, computed_ms=now
        )
    )
    uow.indicators.put_index(
        "pack", "Region", 1, [dict(indicator="x", enterprises=5, p25=0.5, median=1.0, p75=1.5, mean=1.0)], now
    )
    return {
        rows.IndicatorDeviceRow: uow.indicators.devices([device_id])[0],
        rows.DeviceDayIndicatorRow: uow.indicators.device_days(device_id, 1, 1)[0],
        rows.DeviceDayValueRow: uow.indicators.device_values_of_day(enterprise_id, 1)[0],
        rows.DeviceValueRow: uow.indicators.enterprise_device_values(enterprise_id, 1, 1, ["x"])[0],
        rows.EnterpriseDayIndicatorRow: uow.indicators.enterprise_days(enterprise_id, 1, 1)[0],
        rows.EnterpriseMonthIndicatorRow: uow.indicators.enterprise_months(enterprise_id, 197001, 197001)[0],
        rows.PeerValueRow: uow.indicators.peer_values("pack", "Region", 1, "x", quality="ok")[0],
        rows.IndustryIndexRow: uow.indicators.index("pack", "Region", "x", 1, 1)[0],
    }


def _monitoring_rows(uow, now, tenant_id, enterprise_id, user_id, device_id, loan_id, alarm_id) -> dict[type, object]:
    """Rule overrides, alarm actions, notifications, loan history, pledges and transitions, read back (after
    _protocol_rows recorded a transition)."""
    uow.monitoring.set_override(tenant_id, "*", "r", {"enabled": False}, now, user_id)
    uow.monitoring.add_action(alarm_id, now, None, "raise", "rule")
    channel_id = uow.monitoring.add_channel(
        tenant_id=tenant_id, kind="webhook", target="https://bank.example/hook", min_severity="minor", created_ms=now
    )
    uow.monitoring.add_notifications(
        [
            dict(
                channel_id=channel_id,
                alarm_id=alarm_id,
                event="raised",
                payload={},
                status="pending",
                attempts=0,
                next_attempt_ms=now,
            )
        ]
    )
    uow.monitoring.add_history(
        loan_id=loan_id, at_ms=now, kind="state", from_value="active", to_value="watch", action="watch", reason="r"
    )
    uow.monitoring.add_items(
        [
            dict(
                identity="serial:1",
                tenant_id=tenant_id,
                loan_id=loan_id,
                enterprise_id=enterprise_id,
                sku="steel",
                quantity=Decimal("1.000"),
                unit="t",
                haircut=Decimal("0.1000"),
                pledged_ms=now,
            )
        ]
    )
    uow.monitoring.add_zone(loan_id=loan_id, zone_id="z1", polygon=[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], created_ms=now)
    return {
        rows.RuleOverrideRow: uow.monitoring.overrides(tenant_id)[0],
        rows.DevicePlaceRow: uow.monitoring.device_places([device_id])[device_id],
        rows.AlarmActionRow: uow.monitoring.actions(alarm_id)[0],
        rows.NotificationChannelRow: uow.monitoring.channels([tenant_id])[0],
        rows.NotificationRow: uow.monitoring.notifications_for(alarm_id)[0],
        rows.DueNotificationRow: uow.monitoring.due_notifications(now, 10)[0],
        rows.LoanHistoryRow: uow.monitoring.history(loan_id)[0],
        rows.DeviceTransitionRow: uow.monitoring.transitions_after(0, 10)[0],
        rows.CollateralItemRow: uow.monitoring.items(loan_id)[0],
        rows.PledgeZoneRow: uow.monitoring.zones([loan_id])[0],
    }
