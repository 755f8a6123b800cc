"""Enterprise data custody (企业数据托管): an enterprise hosts a file of its own data with the
platform, lists it in the catalog on its own terms and offers it through the data channel as
its provider; consumers apply, the enterprise reviews, calls are metered and billed, and it
sees its statements; it can withdraw the data at any time.

One upload is one act of hosting, in this order, each step on the layer that owns it and each
its own ledger entry, all in the request's transaction:

1. **Checked.** The form (:mod:`shuhui.enterprise.custody_schemas`) and what only the platform
   can judge — the name not used before, the zone, the category, the key columns — before a
   byte is published, so a refusal leaves nothing behind.
2. **Loaded** into the data core's hosted section as ``hosted_<credit code>_<name>`` (its own
   tree and catalog section: no listing, query, rule or product of the city's data sees it,
   :mod:`shuhui.datacore`), after the file has passed every check a load makes — the columns
   declared, each value's type, required values — each refusal naming the row as a
   spreadsheet numbers it and the column, in Chinese (:func:`checked_file`). The load is all or
   nothing: a bad row publishes nothing. A ``data.loaded`` entry and an
   ``enterprise.custody_uploaded`` entry follow.
3. **Registered** in the catalog as the enterprise's data (``catalog.hosted_registered``,
   :func:`shuhui.catalog.service.register_hosted`): provider the enterprise, open level its
   terms, reachable only through the channel.
4. **Offered** through the channel (``channel.hosted.offered``, :mod:`shuhui.channel.hosted`):
   a product named as the table, in the zone and at the price the enterprise chose; its
   applications reviewed by the enterprise first when its terms are conditional, then by the
   data bureau, whose approval makes the grant (the channel is the city's: it checks the
   consumer's zone, purpose and legal basis and sets its limits).

Withdrawing (:func:`withdraw`) stops the product at once — the next call is refused
(``product-withdrawn``), metered and in the ledger — closes the catalog entry and marks the
hosting withdrawn: three entries. The hosted table stays in the data core's hosted section,
unreachable, so that answers already given can be checked against it.

Files, database and ledger share no transaction: the load is published once every database
check has passed, and the database's writes follow. Should they fail after all (a crash), the
published table is served to no one — nothing offers or lists it — and the platform's recovery
records its ``data.loaded`` entry (``catalog.publishing.recover``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.catalog import publishing
from shuhui.catalog import service as catalog_service
from shuhui.channel import billing, grants, hosted
from shuhui.channel.city import CityChannel
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.errors import FieldError, Problem, invalid
from shuhui.core.i18n import Text
from shuhui.datacore.errors import LoadError, RowError
from shuhui.datacore.schema import HOSTED_PREFIX, Column, TableSpec
from shuhui.datacore.sources import csv_upload
from shuhui.datacore.store import DataCore, LoadResult
from shuhui.datacore.validate import conform
from shuhui.enterprise.access import credit_code_of
from shuhui.enterprise.custody_schemas import (
    MAX_BYTES,
    MAX_CHARS,
    MAX_ROWS,
    HostIn,
)
from shuhui.enterprise.models import HostedData
from shuhui.trust.identity.models import User
from shuhui.trust.ledger import service as ledger

PURPOSE: Final = catalog_service.HOSTED_PURPOSE  # "enterprise data custody"
STATES: Final = {
    "hosted": ("托管中", "Hosted"),
    "withdrawn": ("已撤回", "Withdrawn"),
}


def table_name(credit_code: str, slug: str) -> str:
    """The hosted table an enterprise's data goes into: its credit code (lower case: credit
    codes have no small letters, so the name maps back to one enterprise) and its name."""
    return f"{HOSTED_PREFIX}{credit_code.lower()}_{slug}"


def spec_of(given: HostIn, table: str, enterprise_name: str) -> TableSpec:
    """The data-core table the declared columns make (provided by the enterprise)."""
    return TableSpec(
        name=table,
        title=given.title,
        department=enterprise_name,
        columns=tuple(
            Column(c.name, c.type, c.title, required=c.required, personal=c.personal)
            for c in given.columns
        ),
        description=given.description,
    )


# --- reading the file ----------------------------------------------------------------------------


def _where(e: RowError, titles: dict[str, str]) -> tuple[str, Text]:
    """A refused row's field (``csv.<row>.<column>``) and its place in words."""
    column = e.column or ""
    title = titles.get(column)
    named_zh = f"“{title}”（{column}）列" if title else (f"{column} 列" if column else "")
    named_en = f" column {column}" if column else ""
    if e.row is None:
        return ("csv." + column if column else "csv"), Text(
            f"文件{named_zh}", f"the file{named_en}"
        )
    field = f"csv.{e.row}" + (f".{column}" if column else "")
    return field, Text(f"第 {e.row} 行{named_zh}", f"row {e.row}{named_en}")


