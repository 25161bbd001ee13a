"""Bulk provisioning: a CSV or XLSX of devices for one enterprise, checked row by row.

Semantics (docs/onboarding.md): every row is checked before anything is written; the rows that pass are
created together in ONE transaction, each device with its first access token; the rows that fail are
reported with their row number (as a spreadsheet shows it: the header is row 1), column, value and reason,
and create nothing. No row is ever partly created (a device without its token): a database failure rolls
the whole batch back. A file whose header is wrong is refused whole. Tokens are returned once (only their
SHA-256 is stored), for the caller to hand to the installer."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field

import orjson

from wuxin.bootstrap import Platform
from wuxin.domain.model import SourceMode, trust_level
from wuxin.errors import InvalidInput, WuxinError
from wuxin.ingest.jt808.codec import HEADER_VERSIONS
from wuxin.ingest.jt808.enrolment import TERMINAL_ID_PATTERN
from wuxin.ingest.jt808.gateway import phone_key
from wuxin.security.policy import Principal
from wuxin.security.secrets import new_token, token_hash
from wuxin.services.access.access_log import safe_cell
from wuxin.services.bootstrap import device_types_with, has_role
from wuxin.services.devices.registry import _require_device_manager, _source_mode
from wuxin.services.ingest.jt808 import DEFAULT_ENROL_WINDOW_S, JT808_ROLE
from wuxin.store.rows import SiteRow

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_COLUMNS = 200
# An XLSX is a zip: its parts are refused above these before openpyxl inflates anything (docs/onboarding.md).
# 100 is Apache POI's ZipSecureFile default (MIN_INFLATE_RATIO 0.01); real sheets deflate about 5-20 times.
MAX_XLSX_UNCOMPRESSED_BYTES = 20 * 1024 * 1024
MAX_XLSX_MEMBER_RATIO = 100
XLSX_RATIO_GRACE_BYTES = 1024 * 1024  # smaller parts are not ratio-checked: the total bounds them
KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{1,99}$")  # the API's DeviceIn.key
REQUIRED_COLUMNS = ("key", "device_type", "source_mode")
OPTIONAL_COLUMNS = ("site", "jt808_terminal_id", "jt808_header_version")  # jt808_*: JT/T 808 terminals only
ATTRIBUTE_PREFIX = "attr."
CREDENTIAL_COLUMNS = ("row", "key", "device_type", "site", "source_mode", "access_token")


@dataclass
class RowError:
    row: int
    column: str
    value: str
    reason: str

    def public(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass
class _Row:
    row: int
    key: str
    device_type: str
    source_mode: str
    site: str
    attributes: dict = field(default_factory=dict)
    terminal_id: str = ""  # JT/T 808: the terminal's id (its phone is attr.jt808_phone, its plate attr.plate)
    header_version: str = ""  # JT/T 808: auto, 2013 or 2019 (empty = auto)


def read_table(raw: bytes, filename: str) -> list[dict]:
    """The rows of a CSV (UTF-8, BOM allowed) or XLSX file (first sheet) as dicts keyed by the header."""
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidInput(f"device file {filename!r} has {len(raw)} bytes; at most {MAX_FILE_BYTES} are accepted")
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        header, body = _xlsx_rows(raw, filename)
    elif lower.endswith(".csv"):
        header, body = _csv_rows(raw, filename)
    else:
        raise InvalidInput(f"device file {filename!r} is neither .csv nor .xlsx")
    _check_header(header, filename)
    if len(body) > MAX_ROWS:
        raise InvalidInput(f"device file {filename!r} has {len(body)} rows; at most {MAX_ROWS} per file")
    return [dict(zip(header, cells)) for cells in body]


def _csv_rows(raw: bytes, filename: str) -> tuple[list[str], list[list]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"device file {filename!r} is not UTF-8 (byte {exc.start}); save it as CSV UTF-8") from None
    if "\x00" in text:
        raise InvalidInput(
            f"device file {filename!r} holds a NUL character at character {text.index(chr(0))}; "
            "it is not a CSV text file"
        )
    reader = csv.reader(io.StringIO(text))
    try:
        lines = list(reader)
    except csv.Error as exc:  # e.g. a field over the csv module's 131,072-character limit
        raise InvalidInput(f"device file {filename!r} is not readable CSV at line {reader.line_num}: {exc}") from None
    if not lines:
        raise InvalidInput(f"device file {filename!r} is empty; it needs a header row {list(REQUIRED_COLUMNS)}")
    _check_width(len(lines[0]), filename)
    header = [h.strip() for h in lines[0]]
    return header, [_padded(cells, len(header)) for cells in lines[1:]]


def _xlsx_rows(raw: bytes, filename: str) -> tuple[list[str], list[list]]:
    import openpyxl

    _check_zip_sizes(raw, filename)
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, ... all mean "not a workbook"
        raise InvalidInput(f"device file {filename!r} is not an XLSX workbook: {type(exc).__name__}") from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # the file's own <dimension ref> is not trusted: it would pad every row to it
        first = next(sheet.iter_rows(values_only=True, max_row=1), None)  # one row: as wide as its last cell
        if first is None:
            raise InvalidInput(f"device file {filename!r} is empty; it needs a header row {list(REQUIRED_COLUMNS)}")
        header = ["" if h is None else str(h).strip() for h in first]
        while header and not header[-1]:
            header.pop()
        _check_width(len(header), filename)
        body = [
            list(r)
            for r in sheet.iter_rows(values_only=True, min_row=2, max_row=MAX_ROWS + 2, max_col=max(len(header), 1))
        ]
    finally:
        book.close()
    return header, [_padded(r, len(header)) for r in body]


def _check_zip_sizes(raw: bytes, filename: str) -> None:
    """Refuse a zip bomb: the parts' declared sizes (zipfile never inflates a part past its declared size)."""
    try:
        members = zipfile.ZipFile(io.BytesIO(raw)).infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InvalidInput(f"device file {filename!r} is not an XLSX workbook: {type(exc).__name__}") from None
    total = sum(m.file_size for m in members)
    if total > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise InvalidInput(
            f"device file {filename!r} unpacks to {total} bytes; at most {MAX_XLSX_UNCOMPRESSED_BYTES} are accepted"
        )
    for m in members:
        if m.file_size > XLSX_RATIO_GRACE_BYTES and m.file_size > MAX_XLSX_MEMBER_RATIO * max(m.compress_size, 1):
            raise InvalidInput(
                f"device file {filename!r}: part {m.filename!r} unpacks {m.file_size} bytes from "
                f"{m.compress_size}; more than {MAX_XLSX_MEMBER_RATIO} times is refused"
            )


