"""What an alarm was judged on, in one shape for every rule: the metric, its value, the threshold or baseline, the
unit, the window; pure (the alarm's stored detail and its rule's parameters in, a dict out).

Each rule writes its own detail (alerts/engine.py, herd.py, machines.py, ...); `SHAPES` says, per detail shape,
which key holds the measured value and which the line it crossed, so the console and the CSV read one
structure. A detail no shape knows still shows: its plain values are listed under `facts`.

    >>> explain("construction.wind", {"device": "crane-1", "key": "wind_ms", "value": 25.0, "limit": 20.0,
    ...                                "since_ms": 1}, {"op": ">", "duration_s": 60})["threshold"]
    20.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Shape:
    """Keys of a detail shape: `value` (the measured figure) must be there for the shape to apply, and so must
    every key of `needs`."""

    value: str
    needs: tuple[str, ...] = ()
    threshold: str | None = None  # one line crossed
    low: str | None = None  # a band: below `low` or above `high`
    high: str | None = None
    baseline: str | None = None  # the usual / expected figure the band was drawn around
    metric: str | None = None  # the metric's code from a detail key (its label and unit are the pack's)
    metric_kind: str = "alarm_fact"  # where the metric's label lives: metric | indicator | alarm_fact
    unit: str | None = None  # a fixed unit (else the metric's own)
    excess_over_baseline: bool = False  # `threshold` is a margin above `baseline`: the line is their sum


SHAPES: tuple[Shape, ...] = (
    Shape(  # a herd outlier: above the herd's median by at least min_excess (the line is median + min_excess)
        "value",
        ("herd_median",),
        threshold="min_excess",
        baseline="herd_median",
        metric="key",
        metric_kind="metric",
        excess_over_baseline=True,
    ),
    Shape("value", ("limit",), threshold="limit", metric="key", metric_kind="metric"),
    Shape(
        "value",
        ("indicator", "median"),
        low="low",
        high="high",
        baseline="median",
        metric="indicator",
        metric_kind="indicator",
    ),
    Shape("rate_per_hour", threshold="limit"),
    Shape("skew_s", threshold="limit_s", unit="s"),
    Shape("share", ("min_share",), threshold="min_share", baseline="usual_share", unit="1"),
    Shape("running_h", threshold="low_h", baseline="usual_h", unit="h"),
    Shape("meter_kwh", threshold="tolerance_kwh", baseline="expected_kwh", unit="kWh"),
    Shape("rollback_km", threshold="tolerance_km", unit="km"),
    Shape("ratio", ("usual_ratio",), low="low", high="high", baseline="usual_ratio", unit="1"),
    Shape("ratio", ("baseline_pr",), low="low", high="high", baseline="baseline_pr", unit="1"),
    Shape("similarity", threshold="threshold", baseline="usual_similarity", unit="1"),
    Shape("roughness", baseline="usual_roughness"),
    Shape("stock_units", threshold="pledged_units", unit="units"),
    Shape("coverage_ratio", threshold="line_ratio", unit="1"),  # the loan's margin-call or liquidation line
    Shape("units", unit="units"),
    Shape("value", ("test",)),  # a flat run: the value it stuck at
)
# Rule parameters that say over how long a condition was judged, in seconds or days.
WINDOW_SECONDS = ("duration_s", "min_offline_s", "window_s", "min_duration_s")
WINDOW_DAYS = ("window_days", "baseline_days", "history_days")
USED_ELSEWHERE = {"device", "threshold_from", "since_ms", "from_ms", "to_ms", "key", "indicator"}


def shape_of(detail: Mapping[str, Any]) -> Shape | None:
    return next((s for s in SHAPES if s.value in detail and all(k in detail for k in s.needs)), None)


def explain(rule_id: str, detail: Mapping[str, Any] | None, params: Mapping[str, Any] | None = None) -> dict:
    """The structured explanation of one alarm (keys always present; None where the rule gives nothing)."""
    detail, params = dict(detail or {}), dict(params or {})
    shape = shape_of(detail)
    out: dict[str, Any] = {
        "metric": None,
        "metric_kind": None,
        "value": None,
        "unit": None,
        "comparison": None,
        "threshold": None,
        "low": None,
        "high": None,
        "baseline": None,
        "window_s": None,
        "window_days": None,
        "from_ms": detail.get("from_ms"),
        "to_ms": detail.get("to_ms"),
        "since_ms": detail.get("since_ms"),
        "threshold_from": _text_pair(detail.get("threshold_from")),
        "facts": [],
    }
    used = set(USED_ELSEWHERE)
    if shape is not None:
        used |= {k for k in (shape.value, shape.threshold, shape.low, shape.high, shape.baseline) if k}
        metric = detail.get(shape.metric) if shape.metric else shape.value
        out.update(
            metric=_code(metric) or shape.value,
            metric_kind=shape.metric_kind if shape.metric else "alarm_fact",
            value=_number(detail.get(shape.value)),
            unit=shape.unit,
            threshold=_number(detail.get(shape.threshold)) if shape.threshold else None,
            low=_number(detail.get(shape.low)) if shape.low else None,
            high=_number(detail.get(shape.high)) if shape.high else None,
            baseline=_number(detail.get(shape.baseline)) if shape.baseline else None,
        )
        out["comparison"] = _comparison(detail, params)
        if shape.excess_over_baseline and out["threshold"] is not None and out["baseline"] is not None:
            out["threshold"] = round(out["baseline"] + out["threshold"], 6)  # 38.74 + 0.7: 39.44, not 0.7
            out["comparison"] = "above"
    out["window_s"] = next((_number(params[k]) for k in WINDOW_SECONDS if _number(params.get(k)) is not None), None)
    out["window_days"] = next(
        (_number(src[k]) for src in (detail, params) for k in WINDOW_DAYS if _number(src.get(k)) is not None), None
    )
    out["facts"] = [
        {"key": k, "value": v}
        for k, v in detail.items()
        if k not in used and isinstance(v, (str, int, float, bool)) and not isinstance(v, bool)
    ]
    return out


def summary_numbers(explanation: Mapping[str, Any]) -> tuple[Any, Any]:
    """(value, the line it was judged against: threshold, else the band edge it left, else the baseline)."""
    e = explanation
    line = e["threshold"]
    if line is None and e["comparison"] == "below":
        line = e["low"]
    if line is None and e["comparison"] == "above":
        line = e["high"]
    return e["value"], line if line is not None else e["baseline"]


def _comparison(detail: Mapping[str, Any], params: Mapping[str, Any]) -> str | None:
    """above / below: from the detail's own direction, else the rule's operator, else where the value sits."""
    direction = detail.get("direction")
    if direction in ("above", "below"):
        return direction
    op = params.get("op")
    if op in (">", ">="):
        return "above"
    if op in ("<", "<="):
        return "below"
    shape = shape_of(detail)
    value = _number(detail.get(shape.value)) if shape else None
    low = _number(detail.get(shape.low)) if shape and shape.low else None
    high = _number(detail.get(shape.high)) if shape and shape.high else None
    if value is not None and low is not None and value < low:
        return "below"
    if value is not None and high is not None and value > high:
        return "above"
    return None


def _number(v: Any) -> float | int | None:
    """A number as stored (a Decimal string like "1.05" too); None for anything else."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _code(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _text_pair(v: Any) -> dict | None:
    if isinstance(v, dict) and isinstance(v.get("zh"), str) and isinstance(v.get("en"), str):
        return {"zh": v["zh"], "en": v["en"]}
    if isinstance(v, str):
        return {"zh": v, "en": v}
    return None
