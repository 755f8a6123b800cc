"""Binding the demo accounts to members of the demo city and starting their flows (see the
package's docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

import duckdb
from sqlalchemy.orm import Session

from shuhui.channel import grants as channel_grants
from shuhui.channel import onboarding
from shuhui.channel.city import CityChannel, city_channel
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.content import DEFAULT_DIR
from shuhui.core.display import mask_citizen_id
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.enterprise.platforms import load as load_platforms
from shuhui.hrss import reminders
from shuhui.programs import recipients
from shuhui.programs import service as programs
from shuhui.rules import service as rules_service
from shuhui.rules.language import Rule
from shuhui.trust.identity.demo import DemoAccount, bind_demo_account, demo_staff
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.service import get_user_by_username, list_users

# Qingdao's residents first: their ID's first four digits name the city (GB/T 2260).
HOME_PREFIX: Final = "3702"
PAGE: Final = 1_000
# What the demo consumer tells the bureau when it joins and applies (a bank's credit checks).
CONTACT: Final = {
    "contact_name": "数据接口管理员",
    "contact_phone": "0532-80000000",
    "contact_email": "api@{account}.example.cn",  # each institution's own domain
}
PURPOSE: Final = "小微企业信贷审批"
LEGAL_BASIS: Final = "《征信业管理条例》第十四条；企业本人用证授权"


@dataclass(frozen=True)
class Prepared:
    """What one account was given: whom it now is, what waits for it, and whether this run
    changed anything."""

    username: str
    member: str  # whom the account is in the city (a name and a code)
    waiting: str  # what its flow starts from, in Chinese
    changed: bool


def prepare(
    db: Session,
    settings: Settings,
    core: DataCore,
    accounts: Sequence[DemoAccount],
    *,
    actor: str,
    rebind: bool = False,
    now: datetime | None = None,
) -> list[Prepared]:
    """Every account with a ``demo_city`` gets it (in the caller's transaction). Needs the
    demo accounts created and the city built; an empty data core prepares nothing."""
    if not core.tables():
        return []
    now = as_utc(now or utcnow())
    library = programs.Library(settings, core)
    done: list[Prepared] = []
    # The people first: an enterprise's legal representative must not be the demo citizen.
    ordered = sorted(
        (a for a in accounts if a.demo_city is not None),
        key=lambda a: Role.enterprise in a.roles,
    )
    for account in ordered:
        assert account.demo_city is not None
        kind, code = account.demo_city
        if kind == "offer":
            done.append(
                _offer(
                    db,
                    library,
                    accounts,
                    account,
                    code,
                    actor=actor,
                    rebind=rebind,
                    now=now,
                    content=settings.city_content,
                )
            )
        elif kind == "certify":
            continue  # a pensioner: shuhui.demo.certification, after the cycle has run
        elif kind == "assess":
            continue  # an injured worker: shuhui.demo.injury, with the approval history
        elif kind == "remind":
            done.append(
                _remind(
                    db,
                    library,
                    settings,
                    accounts,
                    account,
                    code,
                    actor=actor,
                    rebind=rebind,
                    now=now,
                )
            )
        else:
            channel = city_channel(settings.city_content)
            done.append(grant_product(db, channel, accounts, account, code, now=now))
    return done


def _demo_user(db: Session, accounts: Sequence[DemoAccount], role: Role, department: str) -> User:
    """The demo account of ``role`` working in ``department`` (named in full or short)."""
    for a in accounts:
        if role in a.roles and a.department == department:
            user = get_user_by_username(db, a.username)
            if user is not None:
                return user
    raise LookupError(f"no demo {role} of {department}: add one to demo-accounts.yaml")


def _bureau_operator(db: Session, accounts: Sequence[DemoAccount]) -> User:
    for a in accounts:
        if Role.data_operator in a.roles:
            user = get_user_by_username(db, a.username)
            if user is not None:
                return user
    raise LookupError("no demo data operator: add one to demo-accounts.yaml")


# --- an offer waiting ---------------------------------------------------------------------------


def account_user(db: Session, account: DemoAccount) -> User:
    """The demo account's user, which ``shuhui demo`` created first."""
    user = get_user_by_username(db, account.username)
    if user is None:
        raise LookupError(f"demo account {account.username} missing: create the accounts first")
    return user


def _first_found(
    db: Session,
    library: programs.Library,
    rule: Rule,
    user: User,
    now: datetime,
    *,
    person: bool,
    content: Path | None = None,
) -> tuple[str, str, str] | None:
    """The first member the rule finds today (Qingdao's own first) whom no other account is."""
    taken = {u.citizen_id for u in list_users(db) if u.id != user.id and u.citizen_id}
    with library.connection() as con:
        found = rules_service.candidates(con, rule, local_today(now), outcomes=("eligible",))
        keys = sorted((e.key for e in found), key=lambda k: (not k.startswith(HOME_PREFIX), k))
        if person:
            return _person(con, keys, taken)
        return _enterprise(con, keys, taken, content or DEFAULT_DIR / "qingdao")


def _offered(db: Session, subject: str | None, rule: str) -> bool:
    if not subject:
        return False
    return any(c.campaign.rule == rule for c in recipients.offers_for(db, [subject]))


def _offer(
    db: Session,
    library: programs.Library,
    accounts: Sequence[DemoAccount],
    account: DemoAccount,
    policy: str,
    *,
    actor: str,
    rebind: bool,
    now: datetime,
    content: Path,
) -> Prepared:
    user = account_user(db, account)
    rule = library.rule(policy)
    person = rule.entity.code == "person"
    subject = user.citizen_id if person else user.credit_code
    waiting = f"“{rule.name_zh}”待确认领取"
    if not rebind and _offered(db, subject, rule.code):
        return Prepared(user.username, _member(user.display_name, subject, person), waiting, False)

    member = _first_found(db, library, rule, user, now, person=person, content=content)
    if member is None:
        raise LookupError(f"nobody in the demo city is eligible for {rule.code} today")
    key, name, citizen_id = member
    changed = bind_demo_account(
        db,
        user.username,
        name=name,
        actor=actor,
        staff=demo_staff(db, accounts),
        citizen_id=citizen_id,
        credit_code=None if person else key,
    )
    if not _offered(db, key, rule.code):
        _run_and_confirm(db, library, accounts, rule, key, now)
        changed = True
    return Prepared(user.username, _member(name, key, person), waiting, changed)


# --- a reminder waiting -------------------------------------------------------------------------


def _remind(
    db: Session,
    library: programs.Library,
    settings: Settings,
    accounts: Sequence[DemoAccount],
    account: DemoAccount,
    code: str,
    *,
    actor: str,
    rebind: bool,
    now: datetime,
) -> Prepared:
    """The account bound to a member the reminder finds, and the reminder sent to them."""
    user = account_user(db, account)
    kind = reminders.kind_of(code, settings.city_content)
    waiting = f"“{kind.name}”消息待查看"
    if not rebind and user.citizen_id and reminders.of_person(db, user.citizen_id):
        return Prepared(
            user.username, _member(user.display_name, user.citizen_id, True), waiting, False
        )
    member = _first_found(db, library, library.rule(kind.rule), user, now, person=True)
    if member is None:  # a city too small to have anyone due today (the tests' small one)
        shown = _member(user.display_name, user.citizen_id, True)
        return Prepared(user.username, shown, f"今日没有需要“{kind.name}”的人员", False)
    key, name, citizen_id = member
    changed = bind_demo_account(
        db,
        user.username,
        name=name,
        actor=actor,
        staff=demo_staff(db, accounts),
        citizen_id=citizen_id,
        credit_code=None,
    )
    sent = reminders.run(db, library, kind, local_today(now), actor=actor, within={key}, now=now)
    return Prepared(user.username, _member(name, key, True), waiting, changed or sent.sent > 0)


def _member(name: str, key: str | None, person: bool) -> str:
    """A person's ID is shown masked (the command's output is read over shoulders)."""
    shown = mask_citizen_id(key) if person else key
    return f"{name}（{shown}）"


def _person(
    con: duckdb.DuckDBPyConnection, keys: list[str], taken: set[str]
) -> tuple[str, str, str] | None:
    free = [k for k in keys if k not in taken]
    if not free:
        return None
    names = dict(
        con.execute(
            "SELECT citizen_id, name FROM residents WHERE list_contains(?, citizen_id)",
            [free[:PAGE]],
        ).fetchall()
    )
    for key in free[:PAGE]:
        if key in names:
            return key, str(names[key]), key
    return None


def _enterprise(
    con: duckdb.DuckDBPyConnection, keys: list[str], taken: set[str], content: Path
) -> tuple[str, str, str] | None:
    """A live enterprise whose legal representative is no other account's."""
    rows = con.execute(
        "SELECT credit_code, name, legal_rep_citizen_id FROM enterprises "
        "WHERE status = '存续' AND list_contains(?, credit_code)",
        [keys[:PAGE]],
    ).fetchall()
    by_code = {str(r[0]): (str(r[1]), str(r[2])) for r in rows}
    free = [k for k in keys[:PAGE] if k in by_code and by_code[k][1] not in taken]
    if not free:
        return None
    # One the industrial-internet platforms' solutions have taken furthest (the most
    # capabilities), so its pages (the file, the digital-level assessment pre-filled from
    # what the platforms did) show what they can.
    enabled = _capabilities(con, free, content)
    key = max(free, key=lambda k: (enabled.get(k, 0), -free.index(k)))
    return key, *by_code[key]


def _capabilities(con: duckdb.DuckDBPyConnection, keys: list[str], content: Path) -> dict[str, int]:
    """Per enterprise, how many capabilities the solutions it was enabled with bring."""
    try:
        rows = con.execute(
            "SELECT credit_code, list(DISTINCT solution_code) FROM platform_enablements "
            "WHERE list_contains(?, credit_code) GROUP BY credit_code",
            [keys],
        ).fetchall()
    except duckdb.CatalogException:  # a city built before the platforms' table
        return {}
    catalogue = load_platforms(content)
    found: dict[str, int] = {}
    for code, solutions in rows:
        brought = {
            capability
            for s in solutions
            if (solution := catalogue.solution(str(s))) is not None
            for capability in solution.capabilities
        }
        found[str(code)] = len(brought)
    return found


def _run_and_confirm(
    db: Session,
    library: programs.Library,
    accounts: Sequence[DemoAccount],
    rule: Rule,
    subject: str,
    now: datetime,
) -> None:
    """The campaign as the department's officer runs it from the console (the city's eligible,
    免申即享), and that officer's confirmation of ``subject``: the others stay pending."""
    officer = _demo_user(db, accounts, Role.officer, rule.department)
    campaign = programs.run_campaign(
        db,
        library,
        rule.code,
        local_today(now),
        actor=officer.username,
        department=officer.department,
        scope="eligible",
        now=now,
    )
    offset = 0
    while True:
        rows, total = programs.candidates_of(db, campaign, "pending", offset=offset, limit=PAGE)
        chosen = [c.id for c in rows if c.subject == subject]
        if chosen:
            programs.confirm(
                db, campaign, chosen, actor=officer.username, department=officer.department, now=now
            )
            return
        offset += PAGE
        if offset >= total:
            raise LookupError(f"{subject} is not among the candidates of {campaign.code}")


# --- a grant to call with -----------------------------------------------------------------------


# The kind of institution a name says, for the consumer kinds the finance zone takes.
KIND_IN_NAME: Final = (
    ("银行", "bank"),
    ("保险", "insurer"),
    ("担保", "guarantor"),
    ("科学院", "research"),
    ("研究", "research"),
)


def _consumer_type(city: CityChannel, zone: str, name: str) -> str:
    """The kind of institution the name says among those the zone takes (else its first)."""
    accepted = [str(k) for k in city.zones.by_code[zone].attrs.get("consumer_types", [])]
    for word, kind in KIND_IN_NAME:
        if word in name and kind in accepted:
            return kind
    return accepted[0]


def grant_product(
    db: Session,
    city: CityChannel,
    accounts: Sequence[DemoAccount],
    account: DemoAccount,
    code: str,
    *,
    now: datetime,
) -> Prepared:
    product = city.products.get(code)
    if product is None:
        raise LookupError(f"{account.username}: no data product {code}")
    if not account.credit_code or not account.department:
        raise LookupError(f"{account.username}: a consumer names its institution and credit code")
    institution = f"{account.department}（{account.credit_code}）"
    purpose, legal_basis, usage = account.demo_use or (PURPOSE, LEGAL_BASIS, "industry")
    waiting = f"已获准使用“{product.item.name_zh}”，可签发密钥"
    consumer = onboarding.consumer_by_code(db, account.credit_code)
    if consumer is not None and any(
        code in channel_grants.application_products(g) and channel_grants.grant_active(g, now)
        for g in channel_grants.grants(db, consumer.id)
    ):
        return Prepared(account.username, institution, waiting, False)

    operator = _bureau_operator(db, accounts)
    if consumer is None:
        consumer = onboarding.register_consumer(
            db,
            credit_code=account.credit_code,
            name=account.department,
            type=_consumer_type(city, product.zone, account.department),
            actor=account.username,
            now=now,
            **CONTACT
            | {"contact_email": CONTACT["contact_email"].format(account=account.username)},
        )
    held = {m.zone: m for m in onboarding.memberships(db, consumer.id)}
    membership = held.get(product.zone)
    if membership is None or membership.status == "rejected":
        membership = onboarding.apply_membership(
            db,
            city,
            consumer,
            product.zone,
            f"{purpose}：使用{product.item.name_zh}",
            actor=account.username,
            now=now,
        )
    if membership.status == "pending":
        onboarding.review_membership(
            db, membership.id, approve=True, reason="", actor=operator.username, now=now
        )
    application = channel_grants.apply_access(
        db,
        city,
        consumer,
        products=[code],
        fields=None,
        purpose=purpose,
        legal_basis=legal_basis,
        usage=usage,
        days=365,
        actor=account.username,
        now=now,
    )
    for provider in sorted(channel_grants.providers_to_review(city, application)):
        officer = next(
            (
                user
                for a in accounts
                if Role.officer in a.roles
                and a.department
                and city.department(a.department) == provider
                and (user := get_user_by_username(db, a.username)) is not None
            ),
            None,
        )
        if officer is None:
            raise LookupError(f"no demo officer of {provider}: add one to demo-accounts.yaml")
        channel_grants.review_access(
            db,
            city,
            application.code,
            decision="approve",
            reason="",
            actor=officer.username,
            department=officer.department,
            is_bureau=False,
            now=now,
        )
    channel_grants.review_access(
        db,
        city,
        application.code,
        decision="approve",
        reason="",
        actor=operator.username,
        department=operator.department,
        is_bureau=True,
        now=now,
    )
    return Prepared(account.username, institution, waiting, True)
