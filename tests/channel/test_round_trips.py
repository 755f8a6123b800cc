"""The gateway's writes in few round trips (issue 23): uses counted ahead of the counters, the
counters and the ledger's head in one round trip, the inserts sent with the commit. The outcome
is still that of calls recorded one after another, including where counting ahead could have
changed it; and the pieces it is built of (``core.db``: statements pipelined, writes deferred to
the commit, a pooled connection checked only after a pause) keep a transaction whole."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from shuhui.channel import gateway
from shuhui.channel.calls import Pending
from shuhui.channel.common import REVISION
from shuhui.channel.limits import COUNT_CALLS, month_windows
from shuhui.channel.models import Call, Counter
from shuhui.channel.routes import limit_headers
from shuhui.core import db as core_db
from shuhui.core.clock import utcnow
from shuhui.core.db import (
    execute_or_defer,
    make_engine,
    make_session_factory,
    pipelined,
    transaction,
)
from shuhui.core.settings import Settings
from shuhui.trust.authorisations.models import Authorisation
from shuhui.trust.authorisations.service import entries_about
from tests.channel.conftest import PURPOSE, Channel
from tests.channel.test_gateway import consent

pytestmark = pytest.mark.both_backends

PRODUCT = "underwriting-health-check"


def decided(
    ch: Channel, now: datetime, n: int, key: str | None = None, **body: Any
) -> list[Pending]:
    payload = {"purpose": PURPOSE, "params": {"citizen_id": ch.patient_id, "years": 5}, **body}
    pending = []
    for _ in range(n):
        with transaction(ch.app.state.session_factory) as db:
            pending.append(
                gateway.decide_call(
                    db,
                    ch.app.state.city_channel,
                    ch.app.state.channel_engine,
                    api_key=key or ch.key,
                    product_code=PRODUCT,
                    payload=payload,
                    keys=ch.app.state.channel_keys,
                    now=now,
                )
            )
    return pending


def record(ch: Channel, group: list[Pending]) -> list[int]:
    """Recorded as the server's writer records a group: its inserts sent with the commit."""
    with transaction(ch.app.state.session_factory, defer=True) as db:
        outcomes = gateway.record_calls(db, group)
    return [o.status for o in outcomes]


def test_a_group_across_a_minute_counts_as_calls_one_after_another(channel: Channel) -> None:
    """Both minutes' counters go in one round trip, before the first minute's refused answer is
    moved to the month's refusals: the second minute's calls are counted as if after it."""
    ch = channel
    consent(ch)
    first = (utcnow() + timedelta(minutes=1)).replace(second=10, microsecond=0)
    group = decided(ch, first, 31) + decided(ch, first + timedelta(minutes=1), 2)
    with transaction(ch.app.state.session_factory, defer=True) as db:
        outcomes = gateway.record_calls(db, group)
    assert [o.status for o in outcomes] == [200] * 30 + [429, 200, 200]  # 30 a minute
    used = [int(limit_headers(o.limits)["X-Quota-Used"]) for o in outcomes]
    refused = [int(limit_headers(o.limits)["X-Quota-Refused"]) for o in outcomes]
    assert used[-3:] == [30, 31, 32] and refused[-3:] == [1, 1, 1]
    with ch.app.state.session_factory() as db:
        windows = dict(db.execute(select(Counter.window, Counter.count)).all())
    month, refusals = month_windows(first)
    assert (windows[month], windows[refusals]) == (32, 1)


def test_a_use_a_limited_call_gives_back_goes_to_the_next_call(channel: Channel) -> None:
    """Two keys of the insurer, an authorisation good for one use. The first key is over its
    rate limit: its call's use, counted ahead, goes back, and the second key's call, which found
    no use left, counts it again and is answered, as if the first had never counted one."""
    ch = channel
    code = consent(ch, max_uses=1)
    issued = ch.insurer.post("/api/v1/channel/keys", json={"grants": [ch.grant], "label": "二"})
    assert issued.status_code == 201, issued.text
    other = issued.json()["secret"]
    now = (utcnow() + timedelta(minutes=1)).replace(second=10, microsecond=0)
    # The first key's minute is spent by calls refused before any use (a parameter unknown).
    wrong = decided(ch, now, 30, params={"citizen_id": ch.patient_id, "shoe_size": 42})
    assert record(ch, wrong) == [422] * 30
    group = decided(ch, now, 1) + decided(ch, now, 1, key=other)
    assert record(ch, group) == [429, 200]
    with ch.app.state.session_factory() as db:
        uses, status = db.execute(
            select(Authorisation.uses, Authorisation.status).where(Authorisation.code == code)
        ).one()
        entries = [e for e in entries_about(db, [ch.patient_id]) if e.grant == code]
    assert (uses, status) == (1, "exhausted")
    actions = [e.action for e in sorted(entries, key=lambda e: e.seq)]
    assert actions[-2:] == ["cert_use.used", "cert_use.exhausted"]


