"""Calls recorded in groups (group commit) behave exactly as calls recorded one after another:
the same counts, refusals, uses and ledger entries; and one call's failed write is its own."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from shuhui.channel import gateway
from shuhui.channel.calls import Pending
from shuhui.channel.limits import month_windows
from shuhui.channel.models import Call, Counter
from shuhui.channel.routes import limit_headers
from shuhui.channel.writes import GroupWriter, WriteLock
from shuhui.core.clock import utcnow
from shuhui.core.db import transaction
from shuhui.trust.authorisations.models import Authorisation
from shuhui.trust.authorisations.service import entries_about
from shuhui.trust.ledger.models import LedgerEntry
from tests.channel.conftest import PURPOSE, Channel
from tests.channel.test_gateway import consent

pytestmark = pytest.mark.both_backends

PRODUCT = "underwriting-health-check"


def decided(ch: Channel, n: int, **payload: Any) -> list[Pending]:
    """n calls decided as if at the same moment: the rate limit counts per minute, and on a
    slow machine deciding them one by one could straddle a minute's end."""
    body = {"purpose": PURPOSE, "params": {"citizen_id": ch.patient_id, "years": 5}, **payload}
    now = utcnow()
    pending = []
    for _ in range(n):
        with transaction(ch.app.state.session_factory) as db:
            pending.append(
                gateway.decide_call(
                    db,
                    ch.app.state.city_channel,
                    ch.app.state.channel_engine,
                    api_key=ch.key,
                    product_code=PRODUCT,
                    payload=body,
                    keys=ch.app.state.channel_keys,
                    now=now,
                )
            )
    return pending


def test_a_group_counts_limits_and_uses_as_calls_one_after_another(channel: Channel) -> None:
    ch = channel
    code = consent(ch)
    group = decided(ch, 32)
    assert all(p.verdict.reason is None for p in group)  # each, alone, would be answered
    with transaction(ch.app.state.session_factory) as db:
        outcomes = gateway.record_calls(db, group)
    statuses = [o.status for o in outcomes]
    assert statuses == [200] * 30 + [429, 429]  # the grant's 30 a minute, in order
    remaining = [int(limit_headers(o.limits)["X-RateLimit-Remaining"]) for o in outcomes]
    assert remaining == [*range(29, -1, -1), 0, 0]
    # Only the answers spend the month's quota; the two refusals are counted beside it.
    used = [int(limit_headers(o.limits)["X-Quota-Used"]) for o in outcomes]
    refused = [int(limit_headers(o.limits)["X-Quota-Refused"]) for o in outcomes]
    assert used == [*range(1, 31), 30, 30] and refused == [0] * 30 + [1, 2]
    with ch.app.state.session_factory() as db:
        uses = db.scalar(select(Authorisation.uses).where(Authorisation.code == code))
        calls = list(db.scalars(select(Call).order_by(Call.id)))
        by_seq = {e.seq: e for e in db.scalars(select(LedgerEntry))}
    assert uses == 30  # the refused calls used nothing
    assert [c.status for c in calls] == statuses
    # Every metered call points at its own ledger entry, which names its answer.
    assert len({c.ledger_seq for c in calls}) == 32 and None not in {c.ledger_seq for c in calls}
    for call, outcome in zip(calls, outcomes, strict=True):
        entry = by_seq[call.ledger_seq]
        detail = json.loads(entry.leaf)["detail"]
        if outcome.status == 200:
            assert entry.action == "cert_use.used" and entry.grant == code
            assert detail["answer_sha256"] == outcome.body["answer_sha256"] == call.answer_sha256
        else:
            assert entry.action == "channel.refused" and detail["reason"] == "rate-limited"


