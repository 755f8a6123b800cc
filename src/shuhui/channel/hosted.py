"""Data products organisations host (数据托管): an organisation's own table in the data core,
offered through the channel with the organisation as provider.

A hosted product is a row of ``channel_hosted_products`` made into the same
:class:`~shuhui.channel.products.Product` content products are (kind ``hosted``), so
applications, reviews, grants, keys, the gateway, metering and statements treat it as any
other product. What differs:

- **Its data.** The rows of one table of the data core's hosted section (``hosted_…``,
  :mod:`shuhui.datacore`), prepared like any product's into the engine's in-memory SQLite
  (the preparing DuckDB sees that table and nothing else), filtered per call by the key
  columns the provider declared (each indexed), a page at a time (``limit``, ``offset``).
  A column the provider marked personal always leaves masked (the catalog's rule), and may
  not be a key: finding a person's row by their ID would be a lookup about them without
  their authorisation, which only subject products with consent may do.
- **Its provider.** An organisation named by its credit code (``Product.provider_code``), not
  a department of the city's content: with conditional terms it reviews each application
  first (the ``provider`` step of :mod:`shuhui.channel.grants`), then the data bureau, as for
  departments; with open terms the bureau alone. Its calls are billed to the consumers like
  any product's, at its price per call, and its provider sees them per consumer and month
  (:func:`shuhui.channel.billing.provider_statement`).
- **Its life.** Offered and withdrawn at run time, not with the content: both bump the
  channel's revision (:func:`shuhui.channel.common.bump`). Each process keeps the hosted
  products as of a revision (:class:`HostedProducts`), read again only when the revision
  moves — the gateway reads the revision for its key cache already, so a hosted product
  costs its calls no database round trip. Withdrawn, a product stays known (its calls are
  still billed and named) but is not in force: the next call is refused
  (``product-withdrawn``), metered and in the ledger, whatever grant the consumer holds.
"""

from __future__ import annotations

import json
import threading
from collections import ChainMap
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.channel.common import as_json, bump
from shuhui.channel.engine import ident
from shuhui.channel.models import HostedProduct
from shuhui.channel.products import OutputField, Param, Product, Products, Tier
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.content import Item
from shuhui.core.errors import Problem, invalid
from shuhui.core.i18n import Text
from shuhui.datacore.schema import HOSTED_PREFIX, Column
from shuhui.datacore.store import HOSTED_SCHEMA
from shuhui.trust.ledger import service as ledger

if TYPE_CHECKING:
    from shuhui.channel.city import CityChannel

# What a hosted table's column types are as a product's output, and as a key parameter.
OUTPUT_TYPES: Final = {
    "string": "string",
    "int8": "integer",
    "int16": "integer",
    "int32": "integer",
    "int64": "integer",
    "float64": "number",
    "bool": "boolean",
    "date": "date",
    "timestamp": "string",
}
KEY_TYPES: Final = {
    "string": "string",
    "int8": "integer",
    "int16": "integer",
    "int32": "integer",
    "int64": "integer",
    "date": "date",
}
PAGE_PARAMS: Final = ("limit", "offset")
MAX_PAGE: Final = 1000
MAX_OFFSET: Final = 100_000_000
MAX_KEYS: Final = 5
MAX_PRICE_FEN: Final = 100_000_000  # 100 万元 a call: beyond any price a call is sold at


def product_of(row: HostedProduct) -> Product:
    """A hosted product as the channel runs it."""
    columns: list[dict[str, Any]] = json.loads(row.columns)
    keys = tuple(str(k) for k in json.loads(row.keys))
    output = tuple(
        OutputField(c["name"], "string", c["title"], "text")
        if c.get("personal")
        else OutputField(c["name"], OUTPUT_TYPES[c["type"]], c["title"])
        for c in columns
    )
    by_name = {c["name"]: c for c in columns}
    params = (
        *(
            Param(k, KEY_TYPES[by_name[k]["type"]], False, f"{by_name[k]['title']}（筛选）")
            for k in keys
        ),
        Param("limit", "integer", False, "每页行数", 100, 1, MAX_PAGE),
        Param("offset", "integer", False, "起始行", 0, 0, MAX_OFFSET),
    )
    listing = ", ".join(ident(c["name"]) for c in columns)
    table = f"{HOSTED_SCHEMA}.{ident(row.dataset)}"
    item = Item(
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        valid_from=local_today(row.offered_at),
        valid_to=None,
        reference=f"{row.provider_name}托管数据（经数据通道提供）",
    )
    return Product(
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        kind="hosted",
        zone=row.zone,
        provider=row.provider_name,
        tables=(row.dataset,),
        summary=row.summary,
        params=params,
        output=output,
        tiers=(Tier(None, row.price_fen),),
        public_governance_fen=row.public_governance_fen,
        item=item,
        prepare=f"SELECT {listing} FROM {table}",  # noqa: S608 (quoted identifiers)
        # Run per call with the keys given (shuhui.channel.engine); this is the whole table.
        answer=f"SELECT {listing} FROM prepared",  # noqa: S608
        dataset=row.dataset,
        provider_code=row.provider_code,
        provider_reviews=row.review,
        keys=keys,
        withdrawn_at=row.withdrawn_at,
    )


