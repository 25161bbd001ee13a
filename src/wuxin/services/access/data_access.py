"""Reading an enterprise's data: only under consent, every read written to the access log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from wuxin.bootstrap import Platform
from wuxin.domain.model import trust_level
from wuxin.errors import InvalidInput, NotFound
from wuxin.security.policy import Principal, enterprise_not_found, readable_device_keys
from wuxin.services.devices.registry import consent_views

MAX_ROWS = 10_000


def list_devices(platform: Platform, principal: Principal, enterprise_id: int) -> list[dict]:
    with platform.uow() as uow:
        devices, readable, consent_id = _readable(platform, uow, principal, enterprise_id)
        visible = [d for d in devices if d["key"] in readable]
        log_access(platform, uow, principal, enterprise_id, None, "devices.list", consent_id, len(visible))
        uow.commit()
    now_ms = platform.clock_ms()
    return [_device_view(platform, d, now_ms) for d in visible]


MAX_PAGE_SIZE = 200


def device_page(
    platform: Platform,
    principal: Principal,
    enterprise_id: int,
    page: int = 1,
    page_size: int = 50,
    site_id: int | None = None,
    device_type: str | None = None,
) -> dict:
    """One page of the devices the principal may read, ordered by site, device type and key, and the groups
    (site x device type, with their device counts) over all of them, so a borrower with hundreds of devices
    shows a short list and what it is a part of. `total` counts the devices the filters keep."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page {page} / page_size {page_size}: page starts at 1, page_size is 1 to {MAX_PAGE_SIZE}")
    with platform.uow() as uow:
        devices, readable, consent_id = _readable(platform, uow, principal, enterprise_id)
        site_names = {s["id"]: s["name"] for s in uow.enterprises.sites(enterprise_id)}
        if site_id is not None and site_id not in site_names:
            raise NotFound(f"site {site_id} is not a site of enterprise {enterprise_id}")
        visible = sorted(
            (d for d in devices if d["key"] in readable),
            key=lambda d: (site_names.get(d["site_id"], "\uffff"), d["site_id"] or 0, d["device_type"], d["key"]),
        )
        kept = [
            d
            for d in visible
            if (site_id is None or d["site_id"] == site_id) and (device_type is None or d["device_type"] == device_type)
        ]
        items = kept[(page - 1) * page_size : page * page_size]
        log_access(platform, uow, principal, enterprise_id, None, "devices.list", consent_id, len(items))
        uow.commit()
    now_ms = platform.clock_ms()
    return {
        "total": len(kept),
        "page": page,
        "page_size": page_size,
        "pages": max(1, -(-len(kept) // page_size)),
        "site_id": site_id,
        "device_type": device_type,
        "groups": _groups(visible, site_names),
        "items": [_device_view(platform, d, now_ms) | {"site_name": site_names.get(d["site_id"])} for d in items],
    }


def _groups(devices: list[dict], site_names: dict[int, str]) -> list[dict]:
    """Site x device type with the number of devices, in the order of the list (devices come sorted)."""
    counts: dict[tuple, int] = {}
    for d in devices:
        counts[(d["site_id"], d["device_type"])] = counts.get((d["site_id"], d["device_type"]), 0) + 1
    return [
        {"site_id": site, "site": site_names.get(site), "device_type": kind, "count": n}
        for (site, kind), n in counts.items()
    ]


def device_connectivity(platform: Platform, device: Mapping[str, Any], now_ms: int) -> str:
    """online (reported within its thing model's heartbeat timeout, 900 s without one), offline, or unknown (never).

    A recorded offline at or after the last sign of life (the device closed its MQTT connection, a JT/T 808
    logout, its gateway's disconnect) is offline at once: `presence` from `with_presence`."""
    model = platform.thing_models.get(device["device_type"])
    timeout_ms = (model.heartbeat_timeout_s if model else 900) * 1000
    seen = device["last_seen_ms"]
    if seen is None:
        return "unknown"
    if device.get("presence") == "offline" and (device.get("presence_since_ms") or 0) >= seen:
        return "offline"
    return "online" if now_ms - seen <= timeout_ms else "offline"


def with_presence(uow, devices: Sequence[Mapping[str, Any]]) -> list[dict]:
    """The devices with their last recorded connectivity state (`presence`, `presence_since_ms`)."""
    recorded = {r["id"]: r for r in uow.protocols.devices_for_sweep([d["id"] for d in devices])} if devices else {}
    return [
        dict(d)
        | {
            "presence": recorded.get(d["id"], {}).get("state"),
            "presence_since_ms": recorded.get(d["id"], {}).get("since_ms"),
        }
        for d in devices
    ]


def _device_view(platform: Platform, device: dict, now_ms: int) -> dict:
    model = platform.thing_models.get(device["device_type"])
    state = device_connectivity(platform, device, now_ms)
    undeclared = model.undeclared_attributes(device["attributes"]) if model else sorted(device["attributes"] or {})
    return {
        k: device[k]
        for k in (
            "id",
            "key",
            "device_type",
            "site_id",
            "attributes",
            "source_mode",
            "trust_level",
            "last_seen_ms",
            "installed_ms",
            "decommissioned_ms",
        )
    } | {"connectivity": state, "undeclared_attributes": undeclared}


def read_telemetry(
    platform: Platform,
    principal: Principal,
    enterprise_id: int,
    device_key: str,
    key: str | None,
    from_ms: int,
    to_ms: int,
    limit: int = 1000,
) -> dict:
    limit = max(1, min(limit, MAX_ROWS))
    with platform.uow() as uow:
        devices, readable, consent_id = _readable(platform, uow, principal, enterprise_id)
        device = next((d for d in devices if d["key"] == device_key and d["key"] in readable), None)
        if device is None:  # a device outside the consent gets the answer of a missing one
            raise NotFound(f"device {device_key!r} is not a device of enterprise {enterprise_id}")
        rows = uow.telemetry.readings([device["id"]], key, from_ms, to_ms, limit)
        events = uow.telemetry.events([device["id"]], from_ms, to_ms, limit)
        log_access(
            platform, uow, principal, enterprise_id, device["id"], "telemetry.read", consent_id, len(rows) + len(events)
        )
        uow.commit()
    provenance = {
        "device": device_key,
        "source_mode": device["source_mode"],
        "trust_level": trust_level(device["source_mode"]),
    }
    return {
        "provenance": provenance,
        "readings": [
            {
                "key": r["key"],
                "ts": r["ts_ms"],
                "value": _value(r),
                "received_ms": r["received_ms"],
                "batch_id": r["batch_id"],
            }
            for r in rows
        ],
        "events": [
            {"event": e["name"], "ts": e["ts_ms"], "params": _object(e["params"]), "batch_id": e["batch_id"]}
            for e in events
        ],
    }


def _value(row: dict):
    return row["txt"] if row["txt"] is not None else row["num"]


def _readable(platform: Platform, uow, principal: Principal, enterprise_id: int):
    if uow.enterprises.get(enterprise_id) is None:
        raise enterprise_not_found(enterprise_id)
    devices = with_presence(uow, uow.devices.list(enterprise_id))  # no shortcut for admins: only under consent
    consents = consent_views(uow.consents.for_enterprise(enterprise_id))
    pairs = [(d["key"], d["device_type"]) for d in devices]
    readable, consent_id = readable_device_keys(principal, enterprise_id, pairs, consents, platform.clock_ms())
    return devices, readable, consent_id


def log_access(
    platform: Platform,
    uow,
    principal: Principal,
    enterprise_id: int,
    device_id: int | None,
    action: str,
    consent_id: int | None,
    rows: int,
) -> None:
    """One access-log row: who read what of which enterprise, under which consent, how many rows."""
    uow.logs.access(
        at_ms=platform.clock_ms(),
        user_id=principal.user_id,
        tenant_id=principal.tenant_id,
        enterprise_id=enterprise_id,
        device_id=device_id,
        action=action,
        consent_id=consent_id,
        rows=rows,
    )


def _object(params: str | dict | None) -> dict | None:
    """An event's parameters as stored (a JSON object's text) -> the object the API answers."""
    return orjson.loads(params) if isinstance(params, str) else params