def test_the_last_use_goes_to_the_first_call_of_a_group(channel: Channel) -> None:
    ch = channel
    code = consent(ch, max_uses=2)
    group = decided(ch, 3)
    with transaction(ch.app.state.session_factory) as db:
        outcomes = gateway.record_calls(db, group)
    assert [o.status for o in outcomes] == [200, 200, 403]
    assert outcomes[2].body["authorisation"]["reason"] == "authorisation has no uses left"
    # The third was counted as an answer, then refused: its quota is given back.
    last = outcomes[2].limits
    assert last is not None and (last.quota_used, last.refused) == (2, 1)
    with ch.app.state.session_factory() as db:
        windows = dict(db.execute(select(Counter.window, Counter.count)).all())
    month, refusals = month_windows(group[0].call.now)
    assert (windows[month], windows[refusals]) == (2, 1)
    with ch.app.state.session_factory() as db:
        entries = [e for e in entries_about(db, [ch.patient_id]) if e.grant == code]
        status = db.scalar(select(Authorisation.status).where(Authorisation.code == code))
    # In the order they happened: two uses, the authorisation used up, then the refusal.
    actions = [e.action for e in sorted(entries, key=lambda e: e.seq)]
    assert actions[-4:] == [
        "cert_use.used",
        "cert_use.used",
        "cert_use.exhausted",
        "cert_use.refused",
    ]
    assert status == "exhausted"


def test_a_failed_write_is_its_own_and_the_rest_of_its_group_lands(channel: Channel) -> None:
    ch = channel
    consent(ch)
    good = decided(ch, 3)
    broken = decided(ch, 1)[0]
    broken.call.key = None  # counted, yet with no key to count against: the write raises
    lock = WriteLock(None)
    writer = GroupWriter(ch.app.state.session_factory, lock, gateway.record_calls)
    with ch.app.state.session_factory() as db:
        seq_before = db.scalar(select(func.max(LedgerEntry.seq)))
    with lock:  # the writer takes the first call, then waits for the lock …
        first = writer.submit(good[0])
        deadline = time.monotonic() + 10
        while not writer._queue.empty() and time.monotonic() < deadline:
            time.sleep(0.01)
        # … so these three wait together and are written as one group, which fails.
        rest = [writer.submit(good[1]), writer.submit(broken), writer.submit(good[2])]
    assert first.result(10).status == 200
    assert rest[0].result(10).status == 200 and rest[2].result(10).status == 200
    with pytest.raises(AssertionError):
        rest[1].result(10)
    assert (writer.groups, writer.calls) == (3, 3)  # [first], then each alone: good, good
    with ch.app.state.session_factory() as db:
        calls = db.scalar(select(func.count()).select_from(Call))
        new = list(db.scalars(select(LedgerEntry.action).where(LedgerEntry.seq > seq_before)))
    assert calls == 3  # nothing of the failed call, all of the others
    assert new == ["cert_use.used"] * 3


def test_a_call_is_decided_at_once_only_from_a_table_prepared_and_checked(
    channel: Channel,
) -> None:
    from shuhui.channel.routes import _decides_at_once
    from shuhui.core.clock import local_today, utcnow

    ch = channel
    consent(ch)
    app, engine = ch.app, ch.app.state.channel_engine
    product = app.state.city_channel.products.get(PRODUCT)
    today = local_today(utcnow())
    engine._prepared.pop(PRODUCT, None)
    assert not engine.ready(product, today)  # nothing prepared: the call goes to a thread
    assert not _decides_at_once(app, PRODUCT)
    assert len(decided(ch, 1)) == 1  # prepares the table
    local = app.state.channel_local_db  # SQLite here; PostgreSQL always goes to a thread
    assert engine.ready(product, today) and _decides_at_once(app, PRODUCT) == local
    assert not engine.ready(product, today.replace(year=today.year + 1))  # another day
    engine._prepared[PRODUCT].checked -= engine.check_every  # a version check is due
    assert not engine.ready(product, today) and not _decides_at_once(app, PRODUCT)
    assert not _decides_at_once(app, "open-enterprise-electricity")  # reads the data core
    assert not _decides_at_once(app, "no-such-product")


def test_the_writer_thread_ends_when_idle_and_the_next_call_starts_another(
    channel: Channel,
) -> None:
    ch = channel
    consent(ch)
    calls = decided(ch, 2)
    writer = GroupWriter(
        ch.app.state.session_factory, WriteLock(None), gateway.record_calls, idle=0.2
    )
    assert not writer.running
    assert writer.submit(calls[0]).result(10).status == 200
    deadline = time.monotonic() + 10
    while writer.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not writer.running  # no thread, engine or connection kept by an idle app
    assert writer.submit(calls[1]).result(10).status == 200
    assert (writer.groups, writer.calls) == (2, 2)
