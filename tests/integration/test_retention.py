"""Telemetry lifecycle (services.retention): month partitions on PostgreSQL, hourly aggregates, retention per
tenant. Old raw readings go (whole partitions dropped on PostgreSQL, rows deleted elsewhere) while daily
indicators, the ledger, alarms and events stay; a proof of a deleted reading answers 410 Gone."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from tests.conftest import PG_URL, T0_MS
from tests.world import build_world, login
from wuxin.alerts.engine import Signal
from wuxin.cli.main import app as cli
from wuxin.config import get_settings
from wuxin.domain.model import Role
from wuxin.errors import Gone
from wuxin.indicators.days import HOUR_MS, local_day
from wuxin.security.policy import Principal
from wuxin.services.bootstrap import default_rules
from wuxin.services.evidence import ledger
from wuxin.services.evidence.ledger_access import telemetry_proof
from wuxin.services.indicators import update_indicators
from wuxin.services.ingest import retention
from wuxin.services.ingest.telemetry import ingest_lines
from wuxin.services.monitoring import alarms as monitoring
from wuxin.services.monitoring import rule_cache
from wuxin.store.admin import recreate_postgres_database
from wuxin.store.db import make_engine
from wuxin.store.migrate import upgrade

KEPT_TABLES = (
    "device_day_indicators",
    "enterprise_day_indicators",
    "ledger_entries",
    "ledger_nodes",
    "alarms",
    "events",
    "quarantine",
    "batches",
)


def _ms(year: int, month: int, day: int = 1) -> int:
    return int(datetime(year, month, day, tzinfo=UTC).timestamp() * 1000)


def _months(first: tuple[int, int], last: tuple[int, int]):
    year, month = first
    while (year, month) <= last:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _lines(device: str, key: str, lo_ms: int, hi_ms: int) -> list[dict]:
    """Three readings 10 min apart every 8 hours, values varying so min, max, sum and last differ."""
    lines, i = [], 0
    for start in range(lo_ms, min(hi_ms, T0_MS - HOUR_MS), 8 * HOUR_MS):
        for offset in (0, 600_000, 1_200_000):
            lines.append({"device": device, "ts": start + offset, "values": {key: float((i * 7) % 23) + 0.5}})
            i += 1
    return lines


def _expected_hours(lines: list[dict], key: str) -> dict[int, tuple]:
    hours = defaultdict(list)
    for line in lines:
        hours[line["ts"] - line["ts"] % HOUR_MS].append((line["ts"], line["values"][key]))
    return {
        h: (len(v), min(x for _, x in v), max(x for _, x in v), sum(x for _, x in v), max(v)[1])
        for h, v in hours.items()
    }


def _count(platform, table: str, where: str = "") -> int:
    with platform.engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT count(*) FROM {table} {where}").scalar()


def _partition_names(platform) -> set[str]:
    with platform.engine.connect() as conn:
        return set(
            conn.exec_driver_sql(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'readings'::regclass"
            ).scalars()
        )


@pytest.fixture
def history(platform):
    """Defaults raw 90 / hourly 400 days. The bank (consented by the factory) keeps raw 200 / hourly 500 days;
    the fleet has no consent: the defaults. Monthly batches from 2025-07 to now (2026-09-21) for one device each."""
    platform.settings = platform.settings.model_copy(update={"raw_retention_days": 90, "hourly_retention_days": 400})
    world = build_world(platform)
    retention.set_policy(platform, world.bank, 200, 500)
    batches, lines = {}, {"loom-01": [], "truck-01": []}
    for device, key in (("loom-01", "current_a"), ("truck-01", "speed_kmh")):
        for year, month in _months((2025, 7), (2026, 9)):
            next_start = _ms(year + 1, 1) if month == 12 else _ms(year, month + 1)
            chunk = _lines(device, key, _ms(year, month), next_start)
            result = ingest_lines(platform, chunk, "bulk")
            assert not result.rejections, result.rejections[:2]
            batches[(device, year, month)] = result.batch_id
            lines[device] += chunk
    old = _ms(2025, 8, 2)
    assert (
        ingest_lines(platform, [{"device": "loom-01", "ts": old, "event": "reboot", "params": {}}], "bulk").events == 1
    )
    assert ingest_lines(platform, [{"device": "loom-01", "ts": old, "values": {"no_such_key": 1}}], "bulk").rejections
    update_indicators(platform)
    rule = next(r for r in default_rules().values() if r.applies_to("manufacturing.current_bracelet"))
    with platform.uow() as uow:
        device = uow.devices.by_key("loom-01")
        monitoring.raise_alarm(
            uow,
            Signal(
                "raise",
                rule_cache.PLATFORM_SCOPE,
                rule,
                f"device:{device['id']}",
                world.factory,
                _ms(2025, 8, 3),
                {"current_a": 0.0},
                device["id"],
            ),
            T0_MS,
        )
        uow.commit()
    ledger.publish_tree_head(platform)
    return world, batches, lines


def test_old_raw_readings_go_by_each_enterprise_policy_and_nothing_else_is_touched(platform, history):
    world, batches, lines = history
    factory_cut, fleet_cut = retention.cutoff_ms(T0_MS, 200), retention.cutoff_ms(T0_MS, 90)
    fleet_hourly_cut = retention.cutoff_ms(T0_MS, 400)
    assert (factory_cut, fleet_cut) == (_ms(2026, 3, 5), _ms(2026, 6, 23))
    kept_before = {t: _count(platform, t) for t in KEPT_TABLES}
    assert min(kept_before.values()) > 0
    newer_before = _count(platform, "readings", f"WHERE ts_ms >= {factory_cut}")
    postgres = platform.engine.dialect.name == "postgresql"
    if postgres:  # the migration made partitions for the current month and 3 ahead; the test's months wait in DEFAULT
        assert "readings_default" in _partition_names(platform)

    report = retention.maintain(platform)

    with platform.uow() as uow:
        loom, truck = uow.devices.by_key("loom-01")["id"], uow.devices.by_key("truck-01")["id"]
    oldest = {
        d: _count(platform, "readings", f"WHERE device_id = {d} AND ts_ms < {cut}")
        for d, cut in ((loom, factory_cut), (truck, fleet_cut))
    }
    assert oldest == {loom: 0, truck: 0}
    assert _count(platform, "readings", f"WHERE device_id = {truck} AND ts_ms >= {fleet_cut}") == sum(
        1 for line in lines["truck-01"] if line["ts"] >= fleet_cut
    )
    assert _count(platform, "readings", f"WHERE device_id = {loom} AND ts_ms >= {factory_cut}") == sum(
        1 for line in lines["loom-01"] if line["ts"] >= factory_cut
    )
    assert (
        _count(platform, "readings", f"WHERE ts_ms >= {fleet_cut}")
        == sum(1 for d in lines.values() for line in d if line["ts"] >= fleet_cut)
        < newer_before
    )
    if postgres:
        names = _partition_names(platform)
        gone = {f"readings_p{y:04d}{m:02d}" for y, m in _months((2025, 7), (2026, 2))}
        assert set(report["partitions_dropped"]) == gone and not gone & names
        assert {"readings_p202603", "readings_p202609", "readings_p202612", "readings_default"} <= names
        assert report["partitions"] == len(names)
    else:
        assert report["partitions_dropped"] == [] and report["partitions"] == 0

    # hourly aggregates of the deleted period are exact; the fleet's older than its 400 days are gone too
    for device, key, device_id, cut, hourly_cut in (
        ("loom-01", "current_a", loom, factory_cut, 0),
        ("truck-01", "speed_kmh", truck, fleet_cut, fleet_hourly_cut),
    ):
        expected = {h: v for h, v in _expected_hours(lines[device], key).items() if hourly_cut <= h < cut}
        with platform.uow() as uow:
            rows = uow.retention.hourly([device_id], 0, cut)
        assert {
            r["hour_ms"]: (r["n"], r["num_min"], r["num_max"], pytest.approx(r["num_sum"]), r["last_num"]) for r in rows
        } == expected
        assert all(r["raw_deleted"] for r in rows) and len(rows) > 100
    assert _count(platform, "readings_hourly", f"WHERE device_id = {truck} AND hour_ms < {fleet_hourly_cut}") == 0

    assert {t: _count(platform, t) for t in KEPT_TABLES} == kept_before
    assert ledger.verify_log(platform)["verified_tree_size"] == kept_before["ledger_entries"]

    again = retention.maintain(platform)  # idempotent
    assert (again["partitions_dropped"], again["readings_deleted"], again["partitions_created"]) == ([], 0, [])

    exposition = platform.metrics.exposition().decode()
    assert f"wuxin_telemetry_partitions {float(again['partitions'])}" in exposition
    assert 'wuxin_job_last_success_timestamp_seconds{job="maintenance"}' in exposition
    assert "wuxin_telemetry_hourly_rows_written_total" in exposition


def test_a_rerun_leaves_the_aggregates_as_they_are_and_late_readings_are_merged(platform, history):
    world, batches, lines = history
    retention.maintain(platform)
    factory_cut = retention.cutoff_ms(T0_MS, 200)
    with platform.uow() as uow:
        loom = uow.devices.by_key("loom-01")["id"]
        first = uow.retention.hourly([loom], 0, factory_cut)
    retention.maintain(platform)
    with platform.uow() as uow:
        assert [dict(r, computed_ms=0) for r in uow.retention.hourly([loom], 0, factory_cut)] == [
            dict(r, computed_ms=0) for r in first
        ]
    hour = first[10]
    late = hour["hour_ms"] + 3_599_000  # later in the same hour than any stored, a new maximum
    day_values = (
        f"SELECT day, indicator, value, quality, points FROM device_day_indicators WHERE device_id = {loom} "
        f"AND day = {local_day(late)} ORDER BY indicator"
    )
    with platform.engine.connect() as conn:
        indicators_before = conn.exec_driver_sql(day_values).all()
    assert not ingest_lines(
        platform, [{"device": "loom-01", "ts": late, "values": {"current_a": 99.0}}], "bulk"
    ).rejections
    assert _count(platform, "indicator_dirty") == 1
    update_indicators(platform)  # the day's raw readings are gone: its values stay as computed from all of them
    with platform.engine.connect() as conn:
        assert conn.exec_driver_sql(day_values).all() == indicators_before and indicators_before
    assert _count(platform, "indicator_dirty") == 0
    report = retention.maintain(platform)
    with platform.uow() as uow:
        [merged] = uow.retention.hourly([loom], hour["hour_ms"], hour["hour_ms"] + 1)
    assert (merged["n"], merged["num_max"], merged["last_num"], merged["last_ts_ms"]) == (
        hour["n"] + 1,
        99.0,
        99.0,
        late,
    )
    assert merged["num_min"] == hour["num_min"] and merged["num_sum"] == pytest.approx(hour["num_sum"] + 99.0)
    assert _count(platform, "readings", f"WHERE ts_ms = {late}") == 0
    if platform.engine.dialect.name == "postgresql":  # it waited in DEFAULT, got its month's partition, which went
        month = datetime.fromtimestamp(late / 1000, tz=UTC).strftime("readings_p%Y%m")
        assert report["partitions_created"] == report["partitions_dropped"] == [month]


def test_an_insert_far_ahead_lands_in_the_default_partition_and_gets_its_month(platform, history):
    far = _ms(2040, 5, 17)
    with platform.engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO readings VALUES (1, 'current_a', {far}, 1.5, NULL, 1, {T0_MS})")
    assert _count(platform, "readings", f"WHERE ts_ms = {far}") == 1
    if platform.engine.dialect.name == "postgresql":
        assert _count(platform, "readings_default", f"WHERE ts_ms = {far}") == 1
        report = retention.maintain(platform)
        assert "readings_p204005" in report["partitions_created"]
        assert (
            _count(platform, "readings_p204005") == 1
            and _count(platform, "readings_default", f"WHERE ts_ms = {far}") == 0
        )


def test_a_proof_of_deleted_readings_answers_410_with_the_policy_and_intact_ones_still_verify(platform, live, history):
    world, batches, lines = history
    retention.maintain(platform)
    officer = login(live.client, "officer")
    url = "/api/v1/ledger/telemetry/batches/{}/devices/loom-01/proof"
    gone = live.client.get(url.format(batches[("loom-01", 2025, 8)]), headers=officer)
    assert gone.status_code == 410, gone.text
    assert gone.json()["error"] == "gone" and "kept 200 days" in gone.json()["message"]
    assert "2026-03-05" in gone.json()["message"]
    straddling = live.client.get(url.format(batches[("loom-01", 2026, 3)]), headers=officer)  # part deleted
    assert straddling.status_code == 410, straddling.text
    intact = live.client.get(url.format(batches[("loom-01", 2026, 9)]), headers=officer)
    assert intact.status_code == 200 and intact.json()["points"]["in_leaf"] is True
    for username in ("other", "fleetowner"):  # no consent, another enterprise: still as missing, never "gone"
        assert (
            live.client.get(url.format(batches[("loom-01", 2025, 8)]), headers=login(live.client, username)).status_code
            == 404
        )
    with pytest.raises(Gone):
        with platform.uow() as uow:
            owner = uow.identity.user_by_username("owner")
        telemetry_proof(
            platform,
            Principal(owner["id"], "owner", Role.ENTERPRISE_USER, None, world.factory),
            batches[("loom-01", 2025, 9)],
            "loom-01",
        )


def test_policies_are_refused_below_the_floor_or_for_unknown_tenants(platform):
    world = build_world(platform)
    with pytest.raises(Exception, match="under 31"):
        retention.set_policy(platform, world.bank, 30, 400)
    with pytest.raises(Exception, match="aggregates outlive"):
        retention.set_policy(platform, world.bank, 100, 99)
    with pytest.raises(Exception, match="tenant 999 does not exist"):
        retention.set_policy(platform, 999, 100, 400)
    retention.set_policy(platform, world.bank, 100, 400)
    assert retention.list_policies(platform)["tenants"] == [
        {"tenant_id": world.bank, "raw_days": 100, "hourly_days": 400}
    ]


def test_cli_sets_a_tenant_policy_and_runs_maintenance(platform, monkeypatch):
    world = build_world(platform)
    monkeypatch.setenv("WUXIN_DATABASE_URL", platform.settings.database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        refused = runner.invoke(
            cli, ["db", "retention", "set", str(world.bank), "--raw-days", "7", "--hourly-days", "400"]
        )
        assert refused.exit_code == 2 and "raw_days 7 is under 31" in refused.output
        done = runner.invoke(
            cli, ["db", "retention", "set", str(world.bank), "--raw-days", "62", "--hourly-days", "400"]
        )
        assert done.exit_code == 0, done.output
        shown = runner.invoke(cli, ["db", "retention", "show"])
        assert f'"tenant_id": {world.bank}, "raw_days": 62' in shown.output
        maintained = runner.invoke(cli, ["db", "maintain"])
        assert maintained.exit_code == 0 and '"readings_deleted": 0' in maintained.output, maintained.output
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_migration_converts_a_readings_table_that_holds_rows(backend, tmp_path):
    url = f"sqlite:///{tmp_path}/old.db" if backend == "sqlite" else PG_URL + "_partition_migration"
    if backend == "postgresql":
        recreate_postgres_database(url)
    upgrade(url, "0010")
    rows = [(d, "current_a", _ms(2024, m, 3) + d * 1000, float(m), None, 1, T0_MS) for d in (1, 2) for m in (1, 6, 11)]
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for row in rows:
                conn.exec_driver_sql(
                    "INSERT INTO readings VALUES (%s)" % ", ".join("NULL" if v is None else repr(v) for v in row)
                )
        upgrade(url)
        with engine.begin() as conn:
            stored = sorted(
                tuple(r)
                for r in conn.exec_driver_sql(
                    "SELECT device_id, key, ts_ms, num, txt, batch_id, received_ms FROM readings"
                )
            )
            assert stored == sorted(rows)
            resent = (
                "INSERT INTO readings VALUES (1, 'current_a', %d, 9.0, NULL, 2, 0) ON CONFLICT DO NOTHING" % rows[0][2]
            )
            assert conn.exec_driver_sql(resent).rowcount == 0  # the key still holds across partitions
            if backend == "postgresql":
                names = set(
                    conn.exec_driver_sql(
                        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                        "WHERE i.inhparent = 'readings'::regclass"
                    ).scalars()
                )
                assert {"readings_p202401", "readings_p202406", "readings_p202411", "readings_default"} <= names
                assert conn.exec_driver_sql("SELECT count(*) FROM readings_p202406").scalar() == 2
                assert conn.exec_driver_sql("SELECT count(*) FROM readings_default").scalar() == 0
    finally:
        engine.dispose()
