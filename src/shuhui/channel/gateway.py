"""The gateway: one call to a data product, decided and recorded.

Who may call what is decided in this order, and each refusal is metered and written to the
audit ledger before it is answered: the key, the rate limit and the monthly quota, the product
and the purpose against the key's grants and the zone membership, the parameters, the
subject's certificate-use authorisation for products about one person or enterprise. Only then
is the product computed; a noised product's answer is then released or replayed against the
consumer's privacy budget (:mod:`shuhui.channel.privacy`) when the call is recorded. What a
call comes to is an :class:`Outcome`: the answer, or a :class:`Refusal` with its problem
details, and the key's :class:`Limits`; the routes turn it into an HTTP response.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Final, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from shuhui.catalog import service as catalog_service
from shuhui.channel import privacy
from shuhui.channel.city import CityChannel
from shuhui.channel.common import ANSWERED, LOCAL, as_json, month_of
from shuhui.channel.engine import Answer, Engine, ProductUnavailable
from shuhui.channel.grants import (
    DEFAULT_MONTHLY_QUOTA,
    DEFAULT_RATE_PER_MINUTE,
    application_products,
    grant_active,
)
from shuhui.channel.keys import KeyCache, KeyFacts, digest, split_key
from shuhui.channel.models import ApiKey, Call, Grant
from shuhui.channel.payload import Malformed, shown_name
from shuhui.channel.payload import check as check_payload
from shuhui.channel.products import Product
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.errors import Problem, invalid
from shuhui.core.i18n import Text
from shuhui.trust.authorisations import service as authorisations
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.ledger import service as ledger

CALLS: Final = cast(Table, Call.__table__)  # metering rows go in as plain INSERTs


class Refusal(StrEnum):
    """Why a call was refused: a stable code, metered, charted and in the ledger."""

    KEY_MISSING = "key-missing"
    KEY_UNKNOWN = "key-unknown"
    KEY_REVOKED = "key-revoked"
    KEY_EXPIRED = "key-expired"
    RATE_LIMITED = "rate-limited"
    QUOTA_EXHAUSTED = "quota-exhausted"
    PRODUCT_UNKNOWN = "product-unknown"
    PRODUCT_NOT_GRANTED = "product-not-granted"
    PURPOSE_MISMATCH = "purpose-mismatch"
    GRANT_INACTIVE = "grant-inactive"
    NOT_A_MEMBER = "not-a-member"
    INVALID_PARAMS = "invalid-params"
    CONSENT_REFUSED = "consent-refused"
    DATASET_NOT_OPEN = "dataset-not-open"
    PRODUCT_UNAVAILABLE = "product-unavailable"
    PRIVACY_BUDGET_SPENT = "privacy-budget-spent"


# Refusals that count against the key's rate limit and quota: every call made with a valid key.
COUNTED: Final = frozenset(
    {
        Refusal.PRODUCT_UNKNOWN,
        Refusal.PRODUCT_NOT_GRANTED,
        Refusal.PURPOSE_MISMATCH,
        Refusal.GRANT_INACTIVE,
        Refusal.NOT_A_MEMBER,
        Refusal.INVALID_PARAMS,
        Refusal.CONSENT_REFUSED,
        Refusal.DATASET_NOT_OPEN,
        Refusal.PRODUCT_UNAVAILABLE,
    }
)
REASONS: Final[dict[str, str]] = {
    Refusal.KEY_MISSING: "未提供 API 密钥",
    Refusal.KEY_UNKNOWN: "API 密钥无效",
    Refusal.KEY_REVOKED: "API 密钥已撤销",
    Refusal.KEY_EXPIRED: "API 密钥已过期",
    Refusal.RATE_LIMITED: "调用频率超过限制",
    Refusal.QUOTA_EXHAUSTED: "本月调用配额已用完",
    Refusal.PRODUCT_UNKNOWN: "数据产品不存在",
    Refusal.PRODUCT_NOT_GRANTED: "该数据产品不在授权范围内",
    Refusal.PURPOSE_MISMATCH: "用途与批准的用途不符",
    Refusal.GRANT_INACTIVE: "数据使用授权已撤销或不在有效期内",
    Refusal.NOT_A_MEMBER: "未加入该产品所属专区",
    Refusal.INVALID_PARAMS: "参数校验失败",
    Refusal.CONSENT_REFUSED: "数据主体未授权或授权不适用",
    Refusal.DATASET_NOT_OPEN: "数据集不是无条件开放数据",
    Refusal.PRODUCT_UNAVAILABLE: "数据产品暂不可用",
    Refusal.PRIVACY_BUDGET_SPENT: "该数据产品在当前数据版本上的隐私预算已用完",
}


@dataclass(frozen=True)
class Limits:
    """The key's rate limit and monthly quota as a counted call left them."""

    rate_limit: int  # calls a minute
    rate_remaining: int
    reset_seconds: int  # until the minute's window closes
    quota_limit: int  # answered calls a month
    quota_remaining: int
    retry_after: int | None = None  # seconds until a call refused for a limit may succeed
    quota_used: int = 0  # calls answered this month: only answers spend the quota
    refused: int = 0  # calls refused this month (with a valid key), not counted in the quota


