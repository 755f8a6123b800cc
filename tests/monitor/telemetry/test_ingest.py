"""Validation of what sensors send: topics, payloads, HTTP items; nothing raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from shuhui.monitor.readings import Reading
from shuhui.monitor.telemetry.ingest import (
    MAX_PAYLOAD,
    REASONS,
    Rejected,
    device_of,
    parse_item,
    parse_message,
)
from tests.monitor.telemetry.conftest import small_directory

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
OLDEST = NOW - timedelta(days=14)
DIRECTORY = small_directory(3)
DEVICE = "SNS-370202-000001"
TOPIC = f"shuhui/{DEVICE}/telemetry"


def parse(payload: object, topic: str = TOPIC) -> list[Reading] | Rejected:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return parse_message(topic, raw, DIRECTORY, NOW, OLDEST)


def reason(payload: object, topic: str = TOPIC) -> str:
    outcome = parse(payload, topic)
    assert isinstance(outcome, Rejected), outcome
    return outcome.reason


def test_a_message_becomes_one_reading_per_metric_in_utc() -> None:
    outcome = parse(
        {
            "ts": "2026-12-07T15:59:30+08:00",
            "values": {"smoke": 2.5, "temperature": 24},
            "units": {"smoke": "%obs/m"},
        }
    )
    ts = datetime(2026, 12, 7, 7, 59, 30, tzinfo=UTC)
    assert outcome == [
        Reading(DEVICE, ts, "smoke", 2.5),
        Reading(DEVICE, ts, "temperature", 24.0),
    ]
    assert outcome[0].ts.tzinfo is UTC


def test_topics() -> None:
    assert device_of("shuhui/SNS-1/telemetry") == "SNS-1"
    for topic in ("shuhui//telemetry", "shuhui/a/b/telemetry", "other/SNS-1/telemetry", ""):
        assert device_of(topic) is None
    assert reason({"ts": NOW.isoformat(), "values": {"smoke": 1}}, "shuhui/x y/telemetry") == (
        "bad_topic"
    )


def test_each_rejection_reason() -> None:
    ok = {"ts": NOW.isoformat(), "values": {"smoke": 1.0}}
    assert reason(b"not json") == "malformed"
    assert reason(b"\xff\xfe") == "malformed"
    assert reason(b"[" * 50 + b"]" * 50) == "malformed"
    assert reason(b'{"ts": "x", "values": {"smoke": NaN}}') == "malformed"
    assert reason(b" " * (MAX_PAYLOAD + 1)) == "malformed"
    assert reason({**ok, "values": {}}) == "malformed"
    assert reason({**ok, "values": {"smoke": "1"}}) == "malformed"
    assert reason({**ok, "values": {"smoke": True}}) == "malformed"
    assert reason({**ok, "extra": 1}) == "malformed"
    assert reason({**ok, "ts": "2026-12-07T08:00:00"}) == "malformed"  # no offset
    assert reason(ok, "shuhui/NOPE-1/telemetry") == "unknown_device"
    assert reason({**ok, "values": {"gas_lel": 3}}) == "unknown_metric"
    assert reason({**ok, "units": {"smoke": "ppm"}}) == "unit_mismatch"
    assert reason({**ok, "values": {"smoke": 101}}) == "value_out_of_range"
    assert reason({**ok, "values": {"smoke": 10**400}}) == "value_out_of_range"
    assert reason({**ok, "ts": (NOW + timedelta(minutes=6)).isoformat()}) == "time_out_of_range"
    assert reason({**ok, "ts": (OLDEST - timedelta(seconds=1)).isoformat()}) == (
        "time_out_of_range"
    )
    assert reason({**ok, "ts": "0001-01-01T00:00:00+01:00"}) == "time_out_of_range"
    assert isinstance(parse({**ok, "ts": (NOW + timedelta(minutes=4)).isoformat()}), list)


def test_http_items_name_their_device() -> None:
    item = {"device": "GAS-1", "ts": NOW.isoformat(), "values": {"gas_lel": 12.5}}
    assert parse_item(item, DIRECTORY, NOW, OLDEST) == [Reading("GAS-1", NOW, "gas_lel", 12.5)]
    for bad in (None, [], {"ts": NOW.isoformat()}, {**item, "device": "a/b"}, {**item, "x": 1}):
        outcome = parse_item(bad, DIRECTORY, NOW, OLDEST)
        assert isinstance(outcome, Rejected) and outcome.reason == "malformed"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "ts": st.one_of(
            st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
            st.text(max_size=40),
        ),
        "values": st.dictionaries(
            st.sampled_from(["smoke", "temperature", "gas_lel", "x"]),
            st.one_of(st.floats(), st.integers(), st.text(max_size=5)),
            max_size=4,
        ),
        "units": json_values,
        "device": st.sampled_from(["GAS-1", DEVICE, "nope", ""]),
    },
)


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=300), topic=st.text(max_size=80))
def test_no_bytes_raise(payload: bytes, topic: str) -> None:
    outcome = parse_message(topic, payload, DIRECTORY, NOW, OLDEST)
    assert isinstance(outcome, list) or outcome.reason in REASONS


@settings(max_examples=300, deadline=None)
@given(message=st.one_of(messages, json_values))
def test_no_json_raises(message: object) -> None:
    try:
        raw = json.dumps(message).encode()
    except ValueError:
        return
    outcome = parse_message(TOPIC, raw, DIRECTORY, NOW, OLDEST)
    assert isinstance(outcome, list) or outcome.reason in REASONS
    item = parse_item(message, DIRECTORY, NOW, OLDEST)
    assert isinstance(item, list) or item.reason in REASONS
    if isinstance(outcome, list):
        for r in outcome:
            assert r.ts.tzinfo is UTC and OLDEST <= r.ts <= NOW + timedelta(minutes=5)
