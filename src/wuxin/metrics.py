"""Prometheus metrics of one process: points accepted, rejected by reason, quarantined, by channel (http, mqtt,
jt808, platform push, import); JT/T 808 registrations and logins; request and database latency; the database
pool; sweep and daily-job durations and last success; the ledger's size and last signed head.

Every name is listed in deploy/grafana/wuxin.json's queries; tests/integration/test_metrics_health.py checks each
one exists in a running app's exposition."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

Result = TypeVar("Result")

# Seconds: a request or a query is ms to s; a sweep or a daily job s to minutes.
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS_S = (0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.points_accepted = Counter(
            "wuxin_points_accepted", "Telemetry points and events stored", ["channel"], registry=self.registry
        )
        self.points_rejected = Counter(
            "wuxin_points_rejected",
            "Telemetry points refused, by reason",
            ["channel", "reason"],
            registry=self.registry,
        )
        self.quarantined = Counter(
            "wuxin_quarantined", "Entries written to the quarantine", ["reason"], registry=self.registry
        )
        self.jt808_registrations = Counter(
            "wuxin_jt808_registrations",
            "JT/T 808 registrations (0x0100) by outcome: enrolled or why refused",
            ["outcome"],
            registry=self.registry,
        )
        self.commands = Counter(
            "wuxin_commands",
            "Steps of commands to devices by operation and step (request, approve, send, acknowledge, "
            "fail, expire ...)",
            ["operation", "step"],
            registry=self.registry,
        )
        self.jt808_authentications = Counter(
            "wuxin_jt808_authentications",
            "JT/T 808 authentications (0x0102) by outcome: authenticated or why refused",
            ["outcome"],
            registry=self.registry,
        )
        self.unauthenticated = Counter(
            "wuxin_unauthenticated_requests",
            "Device-facing requests refused as unauthenticated, by channel and reason",
            ["channel", "reason"],
            registry=self.registry,
        )
        self.unauthenticated_bytes = Counter(
            "wuxin_unauthenticated_bytes",
            "Bytes of unauthenticated bodies (only a bounded prefix of each is kept)",
            ["channel"],
            registry=self.registry,
        )
        self.quarantine_dropped_bytes = Counter(
            "wuxin_quarantine_dropped_bytes",
            "Bytes of rejected lines and payloads not kept in the quarantine (beyond "
            "rejected_keep_bytes per request; their sha256 and length are kept)",
            ["channel"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "wuxin_rate_limited",
            "Requests answered 429 because their source failed authentication too often",
            ["channel"],
            registry=self.registry,
        )

        self.channel_quarantined = Counter(
            "wuxin_channel_quarantined",
            "Entries written to the quarantine, by channel",
            ["channel"],
            registry=self.registry,
        )
        self.channel_last_accepted = Gauge(
            "wuxin_channel_last_accepted_timestamp_seconds",
            "When the channel last stored data (Unix s); its lag is time() minus this",
            ["channel"],
            registry=self.registry,
        )
        self.model_stability_psi_max = Gauge(  # no tenant label: /metrics names no tenant (security.md)
            "wuxin_model_stability_psi_max",
            "Largest daily PSI over the tenants' active credit models (score grade mix, "
            "recent decisions against the training sample) at the last daily run; above 0.25 a population has shifted",
            registry=self.registry,
        )
        self.model_stability_shifted_tenants = Gauge(
            "wuxin_model_stability_shifted_tenants",
            "Tenants whose active credit model had a daily PSI above 0.25 at the "
            "last daily run (which ones: GET /api/v1/credit/model-stability, per bank)",
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "wuxin_request_duration_seconds",
            "HTTP request latency by route template (never the raw path)",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.db_query_seconds = Histogram(
            "wuxin_db_query_duration_seconds",
            "Database statement latency by statement kind (select, insert, ...)",
            ["operation"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.db_pool_checked_out = Gauge(
            "wuxin_db_pool_checked_out", "Database connections in use from this process's pool", registry=self.registry
        )
        self.job_seconds = Histogram(
            "wuxin_job_duration_seconds",
            "Duration of background jobs: monitoring sweep, notification delivery, "
            "daily evaluation, tree-head publication, maintenance, indicators",
            ["job"],
            buckets=JOB_BUCKETS_S,
            registry=self.registry,
        )
        self.job_last_success = Gauge(
            "wuxin_job_last_success_timestamp_seconds",
            "When the job last finished without error (Unix s)",
            ["job"],
            registry=self.registry,
        )
        self.job_failures = Counter(
            "wuxin_job_failures", "Background job runs that raised", ["job"], registry=self.registry
        )
        self.indicators_backlog = Gauge(
            "wuxin_indicators_backlog_device_days",
            "Dirty device-days waiting for the indicators job (after its last run)",
            registry=self.registry,
        )
        self.telemetry_partitions = Gauge(
            "wuxin_telemetry_partitions",
            "Partitions of the readings table (PostgreSQL; the DEFAULT one included), "
            "at start and after each maintenance run",
            registry=self.registry,
        )
        self.hourly_rows_written = Counter(
            "wuxin_telemetry_hourly_rows_written",
            "Hourly aggregate rows written by maintenance (downsampling)",
            registry=self.registry,
        )
        self.readings_deleted = Counter(
            "wuxin_telemetry_readings_deleted",
            "Raw readings deleted row by row by retention (dropped partitions not counted here)",
            registry=self.registry,
        )
        self.partitions_dropped = Counter(
            "wuxin_telemetry_partitions_dropped",
            "Month partitions of readings dropped by retention",
            registry=self.registry,
        )
        self.ledger_size = Gauge(
            "wuxin_ledger_tree_size", "Leaves in the evidence log at the last signed tree head", registry=self.registry
        )
        self.ledger_last_head = Gauge(
            "wuxin_ledger_last_head_timestamp_seconds",
            "When the last tree head was signed (Unix s)",
            registry=self.registry,
        )

    def accepted(self, channel: str, count: int) -> None:
        """`count` points or events of `channel` stored now."""
        self.points_accepted.labels(channel).inc(count)
        self.channel_last_accepted.labels(channel).set_to_current_time()

    def rejected(self, channel: str, reason: str) -> None:
        """One line or payload of `channel` refused for `reason` and kept in the quarantine."""
        self.points_rejected.labels(channel, reason).inc()
        self.quarantine_entry(channel, reason)

    def quarantine_entry(self, channel: str, reason: str) -> None:
        self.quarantined.labels(reason).inc()
        self.channel_quarantined.labels(channel).inc()

    def timed_job(self, job: str, run: Callable[[], Result]) -> Result:
        """Run a background job, observing its duration and, when it returns, its last success."""
        started = time.perf_counter()
        try:
            result = run()
        except BaseException:
            self.job_failures.labels(job).inc()
            raise
        finally:
            self.job_seconds.labels(job).observe(time.perf_counter() - started)
        self.job_last_success.labels(job).set_to_current_time()
        return result

    def signed_head(self, tree_size: int, timestamp_ms: int) -> None:
        self.ledger_size.set(tree_size)
        self.ledger_last_head.set(timestamp_ms / 1000)

    def watch_pool(self, checked_out: Callable[[], int]) -> None:
        self.db_pool_checked_out.set_function(checked_out)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
