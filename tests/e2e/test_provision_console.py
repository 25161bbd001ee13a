"""Bulk provisioning in a real browser: the integrator uploads a device file, reads the per-row report (a hostile
value shown as text), and downloads the created devices' tokens once."""

from __future__ import annotations

HOSTILE = '<img src=x onerror="window.__pwned=1">车间'
FILE = (
    "key,device_type,site,source_mode,attr.run_threshold_a\n"
    "e2e-prov-1,manufacturing.current_bracelet,,bank_installed,5.0\n"
    "e2e-prov-2,manufacturing.current_bracelet,,bank_installed,6.0\n"
    f'e2e-prov-3,manufacturing.current_bracelet,"{HOSTILE.replace(chr(34), chr(34) * 2)}",bank_installed,5.0\n'
)


def test_the_integrator_uploads_devices_and_downloads_their_tokens_once(console_as, tmp_path):
    c = console_as("integrator", "en")
    c.open("#/provision", "#prov-file")
    path = tmp_path / "devices.csv"
    path.write_text(FILE, encoding="utf-8")
    c.page.set_input_files("#prov-file", str(path))
    c.page.click("#prov-submit")
    c.page.wait_for_selector("#prov-summary")
    summary = c.page.locator("#prov-summary")
    assert (summary.get_attribute("data-created"), summary.get_attribute("data-refused")) == ("2", "1")
    assert "2 devices created, 1 rows refused" in summary.inner_text()
    error_row = c.page.locator("#prov-errors tbody tr")
    assert error_row.count() == 1
    cells = error_row.locator("td").all_inner_texts()
    assert cells[:3] == ["4", "site", HOSTILE]  # the hostile site name, as text
    assert c.page.evaluate("() => window.__pwned") is None
    c.shot("integrator-en-provision-report")
    with c.page.expect_download() as download_info:
        c.page.click("#prov-download")
    sheet = tmp_path / "tokens.csv"
    download_info.value.save_as(sheet)
    lines = sheet.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "row,key,device_type,site,source_mode,access_token"
    assert [line.split(",")[1] for line in lines[1:]] == ["e2e-prov-1", "e2e-prov-2"]
    assert all(line.split(",")[-1].startswith("wxd_") for line in lines[1:])
    assert c.page.locator("#prov-download").is_disabled()  # once only
    assert not [e for e in c.errors if e.startswith("uncaught")]


def test_the_token_sheet_neutralises_every_formula_start_as_the_server_does(console_as):
    c = console_as("integrator", "en")
    c.open("#/provision", "#prov-file")
    cells = c.page.evaluate("""async () => {
        const { csvField } = await import("/console/static/pages/provision.js");
        return ["=1+1", "+1", "-1", "@SUM(A1)", "\\t=1+1", "\\r=1+1", "plain", "a,b"].map(csvField);
    }""")
    assert cells == ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\t=1+1", '"\'\r=1+1"', "plain", '"a,b"']
