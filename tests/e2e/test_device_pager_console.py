"""A large borrower's devices in the console (issue 17): the demo's dairy farm (well over one page of devices) shows
its devices 50 at a time, the groups (site x type) as buttons with their counts, a pager that walks the pages, and a
group chosen narrows the list to it; in zh-CN and in English."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_console import _api, _settle

PAGE_SIZE = 50  # enterprise.js DEVICE_PAGE_SIZE


def _farm(base: str) -> tuple[dict, list[dict]]:
    officer = _api(base, "officer")
    farm = next(e for e in officer.get("/api/v1/enterprises").json() if e["industry"] == "dairy")
    return farm, officer.get(f"/api/v1/enterprises/{farm['id']}/devices").json()


def _shown_keys(c) -> list[str]:
    return c.page.locator("[data-devices] table tbody a[href^='#/device/']").all_inner_texts()


@pytest.mark.parametrize(
    "lang, page_words, type_words", [("zh-CN", "第 {p} / {n} 页", "项圈"), ("en", "Page {p} of {n}", "collar")]
)
def test_the_pager_walks_the_devices_and_a_group_narrows_them(console_as, demo, lang, page_words, type_words):
    farm, devices = _farm(demo)
    pages = -(-len(devices) // PAGE_SIZE)
    assert pages >= 2, "the demo farm should need more than one page"
    c = console_as("officer", lang)
    c.open(f"#/enterprise/{farm['id']}", "[data-devices] table a[href^='#/device/']")
    _settle(c)
    chips = c.page.locator("[data-devices] [data-group]")
    counts = [
        int(n)
        for n in c.page.locator("[data-devices] [data-group][data-count]").evaluate_all(
            "els => els.map(e => e.dataset.count)"
        )
    ]
    assert sum(counts) == len(devices) and chips.count() == len(counts) + 1  # "all" and one per site x type
    for chip in c.page.locator("[data-devices] [data-group][data-count]").all():  # each button says its count
        assert chip.inner_text().endswith(f"({chip.get_attribute('data-count')})")
    assert chips.first.inner_text().endswith(f"({len(devices)})")
    pager = c.page.locator("[data-devices] [data-pager]")
    assert pager.get_attribute("data-pager") == f"1/{pages}"
    assert page_words.format(p=1, n=pages) in pager.inner_text()
    assert c.page.locator("#devices-prev").is_disabled()
    first = _shown_keys(c)
    assert len(first) == PAGE_SIZE

    seen = list(first)
    for p in range(2, pages + 1):
        c.page.click("#devices-next")
        c.page.wait_for_selector(f"[data-devices] [data-pager='{p}/{pages}']")
        seen += _shown_keys(c)
    assert c.page.locator("#devices-next").is_disabled()
    assert sorted(seen) == sorted(d["key"] for d in devices) and len(set(seen)) == len(devices)  # each device once

    collars = c.page.locator("[data-devices] [data-group$=':dairy.collar']")
    expected = int(collars.get_attribute("data-count"))
    assert type_words in collars.inner_text().lower()
    collars.click()
    c.page.wait_for_selector("[data-devices] [data-group$=':dairy.collar'].primary")
    shown = _shown_keys(c)
    assert len(shown) == min(expected, PAGE_SIZE) and all(re.search(r"collar", k) for k in shown)
    assert f"{expected}" in c.page.locator("[data-devices] [data-pager]").inner_text()
    assert c.errors == []
