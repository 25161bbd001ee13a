"""A pledged lot's stock with its RFID readers, gate cameras and WMS bookings reconciled (alerts/stock.py): the lowest
credible source judges, a camera's small miscount never pulls a healthy lot under, and a drop under the pledge that
the lot's own bookings do not cover is told apart from a booked drawdown."""

from wuxin.alerts.stock import Flow, anchor_step, lot_step, reconcile, source_words, unbooked_crossing

HOUR = 3_600_000


def test_anchor_is_kept_while_below_and_renewed_only_when_old_and_healthy():
    state: dict = {}
    assert anchor_step(state, 500, False, 0, 86400) == {"ts_ms": 0, "units": 500, "zones": {}}
    assert anchor_step(state, 480, False, 2 * HOUR, 86400)["units"] == 500  # not yet a day old
    assert anchor_step(state, 200, True, 30 * HOUR, 86400)["units"] == 500  # below: kept
    read = {"A": 31 * HOUR - 600_000, "B": 31 * HOUR - 60_000}  # when each zone's readers were read
    assert anchor_step(state, 510, False, 31 * HOUR, 86400, read) == {
        "ts_ms": 31 * HOUR - 600_000,
        "units": 510,
        "zones": read,
    }
    assert anchor_step({}, None, False, 0, 86400) is None  # an unknown RFID stock sets no anchor


def test_healthy_lot_with_a_camera_miscounting_a_little_stays_on_rfid():
    anchor = {"ts_ms": 0, "units": 500}
    camera = Flow("camera", 300, 330, 0.05)  # counted 2 % short on the way in: 470 by the camera, real 476
    wms = Flow("wms", 306, 330, 0.0)
    r = reconcile(476, anchor, [camera, wms])
    assert r["set_by"] == "rfid" and r["stock"] == 476
    assert r["sources"]["camera"]["units"] == 470 and r["sources"]["camera"]["credible_units"] == 501.5
    assert r["disagree"] == []


def test_rfid_held_at_a_copied_count_while_the_camera_sees_goods_leave_is_judged_on_the_camera():
    anchor = {"ts_ms": 0, "units": 500}
    r = reconcile(500, anchor, [Flow("camera", 0, 260, 0.05)])
    assert r["set_by"] == "camera" and r["stock"] == 253.0 and r["disagree"] == ["camera"]
    words = source_words(r, 0.05)
    assert "camera" in words["en"] and "5%" in words["en"] and "视频" in words["zh"]
    state: dict = {}
    position = {"stock": r["stock"], "pledged": 300}
    assert lot_step(position, state, 0, 1800_000) is None and lot_step(position, state, 1800_000, 1800_000) == "raise"
    assert lot_step({"stock": 500, "pledged": 300}, {}, 0, 1800_000) is None  # RFID alone would have seen nothing


def test_without_an_anchor_only_rfid_counts():
    r = reconcile(120, None, [Flow("camera", 0, 100, 0.05)])
    assert r["set_by"] == "rfid" and list(r["sources"]) == ["rfid"]


def test_booked_drawdown_is_not_an_unbooked_crossing_but_an_unbooked_one_is():
    anchor = {"ts_ms": 0, "units": 500}
    assert unbooked_crossing(250, 300, anchor, Flow("wms", 0, 250, 0.0)) is None  # booked out: the books agree
    crossing = unbooked_crossing(250, 300, anchor, Flow("wms", 0, 50, 0.0))
    assert crossing["booked_stock_units"] == 450 and crossing["unbooked_units"] == 200
    assert unbooked_crossing(250, 300, anchor, None) is None  # no booking feed: not judged
    assert unbooked_crossing(320, 300, anchor, Flow("wms", 0, 0, 0.0)) is None  # still above the pledge


def test_a_silent_reader_is_replaced_by_the_flows_from_the_last_anchor():
    anchor = {"ts_ms": 0, "units": 500}
    r = reconcile(None, anchor, [Flow("camera", 40, 300, 0.05), Flow("wms", 40, 40, 0.0)])
    assert r["set_by"] == "camera" and r["stock"] == 240 + 0.05 * 340 and "rfid" not in r["sources"]
    assert r["disagree"] == []
    assert reconcile(None, anchor, []) is None and reconcile(None, None, [Flow("camera", 0, 1, 0.05)]) is None


def test_lot_rules_refuse_bad_numbers_naming_them():
    import pytest

    from wuxin.alerts.rules import parse_rule
    from wuxin.errors import InvalidInput

    assert (
        parse_rule({"id": "logistics.x", "type": "lot_unbooked", "params": {"booking_grace_s": 600}}).type
        == "lot_unbooked"
    )
    for name, value in (("booking_grace_s", -1), ("flow_tolerance", "5%"), ("anchor_s", True), ("wms_feed_days", -3)):
        with pytest.raises(InvalidInput, match=name):
            parse_rule({"id": "logistics.x", "type": "lot_stock", "params": {name: value}})


def test_wms_rows_may_name_their_lot_and_zone_and_a_bad_one_is_refused_by_name():
    from wuxin.risk.business import KINDS, validate_rows

    base = {
        "uscc": "91320000MA1XXXXX0X",
        "sku": "棉花",
        "quantity": 5,
        "direction": "out",
        "ts": "2026-09-01T08:00:00+08:00",
    }
    good, bad = validate_rows(
        "wms_movements", [{**base, "lot_id": "L1", "zone_id": "A"}, {**base, "lot_id": "x" * 300}], str, KINDS
    )
    assert [g.data["lot_id"] for g in good] == ["L1"] and good[0].data["zone_id"] == "A"
    assert bad[0].field == "lot_id" and "190" in bad[0].message


def test_each_camera_is_credited_its_own_counting_error_from_its_own_days():
    from wuxin.alerts.stock import camera_tolerance

    careful = [(-100 + 100, 0, 200)] * 10  # counted what the readers saw
    assert camera_tolerance(careful, 0.05).share == 0.005 and camera_tolerance(careful, 0.05).basis == "own_history"
    sloppy = [(-20.0 + 0.16 * i % 0.1, -5.0, 100) for i in range(10)]  # about 15 % of what it counts, every day
    tol = camera_tolerance(sloppy, 0.05)
    assert tol.share >= 0.15 and tol.days == 10
    short = camera_tolerance([(0, 0, 100)] * 6, 0.05)
    assert (short.share, short.days, short.basis) == (0.05, 6, "declared_default")
    assert camera_tolerance([(0, 0, 0)] * 10, 0.05).basis == "declared_default"  # days without movement teach nothing
