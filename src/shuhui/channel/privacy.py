"""The privacy budget of the channel's noised (aggregate) products: the noise, what it costs,
the released answers and the ε each consumer has spent.

- **Mechanism.** The counts of one answer get discrete Laplace noise from OpenDP
  (``make_laplace`` over a vector of integers with the L1 distance). One person counts in at
  most one row of an aggregate (its groups are disjoint) and adds at most 1 to each of its
  ``privacy.counts``, so the answer's L1 sensitivity is the number of counts. The scale is the
  one OpenDP's ``binary_search_param`` finds for the product's per-query ε at that
  sensitivity, and what a release costs is what the measurement's privacy map says
  (``map(sensitivity)``), not a figure computed here.
- **Release once, replay.** OpenDP samples from the operating system's CSPRNG and cannot be
  seeded, so an answer is released once and kept (``channel_privacy_releases``) under the
  SHA-256 of the product, the normalised query (its parsed parameters), the versions of the
  product's tables and, for a product that reads ``today``, the day. The same query on the
  same versions gets the same answer: averaging many calls gives that answer back, not the
  true count. A consumer pays for a release once; a repeat costs nothing. A consumer asking a
  question another consumer already asked gets the same answer (nothing new is disclosed)
  and pays for it too, so each consumer's budget bounds what that consumer has seen.
- **Budget per consumer, product and table version** (``channel_privacy_budgets``). Each new
  query spends its ε; once the next query would pass the grant's budget, the call is refused
  (``privacy-budget-spent``, 403) and spends nothing. A new version of the tables starts a new
  budget; the same spends also count against the calendar month, which allows at most
  ``privacy.versions_a_month`` versions' budgets, so republishing cannot buy budget without
  end. Accounting is in millionths of ε, integers that add exactly, each query's ε rounded
  up.
- **Reads and writes.** The read phase computes the true answer and looks its release up
  (:func:`release`, one indexed read): a kept release is proposed as it is; otherwise the
  answer is noised there, outside the write lock (OpenDP's exact sampler takes milliseconds).
  The write phase (under the gateway's write lock, in its group transaction) looks the
  releases not yet known and the budgets up (two indexed reads for the whole group), answers
  with a kept release, or
  spends ε with a conditional upsert on the version's and on the month's row (each adds only
  while the sum stays within its total, so two writers cannot overspend) and keeps the new
  release with the group's other inserts.

See ``docs/privacy-budget.md`` for the guarantee and its limits.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final, cast

import opendp.prelude as dp
from sqlalchemy import Table, insert, select, text, tuple_
from sqlalchemy.orm import Session

from shuhui.channel.common import as_json
from shuhui.channel.models import Grant, PrivacyBudget, PrivacyRelease
from shuhui.channel.products import Privacy, Product
from shuhui.core.clock import local_today

if TYPE_CHECKING:  # the engine noises its answers with this module
    from shuhui.channel.engine import Answer

MICRO: Final = 1_000_000
RELEASES: Final = cast(Table, PrivacyRelease.__table__)

dp.enable_features("contrib")  # OpenDP's vetted-but-not-yet-proven mechanisms, Laplace among them

# Standard SQL both databases take (SQLite 3.35+, PostgreSQL 9.5+). The WHERE makes the spend
# conditional: a row already at its total is not updated and nothing comes back.
SPEND = text(
    "INSERT INTO channel_privacy_budgets (consumer_id, product, scope, total_micro, "
    "spent_micro, queries, updated_at) VALUES (:consumer, :product, :scope, :total, :spend, "
    "1, :now) ON CONFLICT (consumer_id, product, scope) DO UPDATE SET "
    "spent_micro = channel_privacy_budgets.spent_micro + excluded.spent_micro, "
    "total_micro = excluded.total_micro, queries = channel_privacy_budgets.queries + 1, "
    "updated_at = excluded.updated_at "
    "WHERE channel_privacy_budgets.spent_micro + excluded.spent_micro <= excluded.total_micro "
    "RETURNING spent_micro"
)


def micro(epsilon: float) -> int:
    """ε in millionths, rounded up: a budget is never under-counted. The float's last-bit dust
    (0.5 may come back as 0.5000000000000001) is not rounded up: at most 10⁻⁹ of an ε."""
    return max(1, math.ceil(epsilon * MICRO - 1e-3))


def shown(micros: int) -> str:
    """ε for a header or a page: 0.5, 4.5, 5."""
    return f"{micros / MICRO:.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Mechanism:
    scale: float
    epsilon: float  # what OpenDP's privacy map says one release costs
    sensitivity: int  # the L1 distance one person makes to an answer's counts
    measurement: Any  # an OpenDP Measurement: list[int] -> list[int]


@functools.lru_cache(maxsize=64)
def mechanism(epsilon: float, sensitivity: int) -> Mechanism:
    """The discrete Laplace mechanism that spends ``epsilon`` on counts of that sensitivity."""
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    scale = dp.binary_search_param(
        lambda s: dp.m.make_laplace(*space, scale=s), d_in=sensitivity, d_out=epsilon
    )
    measurement: Any = dp.m.make_laplace(*space, scale=scale)  # its map() has no annotations
    spent = float(measurement.map(sensitivity))
    return Mechanism(float(scale), spent, sensitivity, measurement)


def mechanism_of(privacy: Privacy) -> Mechanism | None:
    if privacy.epsilon is None:
        return None
    return mechanism(privacy.epsilon, max(1, len(privacy.counts)))


def add_noise(rows: list[dict[str, Any]], privacy: Privacy) -> Mechanism | None:
    """Adds the product's noise to every count shown in ``rows`` (in place), in one draw from
    the mechanism, rounded at 0 from below (post-processing costs no ε)."""
    used = mechanism_of(privacy)
    if used is None:
        return None
    cells = [(row, name) for row in rows for name in privacy.counts if row[name] is not None]
    if cells:
        noisy = used.measurement([int(row[name]) for row, name in cells])
        for (row, name), value in zip(cells, noisy, strict=True):
            row[name] = max(0, int(value))
    return used


def total_of(grant: Grant, privacy: Privacy) -> float:
    """The ε a consumer may spend per version: the grant's, or the product's default."""
    return privacy.budget if grant.privacy_budget is None else grant.privacy_budget


def month_scope(now: datetime) -> str:
    """The account of a calendar month (Asia/Shanghai) across table versions."""
    return f"month:{local_today(now):%Y-%m}"


@dataclass(frozen=True)
class Query:
    """A noised product's call, decided: what the write phase needs to replay or release."""

    release: str  # SHA-256 of product, normalised query, table versions (and day)
    product: str
    versions: str  # the scope of the version's budget: "residents@3,insured@2,…"
    month: str  # the scope of the month's: "month:2026-12"
    spend: int  # ε in millionths a new release costs
    total: int  # the grant's budget per version, in millionths
    month_total: int  # what the month allows across versions, in millionths
    proposed: dict[str, Any]  # the answer to release if this query is new
    known: bool = False  # ``proposed`` is this consumer's own release: a replay for sure


