"""`wuxin bench rpc-poll`: what the MQTT front end's command poll costs the database. Each front end asks once per
`command_poll_s` which devices have approved commands (`RpcOutbox.devices_due`), and the gateway map when some do;
this runs N front ends' real poll loops (DeviceFrontEnd._command_loop, one connected device each so they poll) in
one process against a database holding M queued commands (for devices not connected: they wait) and H finished
ones, and prints polls/s, SQL statements/s, milliseconds per poll and this process's CPU."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any, cast

from sqlalchemy import event

from wuxin.bootstrap import build_platform
from wuxin.config import Settings

DEVICE_TYPE = "manufacturing.current_bracelet"
FAR_FUTURE_MS = 2**62


def _seed(platform, devices: int) -> tuple[int, list[int]]:
    """An enterprise with `devices` bracelets; their ids."""
    import random

    from wuxin.services.devices import registry
    from wuxin.sim.spec import make_uscc

    enterprise = registry.create_enterprise(
        platform, None, "基准测试有限公司", make_uscc(random.Random(1)), "manufacturing", "浙江省"
    )
    ids = []
    with platform.uow() as uow:
        for n in range(devices):
            ids.append(
                uow.devices.add(
                    enterprise_id=enterprise,
                    key=f"bench-{n:05d}",
                    device_type=DEVICE_TYPE,
                    source_mode="bank_installed",
                    trust_level=1.0,
                    created_ms=0,
                    attributes={},
                )
            )
        uow.commit()
    return enterprise, ids


def _add_commands(platform, enterprise: int, device_ids: list[int], count: int, state: str, user_id: int) -> None:
    from sqlalchemy import insert

    from wuxin.store.tables_commands import device_commands

    rows = [
        dict(
            device_id=device_ids[n % len(device_ids)],
            enterprise_id=enterprise,
            tenant_id=None,
            channel="thingsboard",
            operation="set_report_interval",
            params={"interval_s": 60},
            reason="bench",
            state=state,
            four_eyes=0,
            requested_by=user_id,
            requested_ms=0,
            expires_ms=FAR_FUTURE_MS,
            updated_ms=0,
        )
        for n in range(count)
    ]
    with platform.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(device_commands), rows[start : start + 5000])


async def _poll(platform, fronts: int, seconds: float, poll_s: float) -> int:
    """Run `fronts` front ends' command loops for `seconds`; returns how many polls ran."""
    from wuxin.ingest.mqtt.front import DeviceFrontEnd

    polls = 0

    class CountingFront(DeviceFrontEnd):
        async def _push_commands(self) -> None:
            nonlocal polls
            polls += 1
            await super()._push_commands()

    instances = []
    for n in range(fronts):
        front = CountingFront(platform, "mqtt://unused", command_poll_s=poll_s, client_id=f"bench-front-{n}")
        front._wake = asyncio.Event()
        # something connected, so the loop polls; a stand-in for a connection, never sent to
        front.connections = {f"bench-connected-{n}": {cast(Any, object())}}
        instances.append(asyncio.create_task(front._command_loop()))
    await asyncio.sleep(seconds)
    for task in instances:
        task.cancel()
    await asyncio.gather(*instances, return_exceptions=True)
    return polls


def run_rpc_poll_bench(
    fronts: list[int], queued: list[int], history: int, seconds: float, poll_s: float, database_url: str | None, console
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="wuxin-rpc-bench-"))
    url = database_url or f"sqlite:///{folder}/bench.db"
    platform = build_platform(Settings(database_url=url, environment="test", var_dir=folder))
    from wuxin.cli.core import prepare_database

    prepare_database(platform)
    statements = 0

    def count(*_args) -> None:
        nonlocal statements
        statements += 1

    event.listen(platform.engine, "before_cursor_execute", count)
    from wuxin.services.access.identity import create_user

    user_id = create_user(platform, "bench-admin", "a-long-bench-password-1", "platform_admin", None, None)
    enterprise, device_ids = _seed(platform, max(max(queued), 1))
    _add_commands(platform, enterprise, device_ids, history, "acknowledged", user_id)
    console.print(
        f"database {url.split('@')[-1]}; {history} finished commands; poll every {poll_s} s; {seconds} s per run"
    )
    console.print("fronts  queued  polls/s  statements/s  ms/poll  CPU % of one core")
    asyncio.run(_poll(platform, 1, 1.5 * poll_s, poll_s))  # warm up: imports, the first connections
    have = 0
    for m in sorted(queued):
        _add_commands(platform, enterprise, device_ids[have:] or device_ids, m - have, "approved", user_id)
        have = m
        for n in fronts:
            statements, cpu0, wall0 = 0, time.process_time(), time.perf_counter()
            polls = asyncio.run(_poll(platform, n, seconds, poll_s))
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            console.print(
                f"{n:>6}  {m:>6}  {polls / wall:>7.1f}  {statements / wall:>12.1f}  "
                f"{1000 * cpu / max(polls, 1):>7.2f}  {100 * cpu / wall:>6.1f}"
            )
    platform.close()