@dataclass
class Outcome:
    """What a call came to: the answer (``body``), or a refusal (``reason``, with its problem
    details as ``body``); ``limits`` once the call counted against the key's."""

    body: dict[str, Any]
    reason: Refusal | None = None
    problem: Problem | None = None
    limits: Limits | None = None
    budget: privacy.Budget | None = None  # a noised product's privacy budget after the call

    @property
    def status(self) -> int:
        """The status the call is metered with: the problem's for a refusal."""
        return ANSWERED if self.problem is None else self.problem.http_status


@dataclass
class _Call:
    product_code: str
    started: float
    now: datetime
    key: ApiKey | None = None
    grant: Grant | None = None
    product: Product | None = None
    purpose: str | None = None
    subject: str | None = None
    held: list[Grant] = field(default_factory=list)  # the key's grants
    limits: Limits | None = None
    limited: Refusal | None = None  # over the rate limit or the monthly quota
    spent: bool = False  # counted as an answer in the key's month (spends the quota)
    budget: privacy.Budget | None = None  # noised products: the consumer's ε after this call


@dataclass
class _Writes:
    """What a batch of calls writes besides the counters and the uses: ledger entries and
    metering rows, appended together once the batch is decided."""

    entries: list[ledger.Entry] = field(default_factory=list)
    # Each metering row with the index of its call's entry in ``entries``.
    meters: list[tuple[dict[str, Any], int | None]] = field(default_factory=list)
    releases: privacy.Batch = field(default_factory=privacy.Batch)  # noised answers, budgets

    def flush(self, db: Session) -> None:
        self.releases.flush(db)
        seqs = ledger.record_many(db, self.entries)
        rows = [
            {**row, "ledger_seq": None if entry is None else seqs[entry]}
            for row, entry in self.meters
        ]
        if rows:
            db.execute(insert(CALLS), rows)


def _actor(c: _Call) -> str:
    return f"consumer:{c.key.consumer.credit_code}" if c.key else "anonymous"


def _meter(
    writes: _Writes,
    c: _Call,
    status: int,
    reason: Refusal | None,
    answer_sha: str | None,
    entry: int | None,
) -> None:
    writes.meters.append(
        (
            {
                "at": c.now,
                "month": month_of(c.now),
                "consumer_id": c.key.consumer_id if c.key else None,
                "key_prefix": c.key.prefix if c.key else None,
                "grant_code": c.grant.code if c.grant else None,
                "product": c.product_code[:64],
                "zone": c.product.zone if c.product else None,
                "usage": c.grant.usage if c.grant else None,
                "status": status,
                "reason": None if reason is None else reason.value,
                "micros": int((time.perf_counter() - c.started) * 1e6),
                "answer_sha256": answer_sha,
            },
            entry,
        )
    )


