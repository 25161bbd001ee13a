"""Site time zones, device service dates and firm calendars (declared shutdowns, maintenance, extra rest days).

Who may do what: declaring, deleting and importing periods, setting a site's zone and a device's install or
decommission date is the device manager's (the admin, the enterprise itself, an integrator under a valid consent;
see services.registry); reading is anyone who may know the enterprise (a bank's officer under a valid consent).
An enterprise unknown to the caller answers 404 as if absent.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import time
import weakref
from collections.abc import Mapping
from typing import Any

from wuxin.bootstrap import Platform
from wuxin.calendars.official import CalendarNotCovered, covered_years, official_day
from wuxin.calendars.periods import PERIOD_KINDS, Period
from wuxin.domain.model import Role, SourceMode
from wuxin.errors import Denied, InvalidInput, NotFound
from wuxin.indicators.days import DAY_MS, DEFAULT_ZONE, day_start_ms, local_day
from wuxin.security.policy import Principal
from wuxin.services.devices.registry import (
    _require_device_manager,
    known_device,
    known_enterprise,
    require_device_manager_of,
    site_zone,
)
from wuxin.store.rows import CalendarPeriodRow
from wuxin.store.uow import UnitOfWork

MAX_PERIOD_MS = 366 * DAY_MS  # a declared period longer than a year is a typo, or no longer a calendar
# What the enterprise itself may declare (the bank side, admin, integrator, operator, is held only to MAX_PERIOD_MS):
BORROWER_MAX_DAYS = {"maintenance": 31, "shutdown": 62, "holiday_extra": 31}  # a month's overhaul; a season's stop
BORROWER_PAST_MS = DAY_MS  # no further back than a day: yesterday's breakdown, not a rewritten history
MAX_IMPORT_ROWS = 5000
ZONE_TTL_MS = 30_000
_ZONES: weakref.WeakKeyDictionary[object, tuple[int, dict[int, str]]] = weakref.WeakKeyDictionary()  # per engine
_ZONES_LOCK = threading.Lock()


# ---------------------------------------------------------------- time zones


def zoned_devices(platform: Platform, uow: UnitOfWork) -> dict[int, str]:
    """{device id: zone} of devices on sites outside the default zone; cached per database engine for ZONE_TTL_MS and
    dropped when a site's zone changes in this process (ingest marks dirty days with it on every batch)."""
    now = time.monotonic_ns() // 1_000_000
    cached = _ZONES.get(platform.engine)
    if cached is not None and now - cached[0] <= ZONE_TTL_MS:
        return cached[1]
    zones = uow.calendars.zoned_devices(DEFAULT_ZONE)
    with _ZONES_LOCK:
        _ZONES[platform.engine] = (now, zones)
    return zones


def latest_zone(zones: list[str]) -> str:
    """Of several zones, the one whose day ends last (an enterprise's daily verdict waits until its day is over at
    every site); the default when none is named."""
    if not zones:
        return DEFAULT_ZONE
    probe = local_day(int(time.time() * 1000), DEFAULT_ZONE)
    return max(sorted(set(zones)), key=lambda z: day_start_ms(probe, z))


def enterprise_zones(uow: UnitOfWork, enterprise_ids: list[int]) -> dict[int, str]:
    """{enterprise id: the zone its days are judged in} (see latest_zone)."""
    named = uow.calendars.site_zones(enterprise_ids) if enterprise_ids else {}
    return {e: latest_zone(named.get(e, [])) for e in enterprise_ids}


def set_site_timezone(
    platform: Platform, principal: Principal | None, enterprise_id: int, site_id: int, timezone: str | None
) -> dict:
    """Name the IANA zone cutting a site's days (None: back to Asia/Shanghai). Days already computed are not
    recomputed here: mark them dirty (`wuxin indicators mark`, then `update`) to re-cut history."""
    zone = site_zone(timezone)
    with platform.uow() as uow:
        _require_device_manager(platform, uow, principal, enterprise_id)
        site = uow.enterprises.site(site_id)
        if site is None or site["enterprise_id"] != enterprise_id:
            raise NotFound(f"site {site_id} does not exist in enterprise {enterprise_id}")
        uow.calendars.set_site_timezone(site_id, None if zone == DEFAULT_ZONE else zone)
        uow.logs.audit(
            platform.clock_ms(),
            principal.user_id if principal else None,
            "site.timezone",
            f"site:{site_id}",
            {"timezone": zone},
        )
        uow.commit()
    _ZONES.pop(platform.engine, None)
    return {"site_id": site_id, "timezone": zone}


