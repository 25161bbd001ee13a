"""The device list's connectivity: heartbeat timeout on the last sign of life, and a recorded offline (the device
closed its connection) shown at once when nothing was heard from the device after it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from wuxin.services.access.data_access import device_connectivity

NOW = 1_800_000_000_000
PLATFORM = SimpleNamespace(thing_models={"t": SimpleNamespace(heartbeat_timeout_s=600)})


def _device(last_seen_ms, presence=None, since_ms=None) -> dict:
    return {"device_type": "t", "last_seen_ms": last_seen_ms, "presence": presence, "presence_since_ms": since_ms}


@pytest.mark.parametrize(
    "device,state",
    [
        (_device(None), "unknown"),
        (_device(NOW - 60_000), "online"),
        (_device(NOW - 601_000), "offline"),  # past the heartbeat timeout
        (_device(NOW - 60_000, "offline", NOW - 30_000), "offline"),  # disconnected after its last sign of life
        (_device(NOW - 60_000, "offline", NOW - 60_000), "offline"),
        (_device(NOW - 10_000, "offline", NOW - 30_000), "online"),  # heard from again since
        (_device(NOW - 60_000, "online", NOW - 60_000), "online"),
        ({"device_type": "t", "last_seen_ms": NOW - 60_000}, "online"),  # rows without a recorded state
    ],
)
def test_connectivity_of_a_listed_device(device, state):
    assert device_connectivity(PLATFORM, device, NOW) == state
