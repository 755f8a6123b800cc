"""The data channel's figures as facts (``core.facts``), for whatever sums them
(``shuhui.insight``): the calls answered and what they are billed, per billing month and
product. Read from the channel's own tables; written nowhere.

What a month's calls come to is what the consumers' statements say (the sealed document once
issued, else priced as :func:`billing.statement` would price it), so the figure and the bills
agree."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shuhui.channel import billing
from shuhui.channel.city import CityChannel
from shuhui.channel.common import ANSWERED
from shuhui.channel.models import Call, Consumer, IssuedStatement
from shuhui.core.facts import Fact


def answered_calls(db: Session) -> list[Fact]:
    """Calls the gateway answered, per billing month (Asia/Shanghai) and product; refused calls
    are left out (nothing was given, nothing is billed)."""
    rows = db.execute(
        select(Call.month, Call.product, func.count())
        .where(Call.status == ANSWERED)
        .group_by(Call.month, Call.product)
    )
    return [Fact(int(n), month=month, group=str(product)) for month, product, n in rows]


def billed(db: Session, city: CityChannel) -> list[Fact]:
    """What the answered calls are billed, in fen, per billing month and product (``city``: the
    city as it is now, its hosted products included, so every product called can be priced).

    A month already issued is its consumers' sealed statements. The others are priced as
    :func:`billing.statement` prices them (its tiers per consumer, month, product and usage; the
    public-governance price for that use), from one grouped read of the metering: a statement
    per consumer and month would read each consumer's calls once per month."""
    counted: Counter[tuple[int, date, str, str]] = Counter()
    for consumer_id, month, product, usage, n in db.execute(
        select(Call.consumer_id, Call.month, Call.product, Call.usage, func.count())
        .where(Call.status == ANSWERED, Call.consumer_id.is_not(None))
        .group_by(Call.consumer_id, Call.month, Call.product, Call.usage)
    ):
        if consumer_id is not None:  # the query leaves these out; said again for the checker
            counted[(consumer_id, month, str(product), usage or "industry")] += int(n)
    issued = {
        (consumer_id, month)
        for consumer_id, month in db.execute(
            select(IssuedStatement.consumer_id, IssuedStatement.month)
        )
    }
    fen: defaultdict[tuple[date, str], int] = defaultdict(int)
    for consumer_id, month in sorted(issued & {(c, m) for c, m, _, _ in counted}):
        consumer = db.get_one(Consumer, consumer_id)
        for line in billing.statement(db, city, consumer, month).lines:
            fen[(month, line.product)] += line.fen
    for (consumer_id, month, code, usage), n in counted.items():
        priced = city.products.get(code)
        if (consumer_id, month) in issued or priced is None:  # billed above; or not priceable
            continue
        if usage == "public_governance":
            fen[(month, code)] += priced.public_governance_fen * n
        else:
            fen[(month, code)] += billing.tiered(priced, n)[1]
    return [Fact(amount, month=month, group=product) for (month, product), amount in fen.items()]