# ---------------------------------------------------------------- device service dates


def set_service_dates(
    platform: Platform,
    principal: Principal | None,
    device_key: str,
    installed_ms: int | None,
    decommissioned_ms: int | None,
) -> dict:
    """A device's install and decommission times (None clears one): before its install and from its decommission it
    is out of service, so its silence is no outage and its absence no drop."""
    for name, value in (("installed_ms", installed_ms), ("decommissioned_ms", decommissioned_ms)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53):
            raise InvalidInput(f"{name} must be epoch milliseconds, got {value!r}")
    if installed_ms is not None and decommissioned_ms is not None and decommissioned_ms <= installed_ms:
        raise InvalidInput(f"decommissioned_ms {decommissioned_ms} must be after installed_ms {installed_ms}")
    with platform.uow() as uow:
        device = known_device(platform, uow, principal, device_key)
        require_device_manager_of(platform, uow, principal, device)
        uow.calendars.set_service_dates(device["id"], installed_ms, decommissioned_ms)
        uow.logs.audit(
            platform.clock_ms(),
            principal.user_id if principal else None,
            "device.service_dates",
            device_key,
            {"installed_ms": installed_ms, "decommissioned_ms": decommissioned_ms},
        )
        uow.commit()
    return {"device": device_key, "installed_ms": installed_ms, "decommissioned_ms": decommissioned_ms}


def in_service(device: Mapping[str, Any], at_ms: int) -> bool:
    """Installed by `at_ms` (or no install date) and not yet decommissioned."""
    installed, gone = device.get("installed_ms"), device.get("decommissioned_ms")
    return (installed is None or installed <= at_ms) and (gone is None or at_ms < gone)


# ---------------------------------------------------------------- firm calendars


def declared_by_enterprise(principal: Principal | None) -> bool:
    return principal is not None and principal.role is Role.ENTERPRISE_USER


