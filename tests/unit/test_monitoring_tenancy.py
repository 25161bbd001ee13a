"""Who sees and tunes monitoring without a bank or an enterprise: a bank's user of no tenant sees no borrower's
alarms and tunes no rule; a role that tunes no rules is refused first. Checked before any database access."""

import pytest

from wuxin.domain.model import Role
from wuxin.errors import Denied
from wuxin.security.policy import Principal
from wuxin.services.monitoring.alarms import _visible_enterprises
from wuxin.services.monitoring.overrides import delete_override, set_override

NO_DATABASE = None  # each path below answers before it opens a unit of work


def test_a_bank_user_of_no_tenant_and_an_enterprise_user_of_no_enterprise_see_no_alarms():
    for role in (Role.CREDIT_OFFICER, Role.RISK_MANAGER, Role.REGULATOR):
        assert _visible_enterprises(NO_DATABASE, Principal(1, "u", role, None, None), 0) == []
    assert _visible_enterprises(NO_DATABASE, Principal(2, "e", Role.ENTERPRISE_USER, None, None), 0) == []
    assert _visible_enterprises(NO_DATABASE, Principal(3, "e", Role.ENTERPRISE_USER, None, 9), 0) == [9]
    assert _visible_enterprises(NO_DATABASE, Principal(4, "a", Role.PLATFORM_ADMIN, None, None), 0) is None
    with pytest.raises(Denied, match="does not read alarms"):
        _visible_enterprises(NO_DATABASE, Principal(5, "i", Role.INTEGRATOR, 1, None), 0)


def test_only_a_risk_manager_of_a_bank_tunes_its_rules():
    no_bank = Principal(1, "r", Role.RISK_MANAGER, None, None)
    with pytest.raises(Denied, match="belongs to no tenant"):
        set_override(NO_DATABASE, no_bank, "*", "any_rule", {"severity": "major"})
    with pytest.raises(Denied, match="belongs to no tenant"):
        delete_override(NO_DATABASE, no_bank, "*", "any_rule")
    officer = Principal(2, "o", Role.CREDIT_OFFICER, 7, None)
    with pytest.raises(Denied, match="may not do this"):
        set_override(NO_DATABASE, officer, "*", "any_rule", {})
    with pytest.raises(Denied, match="may not do this"):
        delete_override(NO_DATABASE, officer, "*", "any_rule")
