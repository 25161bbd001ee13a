"""The officer's alarm desk: the filtered list with its total, one alarm in full (device, reading, threshold,
history, evidence), bulk acknowledge / clear with a per-alarm result, and the CSV export.

Every alarm goes through the one reading rule (`monitoring.readable_alarm`: tenant, consent) and the one acting
rule (credit officers and risk managers); an alarm a caller may not read is reported as absent, also inside a
bulk request. Bulk actions run each alarm in its own transaction: one refusal never undoes or hides another's
result, and the answer lists every id with what happened to it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from wuxin.alerts.explain import explain, summary_numbers
from wuxin.bootstrap import Platform
from wuxin.domain.model import Role
from wuxin.errors import InvalidInput, WuxinError
from wuxin.indicators.days import CHINA_TZ
from wuxin.labels import all_labels, label
from wuxin.security.policy import Principal, require_role
from wuxin.services.bootstrap import default_rules
from wuxin.services.monitoring import alarms as monitoring
from wuxin.services.monitoring.alarms import AlarmFilter, public_alarm
from wuxin.store.rows import DevicePlaceRow
from wuxin.store.uow import UnitOfWork

BULK_MAX = 500  # alarms per bulk request
EXPORT_MAX = 20_000  # rows per CSV; a larger list is refused with its count (narrow the filter)
BULK_ACTIONS = ("acknowledge", "clear")
ACTING_ROLES = (Role.CREDIT_OFFICER, Role.RISK_MANAGER)


# ---------------------------------------------------------------- list and detail


def alarm_list(
    platform: Platform, principal: Principal, f: AlarmFilter, limit: int = 100, before_id: int | None = None
) -> tuple[list[dict], int | None, int]:
    """A page of readable alarms matching `f` (each with its device, borrower and explanation), the next page's
    cursor, and how many match over all pages."""
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        rows, next_before_id = monitoring.filtered_alarms(uow, principal, f, limit, before_id, now_ms)
        total = monitoring.count_alarms(uow, principal, f, now_ms)
        return described(uow, rows), next_before_id, total


def described(uow: UnitOfWork, rows: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Alarm rows with what a one-line summary needs: borrower name, device (key, type, site) and explanation."""
    places = uow.monitoring.device_places([r["device_id"] for r in rows if r["device_id"] is not None])
    names = uow.monitoring.enterprise_names([r["enterprise_id"] for r in rows if r["enterprise_id"] is not None])
    return [_described(r, places.get(r["device_id"]), names.get(r["enterprise_id"])) for r in rows]


def _described(r: Mapping[str, Any], place: DevicePlaceRow | None, enterprise_name: str | None) -> dict:
    rule = default_rules().get(r["rule_id"])
    explanation = explain(r["rule_id"], r["detail"], rule.params if rule else {})
    if explanation["unit"] is None and explanation["metric_kind"] in ("metric", "indicator"):
        explanation["unit"] = (
            all_labels().get(explanation["metric_kind"], {}).get(explanation["metric"], {}).get("unit")
        )
    device = (
        None
        if place is None
        else {
            "id": place["id"],
            "key": place["key"],
            "device_type": place["device_type"],
            "site_id": place["site_id"],
            "site_name": place["site_name"],
            "site_region": place["site_region"],
        }
    )
    if device is None and isinstance((r["detail"] or {}).get("device"), str):
        device = {
            "id": None,
            "key": r["detail"]["device"],
            "device_type": None,
            "site_id": None,
            "site_name": None,
            "site_region": None,
        }
    rule_label = {"zh": rule.label.get("zh", ""), "en": rule.label.get("en", "")} if rule and rule.label else None
    return {
        **public_alarm(r),
        "enterprise_name": enterprise_name,
        "device": device,
        "explanation": explanation,
        "rule_label": rule_label,
    }


def alarm_detail(platform: Platform, principal: Principal, alarm_id: int) -> dict:
    """One readable alarm in full: the list's row, its state history with who and why, its loans, and the ledger
    entries that record it (each provable) with the evidence bundle's address."""
    with platform.uow() as uow:
        alarm = monitoring.readable_alarm(uow, principal, alarm_id, platform.clock_ms())
        actions = uow.monitoring.actions(alarm_id)
        who = uow.monitoring.user_names(
            [a["user_id"] for a in actions] + [alarm["acknowledged_by"], alarm["cleared_by"]]
        )
        entries = uow.ledger.entries_by_subjects([f"alarm:{alarm_id}"])
        row = described(uow, [alarm])[0]
    return {
        **row,
        "acknowledged_by_name": who.get(alarm["acknowledged_by"]),
        "cleared_by_name": who.get(alarm["cleared_by"]),
        "history": [
            {
                "at_ms": a["at_ms"],
                "action": a["action"],
                "user_id": a["user_id"],
                "username": who.get(a["user_id"]),
                "reason": a["reason"],
            }
            for a in actions
        ],
        "evidence": {
            "subject": f"alarm:{alarm_id}",
            "bundle_path": f"/api/v1/ledger/evidence?subject=alarm:{alarm_id}" if entries else None,
            "entries": [
                {
                    "leaf_index": e["leaf_index"],
                    "kind": e["kind"],
                    "created_ms": e["created_ms"],
                    "proof_path": f"/api/v1/ledger/entries/{e['leaf_index']}/proof",
                }
                for e in entries
            ],
        },
    }


