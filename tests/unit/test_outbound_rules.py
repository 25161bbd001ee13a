"""Unbooked outbound: gate-camera count episodes without a weighbridge weighing around them; pack declaration."""

from wuxin.alerts.movements import Episode, episodes, unconfirmed
from wuxin.services.bootstrap import default_rules

M = 60_000


def test_counts_group_into_truck_episodes():
    counts = [(0, 0), (15 * M, 20), (30 * M, 15), (45 * M, 0), (60 * M, 5), (180 * M, 30)]
    assert episodes(counts, 30 * M) == [Episode(15 * M, 60 * M, 40), Episode(180 * M, 180 * M, 30)]
    assert episodes([(0, 0), (15 * M, None)], 30 * M) == []


def test_an_episode_without_a_weighing_around_it_is_unbooked():
    trucks = [Episode(100 * M, 140 * M, 40), Episode(600 * M, 620 * M, 12), Episode(900 * M, 900 * M, 1)]
    weighed = [92 * M, 220 * M]  # the first truck weighed in and out; the others never
    assert unconfirmed(trucks, weighed, 30 * M, 120 * M, 2) == [Episode(600 * M, 620 * M, 12)]  # 1 unit is below min
    assert unconfirmed(trucks, [600 * M - 31 * M, 620 * M + 121 * M], 30 * M, 120 * M, 2)[-1].start_ms == 600 * M
    assert unconfirmed(trucks, [], 30 * M, 120 * M, 1) == trucks


def test_the_logistics_pack_declares_it_under_the_cameras_alarm_type():
    rule = default_rules()["logistics.unbooked_outbound"]
    assert rule.alarm_type == default_rules()["logistics.unauthorised_outbound"].alarm_type == "unauthorised_outbound"
    assert rule.params["confirm_device_type"] == "logistics.weighbridge" and rule.params["confirm_match"] == {
        "direction": "out"
    }


def test_quiet_hours_are_the_gates_own_night_and_off_hours_picks_episodes_in_them():
    from wuxin.alerts.movements import Episode, off_hours, quiet_hours

    hour = 3_600_000
    day_trucks = [(d * 86_400_000 + h * hour, 20.0) for d in range(7) for h in (8, 13, 17)]
    quiet = quiet_hours(day_trucks, 0, 0.01)
    assert {8, 13, 17}.isdisjoint(quiet) and {0, 2, 23} <= quiet
    night, noon = (
        Episode(7 * 86_400_000 + 2 * hour, 7 * 86_400_000 + 2 * hour, 20),
        Episode(7 * 86_400_000 + 13 * hour, 7 * 86_400_000 + 13 * hour, 20),
    )
    assert off_hours([night, noon], quiet, 0, 1) == [night]
    assert quiet_hours([(0, 0.0)], 0, 0.01) is None  # a gate that never counted out has no habit yet