def _refuse(
    writes: _Writes,
    c: _Call,
    reason: Refusal,
    problem: Problem,
    *,
    recorded: int | None = None,
) -> Outcome:
    """Meters the refusal, writes it to the ledger (unless the consent check did: ``recorded``
    is then its entry's index in ``writes``), answers."""
    entry = recorded
    if entry is None:
        entry = len(writes.entries)
        writes.entries.append(
            ledger.Entry(
                _actor(c),
                "channel.refused",
                subject=c.subject,
                purpose=c.purpose,
                grant=c.grant.code if c.grant else None,
                detail={
                    "product": c.product_code[:64],
                    "reason": reason.value,
                    "status": problem.http_status,
                    "key": c.key.prefix if c.key else None,
                },
            )
        )
    _meter(writes, c, problem.http_status, reason, None, entry)
    problem.extra.setdefault("reason", reason.value)
    problem.extra.setdefault("reason_zh", REASONS[reason])
    return Outcome(problem.body(), reason, problem, c.limits, c.budget)


def _find_key(
    db: Session, keys: KeyCache, api_key: str | None
) -> tuple[KeyFacts | None, Refusal | None]:
    if not api_key:
        return None, Refusal.KEY_MISSING
    parts = split_key(api_key.strip())
    if parts is None:
        return None, Refusal.KEY_UNKNOWN
    facts = keys.facts(db, parts[0])
    if facts is None or not secrets.compare_digest(facts.key.digest, digest(parts[1])):
        return None, Refusal.KEY_UNKNOWN
    return facts, None


# Standard SQL both databases take (SQLite 3.35+, PostgreSQL 9.5+); as text, it is compiled once.
# Three windows per key: every call this minute (the rate limit), the calls answered this month
# (the quota: a refusal never spends it) and the calls refused this month (shown beside it).
COUNT_CALLS = text(
    'INSERT INTO channel_counters (key_id, "window", count) VALUES (:key, :minute, :calls), '
    "(:key, :month, :answers), (:key, :refused, :refusals) "
    'ON CONFLICT (key_id, "window") DO UPDATE SET '
    'count = channel_counters.count + excluded.count RETURNING "window", count'
)
# Calls counted as answers that were refused after all (a limit, or the subject's last use
# of an authorisation taken meanwhile) move from the month's answers to its refusals.
UNSPEND = text(
    'UPDATE channel_counters SET count = count + CASE WHEN "window" = :refused THEN :n '
    'ELSE -:n END WHERE key_id = :key AND "window" IN (:month, :refused)'
)


# substr, not LIKE: SQLite's LIKE ignores case, and would take the month windows ("M:…") too.
OLD_MINUTES = text(
    "DELETE FROM channel_counters WHERE key_id = :key AND substr(\"window\", 1, 2) = 'm:' "
    'AND "window" < :before'
)


def month_windows(now: datetime) -> tuple[str, str]:
    """A key's counter windows of the (local) month: its answered calls, its refused calls."""
    local = now.astimezone(LOCAL)
    return f"M:{local:%Y%m}", f"R:{local:%Y%m}"


def _windows(c: _Call) -> tuple[int, str, str, str]:
    """The key and its counter windows for the call: minute, month's answers, month's refusals."""
    assert c.key is not None
    return c.key.id, f"m:{c.now.astimezone(LOCAL):%Y%m%d%H%M}", *month_windows(c.now)


