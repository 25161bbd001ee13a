"""Warning rules as data: declarations from the scenario packs, overrides per tenant and product.

A rule is a frozen declaration; its `type` says which evaluator reads it:

  threshold       a property compared with a value (or an install attribute x factor) for `duration_s`, or for the
                  minutes in the device's install attribute named by `duration_min_attr` when it has one
  rate_of_change  a property's change per hour, or "position" as implied speed between fixes (km/h)
  clock_skew      a device's newest stamp in each batch more than `max_skew_s` ahead of or behind the platform's
                  receive time, the same way for `min_batches` batches over `min_duration_s`; behind only on a device
                  once seen on time (data that always arrive late are a delivery path, not a clock)
  absence         a device offline (connectivity transitions, after its thing model's heartbeat timeout);
                  `no_heartbeat_device_types` (passive tags, event-only units) have no heartbeat duty
  event           a device event (tamper, unauthorised_out, overload ...)
  geofence        a position leaving (`on: exit`) or entering (`on: enter`) a polygon zone: `zone` in the rule, or
                  `zone_attr`, the device's install attribute holding its own area (a truck's permitted area);
                  `min_fixes` consecutive fixes on the wrong side raise (default 1)
  mismatch        two sources disagreeing (camera count vs RFID vs WMS) beyond a tolerance
  coverage        pledged value / outstanding loan below a maintenance line
  herd_drop       share of a device type reporting in a window below the herd's own usual share less its own spread
                  (`min_share` until enough windows are known; devices count from one window after registration)
  herd_relative   a device's `key` at least `min_excess` above its herd's median of the same `bucket_s` for `duration_s`
                  (a sick cow, while heat stress warms the whole herd; see alerts/herd.py); on the sweep
  regional_excess a site's `key` more than `margin` above the regional background (median of the same device type's
                  devices of the other enterprises in its region, same `bucket_s`) for `duration_s`; with fewer than
                  `min_peers`, the fixed `fallback_limit` inside `work_hours` only (a site's dust; alerts/dust.py)
  baseline_change a daily indicator leaving the borrower's own normal band; declared shutdown and maintenance days
                  are left out; with `official_calendar` PRC holidays too, and make-up workdays are judged
  performance_ratio a PV plant's `measured` / `expected` daily indicators (generation against the pvlib expectation
                  from its own station) over `window_days` outside the band of its own first `baseline_days` (see
                  alerts/performance.py): above physics for one day, a performance ratio too high or too low for a week
  unbooked_outbound goods counted out (`count_key` of the rule's device type) with no `confirm_event` of a
                  `confirm_device_type` device of the enterprise around it (a weighbridge weighing the truck out);
                  without such a device, goods counted out in the gate's own quiet hours (`quiet_share`, its night)
  odometer        a vehicle's odometer stepping back beyond its own jitter (resets to near zero are benign), or its
                  day's km against the GPS track's km outside its own usual ratio (daily; see alerts/odometer.py)
  machine_idle    one machine's running hours below the band of its own working days while the plant works (daily;
                  see alerts/machines.py)
  meter_balance   an energy meter's day of kWh against the kWh its machines' currents imply, outside the pair's own
                  fitted relation (daily; see alerts/meters.py)
  lot_stock       a pledged lot's stock below the pledge set on the lot (or the sum of its readers' shares) for
                  `duration_s`: the lowest credible of its RFID readers' counts (every reader fresh), the RFID anchor
                  plus its zones' gate-camera counts, and the anchor plus its WMS bookings (see alerts/stock.py); sweep
  lot_unbooked    the same lot below its pledge for `booking_grace_s` while its own WMS bookings say it still holds the
                  pledge: the drop is covered by no booked outbound (judged beside the scenario's lot_stock rule)
  sky_tracking    a PV inverter's day of `power_key` not following its station's measured irradiance (`sky_keys`)
                  as its own days do, and better explained by another day's sky: fabricated (daily; alerts/pv_sky.py)
  inverter_peers  one inverter's `measured` kWh against the site's other inverters per kWp and its kWp share of the
                  station's `expected`, both outside its own band the same way (daily; alerts/pv_sky.py)
  fabricated_data a device's day of `keys` copied from an earlier day, or too flat / too smooth against its own
                  history (daily; see alerts/fabricated.py); `copy_only_keys` (housekeeping) take the copy test only
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from wuxin.errors import InvalidInput

SEVERITIES = ("critical", "major", "minor", "warning")  # most severe first
RULE_TYPES = {
    "threshold": {"key", "op"},
    "rate_of_change": {"key", "max_per_hour"},
    "clock_skew": {"max_skew_s"},
    "absence": set(),
    "event": {"events"},
    "geofence": {"on"},
    "mismatch": {"sources", "tolerance"},
    "coverage": {"maintenance_ratio"},
    "herd_drop": {"window_s", "min_share"},
    "herd_relative": {"key", "min_excess", "duration_s"},
    "regional_excess": {"key", "margin", "duration_s", "fallback_limit"},
    "baseline_change": {"indicator"},
    "performance_ratio": {"measured", "expected", "window_days", "direction"},
    "fabricated_data": {"keys"},
    "unbooked_outbound": {"count_key", "confirm_device_type", "confirm_event"},
    "odometer": set(),
    "machine_idle": set(),
    "meter_balance": set(),
    "lot_stock": set(),
    "lot_unbooked": set(),
    "sky_tracking": {"power_key", "sky_keys", "sky_device_type"},
    "inverter_peers": {"measured", "expected", "sky_device_type"},
}
STREAM_TYPES = frozenset({"threshold", "rate_of_change", "event", "geofence", "clock_skew"})
OPS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}
TUNABLE = {"severity", "enabled", "params"}


@dataclass(frozen=True)
class Rule:
    id: str  # unique, "<scenario>.<name>"
    type: str
    alarm_type: str  # what the alarm is called; one active alarm per (scope, source, alarm_type)
    severity: str
    device_type: str | None  # None: any device type of the scenario (or none, for loan rules)
    params: Mapping[str, Any] = field(default_factory=dict)
    scenario: str | None = None
    risk_class_floor: str | None = None  # a raised alarm moves the loan's risk class down to at least this
    label: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True

    def applies_to(self, device_type: str) -> bool:
        if self.device_type is not None:
            return self.device_type == device_type
        return self.scenario is None or device_type.split(".", 1)[0] == self.scenario

    def watched_keys(self) -> frozenset[str]:
        """Property keys or event names this rule reads from a telemetry batch."""
        if self.type == "event":
            return frozenset(self.params["events"])
        if self.type == "geofence" or (self.type == "rate_of_change" and self.params["key"] == "position"):
            return frozenset({"lat", "lon"})
        if self.type in ("threshold", "rate_of_change"):
            return frozenset({self.params["key"]})
        return frozenset()


def parse_rule(doc: Mapping[str, Any], scenario: str | None = None) -> Rule:
    """A rule from its declaration; errors name the rule and the bad field."""
    rule_id = doc.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise InvalidInput(f"a rule needs a string 'id', got {rule_id!r}")
    kind = doc.get("type")
    if kind not in RULE_TYPES:
        raise InvalidInput(f"rule {rule_id}: type {kind!r} is not one of {sorted(RULE_TYPES)}")
    severity = doc.get("severity", "major")
    if severity not in SEVERITIES:
        raise InvalidInput(f"rule {rule_id}: severity {severity!r} is not one of {list(SEVERITIES)}")
    params = dict(doc.get("params", {}))
    missing = RULE_TYPES[kind] - set(params)
    if missing:
        raise InvalidInput(f"rule {rule_id} ({kind}) lacks params {sorted(missing)}")
    _check_params(rule_id, kind, params)
    return Rule(
        rule_id,
        kind,
        doc.get("alarm_type", rule_id.rsplit(".", 1)[-1]),
        severity,
        doc.get("device_type"),
        params,
        scenario or doc.get("scenario"),
        doc.get("risk_class_floor"),
        dict(doc.get("label", {})),
        bool(doc.get("enabled", True)),
    )


def _check_params(rule_id: str, kind: str, params: dict) -> None:
    if kind == "threshold":
        if params["op"] not in OPS:
            raise InvalidInput(f"rule {rule_id}: op {params['op']!r} is not one of {list(OPS)}")
        if ("value" in params) == ("value_attr" in params):
            raise InvalidInput(f"rule {rule_id}: give exactly one of 'value' or 'value_attr' (with 'factor')")
    if not isinstance(params.get("duration_min_attr", ""), str):
        raise InvalidInput(
            f"rule {rule_id}: duration_min_attr must name an install attribute, got {params['duration_min_attr']!r}"
        )
    exempt = params.get("no_heartbeat_device_types", [])
    if not isinstance(exempt, list) or not all(isinstance(t, str) and "." in t for t in exempt):
        raise InvalidInput(f"rule {rule_id}: no_heartbeat_device_types must be a list of device types, got {exempt!r}")
    if kind == "geofence" and params["on"] not in ("enter", "exit"):
        raise InvalidInput(f"rule {rule_id}: on {params['on']!r} must be 'enter' or 'exit'")
    if kind == "geofence" and ("zone" in params) == ("zone_attr" in params):
        raise InvalidInput(
            f"rule {rule_id}: give exactly one of 'zone' (a polygon) or 'zone_attr' (an install attribute)"
        )
    if kind == "fabricated_data":
        _check_fabricated(rule_id, params)
    if not isinstance(params.get("official_calendar", False), bool):
        raise InvalidInput(
            f"rule {rule_id}: official_calendar must be true or false, got {params['official_calendar']!r}"
        )
    if kind == "performance_ratio" and params["direction"] not in ("above", "below", "both"):
        raise InvalidInput(f"rule {rule_id}: direction {params['direction']!r} must be 'above', 'below' or 'both'")
    for name in (
        "duration_s",
        "window_s",
        "max_per_hour",
        "tolerance",
        "maintenance_ratio",
        "min_share",
        "value",
        "rest_share",
        "min_days_outside",
        "min_copy_points",
        "min_copy_s",
        "min_flat_s",
        "min_flat_points",
        "smooth_ratio",
        "history_days",
        "min_history_days",
        "min_units",
        "before_s",
        "after_s",
        "gap_s",
        "min_fixes",
        "max_skew_s",
        "min_duration_s",
        "min_batches",
        "min_excess",
        "bucket_s",
        "min_herd",
        "window_days",
        "baseline_days",
        "min_expected_kwh",
        "max_rise",
        "max_drop",
        "model_uncertainty",
        "quantile",
        "margin",
        "z",
        "min_rel_change",
        "min_gps_km",
        "reset_below_km",
        "max_speed_kmh",
        "min_speed_kmh",
        "max_gap_s",
        "min_days",
        "min_machine_kwh",
        "resolution_km",
        "min_drop_devices",
        "min_samples",
        "history_windows",
        "quiet_share",
        "fresh_s",
        "min_variation_share",
        "anchor_s",
        "flow_tolerance",
        "booking_grace_s",
        "min_weeks",
        "wms_feed_days",
    ):
        value = params.get(name)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
            raise InvalidInput(f"rule {rule_id}: {name} must be a number >= 0, got {value!r}")


def _check_fabricated(rule_id: str, params: dict) -> None:
    if not isinstance(params.get("smooth_relative", False), bool):
        raise InvalidInput(f"rule {rule_id}: smooth_relative must be true or false, got {params['smooth_relative']!r}")
    for name in ("keys", "copy_only_keys"):
        keys = params.get(name, [])
        if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
            raise InvalidInput(f"rule {rule_id}: {name} must be a list of property keys, got {keys!r}")
    tests = params.get("tests", ["copy", "replay", "flat", "smooth"])
    if not isinstance(tests, list) or not tests or not set(tests) <= {"copy", "replay", "flat", "smooth"}:
        raise InvalidInput(
            f"rule {rule_id}: tests must be a non-empty list of copy, replay, flat, smooth, got {tests!r}"
        )
    replay = params.get("replay", {})
    if not isinstance(replay, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in replay.values()
    ):
        raise InvalidInput(f"rule {rule_id}: replay must map its settings to numbers >= 0, got {replay!r}")


def apply_override(rule: Rule, override: Mapping[str, Any]) -> Rule:
    """A tenant's tuning: severity, enabled, and params merged over the declared ones (re-validated)."""
    unknown = set(override) - TUNABLE
    if unknown:
        raise InvalidInput(f"rule {rule.id}: only {sorted(TUNABLE)} may be overridden, not {sorted(unknown)}")
    doc = {
        "id": rule.id,
        "type": rule.type,
        "alarm_type": rule.alarm_type,
        "device_type": rule.device_type,
        "severity": override.get("severity", rule.severity),
        "enabled": override.get("enabled", rule.enabled),
        "params": {**rule.params, **override.get("params", {})},
        "risk_class_floor": rule.risk_class_floor,
        "label": rule.label,
    }
    return replace(parse_rule(doc, rule.scenario))


def severity_rank(severity: str) -> int:
    """0 for critical ... 3 for warning."""
    return SEVERITIES.index(severity)
