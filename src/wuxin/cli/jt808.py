"""`wuxin jt808 ...`: run the gateway, decode captured frames."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wuxin.ingest.jt808.codec import Jt808Error, decode_frame, frames_from_hex
from wuxin.ingest.jt808.enrolment import TERMINAL_ID_PATTERN
from wuxin.ingest.jt808.gateway import InMemoryDirectory, Jt808Gateway, ReadingSink, TerminalDirectory
from wuxin.ingest.jt808.messages import frame_json

if TYPE_CHECKING:
    from wuxin.bootstrap import Platform
    from wuxin.services.devices.commands import DatabaseOutbox

app = typer.Typer(no_args_is_help=True, help="JT/T 808 vehicle terminals: provisioning, gateway and frame decoder.")


@app.command()
def decode(
    hex_text: Annotated[
        list[str], typer.Argument(metavar="HEX", help="One frame in hex; 7e delimiters and spaces optional.")
    ],
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

    async def presence(self, device_key: str, state: str, cause: str) -> None:
        """Log the terminal's online/offline changes."""
        logging.getLogger(__name__).info("JT808 device %s %s (%s)", device_key, state, cause)


def _parse_devices(pairs: list[str]) -> dict[str, tuple[str, str]]:
    """PHONE:TERMINAL_ID=DEVICE_KEY items to {phone: (device key, terminal id)}."""
    devices = {}
    for pair in pairs:
        terminal, sep, key = pair.partition("=")
        phone, colon, terminal_id = terminal.partition(":")
        if not sep or not colon or not phone.isdigit() or not TERMINAL_ID_PATTERN.match(terminal_id.upper()) or not key:
            raise typer.BadParameter(
                f"--device wants PHONE:TERMINAL_ID=DEVICE_KEY (e.g. 013912345678:T000001=truck-1), got {pair!r}"
            )
        devices[phone] = (key, terminal_id)
    return devices


def listen_host(host: str | None) -> str:
    """The address to bind: the one given, else the configured WUXIN_HOST (127.0.0.1 by default), like the API."""
    from wuxin.config import get_settings

    return host or get_settings().host


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 6808,
    host: Annotated[str | None, typer.Option(help="Address to bind; default WUXIN_HOST (127.0.0.1).")] = None,
    device: Annotated[
        list[str],
        typer.Option(help="A terminal open for enrolment for 24 h, as PHONE:TERMINAL_ID=DEVICE_KEY; repeatable."),
    ] = [],  # noqa: B006
    idle_timeout_s: Annotated[float, typer.Option(help="Close a connection silent this long.")] = 180.0,
    command_poll_s: Annotated[
        float,
        typer.Option(
            help="How often approved commands are sent to online terminals and overdue ones expired (platform mode)."
        ),
    ] = 5.0,
) -> None:
    """Run the gateway on the platform (terminals = provisioned GPS terminal devices, readings stored);
    with --device, an in-memory directory that prints received lines as JSON Lines instead."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host = listen_host(host)
    platform: Platform | None = None
    directory: TerminalDirectory
    sink: ReadingSink
    outbox: DatabaseOutbox | None = None
    if device:
        directory, sink = InMemoryDirectory(_parse_devices(device)), PrintingSink()
    else:
        from wuxin.bootstrap import build_platform
        from wuxin.services.devices.commands import DatabaseOutbox
        from wuxin.services.ingest.jt808 import DatabaseDirectory, PlatformSink

        platform = build_platform()
        directory, sink, outbox = DatabaseDirectory(platform), PlatformSink(platform), DatabaseOutbox(platform)
    gateway = Jt808Gateway(directory, sink, idle_timeout_s=idle_timeout_s, outbox=outbox)

    async def commands_loop(platform: Platform, outbox: DatabaseOutbox) -> None:
        from wuxin.services.devices.commands import command_poll_loop

        await command_poll_loop(platform, outbox, lambda due: gateway.push_commands(device_keys=due), command_poll_s)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):  # a service manager's stop, or Ctrl-C
            loop.add_signal_handler(signum, stop.set)
        bound = await gateway.start(host, port)
        typer.echo(f"JT808 gateway on {host}:{bound}; Ctrl-C to stop", err=True)
        poller = (
            asyncio.create_task(commands_loop(platform, outbox))
            if platform is not None and outbox is not None
            else None
        )
        try:
            await stop.wait()
        finally:
            if poller is not None:
                poller.cancel()
            await gateway.stop()
        typer.echo(f"JT808 gateway stopped ({len(gateway.sessions)} connections left open)", err=True)

    try:
        asyncio.run(run())
    except KeyboardInterrupt:  # before the signal handlers were installed
        pass


@app.command()
def provision(
    device_key: Annotated[str, typer.Argument(help="The JT/T 808 terminal device (its jt808_phone is the SIM).")],
    terminal_id: Annotated[str, typer.Option(help="终端ID the maker gave the terminal (on its label).")],
    window_hours: Annotated[float, typer.Option(help="How long the terminal may register (0x0100).")] = 72.0,
    manufacturer_id: Annotated[str | None, typer.Option(help="制造商ID; checked when given.")] = None,
    terminal_model: Annotated[str | None, typer.Option(help="终端型号; checked when given.")] = None,
    imei: Annotated[
        str | None, typer.Option(help="15 digits; when given, only a 2019 terminal sending it logs in.")
    ] = None,
    header_version: Annotated[
        str,
        typer.Option(
            help="auto (bit 14, 2013 fallback), 2013 (a 2013 terminal setting "
            "bit 14) or 2019: how the gateway reads its headers."
        ),
    ] = "auto",
) -> None:
    """Provision a terminal and open its enrolment window (again: its old auth code stops working)."""
    from wuxin.bootstrap import build_platform
    from wuxin.errors import WuxinError
    from wuxin.services.ingest.jt808 import provision_terminal

    try:
        enrolment = provision_terminal(
            build_platform(),
            None,
            device_key,
            terminal_id,
            window_s=round(window_hours * 3600),
            manufacturer_id=manufacturer_id,
            terminal_model=terminal_model,
            imei=imei,
            header_version=header_version,
        )
    except WuxinError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(json.dumps(enrolment, ensure_ascii=False))
