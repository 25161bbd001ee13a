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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DEFAULTS = {
    "key": "tag_count",
    "value_attr": "pledged_units",
    "lot_attr": "lot_id",
    "lot_value_attr": "lot_pledged_units",
    "duration_s": 1800,
    "fresh_s": 7200,
}


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
        out.append(
            Reader(
                d["id"],
                str(lot) if lot not in (None, "") else f"device:{d['id']}",
                _number(a.get(value_attr)),
                _number(a.get(lot_value_attr)),
            )
        )
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
        out[lot] = {
            "stock": sum(latest[r.id] for r in members) if known else None,
            "pledged": pledged,
            "readers": [r.id for r in members],
            "declared_on_lot": bool(declared),
        }
    return out


def lot_step(position: Mapping, state: dict, now_ms: int, duration_ms: int) -> str | None:
    """ "raise" once the lot stayed below its pledge for `duration_ms`, "clear" when back; state holds since/raised."""
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


# ---------------------------------------------------------------- camera and WMS reconciled into the lot's stock
#
# RFID counts the tags present: a stock. A gate camera counts goods in and out, and the WMS books movements: flows.
# A flow gives a stock only from an anchor: the lot's RFID stock at a moment it was at or above its pledge
# (`anchor_step`), kept while the lot is below, renewed once it is `anchor_s` old and the lot back at or above. Each
# source then gives an estimate (camera: anchor + counted in - out over every zone of the lot; WMS: anchor + booked
# in - out naming the lot or one of its zones), credited with its own error (camera: `flow_tolerance` of the units it
# counted since the anchor; WMS: exact bookings). The lot is judged on the lowest credible estimate: a reader held at
# a copied count while the camera sees goods leave no longer hides the drawdown, and a camera that miscounts a
# little cannot pull a healthy lot under. A reader gone silent no longer blinds the lot where a flow covers it.

FLOW_DEFAULTS = {
    "anchor_s": 86400,
    "flow_tolerance": 0.05,
    "booking_grace_s": 7200,
    "tolerance_days": 14,
    "min_tolerance_days": 7,
    "tolerance_z": 3.72,
}


@dataclass(frozen=True)
class CameraTolerance:
    share: float  # the fraction of the units it counts this camera may miscount
    days: int  # its own days the share was learnt from (0: the declared default)
    basis: str  # "own_history" or "declared_default"