class HostedProducts:
    """The hosted products as of a channel revision, kept by each process and merged with the
    city's content products; read again from the database only when the revision moves (an
    offer, a withdrawal, and every change to keys, grants and memberships)."""

    def __init__(self, content: Products) -> None:
        self.content = content
        self._lock = threading.Lock()
        self._revision: int | None = None
        self._hosted: dict[str, Product] = {}
        self._merged = content

    def at(self, db: Session, revision: int) -> Products:
        """Every product, content and hosted, as of ``revision`` (read in ``db``'s
        transaction, as the hosted rows are)."""
        with self._lock:
            if revision == self._revision:
                return self._merged
        hosted = {
            p.code: p
            for p in map(product_of, db.scalars(select(HostedProduct).order_by(HostedProduct.id)))
        }
        # Content first, then hosted (an offer may not take a content product's code, see
        # :func:`offer`); a chain, not a copy, so the content's mapping stays the one read.
        merged = Products(
            self.content.items, ChainMap(hosted, cast(dict[str, Product], self.content.by_code))
        )
        with self._lock:
            # Revisions only grow: a slower reader of an older one does not undo a newer one.
            if self._revision is None or revision >= self._revision:
                self._revision, self._hosted, self._merged = revision, hosted, merged
        return merged

    def peek(self, code: str) -> Product | None:
        """A hosted product as last read, without asking the database (whether a call can be
        decided on the event loop: a guess that is only ever a little stale)."""
        return self._hosted.get(code)


# --- offering and withdrawing -------------------------------------------------------------------


def hosted_products(db: Session, provider_code: str | None = None) -> list[HostedProduct]:
    """The hosted products, newest first; one provider's with ``provider_code``."""
    query = select(HostedProduct).order_by(HostedProduct.id.desc())
    if provider_code is not None:
        query = query.where(HostedProduct.provider_code == provider_code)
    return list(db.scalars(query))


def hosted_product(db: Session, code: str) -> HostedProduct | None:
    return db.scalar(select(HostedProduct).where(HostedProduct.code == code))


def _check_keys(columns: Sequence[Column], keys: Sequence[str]) -> list[str]:
    by_name = {c.name: c for c in columns}
    wanted = list(dict.fromkeys(keys))
    if len(wanted) > MAX_KEYS:
        raise invalid("keys", Text(f"最多 {MAX_KEYS} 个筛选列", f"at most {MAX_KEYS} key columns"))
    for name in wanted:
        column = by_name.get(name)
        if column is None:
            raise invalid("keys", Text(f"{name} 不是已声明的列", f"{name}: not one of the columns"))
        if column.personal:
            raise invalid(
                "keys",
                Text(
                    f"{column.title}（{name}）是个人信息，不能作为筛选列："
                    "否则使用方可以按人查询，而本人没有授权",
                    f"{name} is personal: it cannot be a key",
                ),
            )
        if column.type not in KEY_TYPES:
            raise invalid(
                "keys",
                Text(
                    f"{column.title}（{name}）只能是文本、整数或日期列才能用于筛选",
                    f"{name}: only text, whole-number or date columns can be keys",
                ),
            )
        if name in PAGE_PARAMS or name == "today":
            raise invalid(
                "keys", Text(f"列名 {name} 不能用于筛选", f"{name} cannot be a key's name")
            )
    return wanted