def _count(db: Session, pending: Sequence[Pending]) -> None:
    """Adds calls to their keys' windows, one statement per key and minute, safe with any
    number of writers (the database adds, not this process), and decides which calls are over
    the rate limit or the monthly quota. Every call with a valid key counts in its minute;
    only a call that will be answered counts in the month's quota, every other one in the
    month's refusals. The k-th of n calls in a window gets the counts it would have got
    counted alone, after the k-1 before it."""
    windows: dict[tuple[int, str, str, str], list[Pending]] = {}
    for p in pending:
        windows.setdefault(_windows(p.call), []).append(p)
    for (key_id, minute, month, refused), counted in windows.items():
        n = len(counted)
        answers = sum(1 for p in counted if p.verdict.reason is None)
        rows = db.execute(
            COUNT_CALLS,
            {
                "key": key_id,
                "minute": minute,
                "month": month,
                "refused": refused,
                "calls": n,
                "answers": answers,
                "refusals": n - answers,
            },
        )
        totals = {str(window): int(total) for window, total in rows}
        before_minute = totals[minute] - n
        if before_minute == 0:
            # The key's first calls this minute clear its minute windows before the last hour,
            # so the table holds about an hour of them per key (the month windows stay).
            local = counted[0].call.now.astimezone(LOCAL)
            earlier = f"m:{local - timedelta(hours=1):%Y%m%d%H%M}"
            db.execute(OLD_MINUTES, {"key": key_id, "before": earlier})
        answered, refusals = totals[month] - answers, totals[refused] - (n - answers)
        for k, p in enumerate(counted, 1):
            c = p.call
            # Assigned afresh: a group that failed is recorded again call by call.
            c.limited = _over_limits(c, before_minute + k, answered)
            c.spent = p.verdict.reason is None and c.limited is None
            if c.spent:
                answered += 1
            else:
                refusals += 1
            assert c.limits is not None
            c.limits = replace(
                c.limits,
                quota_remaining=max(0, c.limits.quota_limit - answered),
                quota_used=answered,
                refused=refusals,
            )
        unspent = answers - sum(1 for p in counted if p.call.spent)
        if unspent:
            db.execute(UNSPEND, {"key": key_id, "month": month, "refused": refused, "n": unspent})


def _over_limits(c: _Call, minute: int, answered: int) -> Refusal | None:
    """Checks a call, the ``minute``-th of its key this minute, ``answered`` calls of the month
    answered before it, against the key's rate limit and monthly quota, and keeps what is left
    of them with the call. Once the quota is spent, every call is refused for it."""
    assert c.key is not None
    limit = max((g.rate_per_minute for g in c.held), default=DEFAULT_RATE_PER_MINUTE)
    quota = max((g.monthly_quota for g in c.held), default=DEFAULT_MONTHLY_QUOTA)
    local = c.now.astimezone(LOCAL)
    reset = 60 - local.second
    limits = Limits(limit, max(0, limit - minute), reset, quota, max(0, quota - answered))
    refusal: Refusal | None = None
    if minute > limit:
        limits, refusal = replace(limits, retry_after=reset), Refusal.RATE_LIMITED
    elif answered >= quota:
        first = (local.replace(day=1) + timedelta(days=32)).replace(
            day=1, hour=0, minute=0, second=0, microsecond=0
        )
        retry = int((first - local).total_seconds()) + 1
        limits, refusal = replace(limits, retry_after=retry), Refusal.QUOTA_EXHAUSTED
    c.limits = limits
    return refusal


def answer_digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(as_json(body).encode()).hexdigest()


@dataclass
class _Verdict:
    """What the read phase decided; the write phase records it."""

    reason: Refusal | None = None  # a refusal's reason, None for an answer
    problem: Problem | None = None
    decision: authorisations.Decision | None = None  # the consent check, if one was made
    relying: authorisations.Party | None = None
    body: dict[str, Any] | None = None
    counted: bool = False  # the call counts against the key's limits
    used: authorisations.Decision | None = None  # the consent as recorded (write phase)
    private: privacy.Query | None = None  # a noised product's query, released or replayed
    answer: Answer | None = None  # with ``private``: the answer the body was built from


@dataclass
class Pending:
    """A call decided and computed, not yet recorded (see :func:`record_call`)."""

    call: _Call
    verdict: _Verdict


