"""Data lifecycle of telemetry: the maintenance job (`wuxin db maintain`, hourly inside `wuxin serve`).

1. PostgreSQL: month partitions of `readings` exist from the current month to `partition_months_ahead` ahead,
   and rows waiting in the DEFAULT partition get their month's partition.
2. Hourly aggregates (count, min, max, sum, last) of closed hours, from a watermark, idempotent.
3. Retention. Each enterprise's raw readings are kept as long as the longest policy of the tenants holding a
   live consent from it (a tenant's own row in retention_policies, else the settings' defaults); an enterprise
   no tenant reads keeps the defaults. Whole month partitions go (DROP TABLE) when every enterprise's cutoff has
   passed their end; younger rows are deleted per enterprise. Before any raw reading goes, its hour is
   aggregated in the same transaction, and its batch is noted so that a proof of it answers 410 Gone.
   Hourly aggregates go after their own, longer, time. Nothing else is touched: daily indicators, ledger
   entries, alarms, events, the quarantine stay.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wuxin.bootstrap import Platform
from wuxin.errors import InvalidInput, NotFound
from wuxin.indicators.days import DAY_MS, HOUR_MS
from wuxin.store import partitions as parts
from wuxin.store.rows import PrunedBatchRow, RetentionMarkRow

log = logging.getLogger(__name__)

MIN_RAW_DAYS = 31  # the daily rules read 7 days of raw history and catch up 7 days
SETTLE_MS = 10 * 60_000  # an hour is aggregated once it ended this long ago (device buffers, network)
MAX_DOWNSAMPLE_DAYS = 31  # per run: a first run over years of history catches up over several runs
WATERMARK = "downsampled_until_ms"
LAST_SUCCESS = "maintenance_last_success_ms"


@dataclass(frozen=True)
class Policy:
    raw_days: int
    hourly_days: int


def default_policy(platform: Platform) -> Policy:
    return Policy(platform.settings.raw_retention_days, platform.settings.hourly_retention_days)


def effective_policies(
    default: Policy, overrides: dict[int, Policy], consents: list[tuple[int, int]], enterprise_ids: list[int]
) -> dict[int, Policy]:
    """Per enterprise: the longest policy among the tenants with a live consent from it (default if none)."""
    tenants: dict[int, set[int]] = defaultdict(set)
    for enterprise_id, tenant_id in consents:
        tenants[enterprise_id].add(tenant_id)
    result = {}
    for enterprise_id in enterprise_ids:
        policies = [overrides.get(t, default) for t in tenants[enterprise_id]] or [default]
        result[enterprise_id] = Policy(max(p.raw_days for p in policies), max(p.hourly_days for p in policies))
    return result


def cutoff_ms(now_ms: int, days: int) -> int:
    """Start of the UTC day `days` before now: readings before it are past their time (hour-aligned)."""
    return (now_ms - days * DAY_MS) // DAY_MS * DAY_MS


def day_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


# ---- policies (platform admin, through the CLI) -------------------------------------------------------------


def check_policy(raw_days: int, hourly_days: int) -> Policy:
    if raw_days < MIN_RAW_DAYS:
        raise InvalidInput(
            f"raw_days {raw_days} is under {MIN_RAW_DAYS}: the daily rules read a week of raw "
            f"history and catch up a week"
        )
    if hourly_days < raw_days:
        raise InvalidInput(f"hourly_days {hourly_days} is under raw_days {raw_days}: aggregates outlive the readings")
    return Policy(raw_days, hourly_days)


def set_policy(platform: Platform, tenant_id: int, raw_days: int, hourly_days: int) -> Policy:
    policy = check_policy(raw_days, hourly_days)
    with platform.uow() as uow:
        if not uow.identity.tenant(tenant_id):
            raise NotFound(f"tenant {tenant_id} does not exist")
        uow.retention.set_policy(tenant_id, raw_days, hourly_days, platform.clock_ms())
        uow.logs.audit(
            platform.clock_ms(),
            None,
            "retention.policy.set",
            f"tenant:{tenant_id}",
            {"raw_days": raw_days, "hourly_days": hourly_days},
        )
        uow.commit()
    return policy


def clear_policy(platform: Platform, tenant_id: int) -> None:
    with platform.uow() as uow:
        if not uow.retention.delete_policy(tenant_id):
            raise NotFound(f"tenant {tenant_id} has no retention policy of its own")
        uow.logs.audit(platform.clock_ms(), None, "retention.policy.clear", f"tenant:{tenant_id}", {})
        uow.commit()


def list_policies(platform: Platform) -> dict[str, Any]:
    with platform.uow() as uow:
        rows = uow.retention.policies()
    default = default_policy(platform)
    return {
        "default": {"raw_days": default.raw_days, "hourly_days": default.hourly_days},
        "tenants": [
            {"tenant_id": r["tenant_id"], "raw_days": r["raw_days"], "hourly_days": r["hourly_days"]} for r in rows
        ],
    }


# ---- the job ---------------------------------------------------------------------------------------------------


def maintain(platform: Platform) -> dict[str, Any]:
    """One maintenance run (see the module docstring); returns what it did. Duration and last success in /metrics."""
    return platform.metrics.timed_job("maintenance", lambda: _maintain(platform))


def _maintain(platform: Platform) -> dict[str, Any]:
    now_ms = platform.clock_ms()
    created = ensure_partitions(platform, now_ms)
    report = apply_retention(platform, now_ms)  # aggregates what it deletes itself
    written, until = downsample_closed_hours(platform, now_ms)
    with platform.uow() as uow:
        uow.retention.set_state(LAST_SUCCESS, now_ms)
        count = len(uow.retention.partitions())
        uow.commit()
    report |= {
        "partitions": count,
        "partitions_created": created,
        "hourly_rows_written": written,
        "downsampled_until_ms": until,
    }
    metrics = platform.metrics
    metrics.telemetry_partitions.set(count)
    metrics.hourly_rows_written.inc(written)
    metrics.readings_deleted.inc(report["readings_deleted"])
    metrics.partitions_dropped.inc(len(report["partitions_dropped"]))
    return report


def partition_count(platform: Platform) -> int:
    with platform.uow() as uow:
        return len(uow.retention.partitions())


def ensure_partitions(platform: Platform, now_ms: int) -> list[str]:
    """PostgreSQL: the month partitions from now to the months ahead, and those of rows in the DEFAULT partition."""
    with platform.uow() as uow:
        if not uow.retention.partitioned():
            return []
        uow.retention.lock_partitions()
        year, month = parts.month_of(now_ms)
        months = {parts.next_month(year, month, step) for step in range(platform.settings.partition_months_ahead + 1)}
        months |= set(uow.retention.months_in_default())
        created = [name for y, m in sorted(months) if (name := uow.retention.ensure_month(y, m))]
        uow.commit()
    return created


def downsample_closed_hours(platform: Platform, now_ms: int) -> tuple[int, int | None]:
    """Aggregate the hours from the watermark (or the oldest reading left, if later) to the last closed one, a day
    per transaction, at most MAX_DOWNSAMPLE_DAYS a run. Returns the hourly rows written and the new watermark."""
    closed_until = (now_ms - SETTLE_MS) // HOUR_MS * HOUR_MS
    with platform.uow() as uow:
        watermark, oldest = uow.retention.state(WATERMARK), uow.retention.oldest_reading_ms()
    if oldest is None:
        return 0, watermark
    start = max(watermark or 0, oldest // HOUR_MS * HOUR_MS)
    written, lo = 0, start
    end = min(closed_until, start + MAX_DOWNSAMPLE_DAYS * DAY_MS)
    while lo < end:
        hi = min(lo + DAY_MS, end)
        with platform.uow() as uow:
            written += uow.retention.downsample(lo, hi, now_ms)
            uow.retention.set_state(WATERMARK, hi)
            uow.commit()
        lo = hi
    return written, max(lo, start)


def apply_retention(platform: Platform, now_ms: int) -> dict[str, Any]:
    default = default_policy(platform)
    with platform.uow() as uow:
        overrides = {r["tenant_id"]: Policy(r["raw_days"], r["hourly_days"]) for r in uow.retention.policies()}
        policies = effective_policies(
            default, overrides, uow.retention.live_consent_tenants(now_ms), uow.retention.enterprise_ids()
        )
    cuts = {
        e: (cutoff_ms(now_ms, p.raw_days), cutoff_ms(now_ms, p.hourly_days), p.raw_days) for e, p in policies.items()
    }
    every_cut = min((c[0] for c in cuts.values()), default=cutoff_ms(now_ms, default.raw_days))
    dropped = drop_old_partitions(platform, every_cut, now_ms)
    groups: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for enterprise_id, cut in cuts.items():
        groups[cut].append(enterprise_id)
    deleted = hourly_deleted = 0
    for (raw_before, hourly_before, raw_days), enterprise_ids in sorted(groups.items()):
        with platform.uow() as uow:
            uow.retention.downsample(0, raw_before, now_ms, enterprise_ids, sealing=True)
            uow.retention.note_pruned_batches(None, raw_before, now_ms, enterprise_ids)
            deleted += uow.retention.delete_readings(raw_before, enterprise_ids)
            hourly_deleted += uow.retention.delete_hourly(hourly_before, enterprise_ids)
            uow.retention.move_marks(enterprise_ids, raw_before, raw_days, hourly_before, now_ms)
            uow.commit()
    return {
        "partitions_dropped": dropped,
        "readings_deleted": deleted,
        "hourly_rows_deleted": hourly_deleted,
        "enterprises": len(cuts),
        "policies_in_force": len(groups),
    }


def drop_old_partitions(platform: Platform, before_ms: int, now_ms: int) -> list[str]:
    """PostgreSQL: drop each month partition that ends by `before_ms`, after aggregating its hours and noting
    its batches, each in its own transaction."""
    dropped = []
    with platform.uow() as uow:
        old = [  # month partitions: the DEFAULT one has no bounds and is never dropped
            (p, p.lo_ms, p.hi_ms)
            for p in uow.retention.partitions()
            if p.lo_ms is not None and p.hi_ms is not None and p.hi_ms <= before_ms
        ]
    for partition, lo_ms, hi_ms in old:
        with platform.uow() as uow:
            uow.retention.lock_partitions()
            if partition not in uow.retention.partitions():  # another run dropped it meanwhile
                continue
            uow.retention.downsample(lo_ms, hi_ms, now_ms, sealing=True)
            uow.retention.note_pruned_batches(lo_ms, hi_ms, now_ms)
            uow.retention.drop_partition(partition)
            uow.commit()
        log.info("dropped partition %s (readings before %s)", partition.name, day_iso(hi_ms))
        dropped.append(partition.name)
    return dropped


# ---- what a proof of deleted readings answers ------------------------------------------------------------------


def gone_message(device_key: str, batch_id: int, pruned: PrunedBatchRow, mark: RetentionMarkRow | None) -> str:
    kept = (
        (
            f"; its enterprise's raw readings are kept {mark['raw_days']} days, those before "
            f"{day_iso(mark['raw_before_ms'])} are deleted"
        )
        if mark
        else ""
    )
    return (
        f"readings of batch {batch_id} were deleted by the retention policy on {day_iso(pruned['pruned_ms'])}"
        f"{kept}: the points of device {device_key!r} in it can no longer be recomputed; the batch's ledger entry "
        f"stays in the log and still verifies, and hourly aggregates remain"
    )
