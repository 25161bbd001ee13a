"""Stock against the pledge over the whole pledged lot, not reader by reader; pure.

A pledged lot often spans several warehouse zones, each watched by its own RFID reader; goods moved from one zone of
the lot to another are still pledged, so comparing each reader with its own share raises on every internal move.
Readers carry the lot they watch (`lot_attr`, default `lot_id`; a reader without one is a lot of its own). The lot's
pledged quantity is the `lot_value_attr` (default `lot_pledged_units`) any of its readers carries (the pledge is set
on the lot), else the sum of its readers' own `value_attr` shares. The lot's stock is the sum of its readers' latest
counts, judged only when every reader of the lot has reported within `fresh_s` (a silent reader is unknown, never
zero). Below the pledge for `duration_s` raises; back at or above it clears.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

DEFAULTS = {"key": "tag_count", "value_attr": "pledged_units", "lot_attr": "lot_id", "lot_value_attr": "lot_pledged_units",
            "duration_s": 1800, "fresh_s": 7200}


@dataclass(frozen=True)
class Reader:
    id: int
    lot: str
    share: float | None  # this reader's own pledged share (install attribute), if any
    lot_pledge: float | None  # the lot's pledged quantity carried by this reader, if any


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def readers_of(devices: Sequence[Mapping], lot_attr: str, value_attr: str, lot_value_attr: str) -> list[Reader]:
    """Readers from device rows (id, attributes); a reader with no lot is its own lot 'device:<id>'."""
    out = []
    for d in devices:
        a = d.get("attributes") or {}
        lot = a.get(lot_attr)
        out.append(Reader(d["id"], str(lot) if lot not in (None, "") else f"device:{d['id']}",
                          _number(a.get(value_attr)), _number(a.get(lot_value_attr))))
    return out


def lot_positions(readers: Sequence[Reader], latest: Mapping[int, float], fresh: set[int]) -> dict[str, dict]:
    """Per lot with a pledge: its stock (None when a reader is stale or silent), pledge and readers."""
    lots: dict[str, list[Reader]] = {}
    for r in readers:
        lots.setdefault(r.lot, []).append(r)
    out = {}
    for lot, members in lots.items():
        declared = [r.lot_pledge for r in members if r.lot_pledge is not None]
        shares = [r.share for r in members if r.share is not None]
        pledged = max(declared) if declared else (sum(shares) if shares else None)
        if pledged is None:
            continue
        known = all(r.id in fresh and r.id in latest for r in members)
        out[lot] = {"stock": sum(latest[r.id] for r in members) if known else None, "pledged": pledged,
                    "readers": [r.id for r in members], "declared_on_lot": bool(declared)}
    return out


def lot_step(position: Mapping, state: dict, now_ms: int, duration_ms: int) -> str | None:
    """"raise" once the lot stayed below its pledge for `duration_ms`, "clear" when back; state holds since/raised."""
    stock, pledged = position["stock"], position["pledged"]
    if stock is None:
        return None
    if stock < pledged:
        since = state.setdefault("since", now_ms)
        if not state.get("raised") and now_ms - since >= duration_ms:
            state["raised"] = True
            return "raise"
        return None
    state.pop("since", None)
    return "clear" if state.pop("raised", False) else None
