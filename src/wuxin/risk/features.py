"""Credit features of one enterprise, from its daily indicators, its devices and its statements (pure).

The platform builds `EvidenceInputs` from the database (services/credit/assessment.py); the credit bench builds
them straight from simulated daily indicators (sim/finance.py). Both call `evidence_features` and
`statement_features`, so a model is trained and scored on the same definitions.

Absent is never zero: a feature that cannot be computed (too few days, no peers, no statement) is
None, and the scorecard puts it in its "missing" bin.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wuxin.risk.scorecard import FeatureSpec

RECENT_DAYS = 90  # "now": the last quarter
TREND_DAYS = 180  # the trend and volatility look at half a year
MIN_KNOWN_DAYS = 20  # fewer known days than this in a window: the feature is unknown
INDEX_SHARE_FOR_RELATIVE = 0.8  # the index must be known on this share of the firm's days to read volatility against it
SOURCE_MODES = ("bank_installed", "third_party_platform", "enterprise_shared")


@dataclass(frozen=True)
class DailySeries:
    """One indicator's enterprise values by local day; NaN is unknown, `complete` marks full-quality days."""

    days: np.ndarray
    values: np.ndarray
    complete: np.ndarray

    @classmethod
    def of(
        cls,
        days: Sequence[int] | np.ndarray,
        values: Sequence[float | None] | np.ndarray,
        complete: Sequence[bool] | np.ndarray | None = None,
    ) -> DailySeries:
        """From days (any order, each once) and values (None or NaN unknown); complete defaults to known."""
        numbers = np.asarray(
            values if isinstance(values, np.ndarray) else [np.nan if v is None else v for v in values], dtype=float
        )
        flags = np.isfinite(numbers) if complete is None else np.asarray(complete, dtype=bool) & np.isfinite(numbers)
        day_numbers = np.asarray(days, dtype=np.int64)
        order = np.argsort(day_numbers, kind="stable")
        return cls(day_numbers[order], numbers[order], flags[order])

    @classmethod
    def empty(cls) -> DailySeries:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=bool))

    def window(self, first_day: int, last_day: int) -> DailySeries:
        """The days first..last (inclusive) that the series holds (days ascending)."""
        low, high = np.searchsorted(self.days, (first_day, last_day + 1))
        return DailySeries(self.days[low:high], self.values[low:high], self.complete[low:high])

    def on_days(self, first_day: int, last_day: int) -> np.ndarray:
        """Values on every day first..last, NaN where the series has none."""
        out = np.full(last_day - first_day + 1, np.nan)
        part = self.window(first_day, last_day)
        out[part.days - first_day] = part.values
        return out


@dataclass(frozen=True)
class DeviceFacts:
    """What the devices say about the evidence itself: how many, how they report, who runs them."""

    installed: int
    reporting_last_7d: int
    tamper_events_90d: int
    by_source_mode: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class EvidenceInputs:
    """Everything the IoT features read, as of one day (the last day of evidence counted)."""

    as_of_day: int
    activity_indicator: str
    activity: DailySeries
    index_median: DailySeries  # the peer group's median of the same indicator, by day
    devices: DeviceFacts


@dataclass(frozen=True)
class StatementPeriod:
    """One reported financial period (a quarter or a year) in CNY; None is not reported."""

    first_day: int
    last_day: int
    label: str
    revenue_cny: float | None
    net_profit_cny: float | None = None
    total_assets_cny: float | None = None
    total_liabilities_cny: float | None = None


IOT_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("activity_trend_per_year", trend="descending", label="activity trend (share per year)"),
    FeatureSpec("activity_volatility", trend="ascending", label="activity volatility (CV of weekly means)"),
    FeatureSpec("activity_change_vs_index", trend="descending", label="activity change against the industry index"),
    FeatureSpec("utilization_vs_index", trend="descending", label="activity against the industry median"),
    FeatureSpec("data_completeness", trend="descending", label="data completeness (last 90 days)"),
    FeatureSpec("device_health_rate", trend="descending", label="devices reporting (last 7 days)"),
    FeatureSpec("share_enterprise_shared", trend="ascending", label="share of enterprise-shared devices"),
    FeatureSpec("revenue_consistency_ratio", trend="ascending", label="reported revenue over IoT-evidenced revenue"),
)
STATEMENT_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("reported_revenue_growth", trend="descending", label="reported revenue growth"),
    FeatureSpec("net_margin", trend="descending", label="reported net margin"),
    FeatureSpec("debt_to_assets", trend="ascending", label="reported debt to assets"),
)
EXPLANATIONS: dict[str, str] = {  # reason-code words; {value} is the feature value
    "activity_trend_per_year": "activity is changing by {value:+z.1%} a year",
    "activity_volatility": "activity swings widely from week to week (CV {value:.2f})",
    "activity_change_vs_index": "activity moved {value:+z.1%} against the industry index over the last quarter",
    "utilization_vs_index": "activity is {value:.0%} of the industry median",
    "data_completeness": "only {value:.0%} of the last 90 days have complete data",
    "device_health_rate": "only {value:.0%} of the devices reported in the last 7 days",
    "share_enterprise_shared": "{value:.0%} of the devices are enterprise-shared (least trusted)",
    "revenue_consistency_ratio": "reported revenue is {value:.1f}x what the IoT evidence supports",
    "reported_revenue_growth": "reported revenue growth is {value:+z.1%}",
    "net_margin": "reported net margin is {value:.1%}",
    "debt_to_assets": "reported debt is {value:.0%} of assets",
}