def refused_file(error: LoadError, titles: dict[str, str]) -> Problem:
    """A file the load refused, each fault with its row as a spreadsheet numbers it (the
    header is row 1) and its column, in Chinese first: nothing was published."""
    errors: list[FieldError] = []
    listed: list[dict[str, Any]] = []
    for e in error.errors:
        field, place = _where(e, titles)
        value = f"（值：{e.value}）" if e.value else ""
        value_en = f" (value {e.value!r})" if e.value else ""
        reason = Text(f"{place}：{e.zh or e.reason}{value}", f"{place.en}: {e.reason}{value_en}")
        errors.append(FieldError(field, reason))
        listed.append({"row": e.row, "column": e.column, "reason": str(reason)})
    first = errors[0].reason if errors else ""
    more = f"等 {len(errors)} 处问题" if len(errors) > 1 else ""
    return Problem(
        "validation",
        detail=f"文件未通过校验，没有发布任何数据：{first}{more}",
        errors=errors,
        extra={"rows": listed},
    )


def checked_file(data: bytes, spec: TableSpec) -> pa.Table:
    """The file as the table ``spec`` declares, typed, every value checked as a data-core load
    checks it (:func:`shuhui.datacore.validate.conform`), or the refusal
    (:func:`refused_file`)."""
    titles = {c.name: c.title for c in spec.columns}
    if len(data) > MAX_BYTES:
        raise invalid(
            "csv",
            Text(
                f"文件超过 {MAX_BYTES // (1024 * 1024)} MB：请分成几个文件上传",
                f"larger than {MAX_BYTES // (1024 * 1024)} MiB",
            ),
        )
    try:
        text = csv_upload(data, spec, max_rows=MAX_ROWS, max_chars=MAX_CHARS)
        typed, errors = conform(spec, text, first_row=2)  # the header is row 1
    except LoadError as error:
        raise refused_file(error, titles) from None
    if errors or typed is None:
        raise refused_file(LoadError(spec.name, errors), titles)
    return pa.Table.from_batches([typed])


# --- hosting -----------------------------------------------------------------------------------


def _new_code(now: datetime) -> str:
    return f"TG-{local_today(now):%Y%m%d}-{secrets.token_hex(3).upper()}"


def _check(
    db: Session,
    city: CityChannel,
    catalog: catalog_service.CityCatalog,
    given: HostIn,
    table: str,
    now: datetime,
) -> None:
    """What only the platform can judge, before anything is published."""
    if db.scalar(select(HostedData.id).where(HostedData.table_name == table)) is not None:
        raise Problem(
            "conflict",
            detail="本企业已用过这个数据名称：请换一个（撤回的数据也保留其名称）",
            errors=[FieldError("slug", Text("这个名称已用过", "already used"))],
        )
    names = [c.name for c in given.columns]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise invalid("columns", Text(f"列名 {twice} 出现了两次", f"{twice} is declared twice"))
    if catalog.categories.get(given.category) is None:
        raise invalid("category", Text("没有这个数据目录分类", "no such category"))
    if given.terms == "conditional" and not given.condition.strip():
        raise invalid(
            "condition",
            Text("有条件开放须写明条件", "conditional terms say on what conditions"),
        )
    columns = spec_of(given, table, "").columns
    hosted.check_offer(
        city,
        zone=given.zone,
        columns=columns,
        keys=given.keys,
        price_fen=given.price,
        public_governance_fen=_public_price(given),
        now=now,
    )


