"""`wuxin jt808 ...`: run the gateway, decode captured frames."""
from __future__ import annotations

import asyncio
import json
import logging
import signal
from typing import Annotated, Any

import typer

from wuxin.ingest.jt808.codec import Jt808Error, decode_frame, frames_from_hex
from wuxin.ingest.jt808.gateway import InMemoryDirectory, Jt808Gateway
from wuxin.ingest.jt808.messages import frame_json

app = typer.Typer(no_args_is_help=True, help="JT/T 808 vehicle terminals: gateway and frame decoder.")


@app.command()
def decode(
    hex_text: Annotated[list[str], typer.Argument(metavar="HEX", help="One frame in hex; 7e delimiters and spaces optional.")],
) -> None:
    """Print a captured frame as JSON (one line per frame if several are given)."""
    try:
        frames = [frame_json(decode_frame(content)) for content in frames_from_hex(" ".join(hex_text))]
    except Jt808Error as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    for frame in frames:
        typer.echo(json.dumps(frame, ensure_ascii=False))


class PrintingSink:
    """Prints every accepted line as JSON; stands in until the database is wired."""

    async def accept(self, lines: list[dict[str, Any]]) -> None:
        """Print the lines."""
        for line in lines:
            typer.echo(json.dumps(line, ensure_ascii=False))


def _parse_devices(pairs: list[str]) -> dict[str, str]:
    """PHONE=DEVICE_KEY pairs to a dict."""
    devices = {}
    for pair in pairs:
        phone, sep, key = pair.partition("=")
        if not sep or not phone.isdigit() or not key:
            raise typer.BadParameter(f"--device wants PHONE=DEVICE_KEY, got {pair!r}")
        devices[phone] = key
    return devices


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 6808,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "0.0.0.0",
    device: Annotated[list[str], typer.Option(help="A known terminal as PHONE=DEVICE_KEY; repeatable.")] = [],  # noqa: B006
    idle_timeout_s: Annotated[float, typer.Option(help="Close a connection silent this long.")] = 180.0,
) -> None:
    """Run the gateway on the platform (terminals = GPS terminal devices by jt808_phone, readings stored);
    with --device, an in-memory directory that prints received lines as JSON Lines instead."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if device:
        directory, sink = InMemoryDirectory(_parse_devices(device)), PrintingSink()
    else:
        from wuxin.bootstrap import build_platform
        from wuxin.services.jt808_terminals import DatabaseDirectory, PlatformSink

        platform = build_platform()
        directory, sink = DatabaseDirectory(platform), PlatformSink(platform)
    gateway = Jt808Gateway(directory, sink, idle_timeout_s=idle_timeout_s)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):  # a service manager's stop, or Ctrl-C
            loop.add_signal_handler(signum, stop.set)
        bound = await gateway.start(host, port)
        typer.echo(f"JT808 gateway on {host}:{bound}; Ctrl-C to stop", err=True)
        try:
            await stop.wait()
        finally:
            await gateway.stop()
        typer.echo(f"JT808 gateway stopped ({len(gateway.sessions)} connections left open)", err=True)

    asyncio.run(run())
