"""The loan state machine, commissioning check, risk class and pledge valuation (pure)."""

from decimal import Decimal

import pytest

from wuxin.domain.model import Role
from wuxin.errors import Conflict, Denied, InvalidInput
from wuxin.loans.lifecycle import DeviceCheck, commissioning_failures, next_state
from wuxin.loans.pledge import Holding, coverage, item_identity, item_value_cny, release_allowed, top_up_cny
from wuxin.loans.risk_class import downgraded

O, R = Role.CREDIT_OFFICER, Role.RISK_MANAGER


def test_the_happy_path_and_who_may_do_each_step():
    state = "application"
    for action, role in [
        ("assess", O),
        ("plan_monitoring", O),
        ("install", O),
        ("commission", O),
        ("approve", R),
        ("disburse", O),
        ("warn", R),
        ("resolve", R),
        ("repay", O),
    ]:
        state = next_state(state, action, role)
    assert state == "closed"


def test_refusals_name_the_reason():
    with pytest.raises(Denied, match="credit_officer may not approve"):
        next_state("approval", "approve", O)
    with pytest.raises(Conflict, match="cannot disburse"):
        next_state("application", "disburse", O)
    with pytest.raises(InvalidInput, match="not one of"):
        next_state("application", "teleport", O)
    with pytest.raises(Denied):
        next_state("application", "assess", Role.ENTERPRISE_USER)
    assert next_state("warning", "dispose", R) == "disposal"


def test_commissioning_needs_online_plausible_devices():
    checks = {
        "a": DeviceCheck("a", True, 10, 0),
        "b": DeviceCheck("b", False, 0, 0),
        "c": DeviceCheck("c", True, 10, 5),
    }
    assert commissioning_failures(["a"], checks) == []
    failures = commissioning_failures(["a", "b", "c", "d"], checks)
    assert any("b is not online" in f for f in failures) and any("b sent 0" in f for f in failures)
    assert any("c had 5 of 15" in f for f in failures) and any("d is not registered" in f for f in failures)


def test_warnings_only_move_the_risk_class_down():
    assert downgraded("normal", "special_mention") == "special_mention"
    assert downgraded("substandard", "special_mention") is None
    assert downgraded("normal", None) is None
    with pytest.raises(InvalidInput):
        downgraded("normal", "great")


def test_identity_valuation_coverage_and_release():
    assert item_identity("rfid", "e200 3412-0001") == "rfid:E20034120001"
    with pytest.raises(InvalidInput):
        item_identity("barcode", "1")
    h = Holding("lot:A", "tyre", Decimal(1000), Decimal("500"), Decimal("0.3"))
    assert item_value_cny(h) == Decimal("350000.00")
    assert item_value_cny(Holding("lot:B", "x", Decimal(1), None, Decimal(0))) is None  # unknown price, not zero
    cov = coverage([h], Decimal(300_000), Decimal("1.3"), Decimal("1.1"))
    assert cov.status == "margin_call" and cov.ratio == Decimal("1.1667")
    assert top_up_cny(cov, Decimal("1.3")) == Decimal("40000.00")
    assert coverage([h], Decimal(400_000), Decimal("1.3"), Decimal("1.1")).status == "liquidation"
    assert coverage([h], Decimal(0), Decimal("1.3"), Decimal("1.1")).status == "no_exposure"
    assert release_allowed("closed", Decimal(1), Decimal(0)) is None
    assert release_allowed("monitoring", Decimal(100), Decimal(100)) is None
    assert "release refused" in release_allowed("monitoring", Decimal(100), Decimal(99))