def _public_price(given: HostIn) -> int:
    return given.price if given.public_governance_price is None else given.public_governance_price


def host(
    db: Session,
    *,
    core: DataCore,
    catalog: catalog_service.CityCatalog,
    city: CityChannel,
    user: User,
    given: HostIn,
    data: bytes,
    now: datetime | None = None,
) -> HostedData:
    """Hosts a file of the enterprise's own data: checked, loaded into its hosted table,
    registered in the catalog and offered through the channel (see the module's docstring).
    Refused whole, with nothing published, when any step would fail."""
    now = as_utc(now or utcnow())
    credit = credit_code_of(user)
    name = (user.display_name or credit)[:128]
    table = table_name(credit, given.slug)
    _check(db, city, catalog, given, table, now)
    spec = spec_of(given, table, name)
    rows = checked_file(data, spec)
    digest = hashlib.sha256(data).hexdigest()
    source: dict[str, str | int] = {
        "label": f"enterprise:{credit}",
        "file_sha256": digest,
        "bytes": len(data),
    }

    def recorded(results: dict[str, LoadResult]) -> None:
        # While the publish is marked live: a recovery starting meanwhile leaves it to us.
        publishing.record_loaded(db, user.username, core, [(spec, results[table])], source)

    try:
        loaded = core.load(
            spec, rows, source=str(source["label"]), header_rows=1, recorder=recorded
        )
    except LoadError as error:  # checked already: a key or a schema the data core refuses
        raise refused_file(error, {c.name: c.title for c in spec.columns}) from None
    row = HostedData(
        code=_new_code(now),
        credit_code=credit,
        enterprise_name=name,
        slug=given.slug,
        table_name=table,
        title=given.title,
        description=given.description,
        columns=[c.model_dump() for c in given.columns],
        keys=list(dict.fromkeys(given.keys)),
        category=given.category,
        zone=given.zone,
        terms=given.terms,
        condition=given.condition.strip() or None,
        price_fen=given.price,
        public_governance_fen=_public_price(given),
        rows=loaded.rows,
        version=loaded.version,
        file_sha256=digest,
        file_bytes=len(data),
        state="hosted",
        uploaded_by=user.username,
        uploaded_at=now,
    )
    db.add(row)
    try:
        db.flush()
    except IntegrityError:  # the same name hosted by a request that ran alongside this one
        raise Problem(
            "conflict",
            detail="本企业刚用过这个数据名称：请换一个",
            errors=[FieldError("slug", Text("这个名称已用过", "already used"))],
        ) from None
    ledger.record(
        db,
        user.username,
        "enterprise.custody_uploaded",
        subject=credit,
        purpose=PURPOSE,
        detail={
            "hosting": row.code,
            "table": table,
            "version": loaded.version,
            "rows": loaded.rows,
            "file_sha256": digest,
            "bytes": len(data),
            "personal_columns": [c.name for c in given.columns if c.personal],
        },
    )
    catalog_service.register_hosted(
        db,
        catalog,
        name=table,
        title=given.title,
        description=given.description,
        category=given.category,
        provider_code=credit,
        provider_name=name,
        open_level=given.terms,
        open_condition=row.condition,
        columns=spec.columns,
        rows=loaded.rows,
        version=loaded.version,
        access_url=f"/api/v1/channel/products/{table}",
        actor=user.username,
        now=now,
    )
    hosted.offer(
        db,
        city,
        dataset=table,
        provider_code=credit,
        provider_name=name,
        name_zh=given.title,
        name_en=f"{given.title} ({credit})",
        summary=given.description,
        zone=given.zone,
        columns=spec.columns,
        keys=given.keys,
        review=given.terms == "conditional",
        price_fen=given.price,
        public_governance_fen=_public_price(given),
        actor=user.username,
        now=now,
    )
    return row


