"""The gateway: one call to a data product, decided and recorded.

Who may call what is decided in this order, and each refusal is metered and written to the
audit ledger before it is answered: the key, the rate limit and the monthly quota, the product
(content, or hosted: looked up at the channel revision the key cache read, and refused once its
provider withdrew it) and the purpose against the key's grants and the zone membership, the
parameters, the subject's certificate-use authorisation for products about one person or
enterprise. Only then is the product computed; a noised product's answer is then released or
replayed against the consumer's privacy budget (:mod:`shuhui.channel.privacy`) when the call
is recorded. What a call comes to is an :class:`~shuhui.channel.calls.Outcome`: the answer, or
a :class:`~shuhui.channel.calls.Refusal` with its problem details, and the key's
:class:`~shuhui.channel.calls.Limits` (counted by :mod:`shuhui.channel.limits`); the routes
turn it into an HTTP response.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Final, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from shuhui.catalog import service as catalog_service
from shuhui.channel import limits, privacy
from shuhui.channel.calls import (
    COUNTED,
    PURPOSE_PATTERN,
    REASONS,
    CallState,
    Outcome,
    Pending,
    Refusal,
    Verdict,
)
from shuhui.channel.city import CityChannel
from shuhui.channel.common import ANSWERED, as_json, month_of
from shuhui.channel.engine import Answer, Engine, ProductUnavailable
from shuhui.channel.grants import application_products, grant_active
from shuhui.channel.keys import KeyCache, KeyFacts, digest, split_key
from shuhui.channel.models import Call
from shuhui.channel.payload import Malformed, shown_name
from shuhui.channel.payload import check as check_payload
from shuhui.channel.products import Product
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.db import execute_or_defer, pipelined
from shuhui.core.errors import Problem, invalid
from shuhui.core.i18n import Text
from shuhui.trust.authorisations import service as authorisations
from shuhui.trust.authorisations import uses
from shuhui.trust.crypto.canonical import JsonValue
from shuhui.trust.ledger import service as ledger

CALLS: Final = cast(Table, Call.__table__)  # metering rows go in as plain INSERTs
# Inline: a single row would otherwise ask for its id back (RETURNING), which nothing reads and
# which a write deferred to the commit's round trip cannot give (shuhui.core.db.transaction).
INSERT_CALLS: Final = insert(CALLS).inline()


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
        # Last: the ledger's head, the row every writer of the platform wants, is held from
        # here to the commit, which the inserts go with (a transaction that defers them).
        seqs = ledger.record_many(db, self.entries)
        rows = [
            {**row, "ledger_seq": None if entry is None else seqs[entry]}
            for row, entry in self.meters
        ]
        if rows:
            execute_or_defer(db, INSERT_CALLS, rows)


def _actor(c: CallState) -> str:
    return f"consumer:{c.key.consumer.credit_code}" if c.key else "anonymous"


def _subject(c: CallState) -> str | None:
    """Whom a call's entry is about: the person or enterprise a subject product answered
    about, or for a hosted product its provider (whose data it was: it finds every use of
    its data in the ledger, as a person finds theirs)."""
    if c.subject is not None:
        return c.subject
    if c.product is not None and c.product.kind == "hosted":
        return c.product.provider_code
    return None


def _meter(
    writes: _Writes,
    c: CallState,
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
    c: CallState,
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
                subject=_subject(c),
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


def answer_digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(as_json(body).encode()).hexdigest()


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
    c = CallState(shown_name(product_code), time.perf_counter(), as_utc(now or utcnow()))
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
    """The write phase of calls, in order, in the caller's transaction: the uses of the
    subjects' authorisations, the rate and quota counters, the ledger entries and the
    metering. A call over its key's limits is refused here, whatever else was decided.

    Several calls recorded together cost a few statements more than one, so a server under
    load commits its calls in groups (:class:`shuhui.channel.writes.GroupWriter`), in three
    round trips whatever their number: each call's use (a chain of one link) and the key's
    counters, both answered at once; the audit ledger's head, bumped once everything else is
    decided and written; the inserts with the COMMIT, in a transaction that defers its writes
    (:func:`shuhui.core.db.transaction`). The rows writers contend for are locked late: the
    key's counters after the uses, the ledger's head (which every writer of the platform
    wants) last, held only while the entries are hashed and sent with the commit. The outcome
    is that of the calls recorded one after another: a use counted ahead for a call its key's
    limits refuse is given back, and a later call refused for the want of that use counts it
    again."""
    counting = limits.Counting([p for p in pending if p.verdict.counted])
    noised = [
        (p.call.key.consumer_id, p.verdict.private)
        for p in pending
        if p.verdict.private is not None and p.call.key is not None
    ]
    ahead = _uses_ahead(pending)
    batch: list[tuple[Executable, dict[str, Any]]] = [
        (uses.COUNT_ONE_USE, {"link": code}) for _, code in ahead
    ]
    batch.extend(counting.statements())
    results = pipelined(db, batch)
    counting.settle(db, results[len(ahead) :])
    counted = _settle_uses(db, pending, ahead, results[: len(ahead)])
    writes = _Writes(releases=privacy.Batch.read(db, noised))
    outcomes = [_record(db, p, writes, counted.get(i)) for i, p in enumerate(pending)]
    limits.unspend(db, pending, outcomes)
    writes.flush(db)
    return outcomes


def _uses_ahead(pending: Sequence[Pending]) -> list[tuple[int, str]]:
    """The calls whose use is counted ahead, with their link: every call that will be answered
    under a decision (unless over its key's limits), when each decision is a chain of one link
    (a chain of several is counted with its call, as it always was). Ordered by link, each
    link's calls in their order: two writers whose groups share links then lock them in the
    same order."""
    ahead = []
    for i, p in enumerate(pending):
        decision = p.verdict.decision
        if p.verdict.reason is None and decision is not None and decision.allowed:
            codes = set(decision.chain)
            if len(codes) != 1:
                return []
            ahead.append((i, codes.pop()))
    return sorted(ahead, key=lambda call: call[1])


def _settle_uses(
    db: Session,
    pending: Sequence[Pending],
    ahead: Sequence[tuple[int, str]],
    results: Sequence[Sequence[tuple[Any, ...]]],
) -> dict[int, uses.Counted | None]:
    """What each use counted ahead comes to, by the call's index: the count, or None where the
    call is to count its use again (an earlier call's use, counted ahead, went back as its key's
    limits refused that call, and this one found no use left without it)."""
    rows = {i: (code, found) for (i, code), found in zip(ahead, results, strict=True)}
    settled: dict[int, uses.Counted | None] = {}
    back: dict[str, int] = {}  # uses to give back, by link
    given: set[str] = set()  # links with uses given back before the calls after them count
    for i in range(len(pending)):
        if i not in rows:
            continue
        code, found = rows[i]
        counted = {str(c): (int(n), None if most is None else int(most)) for c, n, most in found}
        if pending[i].call.limited is not None:
            if counted:
                back[code] = back.get(code, 0) + 1
            continue
        if not counted and (back.get(code) or code in given):
            if back.get(code):
                db.execute(uses.GIVE_BACK, {"link": code, "n": back.pop(code)})
                given.add(code)
            settled[i] = None
        else:
            settled[i] = counted
    for code, n in back.items():
        execute_or_defer(db, uses.GIVE_BACK, {"link": code, "n": n})
    return settled


def _record(
    db: Session, pending: Pending, writes: _Writes, counted: uses.Counted | None = None
) -> Outcome:
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
        entry = _record_consent(db, c, verdict, digest, writes, counted)
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
                subject=_subject(c),
                purpose=c.purpose,
                grant=c.grant.code,
                detail=_call_detail(c, digest),
            )
        )
    body["answer_sha256"] = digest
    _meter(writes, c, ANSWERED, None, digest, entry)
    return Outcome(body, limits=c.limits, budget=c.budget)


def _spend(
    db: Session, c: CallState, verdict: Verdict, body: dict[str, Any], writes: _Writes
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
    db: Session,
    c: CallState,
    verdict: Verdict,
    digest: str | None,
    writes: _Writes,
    counted: uses.Counted | None = None,
) -> int:
    """The subject's authorisation used (or its refusal), in the ledger where they see it;
    returns the index of that entry in ``writes``. ``counted``: the use counted ahead."""
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
        counted=counted,
    )
    verdict.used = used
    return entry


def _read_phase(
    db: Session,
    city: CityChannel,
    engine: Engine,
    keys: KeyCache,
    c: CallState,
    api_key: str | None,
    payload: Any,
) -> Verdict:
    """Decides the call and computes its answer without writing anything."""

    def refuse(reason: Refusal, problem: Problem) -> Verdict:
        return Verdict(reason, problem, counted=c.key is not None and reason in COUNTED)

    def unauthenticated(reason: Refusal) -> Verdict:
        return refuse(reason, Problem("unauthenticated", detail=REASONS[reason]))

    def forbidden(reason: Refusal, product: str) -> Verdict:
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
    # Content or hosted, at the revision the key cache read: nothing more is read for it.
    product = city.product_at(db, facts.revision, c.product_code)
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
    if not isinstance(purpose, str) or not re.search(PURPOSE_PATTERN, purpose):
        no_purpose = invalid(
            "purpose", Text("必须填写：本次调用的用途", "required: the purpose of this call")
        )
        return refuse(Refusal.INVALID_PARAMS, no_purpose)
    c.purpose = " ".join(purpose.split())[:256]
    covering = [g for g in c.held if product.code in application_products(g)]
    if not covering:
        return forbidden(Refusal.PRODUCT_NOT_GRANTED, product.code)
    matching = [g for g in covering if g.purpose == c.purpose]
    if product.withdrawn_at is not None:
        # Whatever the grant says: its provider took the data back.
        c.grant = (matching or covering)[0]
        return forbidden(Refusal.PRODUCT_WITHDRAWN, product.code)
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
            return Verdict(Refusal.CONSENT_REFUSED, refused, decision, relying, counted=True)
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
    verdict = Verdict(None, None, decision, relying, body, counted=True)
    if query is not None:
        verdict.private, verdict.answer = query, answer
    return verdict


class _NotOpen(Exception):
    pass


def _call_detail(c: CallState, digest: str | None) -> dict[str, JsonValue]:
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
    product: Product, c: CallState, answer: Answer, fields: list[str] | None
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