def decide_call(
    db: Session,
    city: CityChannel,
    engine: Engine,
    *,
    api_key: str | None,
    product_code: str,
    payload: Any,
    keys: KeyCache | None = None,
    now: datetime | None = None,
) -> Pending:
    """The read phase of a call: who is calling, whether they may, and the answer. Writes
    nothing, so it holds no write lock however long a product takes to prepare. ``keys`` is
    the process's :class:`KeyCache` (without one, the key is looked up afresh)."""
    # The path's product code goes into the metering and the ledger: as text they can hold.
    c = _Call(shown_name(product_code), time.perf_counter(), as_utc(now or utcnow()))
    verdict = _read_phase(db, city, engine, keys or KeyCache(), c, api_key, payload)
    return Pending(c, verdict)


def call(
    db: Session,
    city: CityChannel,
    engine: Engine,
    *,
    api_key: str | None,
    product_code: str,
    payload: Any,
    now: datetime | None = None,
) -> Outcome:
    """One call through the gateway, decided and recorded in one session. The caller commits
    whatever the outcome: a refusal is metered and in the ledger just like an answer."""
    pending = decide_call(
        db, city, engine, api_key=api_key, product_code=product_code, payload=payload, now=now
    )
    return record_call(db, pending)


def record_call(db: Session, pending: Pending) -> Outcome:
    """The write phase of one call (see :func:`record_calls`)."""
    return record_calls(db, [pending])[0]


def record_calls(db: Session, pending: Sequence[Pending]) -> list[Outcome]:
    """The write phase of calls, in order, in the caller's transaction: the rate and quota
    counters, the uses of the subjects' authorisations, the ledger entries and the metering.
    Several calls recorded together cost a few statements more than one (one per counter
    window and per use; one ledger append and one metering insert for all), so a server under
    load commits its calls in groups (:class:`shuhui.channel.writes.GroupWriter`). A call
    over its key's limits is refused here, whatever else was decided."""
    _count(db, [p for p in pending if p.verdict.counted])
    noised = [
        (p.call.key.consumer_id, p.verdict.private)
        for p in pending
        if p.verdict.private is not None and p.call.key is not None
    ]
    writes = _Writes(releases=privacy.Batch.read(db, noised))
    outcomes = [_record(db, p, writes) for p in pending]
    _unspend(db, pending, outcomes)
    writes.flush(db)
    return outcomes


def _unspend(db: Session, pending: Sequence[Pending], outcomes: list[Outcome]) -> None:
    """Gives back the quota of calls counted as answers that were refused in the end (the
    subject's last use of an authorisation went to another call meanwhile)."""
    for p, outcome in zip(pending, outcomes, strict=True):
        if p.call.spent and outcome.problem is not None:
            key_id, _minute, month, refused = _windows(p.call)
            db.execute(UNSPEND, {"key": key_id, "month": month, "refused": refused, "n": 1})
            if outcome.limits is not None:
                limits = outcome.limits
                outcome.limits = replace(
                    limits,
                    quota_used=limits.quota_used - 1,
                    quota_remaining=limits.quota_remaining + 1,
                    refused=limits.refused + 1,
                )


