"""The stream's small pure parts: the NATS URL list and the dedupe id of a device's publish."""

import pytest

from wuxin.ingest.stream.jetstream import dedupe_id, parse_urls


def test_urls_are_split_and_given_a_scheme():
    assert parse_urls("nats://a:4222, b:4222,") == ["nats://a:4222", "nats://b:4222"]


@pytest.mark.parametrize("value", ["", " , "])
def test_no_url_is_refused_naming_the_value(value):
    with pytest.raises(ValueError, match=repr(value).replace("[", r"\[")):
        parse_urls(value)


def test_a_resent_publish_has_the_same_id_and_another_publish_another():
    first = dedupe_id("loom-01", 7, "v1/devices/loom-01/telemetry", b'{"a":1}')
    assert first == dedupe_id("loom-01", 7, "v1/devices/loom-01/telemetry", b'{"a":1}')
    assert first != dedupe_id("loom-01", 8, "v1/devices/loom-01/telemetry", b'{"a":1}')  # packet id reused later
    assert first != dedupe_id("loom-02", 7, "v1/devices/loom-02/telemetry", b'{"a":1}')
    assert first != dedupe_id("loom-01", 7, "v1/devices/loom-01/telemetry", b'{"a":2}')
