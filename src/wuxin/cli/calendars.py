"""`wuxin calendars ...`: the official PRC calendar, a firm's declared periods (import a CSV), a site's time zone and
a device's service dates, as the platform operator (the API does the same for enterprises and integrators)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True)
console = Console()


def _platform():
    from wuxin.bootstrap import build_platform

    return build_platform()


def _ms(text: str | None) -> int | None:
    if text is None or text == "":
        return None
    from wuxin.services.devices.calendars import _moment

    try:
        return _moment(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command("official")
def official(
    start: str = typer.Argument(..., help="first day, e.g. 2026-02-10"),
    end: str = typer.Argument(..., help="last day, e.g. 2026-02-28"),
) -> None:
    """Each day's kind in the official PRC calendar (holidays named, make-up workdays flagged)."""
    from wuxin.services.devices.calendars import official_days

    for day in official_days(dt.date.fromisoformat(start), dt.date.fromisoformat(end))["days"]:
        name = day["holiday"]["zh"] + " " + day["holiday"]["en"] if day["holiday"] else ""
        console.print(f"{day['date']}  {day['kind']:8} {'调休上班 make-up' if day['makeup_workday'] else '':18} {name}")


@app.command("import")
def import_periods(
    enterprise_id: int,
    csv_file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="kind,start,end[,note,site_id,device]; times ISO with offset or epoch ms"
    ),
) -> None:
    """Declare an enterprise's shutdowns, maintenance windows and extra rest days from a CSV (all rows or none)."""
    from wuxin.services.devices.calendars import add_periods, parse_periods_csv

    added = add_periods(_platform(), None, enterprise_id, parse_periods_csv(csv_file.read_text(encoding="utf-8-sig")))
    console.print({"added": len(added)})


@app.command("list")
def list_periods(enterprise_id: int) -> None:
    """An enterprise's declared periods."""
    from wuxin.services.devices.calendars import _device_keys, public_period

    platform = _platform()
    with platform.uow() as uow:
        keys = _device_keys(uow, enterprise_id)
        for row in uow.calendars.periods([enterprise_id]):
            console.print(public_period(row, keys))


@app.command("site-timezone")
def site_timezone(
    enterprise_id: int, site_id: int, timezone: str = typer.Argument(..., help="IANA name, e.g. Europe/Berlin")
) -> None:
    """Name the zone cutting a site's days (then `wuxin indicators mark --from ... --to ...` and `update` to re-cut stored days)."""
    from wuxin.services.devices.calendars import set_site_timezone

    console.print(set_site_timezone(_platform(), None, enterprise_id, site_id, timezone))


@app.command("service-dates")
def service_dates(
    device_key: str,
    installed: str | None = typer.Option(None, help="ISO time with offset, or epoch ms"),
    decommissioned: str | None = typer.Option(None, help="ISO time with offset, or epoch ms"),
) -> None:
    """A device's install and decommission times (a culled cow's tag, a replaced meter)."""
    from wuxin.services.devices.calendars import set_service_dates

    console.print(set_service_dates(_platform(), None, device_key, _ms(installed), _ms(decommissioned)))