def versions_of(product: Product, versions: Sequence[int]) -> str:
    return ",".join(f"{t}@{v}" for t, v in zip(product.tables, versions, strict=True))


def release(
    db: Session,
    product: Product,
    params: dict[str, Any],
    answer: Answer,
    grant: Grant,
    now: datetime,
) -> tuple[Query, Answer]:
    """A noised product's query, and the answer to build its body from: this consumer's
    release of the query if it has one, else another consumer's (the same answer for all),
    else ``answer`` (true counts, suppressed) noised now. One indexed read; the noise, slow in
    OpenDP's exact sampler, is drawn only for a query nobody has been answered yet. The write
    phase (:meth:`Batch.settle`) decides for good."""
    used = mechanism_of(product.privacy)
    assert used is not None
    q = query(product, params, answer.versions, answer.day, grant, now)
    found = {
        consumer: kept
        for consumer, kept in db.execute(
            select(PrivacyRelease.consumer_id, PrivacyRelease.answer).where(
                PrivacyRelease.release_key == q.release
            )
        )
    }
    consumer = grant.consumer_id
    if found:
        kept = json.loads(found.get(consumer) or next(iter(found.values())))
        answer = replace(
            answer,
            rows=kept["rows"],
            suppressed_groups=kept["suppressed_groups"],
            suppressed_cells=kept["suppressed_cells"],
        )
    else:
        answer = replace(answer, rows=[dict(row) for row in answer.rows])
        add_noise(answer.rows, product.privacy)
    proposed = {
        "rows": answer.rows,
        "suppressed_groups": answer.suppressed_groups,
        "suppressed_cells": answer.suppressed_cells,
    }
    return replace(q, proposed=proposed, known=consumer in found), answer


def query(
    product: Product,
    params: dict[str, Any],
    versions: Sequence[int],
    day: date | None,
    grant: Grant,
    now: datetime,
) -> Query:
    """The query's release key and what it costs, on the grant's budget."""
    assert product.privacy.epsilon is not None
    used = mechanism_of(product.privacy)
    assert used is not None
    tables = versions_of(product, versions)
    normal = json.loads(json.dumps(params, default=str))  # dates as ISO text, as the SQL gets
    key = as_json(
        {
            "product": product.code,
            "versions": tables,
            "day": None if day is None else day.isoformat(),
            "params": normal,
        }
    )
    total = micro(total_of(grant, product.privacy))
    return Query(
        hashlib.sha256(key.encode()).hexdigest(),
        product.code,
        tables,
        month_scope(now),
        micro(used.epsilon),
        total,
        total * product.privacy.versions_a_month,
        {},
    )


