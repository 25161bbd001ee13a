"""`wuxin enterprise|site|device|consent add/list/show` and `wuxin device import`: onboarding from the command
line, as a named user (`--as USER`), through the same service functions as the API (docs/onboarding.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

from wuxin.errors import InvalidInput, NotFound, WuxinError
from wuxin.indicators.days import DAY_MS
from wuxin.store.rows import ConsentRow

console = Console(stderr=True)
enterprise_app = typer.Typer(no_args_is_help=True, help="Enterprises (borrowers): the platform admin adds them.")
site_app = typer.Typer(no_args_is_help=True, help="Sites of an enterprise (workshops, farms, yards).")
device_app = typer.Typer(no_args_is_help=True, help="Devices: register one, or import a CSV/XLSX; tokens shown once.")
consent_app = typer.Typer(no_args_is_help=True, help="Consents: an enterprise user grants a bank or operator access.")
profile_app = typer.Typer(
    no_args_is_help=True,
    help="Provision profiles: a key and secret with which devices register themselves over MQTT (ThingsBoard's).",
)
AS_HELP = "the user acting (its role, tenant and consents decide what is allowed)"


def register(app: typer.Typer) -> None:
    app.add_typer(enterprise_app, name="enterprise")
    app.add_typer(site_app, name="site")
    app.add_typer(device_app, name="device")
    app.add_typer(consent_app, name="consent")
    device_app.add_typer(profile_app, name="provision-profile")


def _acting(as_user: str):
    """The platform and the principal of `--as`."""
    from wuxin.bootstrap import build_platform
    from wuxin.services.credit.decisions import principal_for_username

    platform = build_platform()
    return platform, principal_for_username(platform, as_user)


def _fail(exc: Exception | str) -> NoReturn:
    console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
    raise typer.Exit(2)


def _echo(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _enterprise_id(platform, ref: str) -> int:
    from wuxin.services.credit.decisions import enterprise_id_of

    return enterprise_id_of(platform, ref)


# ---------------------------------------------------------------- enterprises


@enterprise_app.command("add")
def enterprise_add(
    name: str,
    uscc: str = typer.Option(..., help="unified social credit code (18 characters)"),
    industry: str = typer.Option(
        ..., help="a scenario pack's name (the folders of src/wuxin/scenarios and WUXIN_PACKS_DIRS)"
    ),
    region: str = typer.Option(..., help="e.g. 江苏省苏州市吴江区"),
    as_user: str = typer.Option(..., "--as", help="a platform admin"),
) -> None:
    """Register an enterprise (platform admin only)."""
    from wuxin.services.devices.registry import create_enterprise

    try:
        platform, principal = _acting(as_user)
        enterprise_id = create_enterprise(platform, principal, name, uscc, industry, region)
    except WuxinError as exc:
        _fail(exc)
    typer.echo(f"enterprise {enterprise_id} created: {name} ({uscc})")


@enterprise_app.command("list")
def enterprise_list(as_user: str = typer.Option(..., "--as", help=AS_HELP)) -> None:
    """The enterprises the user may know: all (admin), its own (enterprise user), consented ones (a tenant's users)."""
    from wuxin.services.devices.registry import visible_enterprises

    try:
        platform, principal = _acting(as_user)
        rows = visible_enterprises(platform, principal)
    except WuxinError as exc:
        _fail(exc)
    for row in rows:
        typer.echo(f"{row['id']}\t{row['uscc']}\t{row['industry']}\t{row['name']}")


@enterprise_app.command("show")
def enterprise_show(
    enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """An enterprise with its sites."""
    from wuxin.services.devices.registry import enterprise_profile

    try:
        platform, principal = _acting(as_user)
        _echo(enterprise_profile(platform, principal, _enterprise_id(platform, enterprise)))
    except WuxinError as exc:
        _fail(exc)


# ---------------------------------------------------------------- sites


@site_app.command("add")
def site_add(
    enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
    name: str = typer.Argument(...),
    region: str = typer.Option(...),
    lat: float | None = None,
    lon: float | None = None,
    timezone: str | None = typer.Option(None, help="IANA zone (default Asia/Shanghai)"),
    as_user: str = typer.Option(..., "--as", help="admin, the enterprise's user, or a consented integrator"),
) -> None:
    """Add a site to an enterprise."""
    from wuxin.services.devices.registry import add_site

    try:
        platform, principal = _acting(as_user)
        site_id = add_site(platform, principal, _enterprise_id(platform, enterprise), name, region, lat, lon, timezone)
    except WuxinError as exc:
        _fail(exc)
    typer.echo(f"site {site_id} created: {name}")


def _sites(as_user: str, enterprise: str) -> list[dict]:
    from wuxin.services.devices.registry import enterprise_profile

    platform, principal = _acting(as_user)
    return enterprise_profile(platform, principal, _enterprise_id(platform, enterprise))["sites"]


@site_app.command("list")
def site_list(
    enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """The sites of an enterprise."""
    try:
        rows = _sites(as_user, enterprise)
    except WuxinError as exc:
        _fail(exc)
    for row in rows:
        typer.echo(f"{row['id']}\t{row['name']}\t{row['region']}\t{row.get('timezone') or 'Asia/Shanghai'}")


@site_app.command("show")
def site_show(
    enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
    site: str = typer.Argument(..., help="site id or name"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """One site of an enterprise."""
    try:
        found = [s for s in _sites(as_user, enterprise) if s["name"] == site or str(s["id"]) == site]
        if not found:
            raise NotFound(f"enterprise {enterprise} has no site {site!r}")
    except WuxinError as exc:
        _fail(exc)
    _echo(found[0])


# ---------------------------------------------------------------- devices


def _attributes(pairs: list[str]) -> dict:
    """`--attr name=value` pairs; values read as JSON scalars where they parse (5.0, true), else as text."""
    from wuxin.services.devices.provisioning import _attribute_value

    attributes = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"--attr {pair!r} is not name=value")
        attributes[name.strip()] = _attribute_value(value.strip())
    return attributes


@device_app.command("add")
def device_add(
    enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
    key: str = typer.Argument(...),
    device_type: str = typer.Option(..., "--type", help="a device type with a thing model (wuxin thing-model list)"),
    source_mode: str = typer.Option(..., help="bank_installed | third_party_platform | enterprise_shared"),
    site: str | None = typer.Option(None, help="site id or name"),
    attr: list[str] = typer.Option([], help="install attribute name=value (repeatable)"),
    as_user: str = typer.Option(
        ..., "--as", help="admin, a consented integrator, or the enterprise's user (enterprise_shared only)"
    ),
) -> None:
    """Register one device; its access token is printed once (only its hash is stored)."""
    from wuxin.services.devices.registry import register_device

    try:
        platform, principal = _acting(as_user)
        enterprise_id = _enterprise_id(platform, enterprise)
        site_id = None if site is None else _site_id(platform, principal, enterprise_id, site)
        device_id, token = register_device(
            platform, principal, enterprise_id, key, device_type, source_mode, site_id, _attributes(attr)
        )
    except WuxinError as exc:
        _fail(exc)
    _echo({"id": device_id, "key": key, "access_token": token, "note": "the token is shown once; it is stored hashed"})


@device_app.command("list")
def device_list(
    enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """The devices of an enterprise the user may read (consent scope applies)."""
    from wuxin.services.access.data_access import list_devices

    try:
        platform, principal = _acting(as_user)
        rows = list_devices(platform, principal, _enterprise_id(platform, enterprise))
    except WuxinError as exc:
        _fail(exc)
    for row in rows:
        typer.echo(
            f"{row['key']}\t{row['device_type']}\tsite {row['site_id'] or '-'}\t{row['source_mode']}\t"
            f"{row['connectivity']}"
        )


@device_app.command("show")
def device_show(
    enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
    key: str = typer.Argument(...),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """One device: type, site, attributes, source mode, trust level, connectivity."""
    from wuxin.services.access.data_access import list_devices

    try:
        platform, principal = _acting(as_user)
        found = [d for d in list_devices(platform, principal, _enterprise_id(platform, enterprise)) if d["key"] == key]
        if not found:
            raise NotFound(f"device {key!r} does not exist")
    except WuxinError as exc:
        _fail(exc)
    _echo(found[0])


@device_app.command("import")
def device_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".csv (UTF-8) or .xlsx"),
    enterprise: str = typer.Option(..., help="enterprise id or USCC the devices belong to"),
    as_user: str = typer.Option(..., "--as", help="admin, a consented integrator, or the enterprise's user"),
    credentials_out: Path | None = typer.Option(
        None,
        dir_okay=False,
        help="write the created devices' tokens here (CSV, mode 0600, must not "
        "exist); without it they go to standard output",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="check every row, create nothing"),
) -> None:
    """Bulk provisioning: valid rows are created in one transaction, refused rows reported (row, column, value,
    reason). Exit 1 when any row was refused."""
    from wuxin.services.devices.provisioning import credentials_csv, provision_devices

    if credentials_out is not None and credentials_out.exists():
        _fail(f"{credentials_out} exists; tokens are written once to a new file")
    try:
        platform, principal = _acting(as_user)
        result = provision_devices(
            platform, principal, _enterprise_id(platform, enterprise), file.read_bytes(), file.name, dry_run
        )
    except WuxinError as exc:
        _fail(exc)
    for error in result["errors"]:
        console.print(
            f"row {error['row']}, column {error['column']}, value {error['value']!r}: {error['reason']}",
            soft_wrap=True,
            markup=False,
        )
    verb = "would be created (dry run)" if dry_run else "created"
    console.print(
        f"{result['rows']} rows: {result['valid_rows']} devices {verb}, {result['refused_rows']} rows refused",
        markup=False,
    )
    if result["created"]:
        sheet = credentials_csv(result)
        if credentials_out is None:
            typer.echo(sheet, nl=False)
        else:
            descriptor = os.open(credentials_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(sheet)
            console.print(f"wrote {len(result['created'])} device tokens to {credentials_out} (shown once)")
    if result["errors"]:
        raise typer.Exit(1)


# ---------------------------------------------------------------- provision profiles


def _site_id(platform, principal, enterprise_id: int, site: str) -> int:
    from wuxin.services.devices.registry import enterprise_profile

    sites = enterprise_profile(platform, principal, enterprise_id)["sites"]
    site_id = next((s["id"] for s in sites if s["name"] == site or str(s["id"]) == site), None)
    if site_id is None:
        raise NotFound(f"enterprise {enterprise_id} has no site {site!r}")
    return site_id


@profile_app.command("add")
def profile_add(
    enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
    site: str = typer.Option(..., help="site id or name: its devices are created there"),
    device_type: str = typer.Option(..., "--type", help="a device type with a thing model (wuxin thing-model list)"),
    source_mode: str = typer.Option(..., help="bank_installed | third_party_platform | enterprise_shared"),
    max_devices: int = typer.Option(..., "--max-devices", min=1, help="how many devices it may create"),
    days: int = typer.Option(30, min=1, max=366, help="valid for this many days"),
    name: str = typer.Option("", help="what it is for"),
    as_user: str = typer.Option(
        ..., "--as", help="admin, a consented integrator, or the enterprise's user (enterprise_shared only)"
    ),
) -> None:
    """Make a provision profile; its key and secret are printed (the secret once: only its hash is stored)."""
    from wuxin.services.devices.provision_profiles import create_profile

    try:
        platform, principal = _acting(as_user)
        enterprise_id = _enterprise_id(platform, enterprise)
        site_id = _site_id(platform, principal, enterprise_id, site)
        expires_ms = platform.clock_ms() + days * DAY_MS
        profile = create_profile(
            platform, principal, enterprise_id, site_id, device_type, source_mode, max_devices, expires_ms, name
        )
    except WuxinError as exc:
        _fail(exc)
    _echo(profile)


@profile_app.command("list")
def profile_list(
    enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """The enterprise's provision profiles: id, key, state, devices made of the maximum, site, type, name."""
    from wuxin.services.devices.provision_profiles import list_profiles

    try:
        platform, principal = _acting(as_user)
        profiles = list_profiles(platform, principal, _enterprise_id(platform, enterprise))
    except WuxinError as exc:
        _fail(exc)
    for p in profiles:
        typer.echo(
            f"{p['id']}\t{p['provision_key']}\t{p['state']}\t{p['provisioned']}/{p['max_devices']}\t"
            f"site {p['site_id']}\t{p['device_type']}\t{p['name']}"
        )


@profile_app.command("revoke")
def profile_revoke(
    profile_id: int = typer.Argument(..., help="the profile's id (wuxin device provision-profile list)"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """Revoke a provision profile: no device registers itself under it any more."""
    from wuxin.services.devices.provision_profiles import revoke_profile

    try:
        platform, principal = _acting(as_user)
        profile = revoke_profile(platform, principal, profile_id)
    except WuxinError as exc:
        _fail(exc)
    typer.echo(f"provision profile {profile_id} revoked ({profile['provisioned']} devices were provisioned under it)")


# ---------------------------------------------------------------- consents


@consent_app.command("add")
def consent_add(
    enterprise: str = typer.Argument(..., help="enterprise id or USCC"),
    tenant: int = typer.Option(..., help="the tenant (bank or operator) receiving access"),
    purpose: str = typer.Option(..., help="e.g. 'credit assessment and post-loan monitoring'"),
    days: int = typer.Option(365, min=1, max=3660, help="valid for this many days"),
    scope: str = typer.Option("all", help="all | scenarios | devices"),
    item: list[str] = typer.Option([], help="a scenario or device key the scope keeps (repeatable)"),
    as_user: str = typer.Option(..., "--as", help="the enterprise's own user"),
) -> None:
    """Grant a consent (only the enterprise itself grants)."""
    from wuxin.services.access import consent

    try:
        platform, principal = _acting(as_user)
        consent_id = consent.grant(
            platform,
            principal,
            _enterprise_id(platform, enterprise),
            tenant,
            scope,
            item,
            purpose,
            platform.clock_ms() + days * DAY_MS,
        )
    except WuxinError as exc:
        _fail(exc)
    typer.echo(f"consent {consent_id} granted to tenant {tenant} for {days} days ({scope})")


def _consents(as_user: str, enterprise: str | None) -> list[ConsentRow]:
    from wuxin.services.access import consent

    platform, principal = _acting(as_user)
    return consent.list_for(platform, principal, _enterprise_id(platform, enterprise) if enterprise else None)


@consent_app.command("list")
def consent_list(
    enterprise: str | None = typer.Option(None, help="enterprise id or USCC (admins need it)"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """Consents an enterprise gave, or those the user's tenant holds."""
    try:
        rows = _consents(as_user, enterprise)
    except WuxinError as exc:
        _fail(exc)
    for row in rows:
        state = "revoked" if row["revoked_ms"] else "live"
        typer.echo(
            f"{row['id']}\tenterprise {row['enterprise_id']}\ttenant {row['tenant_id']}\t{row['scope']}\t"
            f"{state}\t{row['purpose']}"
        )


@consent_app.command("show")
def consent_show(
    consent_id: int,
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    enterprise: str | None = typer.Option(None, help="admins: the enterprise of the consent"),
) -> None:
    """One consent the user gave or holds."""
    try:
        found = [c for c in _consents(as_user, enterprise) if c["id"] == consent_id]
        if not found:
            raise NotFound(f"consent {consent_id} does not exist")
    except WuxinError as exc:
        _fail(exc)
    _echo(found[0])
