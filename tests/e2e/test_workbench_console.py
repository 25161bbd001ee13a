"""The risk workbench in Chromium: an officer searches, sorts and filters the borrower table (each state checked
against the API's own answer), exports it as CSV and XLSX (the files' headers and rows are the page's), and puts a
borrower on the watch-list and takes it off; screenshots in zh-CN and en."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest

from tests.e2e.test_console import _api, _settle

ROWS = "[data-workbench] [data-borrower]"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo of this file's own: it changes the officer's watch-list, and other files revoke consents."""
    from tests.e2e.conftest import serve_demo

    yield from serve_demo(tmp_path_factory)


def _api_names(officer, **params) -> list[str]:
    body = officer.get("/api/v1/portfolio/borrowers", params={"page_size": 20, **params}).json()
    return [r["name"] for r in body["items"]]


def _page_names(c) -> list[str]:
    return c.page.locator(f"{ROWS} td:nth-child(2) a").all_inner_texts()


def _wait_rows(c, names: list[str]) -> None:
    """Until the table shows exactly these borrowers in this order (the server answered and the page drew it)."""
    c.page.wait_for_function(
        """(names) => JSON.stringify([...document.querySelectorAll(
        "[data-workbench] [data-borrower] td:nth-child(2) a")].map((a) => a.textContent)) === JSON.stringify(names)""",
        arg=names,
        timeout=30_000,
    )


def _page_headers(c) -> list[str]:
    return [
        h.replace("▲", "").replace("▼", "").strip() for h in c.page.locator("[data-workbench] th").all_inner_texts()
    ]


def _open(c) -> None:
    c.open("#/portfolio", f"{ROWS}")
    _settle(c)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_officer_searches_sorts_filters_and_exports_what_the_page_shows(console_as, demo, lang):
    officer = _api(demo, "officer")
    c = console_as("officer", lang)
    _open(c)
    _wait_rows(c, _api_names(officer))  # the default: exposure, largest first
    c.page.wait_for_selector("[data-workbench] [data-week]")
    c.shot(f"workbench-{lang}")

    first = _api_names(officer, sort="name", order="asc")[0]
    c.page.fill("#wb-search", first[:4])
    c.page.click("#wb-search-go")
    _wait_rows(c, _api_names(officer, q=first[:4]))
    assert first in _page_names(c)
    c.page.fill("#wb-search", "")
    c.page.click("#wb-search-go")

    c.page.click("[data-sort='name']")
    _wait_rows(c, _api_names(officer, sort="name", order="asc"))
    c.page.click("[data-sort='name']")
    _wait_rows(c, _api_names(officer, sort="name", order="desc"))
    assert c.page.locator("th[aria-sort='descending'] [data-sort='name']").count() == 1
    c.page.click("[data-sort='online_share_ratio']")
    _wait_rows(c, _api_names(officer, sort="online_share_ratio", order="desc"))

    c.page.select_option("#wb-industry", "manufacturing")
    expected = _api_names(officer, industry="manufacturing", sort="online_share_ratio", order="desc")
    _wait_rows(c, expected)
    assert expected
    headers = _page_headers(c)
    for fmt in ("csv", "xlsx"):
        with c.page.expect_download() as download:
            c.page.click(f"#wb-export-{fmt}")
        assert download.value.suggested_filename == f"borrowers.{fmt}"
        header, rows = _read_export(download.value.path(), fmt)
        assert set(headers) <= set(header), (headers, header)  # every column of the page, in the page's language
        name_at = header.index(headers[1])
        assert [r[name_at] for r in rows] == _page_names(c)  # the same rows, in the same order
    c.shot(f"workbench-{lang}-filtered")
    assert c.errors == []


def _read_export(path: str, fmt: str) -> tuple[list[str], list[list]]:
    if fmt == "csv":
        table = list(csv.reader(io.StringIO(open(path, encoding="utf-8-sig").read())))
    else:
        with open(path, "rb") as f:  # Playwright's download has no file suffix
            table = [list(r) for r in openpyxl.load_workbook(io.BytesIO(f.read())).active.iter_rows(values_only=True)]
    return table[0], table[1:]


def test_the_officer_puts_a_borrower_on_the_watch_list_and_takes_it_off(console_as, demo):
    officer = _api(demo, "officer")
    c = console_as("officer", "zh-CN")
    _open(c)
    row = c.page.locator(ROWS).first
    enterprise_id = int(row.get_attribute("data-borrower"))
    name = row.locator("td:nth-child(2) a").inner_text()
    c.page.click(f"[data-watch='{enterprise_id}']")
    c.page.wait_for_selector(f"[data-watch='{enterprise_id}'][aria-pressed='true']")
    assert officer.get("/api/v1/portfolio/watchlist").json() == {"enterprise_ids": [enterprise_id]}
    c.page.check("#wb-watched")
    _wait_rows(c, [name])
    c.shot("workbench-zh-CN-watched")
    c.page.click(f"[data-watch='{enterprise_id}']")
    c.page.wait_for_selector("[data-wb-empty]")
    assert officer.get("/api/v1/portfolio/watchlist").json() == {"enterprise_ids": []}
    risk = _api(demo, "risk")
    assert risk.get("/api/v1/portfolio/watchlist").status_code == 200
    assert c.errors == [], json.dumps(c.errors)