def _check_width(columns: int, filename: str) -> None:
    if columns > MAX_COLUMNS:
        raise InvalidInput(
            f"device file {filename!r} has over {MAX_COLUMNS} columns in its header; at most "
            f"{MAX_COLUMNS} are accepted (key, device_type, site, source_mode, attr.<name>)"
        )


def _padded(cells: list, width: int) -> list:
    """A row cut or padded to the header's width (empty cells past the last written one)."""
    return (list(cells) + [None] * width)[:width]


def _check_header(header: list[str], filename: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InvalidInput(f"device file {filename!r} lacks the column(s) {missing}; the header has {header}")
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    unknown = [
        h for h in header if h not in known and not (h.startswith(ATTRIBUTE_PREFIX) and len(h) > len(ATTRIBUTE_PREFIX))
    ]
    if unknown:
        raise InvalidInput(
            f"device file {filename!r} has unknown column(s) {unknown}; columns are "
            f"{list(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)} and attr.<name> for install attributes"
        )
    repeated = sorted(h for h, n in Counter(header).items() if n > 1)
    if repeated:
        raise InvalidInput(f"device file {filename!r} repeats the column(s) {repeated}")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _attribute_value(value):
    """A spreadsheet cell as an attribute: numbers and true/false as such (CSV cells parsed as JSON scalars)."""
    if not isinstance(value, str):
        return value
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return value
    return parsed if isinstance(parsed, (int, float, bool)) else value


def provision_devices(
    platform: Platform,
    principal: Principal | None,
    enterprise_id: int,
    raw: bytes,
    filename: str,
    dry_run: bool = False,
) -> dict:
    """Check every row, then create the valid ones in one transaction; see the module doc."""
    filename = _shown_name(filename)
    with platform.uow() as uow:  # rights first: the file of someone who may not import is never parsed
        _require_device_manager(platform, uow, principal, enterprise_id)
    records = read_table(raw, filename)
    with platform.uow() as uow:
        _require_device_manager(platform, uow, principal, enterprise_id)  # again, in the writing transaction
        sites = uow.enterprises.sites(enterprise_id)
        parsed = [_parse(i, record) for i, record in enumerate(records, start=2)]
        rows = [r for r in parsed if r is not None]  # wholly empty lines are skipped
        existing = {d["key"] for d in uow.devices.by_keys({r.key for r in rows if r.key})}
        errors: list[RowError] = []
        valid: list[tuple[_Row, int | None, dict]] = []
        first_row_of: dict[str, int] = {}
        phones_seen = _provisioned_phones(uow, rows)
        for row in rows:
            row_errors, site_id, attributes = _check(
                platform, principal, row, sites, existing, first_row_of, phones_seen
            )
            errors.extend(row_errors)
            if not row_errors:
                valid.append((row, site_id, attributes))
        created = [] if dry_run else _create(platform, uow, principal, enterprise_id, valid)
        if not dry_run:
            uow.logs.audit(
                platform.clock_ms(),
                principal.user_id if principal else None,
                "device.bulk_register",
                f"enterprise:{enterprise_id}",
                {"file": filename, "rows": len(rows), "created": len(created), "refused_rows": _bad_rows(errors)},
            )
            uow.commit()
    return {
        "enterprise_id": enterprise_id,
        "file": filename,
        "dry_run": dry_run,
        "rows": len(rows),
        "valid_rows": len(valid),
        "created_count": len(created),
        "refused_rows": _bad_rows(errors),
        "created": created,
        "errors": [e.public() for e in errors],
        "note": "access tokens are shown once; only their hashes are stored",
    }


def _shown_name(filename: str) -> str:
    """An uploaded file's name fit for messages and the audit log: printable Unicode text, at most 200 characters."""
    text = filename.encode("utf-8", errors="replace").decode("utf-8")
    return "".join(ch for ch in text if ch.isprintable())[:200] or "upload"


def _provisioned_phones(uow, rows: list[_Row]) -> dict[str, int]:
    """The SIM numbers of the file's terminal rows already provisioned on the platform, as row 0."""
    phones = {
        phone_key(str(r.attributes.get("jt808_phone")))
        for r in rows
        if r.terminal_id and str(r.attributes.get("jt808_phone") or "").isdigit()
    }
    return {phone: 0 for phone in phones if uow.jt808.by_phone(phone) is not None}


def _bad_rows(errors: list[RowError]) -> int:
    return len({e.row for e in errors})


def _parse(row_number: int, record: dict) -> _Row | None:
    if all(_text(v) == "" for v in record.values()):
        return None
    attributes = {
        name[len(ATTRIBUTE_PREFIX) :]: _attribute_value(value.strip() if isinstance(value, str) else value)
        for name, value in record.items()
        if name.startswith(ATTRIBUTE_PREFIX) and _text(value) != ""
    }
    if "jt808_phone" in attributes:
        attributes["jt808_phone"] = _text(record.get(ATTRIBUTE_PREFIX + "jt808_phone"))  # digits stay text: 0 leads
    return _Row(
        row_number,
        _text(record.get("key")),
        _text(record.get("device_type")),
        _text(record.get("source_mode")),
        _text(record.get("site")),
        attributes,
        _text(record.get("jt808_terminal_id")).upper(),
        _text(record.get("jt808_header_version")),
    )


def _check(
    platform: Platform,
    principal: Principal | None,
    row: _Row,
    sites: list[SiteRow],
    existing: set[str],
    first_row_of: dict[str, int],
    phones_seen: dict[str, int],
) -> tuple[list[RowError], int | None, dict]:
    """Every fault of one row (not just the first), the site id and the checked attributes."""
    errors = []

    def fault(column: str, value, reason: str) -> None:
        errors.append(RowError(row.row, column, _text(value)[:200], reason))

    if not KEY_PATTERN.match(row.key):
        fault("key", row.key, "a device key is 2-100 characters: letters, digits and _ . : - (not first)")
    elif row.key in first_row_of:
        fault("key", row.key, f"the key is already in row {first_row_of[row.key]} of this file")
    elif row.key in existing:
        fault("key", row.key, "a device with this key is already registered")
    if KEY_PATTERN.match(row.key):
        first_row_of.setdefault(row.key, row.row)
    try:
        _source_mode(row.source_mode, principal)
    except WuxinError as exc:
        fault("source_mode", row.source_mode, str(exc))
    site_id = _site_id(row.site, sites)
    if row.site and site_id is None:
        fault("site", row.site, "no site of this enterprise has this name or id")
    attributes: dict = {}
    model = platform.thing_models.get(row.device_type)
    if model is None:
        fault("device_type", row.device_type, "no thing model for this device type; import one first")
    else:
        try:
            attributes = model.check_attributes(row.attributes)
        except WuxinError as exc:
            column = next((f"{ATTRIBUTE_PREFIX}{k}" for k in row.attributes if f"attribute {k}:" in str(exc)), "attr.*")
            fault(column, row.attributes.get(column[len(ATTRIBUTE_PREFIX) :], ""), str(exc))
    _check_terminal(row, fault, phones_seen)
    return errors, site_id, attributes


def _check_terminal(row: _Row, fault, phones_seen: dict[str, int]) -> None:
    """A JT/T 808 row: terminal id, header version and SIM number (attr.jt808_phone), unique in the file and
    the platform (phones_seen holds the platform's provisioned numbers as row 0)."""
    if not (row.terminal_id or row.header_version):
        return
    if not has_role(row.device_type, JT808_ROLE):
        column = "jt808_terminal_id" if row.terminal_id else "jt808_header_version"
        fault(
            column,
            row.terminal_id or row.header_version,
            f"only a row of {sorted(device_types_with(JT808_ROLE))} is a JT/T 808 terminal, "
            f"not a {row.device_type or 'row without device_type'}",
        )
        return
    if not TERMINAL_ID_PATTERN.match(row.terminal_id):
        fault("jt808_terminal_id", row.terminal_id, "a JT/T 808 terminal id is 1-30 capitals or digits")
    if row.header_version and row.header_version not in HEADER_VERSIONS:
        fault("jt808_header_version", row.header_version, f"the header version is one of {', '.join(HEADER_VERSIONS)}")
    phone = str(row.attributes.get("jt808_phone") or "")
    if not phone.isdigit() or len(phone) > 20:
        fault("attr.jt808_phone", phone, "a JT/T 808 terminal needs its SIM number: up to 20 digits")
        return
    seen = phones_seen.get(phone_key(phone))
    if seen is not None:
        fault(
            "attr.jt808_phone",
            phone,
            "this SIM number is already provisioned on the platform"
            if seen == 0
            else f"this SIM number is already in row {seen} of this file",
        )
    else:
        phones_seen[phone_key(phone)] = row.row


def _site_id(ref: str, sites: list[SiteRow]) -> int | None:
    if not ref:
        return None
    for site in sites:
        if site["name"] == ref or (ref.isascii() and ref.isdecimal() and site["id"] == int(ref)):
            return site["id"]
    return None


def _create(
    platform: Platform, uow, principal: Principal | None, enterprise_id: int, valid: list[tuple[_Row, int | None, dict]]
) -> list[dict]:
    """Each valid row's device and token, all in the caller's transaction."""
    now_ms = platform.clock_ms()
    site_names = {s["id"]: s["name"] for s in uow.enterprises.sites(enterprise_id)}
    created = []
    for row, site_id, attributes in valid:
        mode = SourceMode(row.source_mode)
        token = new_token("wxd_")
        device_id = uow.devices.add(
            key=row.key,
            enterprise_id=enterprise_id,
            site_id=site_id,
            device_type=row.device_type,
            attributes=attributes,
            source_mode=mode.value,
            trust_level=trust_level(mode),
            created_ms=now_ms,
        )
        uow.devices.add_token(device_id, token_hash(token), now_ms)
        created.append(
            {
                "row": row.row,
                "key": row.key,
                "device_id": device_id,
                "device_type": row.device_type,
                "site": site_names.get(site_id, ""),
                "source_mode": mode.value,
                "access_token": token,
                **_enrol_terminal(platform, uow, principal, device_id, row, now_ms),
            }
        )
    return created


def _enrol_terminal(
    platform: Platform, uow, principal: Principal | None, device_id: int, row: _Row, now_ms: int
) -> dict:
    """A JT/T 808 row's terminal, provisioned with the device (its enrolment window opens now)."""
    if not row.terminal_id:
        return {}
    until_ms = now_ms + DEFAULT_ENROL_WINDOW_S * 1000
    version = row.header_version or "auto"
    uow.jt808.provision(
        device_id,
        phone_key(row.attributes["jt808_phone"]),
        row.terminal_id,
        None,
        None,
        None,
        now_ms,
        principal.user_id if principal else None,
        until_ms,
        None if version == "auto" else version,
    )
    return {"jt808_terminal_id": row.terminal_id, "jt808_header_version": version, "enrol_until_ms": until_ms}


def credentials_csv(result: dict) -> str:
    """The installer's sheet: one line per created device with its access token (write it once, keep it safe)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CREDENTIAL_COLUMNS)
    for device in result["created"]:
        writer.writerow([safe_cell(device[c]) for c in CREDENTIAL_COLUMNS])  # no cell a spreadsheet would run
    return out.getvalue()


def template_csv() -> str:
    """An example file: the columns, and a row for a machine's current bracelet (the first device type playing
    the `measures_machine_current` role)."""
    bracelet = min(device_types_with("measures_machine_current"), default="device_type")
    return f"key,device_type,site,source_mode,attr.run_threshold_a\nloom-101,{bracelet},一号车间,bank_installed,5.0\n"
