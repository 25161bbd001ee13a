"""The quarantine: list what was refused, replay it after a fix, or discard it."""

from __future__ import annotations

import logging

from wuxin.bootstrap import Platform
from wuxin.domain.model import Role
from wuxin.errors import InvalidInput
from wuxin.ingest.parse import PayloadError, loads
from wuxin.ingest.pipeline import validate_lines
from wuxin.security.policy import Principal, require_role
from wuxin.services.ingest.telemetry import DeviceResolver, store_validated
from wuxin.store.db import is_unavailable
from wuxin.store.rows import QuarantineRow

log = logging.getLogger(__name__)


def list_entries(
    platform: Platform,
    principal: Principal | None,
    status: str | None = "open",
    limit: int = 100,
    after_id: int = 0,
    reason: str | None = None,
) -> list[QuarantineRow]:
    if principal is not None:
        require_role(principal, Role.PLATFORM_ADMIN)
    with platform.uow() as uow:
        return uow.quarantine.list(status, min(max(limit, 1), 1000), after_id, reason)


def replay(platform: Platform, principal: Principal | None, entry_ids: list[int]) -> dict:
    """Run entries through validation again; those now accepted are stored and marked replayed."""
    if principal is not None:
        require_role(principal, Role.PLATFORM_ADMIN)
    replayed: list[int] = []
    still_refused: list[int] = []
    with platform.uow() as uow:
        open_ids = [entry["id"] for entry in uow.quarantine.get_many(entry_ids) if entry["status"] == "open"]
    for entry_id in open_ids:  # each in its own transaction: one the database refuses leaves the others
        (replayed if _replay_alone(platform, entry_id) else still_refused).append(entry_id)
    return {"replayed": replayed, "still_refused": still_refused}


def _replay_alone(platform: Platform, entry_id: int) -> bool:
    try:
        with platform.uow() as uow:
            [entry] = uow.quarantine.get_many([entry_id])
            ok = entry["status"] == "open" and _replay_one(platform, uow, DeviceResolver(platform, uow), entry)
            uow.commit()
        return ok
    except Exception as exc:
        if is_unavailable(exc):
            raise
        log.warning("quarantine entry %d still cannot be stored: %s: %s", entry_id, type(exc).__name__, str(exc)[:300])
        return False


def _replay_one(platform: Platform, uow, resolver: DeviceResolver, entry: QuarantineRow) -> bool:
    try:
        payload = loads(entry["payload"])
    except PayloadError:
        return False
    lines = payload if isinstance(payload, list) else [payload]
    validated = validate_lines(lines, resolver, platform.clock_ms(), platform.settings.max_future_skew_s * 1000)
    if validated.rejections or not (validated.readings or validated.events):
        return False
    store_validated(platform, uow, validated, "replay", None, None)
    uow.quarantine.resolve(entry["id"], "replayed", platform.clock_ms())
    return True


def discard(platform: Platform, principal: Principal | None, entry_ids: list[int]) -> int:
    if principal is not None:
        require_role(principal, Role.PLATFORM_ADMIN)
    if not entry_ids:
        raise InvalidInput("name at least one quarantine entry to discard")
    with platform.uow() as uow:
        entries = [e for e in uow.quarantine.get_many(entry_ids) if e["status"] == "open"]
        for entry in entries:
            uow.quarantine.resolve(entry["id"], "discarded", platform.clock_ms())
        uow.commit()
    return len(entries)