@dataclass(frozen=True)
class Budget:
    """A consumer's budget on one product and table version, after a call, and the month's
    across versions."""

    total: int  # millionths of ε
    spent: int
    charged: int  # what this call spent (0: a replayed answer or a refusal)
    month_total: int
    month_spent: int

    @property
    def remaining(self) -> int:
        """What the consumer can still spend now: the version's and the month's, whichever is
        less."""
        return max(0, min(self.total - self.spent, self.month_total - self.month_spent))


@dataclass
class Settled:
    answer: dict[str, Any] | None  # None: refused, the budget would be passed
    budget: Budget
    replayed: bool = False


@dataclass
class Batch:
    """The releases and budgets a group of calls needs, read once, and what it releases."""

    kept: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    spent: dict[tuple[int, str, str], int] = field(default_factory=dict)  # by account
    new: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, db: Session, calls: Sequence[tuple[int, Query]]) -> Batch:
        batch = cls()
        if not calls:
            return batch
        # A release is never changed: one the read phase found for the consumer still holds.
        new = sorted({q.release for _, q in calls if not q.known})
        if new:
            found = db.execute(
                select(
                    PrivacyRelease.release_key, PrivacyRelease.consumer_id, PrivacyRelease.answer
                ).where(PrivacyRelease.release_key.in_(new))
            )
            for key, consumer, answer in found:
                batch.kept.setdefault(key, {})[consumer] = json.loads(answer)
        wanted = sorted(
            {(c, q.product, scope) for c, q in calls for scope in (q.versions, q.month)}
        )
        budgets = db.execute(
            select(
                PrivacyBudget.consumer_id,
                PrivacyBudget.product,
                PrivacyBudget.scope,
                PrivacyBudget.spent_micro,
            ).where(
                tuple_(PrivacyBudget.consumer_id, PrivacyBudget.product, PrivacyBudget.scope).in_(
                    wanted
                )
            )
        )
        for consumer, product, scope, spent in budgets:
            batch.spent[(consumer, product, scope)] = int(spent)
        return batch

    def _spend(
        self, db: Session, account: tuple[int, str, str], total: int, q: Query, now: datetime
    ) -> int | None:
        consumer, product, scope = account
        after = db.execute(
            SPEND,
            {
                "consumer": consumer,
                "product": product,
                "scope": scope,
                "total": total,
                "spend": q.spend,
                "now": now,
            },
        ).scalar_one_or_none()
        if after is not None:
            self.spent[account] = int(after)
        return None if after is None else int(after)

    def settle(self, db: Session, consumer: int, q: Query, now: datetime) -> Settled:
        """Replays the consumer's release of the query, or spends ε on it (the release another
        consumer already has, or the proposed one), or refuses when the version's or the
        month's budget would pass."""
        version = (consumer, q.product, q.versions)
        month = (consumer, q.product, q.month)

        def budget(charged: int = 0) -> Budget:
            spent, in_month = self.spent.get(version, 0), self.spent.get(month, 0)
            return Budget(q.total, spent, charged, q.month_total, in_month)

        releases = self.kept.get(q.release, {})
        mine = q.proposed if q.known else releases.get(consumer)
        if mine is not None:
            return Settled(mine, budget(), replayed=True)
        if q.spend > budget().remaining:
            return Settled(None, budget())
        # Another server process may have spent meanwhile (PostgreSQL): each upsert adds only
        # within its total. Should the month's fail after the version's succeeded, the version
        # keeps an ε nothing was released for — counted too much, never too little.
        if self._spend(db, version, q.total, q, now) is None:
            self.spent[version] = q.total
            return Settled(None, budget())
        if self._spend(db, month, q.month_total, q, now) is None:
            self.spent[month] = q.month_total
            return Settled(None, budget())
        answer = next(iter(releases.values()), q.proposed)
        releases[consumer] = answer
        self.kept[q.release] = releases
        self.new.append(
            {
                "release_key": q.release,
                "consumer_id": consumer,
                "product": q.product,
                "versions": q.versions,
                "epsilon_micro": q.spend,
                "answer": as_json(answer),
                "released_at": now,
            }
        )
        return Settled(answer, budget(q.spend))

    def flush(self, db: Session) -> None:
        if self.new:
            db.execute(insert(RELEASES), self.new)
            self.new = []


def standing(
    db: Session,
    consumer_id: int,
    product: Product,
    versions: Sequence[int],
    total: float,
    now: datetime,
) -> Budget:
    """What is left of a consumer's budget on a product's current table versions this month."""
    scopes = (versions_of(product, versions), month_scope(now))
    spent = [db.get(PrivacyBudget, (consumer_id, product.code, scope)) for scope in scopes]
    allowed = micro(total)
    return Budget(
        allowed,
        0 if spent[0] is None else spent[0].spent_micro,
        0,
        allowed * product.privacy.versions_a_month,
        0 if spent[1] is None else spent[1].spent_micro,
    )
