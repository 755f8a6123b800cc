"""The gateway under attack: malformed calls are refused, metered and in the ledger (never a
500); refusals never spend the monthly quota."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from shuhui.channel import gateway
from shuhui.channel.calls import Outcome, Refusal
from shuhui.channel.common import LOCAL
from shuhui.channel.models import Call
from shuhui.core.clock import utcnow
from shuhui.core.db import transaction
from shuhui.trust.ledger.models import LedgerEntry
from tests.channel.conftest import INSURER, PURPOSE, Channel, grant_for
from tests.channel.test_gateway import UNDERWRITING, consent
from tests.fixtures import as_user

JSON = {"content-type": "application/json"}


def _last_call(ch: Channel) -> tuple[Call, LedgerEntry | None]:
    """The newest metering row and its ledger entry."""
    with ch.app.state.session_factory() as db:
        row = db.scalars(select(Call).order_by(Call.id.desc()).limit(1)).one()
        entry = None if row.ledger_seq is None else db.get(LedgerEntry, row.ledger_seq)
        return row, entry


def _metered(ch: Channel) -> int:
    with ch.app.state.session_factory() as db:
        return int(db.scalar(select(func.count()).select_from(Call)) or 0)


def _consumer_id(ch: Channel) -> int:
    from shuhui.channel.onboarding import consumer_by_code

    with ch.app.state.session_factory() as db:
        found = consumer_by_code(db, INSURER)
        assert found is not None
        return found.id


def _key_with_room(ch: Channel, purpose: str, **review: Any) -> str:
    grant = grant_for(
        ch.insurer, ch.health, ch.bureau, ["underwriting-health-check"], purpose, **review
    )
    issued = ch.insurer.post("/api/v1/channel/keys", json={"grants": [grant], "label": purpose})
    assert issued.status_code == 201, issued.text
    return str(issued.json()["secret"])


def test_malformed_calls_are_refused_metered_and_in_the_ledger(channel: Channel) -> None:
    ch = channel
    client = TestClient(ch.app, raise_server_exceptions=False)
    consumer = _consumer_id(ch)
    ok = f'"purpose": "{PURPOSE}", "params": {{"citizen_id": "{ch.patient_id}"'
    bodies = {
        # a lone surrogate in the purpose: it would have reached the ledger's canonical JSON
        b'{"purpose": "\\ud800", "params": {}}': "purpose",
        # raw UTF-8 bytes of a surrogate, which json.loads would take: not UTF-8 at all
        b'{"purpose": "\xed\xa0\x80", "params": {}}': "body",
        b'{"purpose": "a\\u0000b", "params": {}}': "purpose",
        ("{" + ok + ', "years": 99999999999999999999999}}').encode(): "params.years",
        ("{" + ok + ', "years": 1e400}}').encode(): "params.years",
        ("{" + ok + ', "years": NaN}}').encode(): "body",
        # an unknown parameter whose name is not text: echoed escaped in the refusal
        b'{"purpose": "x", "params": {"\\udc00": 1}}': "params.\\udc00",
        b"[" * 100_000 + b"]" * 100_000: "body",
        b'{"purpose": "x", "params": ' + b"[" * 50 + b"]" * 50 + b"}": "params",
        b"\xff\xfe\x00": "body",
        b"{not json": "body",
    }
    for body, field in bodies.items():
        refused = client.post(UNDERWRITING, content=body, headers={"X-API-Key": ch.key, **JSON})
        assert refused.status_code == 422, (body[:60], refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["reason"] == "invalid-params"
        assert problem["errors"][0]["field"].startswith(field), (body[:60], problem)
        # Metered against the consumer, counted in the key's refusals, and in the ledger.
        row, entry = _last_call(ch)
        assert (row.consumer_id, row.status, row.reason) == (consumer, 422, "invalid-params")
        assert entry is not None and entry.action == "channel.refused"
        assert json.loads(entry.leaf)["detail"]["reason"] == "invalid-params"
        assert int(refused.headers["X-Quota-Used"]) == 0
    assert int(refused.headers["X-Quota-Refused"]) == len(bodies)
    # Without a valid key the same body is refused as unauthenticated: metered against no
    # consumer, and in the ledger as an anonymous refusal.
    anonymous = client.post(UNDERWRITING, content=b'{"purpose": "\\ud800"}', headers=JSON)
    assert anonymous.status_code == 401 and anonymous.json()["reason"] == "key-missing"
    row, entry = _last_call(ch)
    assert row.consumer_id is None and row.reason == "key-missing"
    assert entry is not None and entry.actor == "anonymous"
    assert "X-Quota-Used" not in anonymous.headers
    # A product code no store takes (a NUL from the path) is an unknown product, metered.
    unknown = client.post(
        "/api/v1/channel/products/x%00y", content=b"{}", headers={"X-API-Key": ch.key, **JSON}
    )
    assert unknown.status_code == 404 and unknown.json()["reason"] == "product-unknown"
    assert _last_call(ch)[0].product == "x\\x00y"


STRESS = "人身保险投保核保（压力测试）"
# Text with what attackers send: lone surrogates, NUL, other control characters, CJK.
TEXT = st.one_of(
    st.text(max_size=12),
    st.text(st.characters(categories=["Cs", "Cc", "Lo"]), min_size=1, max_size=4),
    st.sampled_from(["\ud800", "\udfff", "a\x00b", "\x1b[31m", PURPOSE, " " * 3, "'; --", STRESS]),
)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**62, max_value=2**70),
    st.floats(),
    TEXT,
)
VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
PARAMS = st.dictionaries(
    st.sampled_from(["citizen_id", "years"]) | TEXT, VALUE, max_size=3
) | st.one_of(VALUE)
PAYLOAD = st.fixed_dictionaries(
    {},
    optional={"purpose": st.one_of(st.just(STRESS), TEXT, VALUE), "params": PARAMS, "extra": VALUE},
)


def _encoded(value: Any, ascii_only: bool) -> bytes:
    text = json.dumps(value, ensure_ascii=ascii_only)  # NaN and Infinity as Python writes them
    return text.encode("utf-8", "surrogatepass")


BODY = st.one_of(
    st.builds(_encoded, PAYLOAD, st.booleans()),
    st.builds(_encoded, VALUE, st.booleans()),
    st.integers(1, 3000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, 3000).map(lambda depth: b'{"params":' * depth + b"1" + b"}" * depth),
    st.binary(max_size=40),
)


def test_no_body_makes_the_gateway_fail_and_every_refusal_is_metered(channel: Channel) -> None:
    ch = channel
    key = _key_with_room(ch, STRESS, rate_per_minute=100_000)
    client = TestClient(ch.app, raise_server_exceptions=False)
    consumer = _consumer_id(ch)

    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(BODY, st.sampled_from([key, key, key, None, "shk_deadbeef_" + "x" * 43]))
    def attack(body: bytes, api_key: str | None) -> None:
        before = _metered(ch)
        headers = JSON if api_key is None else {"X-API-Key": api_key, **JSON}
        answer = client.post(UNDERWRITING, content=body, headers=headers)
        assert answer.status_code < 500, (body[:80], answer.text)
        assert _metered(ch) == before + 1  # every call is metered, answered or not
        row, entry = _last_call(ch)
        assert entry is not None  # …and in the ledger
        if answer.status_code == 200:
            return
        problem = answer.json()
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert row.status == answer.status_code and row.reason == problem["reason"]
        if api_key == key:
            assert row.consumer_id == consumer and answer.headers["X-Quota-Refused"]
            assert entry.action in ("channel.refused", "cert_use.refused")
        else:
            assert row.consumer_id is None and entry.action == "channel.refused"

    attack()


def test_refusals_never_spend_the_monthly_quota(channel: Channel) -> None:
    """5 answers and 20 calls over the rate limit, with a quota of 12: the 6th to 12th
    answers are still served, and the 13th is refused for the quota."""
    ch = channel
    key = _key_with_room(ch, "人身保险理赔核查", rate_per_minute=5, monthly_quota=12)
    app = ch.app
    payload = {"purpose": "人身保险理赔核查", "params": {"citizen_id": ch.patient_id}}
    start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=1)

    def call(minute: int, **changes: Any) -> Outcome:
        with transaction(app.state.session_factory) as db:
            return gateway.call(
                db,
                app.state.city_channel,
                app.state.channel_engine,
                api_key=key,
                product_code="underwriting-health-check",
                payload={**payload, **changes},
                now=start + timedelta(minutes=minute, seconds=1),
            )

    # The patient's authorisation names the fixture's purpose, not this one: sign one for it.
    consent(ch, purpose="人身保险理赔核查")
    first = [call(0) for _ in range(5)]
    assert [o.status for o in first] == [200] * 5
    limited = [call(0) for _ in range(20)]
    assert {o.reason for o in limited} == {Refusal.RATE_LIMITED}
    wrong = call(0, purpose="营销推广")  # over the rate limit too: still a refusal, not spent
    assert wrong.reason == Refusal.RATE_LIMITED
    later = [call(1) for _ in range(5)] + [call(2) for _ in range(2)]
    assert [o.status for o in later] == [200] * 7  # the 6th to the 12th answer
    last = later[-1].limits
    assert last is not None
    assert (last.quota_used, last.quota_remaining, last.refused) == (12, 0, 21)
    over = call(2)
    assert over.reason == Refusal.QUOTA_EXHAUSTED and over.limits is not None
    assert (over.limits.quota_used, over.limits.refused) == (12, 22)
    mismatch = call(3, purpose="营销推广")  # quota spent: refused for it, whatever else
    assert mismatch.reason == Refusal.QUOTA_EXHAUSTED
    # The statement bills the 12 answers only; the console says both figures in plain words.
    month = (start + timedelta(minutes=3)).astimezone(LOCAL).strftime("%Y-%m")
    bill = ch.insurer.get(f"/api/v1/channel/statements/{month}").json()
    assert sum(line["calls"] for line in bill["lines"]) == 12
    assert bill["refused_calls"] == 23
    page = ch.insurer.get("/channel")
    assert "本月已用 12 / 配额 12 次，另有 23 次被拒绝（不计入配额）" in page.text


def test_the_quota_headers_count_answers_and_refusals_apart(channel: Channel) -> None:
    ch = channel
    consent(ch)
    client = TestClient(ch.app)
    call = {"purpose": PURPOSE, "params": {"citizen_id": ch.patient_id}}
    answered = client.post(UNDERWRITING, json=call, headers={"X-API-Key": ch.key})
    assert answered.status_code == 200
    refused = client.post(
        UNDERWRITING, json={**call, "purpose": "营销推广"}, headers={"X-API-Key": ch.key}
    )
    assert refused.status_code == 403
    again = client.post(UNDERWRITING, json=call, headers={"X-API-Key": ch.key})
    quota = int(again.headers["X-Quota-Limit"])
    assert (again.headers["X-Quota-Used"], again.headers["X-Quota-Refused"]) == ("2", "1")
    assert again.headers["X-Quota-Remaining"] == str(quota - 2)


def test_a_row_id_beyond_64_bits_is_refused_not_a_500(app: FastAPI) -> None:
    bureau = as_user(app, "operator")
    huge = 2**63  # SQLite's integers end at 2^63 - 1: the lookup raised OverflowError (500)
    api = bureau.post(f"/api/v1/channel/memberships/{huge}/review", json={"decision": "approve"})
    page = bureau.post(f"/channel/review/memberships/{huge}", data={"decision": "approve"})
    for refused in (api, page):
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "membership_id"
    beyond = f"/api/v1/channel/memberships/{2**31}/review"  # the id column is 32-bit
    assert bureau.post(beyond, json={"decision": "approve"}).status_code == 422
    largest = f"/api/v1/channel/memberships/{2**31 - 1}/review"
    assert bureau.post(largest, json={"decision": "approve"}).status_code == 404