def _record(db: Session, pending: Pending, writes: _Writes) -> Outcome:
    c, verdict = pending.call, pending.verdict
    if c.limited is not None:
        limited = c.limited
        return _refuse(writes, c, limited, Problem("rate-limited", detail=REASONS[limited]))
    decision = verdict.decision
    if verdict.reason is not None:
        assert verdict.problem is not None
        if verdict.reason == Refusal.CONSENT_REFUSED:
            entry = _record_consent(db, c, verdict, None, writes)
            return _refuse(writes, c, verdict.reason, verdict.problem, recorded=entry)
        return _refuse(writes, c, verdict.reason, verdict.problem)
    body = verdict.body
    assert body is not None and c.grant is not None
    if verdict.private is not None:
        refused = _spend(db, c, verdict, body, writes)
        if refused is not None:
            return refused
    digest = answer_digest(body["result"])
    if decision is not None:
        entry = _record_consent(db, c, verdict, digest, writes)
        used = verdict.used
        assert used is not None
        if not used.allowed:  # the last use went to someone else in the meantime
            exhausted = Problem(
                "authorisation-refused",
                detail=REASONS[Refusal.CONSENT_REFUSED],
                extra={"authorisation": used.as_dict()},
            )
            return _refuse(writes, c, Refusal.CONSENT_REFUSED, exhausted, recorded=entry)
        body["authorisation"] = decision.chain[-1]
    else:
        entry = len(writes.entries)
        writes.entries.append(
            ledger.Entry(
                _actor(c),
                "channel.answered",
                purpose=c.purpose,
                grant=c.grant.code,
                detail=_call_detail(c, digest),
            )
        )
    body["answer_sha256"] = digest
    _meter(writes, c, ANSWERED, None, digest, entry)
    return Outcome(body, limits=c.limits, budget=c.budget)


def _spend(
    db: Session, c: _Call, verdict: _Verdict, body: dict[str, Any], writes: _Writes
) -> Outcome | None:
    """A noised product's answer: the release the consumer already has, or a new one paid
    from their budget (``body`` is answered with it), or the refusal once the budget is
    spent — which spends nothing."""
    assert verdict.private is not None and verdict.answer is not None
    assert c.key is not None and c.product is not None and c.grant is not None
    settled = writes.releases.settle(db, c.key.consumer_id, verdict.private, c.now)
    c.budget = settled.budget
    if settled.answer is None:
        left = settled.budget
        month = left.month_total - left.month_spent < left.total - left.spent
        detail = (
            "本月该数据产品的隐私预算已用完" if month else REASONS[Refusal.PRIVACY_BUDGET_SPENT]
        )
        spent = Problem(
            "privacy-budget-spent",
            detail=f"{detail}（{c.product.code}）",
            extra={
                "privacy_budget": {
                    "scope": "month" if month else "version",
                    "total": privacy.shown(left.month_total if month else left.total),
                    "remaining": privacy.shown(left.remaining),
                    "versions": verdict.private.versions,
                }
            },
        )
        return _refuse(writes, c, Refusal.PRIVACY_BUDGET_SPENT, spent)
    if settled.answer is not verdict.private.proposed:
        released = replace(
            verdict.answer,
            rows=settled.answer["rows"],
            suppressed_groups=settled.answer["suppressed_groups"],
            suppressed_cells=settled.answer["suppressed_cells"],
        )
        fields = json.loads(c.grant.fields).get(c.product.code)
        body["result"] = _answer_body(c.product, c, released, fields)["result"]
    # Beside the result, not in it: the result (and its SHA-256) is the same on every replay.
    body["privacy_budget"] = {
        "epsilon_spent": privacy.shown(settled.budget.charged),
        "replayed": settled.replayed,
        "remaining": privacy.shown(settled.budget.remaining),
        "total": privacy.shown(settled.budget.total),
        "versions": verdict.private.versions,
        "month_total": privacy.shown(settled.budget.month_total),
        "month_spent": privacy.shown(settled.budget.month_spent),
    }
    return None


def _record_consent(
    db: Session, c: _Call, verdict: _Verdict, digest: str | None, writes: _Writes
) -> int:
    """The subject's authorisation used (or its refusal), in the ledger where they see it;
    returns the index of that entry in ``writes``."""
    assert verdict.decision is not None and verdict.relying is not None and c.subject
    entry = len(writes.entries)
    used = authorisations.record_use(
        db,
        verdict.decision,
        kind="cert_use",
        actor=_actor(c),
        grantee=verdict.relying,
        principal_id=c.subject,
        detail=_call_detail(c, digest),
        purpose=c.purpose,
        now=c.now,
        entries=writes.entries,
    )
    verdict.used = used
    return entry