def _epoch_ms(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
        raise InvalidInput(f"period {name} must be epoch milliseconds, got {value!r}")
    return value


def _period_values(uow: UnitOfWork, enterprise_id: int, doc: dict, borrower: bool = False, now_ms: int = 0) -> dict:
    """A declared period checked: kind, [start, end) in epoch ms, note, and optionally a site id or a device key of
    this enterprise. Declared by the enterprise itself (`borrower`): only on its enterprise_shared devices, starting
    no earlier than BORROWER_PAST_MS ago, lasting at most BORROWER_MAX_DAYS of its kind."""
    kind = doc.get("kind")
    if kind not in PERIOD_KINDS:
        raise InvalidInput(f"period kind {kind!r} is not one of {list(PERIOD_KINDS)}")
    start, end = _epoch_ms("start_ms", doc.get("start_ms")), _epoch_ms("end_ms", doc.get("end_ms"))
    if not start < end or end - start > MAX_PERIOD_MS:
        raise InvalidInput(f"period [{start}, {end}) must end after it starts and last at most 366 days")
    if borrower and end - start > BORROWER_MAX_DAYS[kind] * DAY_MS:
        raise InvalidInput(
            f"a {kind} period the enterprise declares lasts at most {BORROWER_MAX_DAYS[kind]} days, "
            f"[{start}, {end}) lasts {(end - start) / DAY_MS:.1f}"
        )
    if borrower and start < now_ms - BORROWER_PAST_MS:
        raise InvalidInput(
            f"period start_ms {start} is more than a day in the past: the enterprise declares ahead, "
            "the bank side records history"
        )
    note = doc.get("note") or ""
    if not isinstance(note, str) or len(note) > 500:
        raise InvalidInput(f"period note must be text of at most 500 characters, got {str(note)[:40]!r}")
    site_id, device_id = doc.get("site_id"), None
    if site_id is not None:
        site = uow.enterprises.site(site_id) if isinstance(site_id, int) and not isinstance(site_id, bool) else None
        if site is None or site["enterprise_id"] != enterprise_id:
            raise InvalidInput(f"site {site_id!r} is not a site of enterprise {enterprise_id}")
    if doc.get("device") is not None:
        device = uow.devices.by_key(str(doc["device"]))
        if device is None or device["enterprise_id"] != enterprise_id:
            raise InvalidInput(f"device {doc['device']!r} is not a device of enterprise {enterprise_id}")
        if borrower and device["source_mode"] != SourceMode.ENTERPRISE_SHARED.value:
            raise Denied(
                f"device {doc['device']!r} is {device['source_mode']}: the enterprise declares periods only "
                "on its enterprise_shared devices"
            )
        device_id = device["id"]
    return dict(
        enterprise_id=enterprise_id,
        site_id=site_id,
        device_id=device_id,
        kind=kind,
        start_ms=start,
        end_ms=end,
        note=note,
        declared_by_enterprise=borrower,
    )


def add_periods(platform: Platform, principal: Principal | None, enterprise_id: int, docs: list[dict]) -> list[dict]:
    """Declare shutdowns / maintenance windows / extra rest days (one, or an import of many: all or none). Each
    period is listed to whoever may read the enterprise (its consented banks) and audited in full."""
    if not isinstance(docs, list) or not 1 <= len(docs) <= MAX_IMPORT_ROWS:
        raise InvalidInput(f"between 1 and {MAX_IMPORT_ROWS} periods at a time")
    now_ms = platform.clock_ms()
    borrower = declared_by_enterprise(principal)
    with platform.uow() as uow:
        _require_device_manager(platform, uow, principal, enterprise_id)
        ids = []
        for n, doc in enumerate(docs, 1):
            if not isinstance(doc, dict):
                raise InvalidInput(f"period {n} is not an object")
            try:
                values = _period_values(uow, enterprise_id, doc, borrower, now_ms)
            except (InvalidInput, Denied) as exc:
                raise type(exc)(f"period {n}: {exc}") from None
            ids.append(
                uow.calendars.add_period(
                    **values, created_ms=now_ms, created_by=principal.user_id if principal else None
                )
            )
        keys = _device_keys(uow, enterprise_id)
        added = [public_period(_stored_period(uow, i), keys) for i in ids]
        uow.logs.audit(
            now_ms,
            principal.user_id if principal else None,
            "calendar.add",
            f"enterprise:{enterprise_id}",
            {"periods": [_audited(p) for p in added]},
        )
        uow.commit()
        return added


def _stored_period(uow: UnitOfWork, period_id: int) -> CalendarPeriodRow:
    """A period this unit of work has just added (so it exists)."""
    row = uow.calendars.period(period_id)
    if row is None:
        raise NotFound(f"calendar period {period_id} does not exist")
    return row


def _audited(period: dict) -> dict:
    return {
        k: period[k]
        for k in ("id", "kind", "start_ms", "end_ms", "site_id", "device", "note", "declared_by_enterprise")
    }


def import_periods_csv(platform: Platform, principal: Principal | None, enterprise_id: int, body: bytes) -> list[dict]:
    """A calendar CSV import (blocking: run it off the event loop): rights first, then the text, read no further
    than MAX_IMPORT_ROWS rows."""
    with platform.uow() as uow:
        _require_device_manager(platform, uow, principal, enterprise_id)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the calendar CSV is not UTF-8 text") from None
    return add_periods(platform, principal, enterprise_id, parse_periods_csv(text))


def parse_periods_csv(text: str) -> list[dict]:
    """Rows of `kind,start,end,note,site_id,device` (start and end as ISO times with offset, or epoch ms)."""
    try:
        reader = csv.DictReader(io.StringIO(text))
        missing = {"kind", "start", "end"} - set(reader.fieldnames or [])
        if missing:
            raise InvalidInput(
                f"the calendar CSV lacks columns {sorted(missing)} (kind,start,end[,note,site_id,device])"
            )
        rows: list[dict] = []
        for n, row in enumerate(reader, 2):
            if len(rows) >= MAX_IMPORT_ROWS:
                raise InvalidInput(f"the calendar CSV has more than {MAX_IMPORT_ROWS} rows (line {n})")
            rows.append(_csv_period(n, row))
        return rows
    except csv.Error as exc:
        raise InvalidInput(f"the calendar CSV is not readable CSV: {exc}") from None


def _csv_period(line: int, row: dict) -> dict:
    cell = lambda name: (row.get(name) or "").strip() if isinstance(row.get(name), str) else ""  # noqa: E731
    try:
        doc = {
            "kind": cell("kind"),
            "start_ms": _moment(cell("start")),
            "end_ms": _moment(cell("end")),
            "note": cell("note"),
        }
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"calendar CSV line {line}: {exc}") from None
    if cell("site_id"):
        site = cell("site_id")
        doc["site_id"] = int(site) if site.isascii() and site.isdigit() and len(site) < 10 else site
    if cell("device"):
        doc["device"] = cell("device")
    return doc


