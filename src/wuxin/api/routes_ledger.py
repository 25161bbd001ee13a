"""HTTP routes of the ledger part: public key, tree heads and consistency (public); entry proofs and evidence
bundles (whoever may read what the entry proves); telemetry proofs (under consent)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Path, Query

from wuxin.api.deps import CurrentUser, PlatformDep
from wuxin.api.fields import INT64_MAX, Id
from wuxin.api.schemas_ledger import ConsistencyProof, EntryProof, EvidenceBundle, PublicKey, TelemetryProof, TreeHead
from wuxin.bootstrap import Platform
from wuxin.domain.model import Role
from wuxin.security.policy import require_role
from wuxin.services.evidence import ledger, ledger_access

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])
log = logging.getLogger("wuxin.ledger")


@router.get("/public-key", response_model=PublicKey)
def public_key(platform: PlatformDep) -> dict:
    """The Ed25519 key that signs tree heads (raw 32 bytes, hex); public."""
    return {"algorithm": "Ed25519", "public_key": ledger.public_key_hex(platform)}


@router.get("/tree-heads/latest", response_model=TreeHead)
def latest_tree_head(platform: PlatformDep) -> dict:
    """The newest signed tree head; public."""
    return ledger.latest_tree_head(platform)


@router.get("/tree-heads", response_model=list[TreeHead])
def list_tree_heads(platform: PlatformDep, limit: int = Query(100, ge=1, le=1000)) -> list[dict]:
    """Published signed tree heads, newest first; public."""
    return ledger.tree_heads(platform, limit)


@router.post("/tree-heads", status_code=201, response_model=TreeHead)
def publish_tree_head(user: CurrentUser, platform: PlatformDep) -> dict:
    """Sign and publish the current tree head now (platform admin)."""
    require_role(user, Role.PLATFORM_ADMIN)
    return ledger.publish_tree_head(platform)


@router.get("/consistency", response_model=ConsistencyProof)
def consistency(
    platform: PlatformDep,
    first: int = Query(..., ge=1, le=INT64_MAX),
    second: int | None = Query(None, ge=1, le=INT64_MAX),
) -> dict:
    """RFC 9162 consistency proof from tree size `first` to a published head (default the newest); public."""
    return ledger.consistency(platform, first, second)


@router.get("/entries/{leaf_index}/proof", response_model=EntryProof)
def entry_proof(leaf_index: Annotated[int, Path(ge=0, le=INT64_MAX)], user: CurrentUser, platform: PlatformDep) -> dict:
    """Inclusion proof of one entry with its leaf data and signed head, for whoever may read what it proves; any
    refusal reads as a missing entry. A telemetry batch is proven per device: GET
    /api/v1/ledger/telemetry/batches/{batch}/devices/{device}/proof."""
    return ledger_access.entry_proof(platform, user, leaf_index)


@router.get("/evidence", response_model=EvidenceBundle)
def evidence_bundle(user: CurrentUser, platform: PlatformDep, subject: str = Query(..., max_length=300)) -> dict:
    """The evidence bundle of a subject (e.g. a decision) and its inputs, verifiable offline."""
    return ledger_access.evidence_bundle(platform, user, subject)


@router.get("/telemetry/batches/{batch_id}/devices/{device_key}/proof", response_model=TelemetryProof)
def telemetry_proof(batch_id: Id, device_key: str, user: CurrentUser, platform: PlatformDep) -> dict:
    """A device's points stored under a batch, their recomputed digest, and the batch leaf's inclusion proof."""
    return ledger_access.telemetry_proof(platform, user, batch_id, device_key)


def tree_head_lifespan(platform: Platform, interval_s: float | None = None):
    """App lifespan: while serving, sign and publish a tree head every interval_s when the log has grown."""

    @asynccontextmanager
    async def lifespan(app) -> AsyncIterator[None]:
        try:
            await asyncio.to_thread(ledger.show_latest_head_in_metrics, platform)
        except Exception as exc:  # the database may be down at start: the gauges wait for the next head
            log.warning("could not read the latest tree head for /metrics: %s", exc)
        task = asyncio.create_task(
            _publish_periodically(platform, interval_s or platform.settings.tree_head_interval_s)
        )
        app.state.tree_head_task = task
        try:
            yield
        finally:
            task.cancel()

    return lifespan


async def _publish_periodically(platform: Platform, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await asyncio.to_thread(
                platform.metrics.timed_job, "tree_head", lambda: ledger.publish_tree_head(platform, True)
            )
        except Exception:  # the database may be down for a while: log, keep the schedule
            log.exception("periodic tree head publication failed; retrying in %s s", interval_s)