def _read_phase(
    db: Session,
    city: CityChannel,
    engine: Engine,
    keys: KeyCache,
    c: _Call,
    api_key: str | None,
    payload: Any,
) -> _Verdict:
    """Decides the call and computes its answer without writing anything."""

    def refuse(reason: Refusal, problem: Problem) -> _Verdict:
        return _Verdict(reason, problem, counted=c.key is not None and reason in COUNTED)

    def unauthenticated(reason: Refusal) -> _Verdict:
        return refuse(reason, Problem("unauthenticated", detail=REASONS[reason]))

    def forbidden(reason: Refusal, product: str) -> _Verdict:
        return refuse(reason, Problem("forbidden", detail=f"{REASONS[reason]}（{product}）"))

    facts, failure = _find_key(db, keys, api_key)
    if facts is None:
        assert failure is not None
        return unauthenticated(failure)
    key = c.key = facts.key
    if key.revoked_at is not None:
        return unauthenticated(Refusal.KEY_REVOKED)
    if c.now >= key.expires_at:
        return unauthenticated(Refusal.KEY_EXPIRED)
    c.held = facts.grants
    product = city.products.get(c.product_code)
    today = local_today(c.now)
    if product is None or not product.item.in_force(today):
        unknown_product = Problem("not-found", detail=REASONS[Refusal.PRODUCT_UNKNOWN])
        return refuse(Refusal.PRODUCT_UNKNOWN, unknown_product)
    c.product = product
    if isinstance(payload, Malformed):
        return refuse(Refusal.INVALID_PARAMS, payload.problem)
    unusable = check_payload(payload)
    if unusable is not None:
        return refuse(Refusal.INVALID_PARAMS, unusable)
    if not isinstance(payload, dict):
        return refuse(
            Refusal.INVALID_PARAMS,
            invalid(
                "body",
                Text("应为 JSON 对象：{purpose, params}", "a JSON object: {purpose, params}"),
            ),
        )
    purpose = payload.get("purpose")
    if not isinstance(purpose, str) or not purpose.strip():
        no_purpose = invalid(
            "purpose", Text("必须填写：本次调用的用途", "required: the purpose of this call")
        )
        return refuse(Refusal.INVALID_PARAMS, no_purpose)
    c.purpose = " ".join(purpose.split())[:256]
    covering = [g for g in c.held if product.code in application_products(g)]
    if not covering:
        return forbidden(Refusal.PRODUCT_NOT_GRANTED, product.code)
    matching = [g for g in covering if g.purpose == c.purpose]
    if not matching:
        c.grant = covering[0]
        return forbidden(Refusal.PURPOSE_MISMATCH, product.code)
    live = [g for g in matching if grant_active(g, c.now)]
    c.grant = (live or matching)[0]
    if not live:
        return forbidden(Refusal.GRANT_INACTIVE, product.code)
    if product.zone not in facts.zones:
        return forbidden(Refusal.NOT_A_MEMBER, product.code)
    raw = payload.get("params", {})
    if not isinstance(raw, dict):
        return refuse(
            Refusal.INVALID_PARAMS, invalid("params", Text("应为 JSON 对象", "a JSON object"))
        )
    unknown = sorted(set(raw) - {p.name for p in product.params})
    if unknown:
        where = f"params.{unknown[0]}"
        return refuse(
            Refusal.INVALID_PARAMS,
            invalid(where, Text("这个产品没有这个参数", "not a parameter of this product")),
        )
    try:
        params = {p.name: p.parse(raw.get(p.name), today) for p in product.params}
    except Problem as problem:
        return refuse(Refusal.INVALID_PARAMS, problem)
    consumer = key.consumer
    relying = authorisations.Party("enterprise", consumer.credit_code, consumer.name)
    decision: authorisations.Decision | None = None
    if product.kind == "subject":
        assert product.subject_param is not None and product.consent is not None
        c.subject = params[product.subject_param]
        decision = authorisations.decide_cert_use(
            db,
            relying_party=relying,
            holder_id=c.subject,
            certificate_type=product.consent,
            purpose=c.purpose,
            now=c.now,
        )
        if not decision.allowed:
            why = decision.reason[1] if decision.reason else ""
            refused = Problem(
                "authorisation-refused",
                detail=f"{REASONS[Refusal.CONSENT_REFUSED]}：{why}",
                extra={"authorisation": decision.as_dict()},
            )
            return _Verdict(Refusal.CONSENT_REFUSED, refused, decision, relying, counted=True)
    # A noised product's noise is drawn below, only for a query not answered before.
    private = product.kind == "aggregate" and product.privacy.epsilon is not None
    try:
        answer = _compute(db, engine, product, params, today, noised=not private)
    except _NotOpen:
        return forbidden(Refusal.DATASET_NOT_OPEN, product.code)
    except ProductUnavailable as exc:
        return refuse(Refusal.PRODUCT_UNAVAILABLE, Problem("not-ready", detail=str(exc)))
    query: privacy.Query | None = None
    if private:
        query, answer = privacy.release(db, product, params, answer, c.grant, c.now)
    body = _answer_body(product, c, answer, json.loads(c.grant.fields).get(product.code))
    verdict = _Verdict(None, None, decision, relying, body, counted=True)
    if query is not None:
        verdict.private, verdict.answer = query, answer
    return verdict