def withdraw(
    db: Session, *, user: User, code: str, reason: str, now: datetime | None = None
) -> HostedData:
    """Withdraws hosted data: its product answers no more calls from this moment, its catalog
    entry closes, and the hosting is marked withdrawn (three ledger entries)."""
    now = as_utc(now or utcnow())
    row = own(db, user, code)
    if row.state != "hosted":
        raise Problem("conflict", detail="这份数据已撤回")
    if not reason.strip():
        raise invalid("reason", Text("请写明撤回的原因", "a withdrawal says why"))
    hosted.withdraw(
        db, row.table_name, provider_code=row.credit_code, reason=reason, actor=user.username
    )
    catalog_service.close_hosted(
        db, row.table_name, reason=reason.strip(), actor=user.username, now=now
    )
    row.state = "withdrawn"
    row.withdrawn_by, row.withdrawn_at, row.withdrawn_reason = user.username, now, reason.strip()
    db.flush()
    ledger.record(
        db,
        user.username,
        "enterprise.custody_withdrawn",
        subject=row.credit_code,
        purpose=PURPOSE,
        detail={"hosting": row.code, "table": row.table_name, "reason": reason.strip()},
    )
    return row


# --- reading -----------------------------------------------------------------------------------


def hostings(db: Session, user: User) -> list[HostedData]:
    """The enterprise's hosted data, newest first."""
    credit = credit_code_of(user)
    return list(
        db.scalars(
            select(HostedData)
            .where(HostedData.credit_code == credit)
            .order_by(HostedData.id.desc())
        )
    )


def own(db: Session, user: User, code: str) -> HostedData:
    """One of the enterprise's hostings; another's is not found, as if it did not exist."""
    credit = credit_code_of(user)
    row = db.scalar(select(HostedData).where(HostedData.code == code))
    if row is None or row.credit_code != credit:
        raise Problem("not-found", detail=f"没有托管数据 {code}")
    return row


@dataclass(frozen=True)
class Review:
    """An application for the enterprise's data, and the step it may take on it now."""

    application: Any  # shuhui.channel.models.AccessApplication, as the channel gives it
    step: str | None  # "provider" while it waits for the enterprise, else None


def applications(db: Session, city: CityChannel, user: User) -> list[Review]:
    """The applications for the enterprise's hosted data, newest first: those waiting for its
    review, and those it reviewed or that went on without it (open terms)."""
    credit = credit_code_of(user)
    return [
        Review(a, grants.reviewer_step(city, a, None, False, credit))
        for a in grants.reviewer_applications(db, city, None, False, credit)
    ]


def pending_reviews(db: Session, city: CityChannel, credit_code: str) -> int:
    """How many applications wait for the enterprise's review (a workbench card's count;
    ``city`` as the app holds it: its hosted products are read here)."""
    city = city.current(db)
    waiting = grants.applications(db, statuses=["department_review"])
    return sum(
        grants.reviewer_step(city, a, None, False, credit_code) == "provider" for a in waiting
    )


def review(
    db: Session,
    city: CityChannel,
    user: User,
    code: str,
    *,
    decision: str,
    reason: str,
    now: datetime | None = None,
) -> Any:
    """The enterprise's review of an application for its data (the channel's ``provider``
    step): approved, it goes on to the data bureau; rejected or returned, it stops there."""
    credit = credit_code_of(user)
    return grants.review_access(
        db,
        city,
        code,
        decision=decision,
        reason=reason,
        actor=user.username,
        department=None,
        is_bureau=False,
        organisation=credit,
        now=now,
    )


def statement(db: Session, city: CityChannel, user: User, month: date) -> billing.ProviderStatement:
    """What the enterprise's hosted data earned in a month: calls and amounts per consumer
    (the consumers' statements' own figures, sealed ones once the month is issued)."""
    return billing.provider_statement(db, city, credit_code_of(user), month)


@dataclass(frozen=True)
class Holder:
    """A consumer holding an active grant of a hosted product."""

    consumer: str  # its name
    credit_code: str
    grant: str
    purpose: str
    valid_to: datetime


def users_of(db: Session, row: HostedData, now: datetime | None = None) -> list[Holder]:
    """Who holds an active grant of the hosted data now: whose calls a withdrawal stops."""
    now = as_utc(now or utcnow())
    return [
        Holder(g.consumer.name, g.consumer.credit_code, g.code, g.purpose, g.valid_to)
        for g in grants.grants(db)
        if row.table_name in grants.application_products(g) and grants.grant_active(g, now)
    ]