EXPLANATIONS_ZH: dict[str, str] = {  # the same reasons in Chinese, for the report in the reader's language
    "activity_trend_per_year": "经营活跃度年变化 {value:+z.1%}",
    "activity_volatility": "经营活跃度周波动大（变异系数 {value:.2f}）",
    "activity_change_vs_index": "上季度相对行业指数变化 {value:+z.1%}",
    "utilization_vs_index": "经营活跃度为行业中位数的 {value:.0%}",
    "data_completeness": "近90天仅 {value:.0%} 的天数数据完整",
    "device_health_rate": "近7天仅 {value:.0%} 的设备有上报",
    "share_enterprise_shared": "{value:.0%} 的设备为企业共享（可信度最低）",
    "revenue_consistency_ratio": "申报收入为IoT证据支持收入的 {value:.1f} 倍",
    "reported_revenue_growth": "申报收入增长 {value:+z.1%}",
    "net_margin": "申报净利率 {value:.1%}",
    "debt_to_assets": "申报资产负债率 {value:.0%}",
}
# Feature names in Chinese (English: each FeatureSpec's label), and the extra inputs the report shows.
FEATURE_LABELS_ZH: dict[str, str] = {
    "activity_trend_per_year": "经营活跃度年变化",
    "activity_volatility": "经营活跃度波动",
    "activity_change_vs_index": "相对行业指数变化",
    "utilization_vs_index": "相对行业中位数",
    "data_completeness": "数据完整度",
    "device_health_rate": "设备健康率",
    "share_enterprise_shared": "企业共享设备占比",
    "revenue_consistency_ratio": "收入一致性比值",
    "reported_revenue_growth": "申报收入增长",
    "net_margin": "净利率",
    "debt_to_assets": "资产负债率",
    "activity_level": "经营活跃度（近90天）",
    "tamper_events_90d": "防拆事件（近90天）",
    "share_bank_installed": "银行自装设备占比",
    "share_third_party": "第三方平台设备占比",
}
EXTRA_FEATURE_LABELS_EN: dict[str, str] = {
    "activity_level": "activity level (last 90 days)",
    "tamper_events_90d": "tamper events (last 90 days)",
    "share_bank_installed": "share of bank-installed devices",
    "share_third_party": "share of third-party platform devices",
}


def evidence_features(inputs: EvidenceInputs) -> dict[str, float | None]:
    """The IoT features (all but the revenue consistency, which cross-verification gives)."""
    recent = _last(inputs.activity, inputs.as_of_day, RECENT_DAYS)
    devices = inputs.devices
    return {
        "activity_level": _mean(recent),
        "activity_trend_per_year": activity_trend_per_year(inputs.activity, inputs.as_of_day),
        "activity_volatility": activity_volatility(inputs.activity, inputs.as_of_day, index=inputs.index_median),
        "activity_change_vs_index": change_against_index(inputs.activity, inputs.index_median, inputs.as_of_day),
        "utilization_vs_index": level_against_index(inputs.activity, inputs.index_median, inputs.as_of_day),
        "data_completeness": data_completeness(inputs.activity, inputs.as_of_day),
        "device_health_rate": _share(devices.reporting_last_7d, devices.installed),
        "tamper_events_90d": float(devices.tamper_events_90d),
        **source_mode_shares(devices),
    }


def activity_trend_per_year(series: DailySeries, as_of_day: int, days: int = TREND_DAYS) -> float | None:
    """Least-squares slope of the daily values over `days`, as a share of their mean per year."""
    part = _last(series, as_of_day, days)
    known = np.isfinite(part.values)
    if known.sum() < MIN_KNOWN_DAYS:
        return None
    x, y = part.days[known].astype(float), part.values[known]
    x = x - x.mean()
    mean, spread = float(y.mean()), float(x @ x)
    if mean <= 0 or spread == 0:
        return None
    slope = float(x @ (y - mean)) / spread
    return _clip(slope * 365.0 / mean, -5.0, 5.0)


def activity_volatility(
    series: DailySeries, as_of_day: int, days: int = TREND_DAYS, index: DailySeries | None = None
) -> float | None:
    """Coefficient of variation of the weekly means over `days` (weekly, so weekends do not count). With the
    industry index known on most of the firm's days, of the firm's activity over the peers' median each day:
    the season and the holidays every peer shares cancel (a National Day week is not the firm's volatility)."""
    values = series.on_days(as_of_day - days + 1, as_of_day)
    if index is not None:
        peers = index.on_days(as_of_day - days + 1, as_of_day)
        with np.errstate(invalid="ignore", divide="ignore"):
            relative = np.where(np.isfinite(peers) & (peers > 0), values / peers, np.nan)
        if np.isfinite(relative).sum() >= INDEX_SHARE_FOR_RELATIVE * max(np.isfinite(values).sum(), 1):
            values = relative
    weeks = values[len(values) % 7 :].reshape(-1, 7)
    known = np.isfinite(weeks).sum(axis=1) >= 4
    if known.sum() < 4:
        return None
    means = np.nanmean(weeks[known], axis=1)
    mean = float(means.mean())
    return None if mean <= 0 else float(means.std() / mean)


