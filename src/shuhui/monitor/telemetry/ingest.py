"""What a sensor sends, checked: an MQTT topic names a device, a payload becomes readings or a
rejection with one of the fixed reasons.

Nothing here raises on what a device sends: every input ends as ``list[Reading]`` or a
:class:`Rejected` (tests/monitor/telemetry/test_ingest.py holds that with hypothesis). A message
is taken or refused whole: one bad metric refuses the message, so a reading never arrives
without its companions (smoke without the temperature beside it).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from shuhui.monitor.devices import Directory
from shuhui.monitor.readings import Reading

# The rejection reasons (the design's fixed codes) with their Chinese and English labels.
REASONS: dict[str, tuple[str, str]] = {
    "malformed": ("格式错误", "Malformed message"),
    "unknown_device": ("未登记的设备", "Unknown device"),
    "unknown_metric": ("该设备不测此项", "Metric the device does not measure"),
    "unit_mismatch": ("单位不符", "Unit mismatch"),
    "value_out_of_range": ("读数超出量程", "Value outside the physical range"),
    "time_out_of_range": ("时间超出范围", "Time out of range"),
    "bad_topic": ("主题不符", "Bad topic"),
}

MAX_PAYLOAD = 16 * 1024
# {"ts", "values": {…}, "units": {…}} is two levels deep; a little room, no more.
MAX_DEPTH = 4
MAX_METRICS = 32
# A clock a little ahead is tolerated; more is a device with a wrong clock.
FUTURE = timedelta(minutes=5)
DEVICE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
TOPIC = re.compile(r"shuhui/([A-Za-z0-9_.-]{1,64})/telemetry")
TOPIC_FILTER = "shuhui/+/telemetry"
_MESSAGE_KEYS = frozenset({"ts", "values", "units"})
_ITEM_KEYS = _MESSAGE_KEYS | {"device"}


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why a message was refused: ``reason`` is one of :data:`REASONS`; ``detail`` says what
    in it (for a person reading the log or an HTTP answer)."""

    reason: str
    detail: str = ""


Outcome = list[Reading] | Rejected


def device_of(topic: str) -> str | None:
    """The device id in ``shuhui/<device id>/telemetry``, or None for any other topic."""
    found = TOPIC.fullmatch(topic)
    return found.group(1) if found else None


def _too_deep(text: str) -> bool:
    # Counting brackets outside strings bounds the parser's recursion before it starts.
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def parse_json(payload: bytes) -> Any | Rejected:
    """The payload as JSON: UTF-8, at most :data:`MAX_PAYLOAD` bytes and :data:`MAX_DEPTH`
    levels, no NaN or Infinity."""
    if len(payload) > MAX_PAYLOAD:
        return Rejected("malformed", f"larger than {MAX_PAYLOAD} bytes")
    # The fast path (the consumer's ~1 µs a message instead of ~15): orjson, and the depth
    # scan only when the payload holds more brackets than levels allowed. Whatever orjson
    # refuses is judged again by the standard library below, so the verdicts and details stay
    # those of ``json`` (big integers, lone surrogates, NaN).
    if payload.count(b"{") + payload.count(b"[") <= MAX_DEPTH:
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            pass
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return Rejected("malformed", "not UTF-8")
    if _too_deep(text):
        return Rejected("malformed", f"nested deeper than {MAX_DEPTH}")
    try:
        return json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        return Rejected("malformed", "not JSON")


def parse_time(raw: object, now: datetime, oldest: datetime) -> datetime | Rejected:
    """An ISO 8601 time with its offset, in UTC, between ``oldest`` and five minutes ahead of
    ``now``."""
    if not isinstance(raw, str) or not 10 <= len(raw) <= 40:
        return Rejected("malformed", "ts must be an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return Rejected("malformed", "ts must be an ISO 8601 time")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return Rejected("malformed", "ts needs its UTC offset")
    try:
        ts = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return Rejected("time_out_of_range", "ts outside the calendar")
    if ts > now + FUTURE:
        return Rejected("time_out_of_range", "ts more than 5 minutes ahead")
    if ts < oldest:
        return Rejected("time_out_of_range", "ts older than the raw readings are kept")
    return ts


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return math.inf
    return number


def readings_of(
    device_id: str,
    message: object,
    directory: Directory,
    now: datetime,
    oldest: datetime,
    *,
    keys: frozenset[str] = _MESSAGE_KEYS,
) -> Outcome:
    """A parsed message of ``device_id`` as readings, or why not. Checked in this order: the
    shape, the device, the time, then each metric (known, in its unit, inside its range)."""
    if not isinstance(message, dict) or not set(message) <= keys:
        return Rejected("malformed", "expected an object with ts, values and units")
    values = message.get("values")
    units = message.get("units", {})
    if not isinstance(values, dict) or not 1 <= len(values) <= MAX_METRICS:
        return Rejected("malformed", f"values must map 1–{MAX_METRICS} metrics to numbers")
    if not isinstance(units, dict) or len(units) > MAX_METRICS:
        return Rejected("malformed", "units must map metrics to units")
    numbers: dict[str, float] = {}
    for metric, value in values.items():
        number = _number(value)
        if number is None:
            return Rejected("malformed", "each value must be a number")
        numbers[metric] = number
    device = directory.get(device_id)
    if device is None:
        return Rejected("unknown_device", "device not in the registry")
    ts = parse_time(message.get("ts"), now, oldest)
    if isinstance(ts, Rejected):
        return ts
    known = device.sensor_type.metrics
    readings: list[Reading] = []
    for metric, number in numbers.items():
        spec = known.get(metric)
        if spec is None:
            return Rejected("unknown_metric", f"{device.sensor_type.code} does not measure it")
        unit = units.get(metric)
        if unit is not None and unit != spec.unit:
            return Rejected("unit_mismatch", f"{metric} is in {spec.unit}")
        if not (math.isfinite(number) and spec.low <= number <= spec.high):
            return Rejected("value_out_of_range", f"{metric} outside {spec.low}–{spec.high}")
        readings.append(Reading(device_id, ts, metric, number))
    return readings


def parse_message(
    topic: str, payload: bytes, directory: Directory, now: datetime, oldest: datetime
) -> Outcome:
    """One MQTT message: its topic and payload, checked against the directory and the clock."""
    device_id = device_of(topic)
    if device_id is None:
        return Rejected("bad_topic", "expected shuhui/<device id>/telemetry")
    message = parse_json(payload)
    if isinstance(message, Rejected):
        return message
    return readings_of(device_id, message, directory, now, oldest)


def parse_item(item: object, directory: Directory, now: datetime, oldest: datetime) -> Outcome:
    """One item of an HTTP batch: ``{"device": id, "ts": …, "values": {…}, "units": {…}}``."""
    if not isinstance(item, dict):
        return Rejected("malformed", "expected an object with device, ts and values")
    device_id = item.get("device")
    if not isinstance(device_id, str) or DEVICE_ID.fullmatch(device_id) is None:
        return Rejected("malformed", "device must be a device id")
    return readings_of(device_id, item, directory, now, oldest, keys=_ITEM_KEYS)


def reason_names(counts: Mapping[str, int]) -> list[dict[str, object]]:
    """Counts by reason with their labels, every reason listed (zero where none)."""
    return [
        {"reason": code, "name_zh": zh, "name_en": en, "count": counts.get(code, 0)}
        for code, (zh, en) in REASONS.items()
    ]
