"""The enterprise's device list a page at a time (issue 17): a borrower with two sites and three device types, paged
by 4; every readable device appears exactly once across the pages, in site / type / key order; the groups count the
devices of each site x type; the filters narrow the total; a consent limited to one scenario's devices pages only
those; bad paging parameters and foreign sites are refused with what was wrong; the unpaged list is unchanged."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.world import DAY_MS, build_world, login
from wuxin.api.app import create_app
from wuxin.services.access import consent
from wuxin.services.devices import registry


@pytest.fixture
def farm(platform):
    world = build_world(platform)
    east = registry.add_site(platform, None, world.factory, "东厂区", "江苏省苏州市", 31.0, 120.6)
    for n in range(7):
        registry.register_device(
            platform,
            None,
            world.factory,
            f"east-loom-{n:02d}",
            "manufacturing.current_bracelet",
            "bank_installed",
            east,
            {"run_threshold_a": 5.0},
        )
    for n in range(3):
        registry.register_device(
            platform,
            None,
            world.factory,
            f"east-meter-{n:02d}",
            "manufacturing.energy_meter",
            "bank_installed",
            east,
            {},
        )
    registry.register_device(
        platform, None, world.factory, "loose-meter", "manufacturing.energy_meter", "bank_installed", None, {}
    )
    client = TestClient(create_app(platform))
    return world, east, client


def _pages(client, headers, enterprise_id, **params) -> list[dict]:
    pages, page = [], 1
    while True:
        answer = client.get(
            f"/api/v1/enterprises/{enterprise_id}/devices",
            headers=headers,
            params={"page": page, "page_size": 4, **params},
        )
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        if page >= answer.json()["pages"]:
            return pages
        page += 1


def test_the_pages_hold_every_device_once_in_site_type_key_order_with_group_counts(farm):
    world, east, client = farm
    officer = login(client, "officer")
    everything = client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=officer).json()
    assert isinstance(everything, list) and len(everything) == 3 + 7 + 3 + 1  # the unpaged answer is still the list
    pages = _pages(client, officer, world.factory)
    assert [p["page"] for p in pages] == [1, 2, 3, 4] and {p["pages"] for p in pages} == {4}
    assert {p["total"] for p in pages} == {14}
    assert [len(p["items"]) for p in pages] == [4, 4, 4, 2]
    keys = [d["key"] for p in pages for d in p["items"]]
    assert sorted(keys) == sorted(d["key"] for d in everything) and len(set(keys)) == 14
    # the sites by name (一号车间: U+4E00 before 东厂区: U+4E1C), then type and key; the site-less device last
    assert keys[:3] == ["loom-01", "loom-02", "meter-01"]
    assert keys[3:10] == [f"east-loom-{n:02d}" for n in range(7)]
    assert keys[10:13] == [f"east-meter-{n:02d}" for n in range(3)] and keys[13] == "loose-meter"
    assert pages[0]["items"][0]["site_name"] == "一号车间" and pages[-1]["items"][-1]["site_name"] is None
    groups = {(g["site"], g["device_type"]): g["count"] for g in pages[0]["groups"]}
    assert groups == {
        ("一号车间", "manufacturing.current_bracelet"): 2,
        ("一号车间", "manufacturing.energy_meter"): 1,
        ("东厂区", "manufacturing.current_bracelet"): 7,
        ("东厂区", "manufacturing.energy_meter"): 3,
        (None, "manufacturing.energy_meter"): 1,
    }
    assert [g["count"] for g in pages[0]["groups"]] == [2, 1, 7, 3, 1]  # in the list's order


def test_the_filters_narrow_the_total_and_the_groups_stay_whole(farm):
    world, east, client = farm
    owner = login(client, "owner")
    pages = _pages(client, owner, world.factory, site=east, type="manufacturing.current_bracelet")
    assert [p["total"] for p in pages] == [7, 7] and [len(p["items"]) for p in pages] == [4, 3]
    assert {d["key"] for p in pages for d in p["items"]} == {f"east-loom-{n:02d}" for n in range(7)}
    assert sum(g["count"] for g in pages[0]["groups"]) == 14  # the groups count everything, for the chips
    meters = _pages(client, owner, world.factory, type="manufacturing.energy_meter")
    assert meters[0]["total"] == 5 and meters[0]["device_type"] == "manufacturing.energy_meter"
    beyond = client.get(
        f"/api/v1/enterprises/{world.factory}/devices", headers=owner, params={"page": 9, "page_size": 4}
    )
    assert beyond.status_code == 200 and beyond.json()["items"] == [] and beyond.json()["total"] == 14


def test_a_consent_to_some_devices_pages_only_those(platform, farm):
    world, east, client = farm
    other = login(client, "other")
    refused = client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=other, params={"page": 1})
    assert refused.status_code == 404  # no consent to this bank: the answer of a missing enterprise, paged or not
    consent.grant(
        platform,
        None,
        world.factory,
        world.other_bank,
        "devices",
        ["east-loom-03", "loom-01", "east-loom-00"],
        "credit assessment",
        platform.clock_ms() + DAY_MS,
    )
    page = client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=other, params={"page": 1}).json()
    assert page["total"] == 3 and [d["key"] for d in page["items"]] == ["loom-01", "east-loom-00", "east-loom-03"]
    assert sum(g["count"] for g in page["groups"]) == 3  # the groups never count what the consent does not cover


@pytest.mark.parametrize(
    "params, named",
    [
        ({"page": 0}, "page"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 201}, "page_size"),
        ({"page": "x"}, "page"),
        ({"site": 0}, "site"),
    ],
)
def test_bad_paging_parameters_are_refused_naming_them(farm, params, named):
    world, east, client = farm
    answer = client.get(f"/api/v1/enterprises/{world.factory}/devices", headers=login(client, "officer"), params=params)
    assert answer.status_code == 422 and named in answer.text


def test_a_site_of_another_enterprise_is_not_found(platform, farm):
    world, east, client = farm
    elsewhere = registry.add_site(platform, None, world.fleet, "宁波场站", "浙江省宁波市", 29.9, 121.5)
    answer = client.get(
        f"/api/v1/enterprises/{world.factory}/devices", headers=login(client, "officer"), params={"site": elsewhere}
    )
    assert answer.status_code == 404 and f"site {elsewhere}" in answer.text