# ---------------------------------------------------------------- bulk acknowledge / clear


def bulk_action(platform: Platform, principal: Principal, action: str, alarm_ids: list[int], reason: str) -> dict:
    """Acknowledge or clear each alarm separately; {"action", "done", "failed", "results": [{id, ok, status | error,
    message}]} in the order asked. A caller whose role never acts on alarms is refused outright (Denied)."""
    if action not in BULK_ACTIONS:
        raise InvalidInput(f"action {action!r} is not one of {', '.join(BULK_ACTIONS)}")
    require_role(principal, *ACTING_ROLES)
    ids, reason = _unique_ids(alarm_ids), monitoring.checked_reason(reason)
    step = monitoring.acknowledge_in if action == "acknowledge" else monitoring.clear_in
    results = [_one_action(platform, principal, step, alarm_id, reason) for alarm_id in ids]
    done = sum(1 for r in results if r["ok"])
    return {"action": action, "done": done, "failed": len(results) - done, "results": results}


def _unique_ids(alarm_ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(alarm_ids))
    if not ids:
        raise InvalidInput("no alarm ids given: select at least one alarm")
    if len(ids) > BULK_MAX:
        raise InvalidInput(f"{len(ids)} alarms in one request, at most {BULK_MAX}")
    return ids


def _one_action(platform: Platform, principal: Principal, step: Callable, alarm_id: int, reason: str) -> dict:
    """One alarm's own transaction: committed with its audit and evidence, or rolled back with the reason why."""
    now_ms = platform.clock_ms()
    try:
        with platform.uow() as uow:
            if step is monitoring.acknowledge_in:
                step(uow, principal, alarm_id, reason, now_ms, via="bulk")
            else:
                step(uow, principal, alarm_id, reason, now_ms)
            uow.commit()
            status = monitoring.stored_alarm(uow, alarm_id)["status"]
        return {"id": alarm_id, "ok": True, "status": status, "error": None, "message": None}
    except WuxinError as exc:  # not_found (absent or not the caller's), invalid_input (its state), denied, unavailable
        return {"id": alarm_id, "ok": False, "status": None, "error": exc.code, "message": str(exc)}


# ---------------------------------------------------------------- CSV export

EXPORT_COLUMNS = (
    "id",
    "severity",
    "alarm_type",
    "status",
    "borrower",
    "device",
    "device_type",
    "site",
    "metric",
    "value",
    "threshold",
    "baseline",
    "unit",
    "window",
    "opened",
    "last_seen",
    "occurrences",
    "acknowledged_at",
    "cleared_at",
    "rule_id",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_csv(platform: Platform, principal: Principal, f: AlarmFilter, lang: str = "zh") -> tuple[str, int]:
    """The filtered list as CSV text (headers and codes in `lang`, times in China time), and its row count;
    refused (InvalidInput, with the count) above EXPORT_MAX rows."""
    lang = "en" if lang == "en" else "zh"
    now_ms = platform.clock_ms()
    with platform.uow() as uow:
        total = monitoring.count_alarms(uow, principal, f, now_ms)
        if total > EXPORT_MAX:
            raise InvalidInput(f"{total} alarms match, at most {EXPORT_MAX} export at once: narrow the filter")
        rows, cursor = [], None
        while True:
            page, cursor = monitoring.filtered_alarms(uow, principal, f, monitoring.ALARM_PAGE_MAX, cursor, now_ms)
            rows += described(uow, page)
            if cursor is None:
                break
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([label("alarm_field", c, lang) for c in EXPORT_COLUMNS])
    for r in rows:
        writer.writerow([safe_cell(v) for v in csv_row(r, lang)])
    return "\ufeff" + out.getvalue(), len(rows)  # the BOM: Excel opens UTF-8 Chinese as text, not mojibake


def csv_row(r: dict, lang: str) -> list[Any]:
    e, device = r["explanation"], r["device"] or {}
    value, line = summary_numbers(e)
    unit = label("unit", e["unit"], lang) if e["unit"] else ""
    window = (
        f"{e['window_days']:g} d"
        if e["window_days"] is not None
        else f"{e['window_s']:g} s"
        if e["window_s"] is not None
        else ""
    )
    return [
        r["id"],
        label("severity", r["severity"], lang),
        label("alarm_type", r["alarm_type"], lang),
        label("alarm_state", r["status"], lang),
        r["enterprise_name"] or "",
        device.get("key") or "",
        label("device_type", device["device_type"], lang) if device.get("device_type") else "",
        device.get("site_name") or "",
        label(e["metric_kind"], e["metric"], lang) if e["metric"] else "",
        _num(value),
        _num(line),
        _num(e["baseline"]),
        unit,
        window,
        china_time(r["started_ms"]),
        china_time(r["last_ms"]),
        r["occurrences"],
        china_time(r["acknowledged_ms"]),
        china_time(r["cleared_ms"]),
        r["rule_id"],
    ]


def safe_cell(v: Any) -> Any:
    """A cell a spreadsheet shows as text, never runs: text starting with = + - @ tab or CR gets a leading quote
    (OWASP CSV injection); numbers stay numbers."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    text = "" if v is None else str(v)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _num(v: Any) -> Any:
    return "" if v is None else v


def china_time(ms: int | None) -> str:
    """An instant as China time, "2026-12-07 11:04:05" (UTC+8, no daylight saving)."""
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
