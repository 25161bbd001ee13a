"""`wuxin bench jt808`: 0x0200 frames per second through the gateway over loopback TCP,
against the codec alone (no socket) as the baseline."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from wuxin.ingest.jt808.codec import FrameSplitter, decode_frame
from wuxin.ingest.jt808.gateway import InMemoryDirectory, InMemorySink, Jt808Gateway
from wuxin.ingest.jt808.messages import parse_location
from wuxin.ingest.jt808.simulator import SimulatedTerminal, fix

_START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def location_frames(terminal: SimulatedTerminal, count: int) -> bytes:
    """count pre-built 0x0200 frames, one second apart, moving north-east."""
    frames = []
    for n in range(count):
        location = fix(
            _START + timedelta(seconds=n),
            31.2304 + n * 1e-5,
            121.4737 + n * 1e-5,
            speed_kmh=42.5,
            heading_deg=45,
            altitude_m=12,
            mileage_km=1000 + n / 100,
            fuel_l=40.0,
            signal_strength=25,
            satellites=12,
        )
        frames.extend(terminal.builder.location(location))
    return b"".join(frames)


def codec_rate(streams: list[bytes]) -> tuple[int, float]:
    """(frames, seconds) to split, unescape, verify and parse every 0x0200 frame."""
    started = time.perf_counter()
    frames = 0
    for stream in streams:
        for content in FrameSplitter(max_buffer_bytes=len(stream)).feed(stream):
            parse_location(decode_frame(content).body)
            frames += 1
    return frames, time.perf_counter() - started


async def bench_async(terminals: int, frames_per_terminal: int) -> dict[str, Any]:
    """The bench inside a running event loop."""
    phones = [f"0139{n:08d}" for n in range(terminals)]
    directory = InMemoryDirectory({phone: (f"bench-vehicle-{n}", "T000001") for n, phone in enumerate(phones)})
    sink = InMemorySink()
    gateway = Jt808Gateway(directory, sink, idle_timeout_s=60)
    port = await gateway.start("127.0.0.1", 0)
    clients = [SimulatedTerminal(phone) for phone in phones]
    try:
        for client in clients:
            await client.connect("127.0.0.1", port)
            await client.login()
        streams = [location_frames(client, frames_per_terminal) for client in clients]
        started = time.perf_counter()
        await asyncio.gather(*(c.pipeline(s, frames_per_terminal) for c, s in zip(clients, streams, strict=True)))
        gateway_s = time.perf_counter() - started
    finally:
        for client in clients:
            await client.close()
        await gateway.stop()
    parsed, codec_s = codec_rate(streams)
    total = terminals * frames_per_terminal
    stored = sum(1 for line in sink.lines if "values" in line)
    return {
        "terminals": terminals,
        "frames": total,
        "stored_readings": stored,
        "sink_batches": sink.batches,
        "gateway_s": round(gateway_s, 4),
        "frames_per_s": round(total / gateway_s),
        "codec_frames_per_s": round(parsed / codec_s),
        "ratio": round((total / gateway_s) / (parsed / codec_s), 3),
    }


def run_jt808_bench(terminals: int = 8, frames_per_terminal: int = 5000) -> dict[str, Any]:
    """Run the bench, print one summary line, return the figures."""
    result = asyncio.run(bench_async(terminals, frames_per_terminal))
    print(
        f"jt808 gateway: {result['frames']:,} 0x0200 frames from {terminals} terminals over TCP in "
        f"{result['gateway_s']} s = {result['frames_per_s']:,} frames/s "
        f"({result['stored_readings']:,} stored, {result['sink_batches']} sink calls); "
        f"codec only {result['codec_frames_per_s']:,} frames/s; ratio {result['ratio']}"
    )
    return result