def camera_tolerance(
    days: Sequence[tuple[float, float, float]], default: float, min_days: int = 7, z: float = 3.72
) -> CameraTolerance:
    """A gate camera's counting error from its own days: each day's (camera net in - out, the RFID stock change of
    its zone, units it counted) gives |net - change| / counted; the tolerance is the larger of the worst day seen and
    the days' median plus `z` robust deviations (1.4826 x MAD; z = 3.72, the one-sided normal tail of 1e-4 per day),
    and never under one unit of its median day's count (counts are whole units).
    With fewer than `min_days` days with movements, the rule's declared `default`. A careful camera gets a tight
    tolerance (a drawdown it sees is not hidden by another camera's sloppiness), a sloppy one a wide one (its
    miscounts no longer pull a healthy lot under)."""
    errors = sorted(abs(net - change) / moved for net, change, moved in days if moved > 0)
    if len(errors) < min_days:
        return CameraTolerance(default, len(errors), "declared_default")
    median = (
        errors[len(errors) // 2] if len(errors) % 2 else (errors[len(errors) // 2 - 1] + errors[len(errors) // 2]) / 2
    )
    deviations = sorted(abs(e - median) for e in errors)
    n = len(deviations)
    mad = deviations[n // 2] if n % 2 else (deviations[n // 2 - 1] + deviations[n // 2]) / 2
    moved = sorted(m for _, _, m in days if m > 0)
    resolution = 1.0 / moved[len(moved) // 2]  # one unit of its median day: a count is whole units
    return CameraTolerance(round(max(errors[-1], median + z * 1.4826 * mad, resolution), 4), len(errors), "own_history")


@dataclass(frozen=True)
class Flow:
    source: str  # "camera" or "wms"
    in_units: float
    out_units: float
    tolerance: float  # fraction of the units moved this source may miscount (0 for bookings)

    @property
    def net(self) -> float:
        return self.in_units - self.out_units


def anchor_step(
    state: dict,
    rfid_units: float | None,
    below: bool,
    now_ms: int,
    anchor_s: float,
    read_ms: Mapping[str, int] | None = None,
) -> dict | None:
    """The anchor (`{"ts_ms", "units", "zones"}`) the flows count from: set from the lot's RFID stock when there is
    none, or when it is `anchor_s` old and the lot is not below its pledge; kept while the lot is below. `read_ms`
    holds, per zone, when its readers' counts were read: a zone's flows count from then (a truck unloaded between the
    reading and the sweep is in neither), the anchor's own time is the earliest of them."""
    anchor = state.get("anchor")
    if rfid_units is not None and (anchor is None or not below and now_ms - anchor["ts_ms"] >= anchor_s * 1000):
        zones = dict(read_ms or {})
        anchor = state["anchor"] = {"ts_ms": min(zones.values(), default=now_ms), "units": rfid_units, "zones": zones}
    return anchor


def reconcile(rfid_units: float | None, anchor: Mapping | None, flows: Sequence[Flow]) -> dict | None:
    """The lot's sources and its judged stock: the lowest of RFID and each flow's anchor + net + its error. With a
    reader silent (RFID unknown) the flows alone judge, from the last anchor; None with no source at all."""
    estimates = {} if rfid_units is None else {"rfid": {"units": rfid_units, "credible_units": rfid_units}}
    if anchor is not None:
        for f in flows:
            units = anchor["units"] + f.net
            error = f.tolerance * (f.in_units + f.out_units)
            estimates[f.source] = {
                "units": round(units, 2),
                "credible_units": round(units + error, 2),
                "error_units": round(error, 2),
                "in_units": f.in_units,
                "out_units": f.out_units,
            }
    if not estimates:
        return None
    source = min(estimates, key=lambda s: (estimates[s]["credible_units"], s != "rfid"))
    disagree = (
        []
        if rfid_units is None
        else sorted(s for s, e in estimates.items() if s != "rfid" and abs(e["units"] - rfid_units) > e["error_units"])
    )
    return {"stock": estimates[source]["credible_units"], "set_by": source, "sources": estimates, "disagree": disagree}


def unbooked_crossing(judged: float, pledged: float, anchor: Mapping | None, wms: Flow | None) -> dict | None:
    """The lot below its pledge while its own bookings say it still holds at least the pledge: the drop that took it
    under is not covered by any booked outbound. None when there is no booking feed or the books agree."""
    if anchor is None or wms is None or judged >= pledged:
        return None
    booked = anchor["units"] + wms.net
    if booked < pledged:
        return None
    return {
        "booked_stock_units": round(booked, 2),
        "unbooked_units": round(booked - judged, 2),
        "booked_out_units": wms.out_units,
        "anchor_units": anchor["units"],
        "anchor_ms": anchor["ts_ms"],
    }


def source_words(reconciled: Mapping, tolerance: float, learnt: Mapping[str, CameraTolerance] | None = None) -> dict:
    """Which source set the judged stock and how it was credited, zh-CN and en; `learnt` gives each camera's own
    tolerance (by device key), `tolerance` is then their blend weighted by the units each counted."""
    s = reconciled["sources"]
    names = {
        "rfid": ("RFID readers' latest counts", "RFID读写器最新计数"),
        "camera": ("the RFID anchor plus the gate cameras' counts in minus out", "RFID锚点加视频计数入库减出库"),
        "wms": ("the RFID anchor plus the WMS bookings in minus out", "RFID锚点加WMS入库减出库记账"),
    }
    parts_en = [f"{names[k][0]}: {v['units']:g}" for k, v in s.items()]
    parts_zh = [f"{names[k][1]}: {v['units']:g}" for k, v in s.items()]
    en, zh = names[reconciled["set_by"]]
    pct = f"{tolerance:.1%}" if learnt else f"{tolerance:.0%}"
    own_en = "; ".join(
        f"{k}: {t.share:.1%} from its own {t.days} days"
        if t.basis == "own_history"
        else f"{k}: the declared {t.share:.0%} ({t.days} days of its own, too few)"
        for k, t in (learnt or {}).items()
    )
    own_zh = "; ".join(
        f"{k}: {t.share:.1%}(自身{t.days}天)"
        if t.basis == "own_history"
        else f"{k}: 规则设定的{t.share:.0%}(自身仅{t.days}天)"
        for k, t in (learnt or {}).items()
    )
    return {
        "en": f"lowest credible of {len(s)} source(s) ({'; '.join(parts_en)}), set by {en}; a camera estimate is "
        f"credited its counting error of {pct} of the units it counted since the anchor"
        + (f" (each camera's own: {own_en})" if own_en else ""),
        "zh": f"{len(s)}个来源中可信的最低值({'; '.join(parts_zh)}),取自{zh};视频估计加上其计数误差"
        f"(锚点以来计数件数的{pct})" + (f"(各摄像头自身误差: {own_zh})" if own_zh else ""),
    }
