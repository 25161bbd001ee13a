"""Access policy as pure functions."""

from __future__ import annotations

import pytest

from wuxin.domain.model import ConsentScope, ConsentView, Role
from wuxin.errors import Denied, NotFound
from wuxin.security.policy import Principal, readable_device_keys

DEVICES = [("loom-01", "manufacturing.current_bracelet"), ("truck-01", "vehicles.gps_terminal")]


def consent(scope, items=(), tenant=1, expires=100, revoked=None):
    return ConsentView(1, 9, tenant, scope, tuple(items), expires, revoked)


def officer(tenant=1):
    return Principal(1, "o", Role.CREDIT_OFFICER, tenant, None)


def test_scenario_scope_covers_that_scenarios_devices_only():
    keys, consent_id = readable_device_keys(officer(), 9, DEVICES, [consent(ConsentScope.SCENARIOS, ["vehicles"])], 50)
    assert keys == {"truck-01"} and consent_id == 1


@pytest.mark.parametrize(
    "consents, now",
    [
        ([consent(ConsentScope.ALL, expires=50)], 50),
        ([consent(ConsentScope.ALL, revoked=10)], 50),
        ([consent(ConsentScope.ALL, tenant=2)], 50),
        ([], 50),
    ],
)
def test_no_valid_consent_answers_as_if_the_enterprise_did_not_exist(consents, now):
    with pytest.raises(NotFound, match="^enterprise 9 does not exist$"):
        readable_device_keys(officer(), 9, DEVICES, consents, now)


def test_enterprise_user_reads_only_own_enterprise():
    own = Principal(2, "e", Role.ENTERPRISE_USER, None, 9)
    assert readable_device_keys(own, 9, DEVICES, [], 0)[0] == {"loom-01", "truck-01"}
    with pytest.raises(NotFound, match="^enterprise 8 does not exist$"):  # another enterprise does not exist for it
        readable_device_keys(own, 8, DEVICES, [], 0)


def test_admin_is_not_a_data_reader():
    with pytest.raises(Denied):
        readable_device_keys(
            Principal(3, "a", Role.PLATFORM_ADMIN, None, None), 9, DEVICES, [consent(ConsentScope.ALL)], 0
        )