class _NotOpen(Exception):
    pass


def _call_detail(c: _Call, digest: str | None) -> dict[str, JsonValue]:
    assert c.key is not None
    return {
        "product": c.product_code,
        "product_name": c.product.name_zh if c.product else None,
        "consumer": c.key.consumer.credit_code,
        "consumer_name": c.key.consumer.name,
        "channel_grant": c.grant.code if c.grant else None,
        "usage": c.grant.usage if c.grant else None,
        "key": c.key.prefix,
        "answer_sha256": digest,
        **(
            {}
            if c.budget is None
            else {
                "epsilon_spent": privacy.shown(c.budget.charged),
                "epsilon_remaining": privacy.shown(c.budget.remaining),
            }
        ),
    }


def _compute(
    db: Session,
    engine: Engine,
    product: Product,
    params: dict[str, Any],
    today: date,
    *,
    noised: bool = True,
) -> Answer:
    if product.kind != "open":
        return engine.answer(product, params, today, noised=noised)
    assert product.dataset is not None
    if catalog_service.open_level_of_table(db, product.dataset) != "open":
        raise _NotOpen
    limit, offset = params.pop("limit", 100), params.pop("offset", 0)
    return engine.open_rows(db, product, params, limit, offset)


def _answer_body(
    product: Product, c: _Call, answer: Answer, fields: list[str] | None
) -> dict[str, Any]:
    """The answer, reduced to the output fields the grant allows."""
    allowed = set(fields or answer.columns)
    columns = [col for col in answer.columns if col in allowed]
    rows = [{col: row[col] for col in columns} for row in answer.rows]
    result: dict[str, Any]
    if product.kind == "subject":
        result = rows[0]
    else:
        result = {"rows": rows, "count": len(rows)}
        if product.kind == "aggregate":
            result["privacy"] = {
                "k_min": product.privacy.k_min,
                "suppressed_groups": answer.suppressed_groups,
                "suppressed_cells": answer.suppressed_cells,
                "noise": None
                if answer.noise_scale is None
                else {
                    "mechanism": "discrete_laplace",
                    "library": "opendp",
                    "scale": answer.noise_scale,
                    "epsilon_per_query": product.privacy.epsilon,
                },
            }
    assert c.grant is not None
    return {
        "product": product.code,
        "purpose": c.purpose,
        "grant": c.grant.code,
        "answered_at": c.now.astimezone(UTC).isoformat(timespec="milliseconds"),
        "result": result,
    }