def test_a_group_that_ends_uses_appends_every_entry_without_a_gap(channel: Channel) -> None:
    """The head is bumped ahead for one entry a call; the authorisation used up adds one, and
    the head moves on by that one: seqs run on without a gap or an overlap."""
    ch = channel
    consent(ch, max_uses=2)
    with ch.app.state.session_factory() as db:
        size = db.scalar(text("SELECT size FROM ledger_head WHERE id = 1"))
    assert record(ch, decided(ch, utcnow(), 3)) == [200, 200, 403]
    with ch.app.state.session_factory() as db:
        after = db.scalar(text("SELECT size FROM ledger_head WHERE id = 1"))
        seqs = list(db.scalars(text("SELECT seq FROM ledger_entries ORDER BY seq")))
        metered = list(db.scalars(select(Call.ledger_seq).order_by(Call.id)))
    assert after == size + 4  # two uses, the end of the authorisation, the refusal
    assert seqs == list(range(after))
    assert metered == [size, size + 1, size + 3]


@pytest.fixture
def engine(migrated: Settings) -> Iterator[Engine]:
    made = make_engine(migrated.sqlalchemy_url)
    yield made
    made.dispose()


def counters(engine: Engine) -> dict[str, int]:
    with engine.connect() as con:
        return {str(w): int(n) for w, n in con.execute(select(Counter.window, Counter.count))}


def test_pipelined_statements_see_each_other_and_return_their_rows(engine: Engine) -> None:
    factory = make_session_factory(engine)
    params = {"key": 7, "minute": "m:1", "month": "M:1", "refused": "R:1"}
    with transaction(factory) as db:
        rows = pipelined(
            db,
            [
                (COUNT_CALLS, {**params, "calls": 2, "answers": 1, "refusals": 1}),
                (REVISION, {}),
                (COUNT_CALLS, {**params, "calls": 3, "answers": 3, "refusals": 0}),
            ],
        )
    assert sorted(rows[0]) == [("M:1", 1), ("R:1", 1), ("m:1", 2)]
    assert len(rows[1]) == 1
    assert sorted(rows[2]) == [("M:1", 4), ("R:1", 1), ("m:1", 5)]


def test_deferred_writes_land_with_the_commit_or_not_at_all(engine: Engine) -> None:
    factory = make_session_factory(engine)
    row = {"key_id": 9, "window": "M:1", "count": 1}
    with transaction(factory, defer=True) as db:
        db.execute(insert(Counter), {**row, "window": "m:1"})
        execute_or_defer(db, insert(Counter), [row])
        assert db.scalar(select(func.count()).select_from(Counter)) == 1  # not yet sent
    assert counters(engine) == {"m:1": 1, "M:1": 1}
    # A deferred write that fails fails the commit: the transaction's other writes go too.
    with pytest.raises(IntegrityError), transaction(factory, defer=True) as db:
        db.execute(delete(Counter).where(Counter.window == "m:1"))
        execute_or_defer(db, insert(Counter), [{**row, "window": "x:1"}])
        execute_or_defer(db, insert(Counter), [row])  # already there
    assert counters(engine) == {"m:1": 1, "M:1": 1}
    with transaction(factory) as db:  # not deferring: written at once, as ever
        execute_or_defer(db, insert(Counter), [{**row, "window": "y:1"}])
        assert db.scalar(select(func.count()).select_from(Counter)) == 3


def test_a_connection_the_server_dropped_is_replaced(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: a pooled connection is pinged only after a pause, so the one the server
    dropped is replaced before it is used; one used again at once meets the loss in its first
    statement, which fails, and SQLAlchemy replaces every connection opened before."""
    if engine.dialect.name != "postgresql":
        pytest.skip("pings and dropped connections: PostgreSQL's")
    factory = make_session_factory(engine)

    def drop_connections() -> None:
        with engine.connect() as con:
            mine = con.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        admin = make_engine(str(engine.url.set(database="postgres")))
        try:
            with admin.connect() as con:
                con.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid = :pid"
                    ),
                    {"name": engine.url.database, "pid": mine},
                )
        finally:
            admin.dispose()

    drop_connections()
    monkeypatch.setattr(core_db, "PING_AFTER_IDLE", 0.0)  # every checkout follows a pause
    with transaction(factory) as db:
        assert db.execute(REVISION).scalar_one() >= 0
    monkeypatch.setattr(core_db, "PING_AFTER_IDLE", 3600.0)  # no pause: no ping
    drop_connections()
    with pytest.raises(DBAPIError) as lost, transaction(factory) as db:
        db.execute(REVISION).scalar_one()
    assert lost.value.connection_invalidated
    with transaction(factory) as db:
        assert db.execute(REVISION).scalar_one() >= 0