def _moment(text: str) -> int:
    text = (text or "").strip()
    if text.isascii() and text.isdigit():
        if len(text) > 16:
            raise ValueError(f"time {text[:20]!r}... is not epoch milliseconds")
        return int(text)
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} needs its UTC offset, like 2026-02-14T00:00:00+08:00")
    return int(moment.timestamp() * 1000)


def _device_keys(uow: UnitOfWork, enterprise_id: int) -> dict[int, str]:
    return {d["id"]: d["key"] for d in uow.devices.list(enterprise_id)}


def public_period(row: CalendarPeriodRow, keys: dict[int, str]) -> dict:
    return {
        "id": row["id"],
        "enterprise_id": row["enterprise_id"],
        "site_id": row["site_id"],
        "device": keys.get(row["device_id"]) if row["device_id"] is not None else None,
        "kind": row["kind"],
        "start_ms": row["start_ms"],
        "end_ms": row["end_ms"],
        "note": row["note"],
        "created_ms": row["created_ms"],
        "declared_by_enterprise": bool(row["declared_by_enterprise"]),
    }


def list_periods(
    platform: Platform, principal: Principal, enterprise_id: int, from_ms: int | None = None, to_ms: int | None = None
) -> list[dict]:
    with platform.uow() as uow:
        known_enterprise(platform, uow, principal, enterprise_id)
        keys = _device_keys(uow, enterprise_id)
        return [public_period(r, keys) for r in uow.calendars.periods([enterprise_id], from_ms, to_ms)]


def delete_period(platform: Platform, principal: Principal | None, enterprise_id: int, period_id: int) -> None:
    with platform.uow() as uow:
        _require_device_manager(platform, uow, principal, enterprise_id)
        row = uow.calendars.period(period_id)
        if row is None or row["enterprise_id"] != enterprise_id:
            raise NotFound(f"calendar period {period_id} does not exist")
        now_ms, user_id = platform.clock_ms(), principal.user_id if principal else None
        uow.calendars.delete_period(period_id, now_ms, user_id)  # soft: the row stays, marked deleted
        uow.logs.audit(
            now_ms,
            user_id,
            "calendar.delete",
            f"enterprise:{enterprise_id}",
            {"period": _audited(public_period(row, _device_keys(uow, enterprise_id)))},
        )
        uow.commit()


def periods_by_enterprise(
    uow: UnitOfWork, enterprise_ids: list[int], from_ms: int, to_ms: int
) -> dict[int, list[Period]]:
    """The declared periods the rules read, per enterprise."""
    out: dict[int, list[Period]] = {e: [] for e in enterprise_ids}
    for row in uow.calendars.periods(enterprise_ids, from_ms, to_ms) if enterprise_ids else []:
        out[row["enterprise_id"]].append(Period.of(row))
    return out


# ---------------------------------------------------------------- the official calendar


def official_days(from_day: dt.date, to_day: dt.date) -> dict:
    """The official PRC calendar over a range (at most 400 days): each day's kind, holiday name and make-up flag."""
    if to_day < from_day or (to_day - from_day).days > 400:
        raise InvalidInput(f"range {from_day}..{to_day} must run forward over at most 400 days")
    days = []
    for n in range((to_day - from_day).days + 1):
        try:
            days.append(official_day(from_day + dt.timedelta(days=n)).public())
        except CalendarNotCovered as exc:
            raise InvalidInput(str(exc)) from None
    first, last = covered_years()
    return {"source": "chinesecalendar", "covered_years": [first, last], "days": days}