def change_against_index(
    series: DailySeries, index: DailySeries, as_of_day: int, days: int = RECENT_DAYS
) -> float | None:
    """Seasonality-adjusted change: (this quarter / last quarter) of the enterprise over the same ratio
    of the industry median, minus 1. The common season cancels; what is left is the firm's own move."""
    now_first, before_first = as_of_day - days + 1, as_of_day - 2 * days + 1
    own = _ratio(_mean(series.window(now_first, as_of_day)), _mean(series.window(before_first, now_first - 1)))
    peers = _ratio(_mean(index.window(now_first, as_of_day)), _mean(index.window(before_first, now_first - 1)))
    if own is None or peers is None or peers <= 0:
        return None
    return _clip(own / peers - 1.0, -1.0, 5.0)


def level_against_index(
    series: DailySeries, index: DailySeries, as_of_day: int, days: int = RECENT_DAYS
) -> float | None:
    """The enterprise's mean over the industry median's mean, on the days both are known."""
    first = as_of_day - days + 1
    own, peers = series.on_days(first, as_of_day), index.on_days(first, as_of_day)
    both = np.isfinite(own) & np.isfinite(peers)
    if both.sum() < MIN_KNOWN_DAYS or peers[both].mean() <= 0:
        return None
    return _clip(float(own[both].mean() / peers[both].mean()), 0.0, 10.0)


def data_completeness(series: DailySeries, as_of_day: int, days: int = RECENT_DAYS) -> float:
    """Share of the last `days` days with a complete value (a day not held at all counts as missing)."""
    part = _last(series, as_of_day, days)
    return float(part.complete.sum()) / days


def source_mode_shares(devices: DeviceFacts) -> dict[str, float | None]:
    """Share of the installed devices in each data-source mode."""
    total = sum(devices.by_source_mode.values())
    names = {
        "bank_installed": "share_bank_installed",
        "third_party_platform": "share_third_party",
        "enterprise_shared": "share_enterprise_shared",
    }
    return {names[m]: _share(devices.by_source_mode.get(m, 0), total) for m in SOURCE_MODES}


def statement_features(periods: Sequence[StatementPeriod]) -> dict[str, float | None]:
    """Growth of the latest four quarters' (or latest year's) revenue, net margin and leverage."""
    ordered = sorted(periods, key=lambda p: p.last_day)
    if not ordered:
        return {"reported_revenue_growth": None, "net_margin": None, "debt_to_assets": None}
    recent, before = _last_year(ordered), _year_before(ordered)
    revenue_now = _sum([p.revenue_cny for p in recent])
    revenue_before = _sum([p.revenue_cny for p in before])
    growth = _ratio(revenue_now, revenue_before)
    profit = _sum([p.net_profit_cny for p in recent])
    latest = ordered[-1]
    return {
        "reported_revenue_growth": None if growth is None else _clip(growth - 1.0, -1.0, 10.0),
        "net_margin": None if profit is None or not revenue_now else _clip(profit / revenue_now, -2.0, 1.0),
        "debt_to_assets": _ratio(latest.total_liabilities_cny, latest.total_assets_cny),
    }


def feature_row(
    evidence: Mapping[str, Any], statements: Mapping[str, Any], consistency: float | None
) -> dict[str, Any]:
    """One scoring row: IoT features, statement features and the revenue consistency ratio."""
    return {**evidence, **statements, "revenue_consistency_ratio": consistency}


def _last_year(ordered: Sequence[StatementPeriod]) -> list[StatementPeriod]:
    end = ordered[-1].last_day
    return [p for p in ordered if p.first_day > end - 365]


def _year_before(ordered: Sequence[StatementPeriod]) -> list[StatementPeriod]:
    end = ordered[-1].last_day - 365
    return [p for p in ordered if end - 365 < p.first_day and p.last_day <= end]


def _last(series: DailySeries, as_of_day: int, days: int) -> DailySeries:
    return series.window(as_of_day - days + 1, as_of_day)


def _mean(series: DailySeries) -> float | None:
    known = series.values[np.isfinite(series.values)]
    return float(known.mean()) if len(known) >= MIN_KNOWN_DAYS else None


def _sum(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None and math.isfinite(v)]
    return float(sum(known)) if known and len(known) == len(values) else None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return float(numerator / denominator)


def _share(part: int, whole: int) -> float | None:
    return None if whole <= 0 else part / whole


def _clip(value: float, low: float, high: float) -> float:
    return float(min(max(value, low), high))
