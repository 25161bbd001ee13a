from wuxin.ingest.mqtt.front import is_worker_reply


def test_only_event_post_replies_pass_from_the_workers_to_devices():
    assert is_worker_reply("/sys/manufacturing.energy_meter/m-1/thing/event/property/post_reply")
    assert is_worker_reply("/sys/manufacturing.energy_meter/m-1/thing/event/tamper/post_reply")
    for forged in (
        "/sys/manufacturing.energy_meter/m-1/thing/service/property/set",  # a property set: a command, not a reply
        "/sys/vehicles.gps_terminal/t-1/thing/service/immobilise",
        "/sys/x/m-1/thing/event/property/post",
        "/sys/x/m-1",
        "",
    ):
        assert not is_worker_reply(forged), forged