def _check_price(where: str, fen: int) -> None:
    if not 0 <= fen <= MAX_PRICE_FEN:
        raise invalid(
            where,
            Text(
                f"每次调用的价格应在 0 到 {MAX_PRICE_FEN // 100:,} 元之间",
                f"0 to {MAX_PRICE_FEN // 100:,} yuan a call",
            ),
        )


def check_offer(
    city: CityChannel,
    *,
    zone: str,
    columns: Sequence[Column],
    keys: Sequence[str],
    price_fen: int,
    public_governance_fen: int,
    now: datetime | None = None,
) -> list[str]:
    """Whether an offer's terms can be offered (the zone, the key columns, the prices):
    refused as :func:`offer` would refuse them, for a caller to ask before it publishes the
    data. Returns the key columns, each once."""
    zone_item = city.zones.get(zone)
    if zone_item is None or not zone_item.in_force(local_today(as_utc(now or utcnow()))):
        raise invalid("zone", Text("没有这个专区", "no such zone"))
    wanted = _check_keys(columns, keys)
    _check_price("price", price_fen)
    _check_price("public_governance_price", public_governance_fen)
    return wanted


def offer(
    db: Session,
    city: CityChannel,
    *,
    dataset: str,
    provider_code: str,
    provider_name: str,
    name_zh: str,
    name_en: str,
    summary: str,
    zone: str,
    columns: Sequence[Column],
    keys: Sequence[str],
    review: bool,
    price_fen: int,
    public_governance_fen: int,
    actor: str,
    now: datetime | None = None,
) -> HostedProduct:
    """Offers the rows of a hosted table as a product named as the table, in a zone, at a
    price per answered call (industry use; public-governance use at its own price), reviewed
    by its provider (``review``) before the bureau, or by the bureau alone."""
    now = as_utc(now or utcnow())
    if not dataset.startswith(HOSTED_PREFIX):
        raise invalid("dataset", Text("不是托管数据表", "not a hosted table"))
    wanted = check_offer(
        city,
        zone=zone,
        columns=columns,
        keys=keys,
        price_fen=price_fen,
        public_governance_fen=public_governance_fen,
        now=now,
    )
    if city.products.get(dataset) is not None or hosted_product(db, dataset) is not None:
        raise Problem("conflict", detail=f"数据产品 {dataset} 已存在")
    row = HostedProduct(
        code=dataset,
        provider_code=provider_code,
        provider_name=provider_name,
        name_zh=name_zh,
        name_en=name_en,
        summary=summary,
        zone=zone,
        dataset=dataset,
        columns=as_json(
            [
                {"name": c.name, "title": c.title, "type": c.type, "personal": c.personal}
                for c in columns
            ]
        ),
        keys=as_json(wanted),
        review=review,
        price_fen=price_fen,
        public_governance_fen=public_governance_fen,
        status="offered",
        offered_at=now,
        offered_by=actor,
    )
    db.add(row)
    db.flush()
    bump(db)
    ledger.record(
        db,
        actor,
        "channel.hosted.offered",
        subject=provider_code,
        detail={
            "product": row.code,
            "provider": provider_code,
            "zone": zone,
            "keys": list(wanted),
            "provider_reviews": review,
            "price_fen": price_fen,
            "public_governance_fen": public_governance_fen,
        },
    )
    return row


def withdraw(
    db: Session,
    code: str,
    *,
    provider_code: str,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> HostedProduct:
    """The provider stops offering its product: from this transaction on, every call to it is
    refused (``product-withdrawn``) and no one may apply for it."""
    now = as_utc(now or utcnow())
    row = hosted_product(db, code)
    if row is None or row.provider_code != provider_code:
        raise Problem("not-found", detail=f"没有数据产品 {code}")
    if row.status != "offered":
        raise Problem("conflict", detail="该数据产品已撤回")
    if not reason.strip():
        raise invalid("reason", Text("请写明撤回的原因", "a withdrawal says why"))
    row.status = "withdrawn"
    row.withdrawn_at, row.withdrawn_by, row.withdrawn_reason = now, actor, reason.strip()
    db.flush()
    bump(db)
    ledger.record(
        db,
        actor,
        "channel.hosted.withdrawn",
        subject=provider_code,
        detail={"product": code, "provider": provider_code, "reason": reason.strip()},
    )
    return row
