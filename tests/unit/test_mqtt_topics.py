"""Topics and dialects: pure mapping from (topic, payload) to bulk lines."""

from __future__ import annotations

import pytest

from wuxin.ingest.mqtt import topics
from wuxin.ingest.mqtt.worker import backoff_s
from wuxin.ingest.parse import PayloadError
from wuxin.services.devices.connectivity import next_transition

NOW = 1_790_000_000_000


@pytest.mark.parametrize(
    "topic, route",
    [
        ("v1/devices/loom-01/telemetry", topics.Route("thingsboard", "telemetry", "loom-01")),
        ("v1/devices/loom-01/attributes", topics.Route("thingsboard", "attributes", "loom-01")),
        ("v1/gateway/gw-1/connect", topics.Route("thingsboard_gateway", "connect", "gw-1")),
        ("/sys/x.y/d1/thing/event/property/post", topics.Route("alink", "property", "d1", "x.y", "property")),
        ("/sys/x.y/d1/thing/event/sos/post", topics.Route("alink", "event", "d1", "x.y", "sos")),
        ("v1/devices/me/telemetry", None),  # cannot be attributed to a device by a subscriber
        ("v1/devices/loom-01/rpc", None),
        ("/sys/x.y/d1/thing/event/sos/post_reply", None),
        ("v1/gateway/gw-1/rpc", None),
    ],
)
def test_parse_topic(topic, route):
    assert topics.parse_topic(topic) == route


def test_thingsboard_bare_values_take_server_time():
    decoded = topics.decode(topics.parse_topic("v1/devices/d/telemetry"), b'{"current_a": 3}', NOW)
    assert decoded.lines == [{"device": "d", "ts": NOW, "values": {"current_a": 3}}]


def test_gateway_telemetry_names_its_children():
    body = b'{"c1": [{"ts": 5, "values": {"a": 1}}], "c2": {"b": 2}}'
    decoded = topics.decode(topics.parse_topic("v1/gateway/gw/telemetry"), body, NOW)
    assert decoded.children == ["c1", "c2"]
    assert decoded.lines == [
        {"device": "c1", "ts": 5, "values": {"a": 1}},
        {"device": "c2", "ts": NOW, "values": {"b": 2}},
    ]


def test_alink_property_values_group_by_their_time_and_carry_the_reply():
    body = b'{"id": "9", "params": {"a": 1, "b": {"value": 2, "time": 7}}, "method": "thing.event.property.post"}'
    decoded = topics.decode(topics.parse_topic("/sys/p/d/thing/event/property/post"), body, NOW)
    assert decoded.lines == [
        {"device": "d", "ts": NOW, "values": {"a": 1}},
        {"device": "d", "ts": 7, "values": {"b": 2}},
    ]
    assert decoded.reply_to == ("/sys/p/d/thing/event/property/post_reply", "9", "thing.event.property.post")


def test_alink_event_and_its_reply_method():
    body = b'{"id": "1", "params": {"value": {"lat": 1.5}, "time": 8}}'
    decoded = topics.decode(topics.parse_topic("/sys/p/d/thing/event/sos/post"), body, NOW)
    assert decoded.lines == [{"device": "d", "ts": 8, "event": "sos", "params": {"lat": 1.5}}]
    assert decoded.reply_to[2] == "thing.event.sos.post"


@pytest.mark.parametrize(
    "topic, body, reason",
    [
        ("v1/devices/d/telemetry", b"{oops", "malformed_json"),
        ("v1/devices/d/attributes", b"[1]", "wrong_shape"),
        ("v1/gateway/g/connect", b'{"name": "c"}', "wrong_shape"),
        ("/sys/p/d/thing/event/property/post", b'{"params": [1]}', "wrong_shape"),
    ],
)
def test_unusable_payloads_say_why(topic, body, reason):
    with pytest.raises(PayloadError) as caught:
        topics.decode(topics.parse_topic(topic), body, NOW)
    assert caught.value.reason == reason


def test_device_topics_all_route_back_to_the_device():
    for topic in topics.device_publish_topics("k1", "t.x"):
        route = topics.parse_topic(topic.replace("+", "property"))
        assert route is not None and route.device == "k1"


def test_backoff_grows_and_is_capped():
    assert [backoff_s(n) for n in (0, 1, 2)] == [0.1, 0.2, 0.4] and backoff_s(50) == 5.0


@pytest.mark.parametrize(
    "recorded, since, seen, now, expected",
    [
        (None, None, None, 1000, None),  # never seen: unknown, nothing recorded
        (None, None, 900, 1000, ("online", 900, "data")),
        ("online", 900, 900, 1000, None),
        ("online", 900, 900, 2000, ("offline", 1500, "heartbeat_timeout")),
        ("offline", 1500, 900, 2000, None),
        ("offline", 1500, 1400, 1600, None),  # data older than an explicit disconnect does not undo it
        ("offline", 1500, 1900, 2000, ("online", 1900, "data")),
    ],
)
def test_next_transition(recorded, since, seen, now, expected):
    assert next_transition(recorded, since, seen, 600, now) == expected
