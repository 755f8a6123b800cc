"""Access to data products: applications for a purpose, reviewed by each providing department
and then by the data bureau, whose approval makes the grant; grants revoked.

A hosted product's provider is an organisation, not a department (:mod:`shuhui.channel.hosted`):
with conditional terms it reviews in the same first round as the departments (the
``provider`` step, taken by an account acting for that organisation's credit code), and the
bureau decides after every provider has agreed. The bureau keeps the last word for hosted data
too: the channel is the city's, and its grant is what checks the consumer's zone, purpose and
legal basis and sets its rate and quota — the provider decides whether its data is used, the
bureau whether the channel carries that use."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shuhui.channel.city import CityChannel
from shuhui.channel.common import as_json, bump, new_code
from shuhui.channel.models import APPLICATION_STATES, USAGES, AccessApplication, Consumer, Grant
from shuhui.channel.onboarding import member_zones
from shuhui.core.clock import as_utc, local_today, utcnow
from shuhui.core.errors import Problem, invalid
from shuhui.core.i18n import Text, codes
from shuhui.trust.authorisations import service as authorisations
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role
from shuhui.trust.ledger import service as ledger

# How a providing organisation (a hosted product's, by credit code) stands among the reviewers
# an application waits for, beside the departments (named by their short names).
ORGANISATION: Final = "org:"
DEFAULT_RATE_PER_MINUTE: Final = 600
DEFAULT_MONTHLY_QUOTA: Final = 1_000_000
MAX_PRIVACY_BUDGET: Final = 100.0  # ε per product and table version a reviewer may grant
MAX_DAYS: Final = 3 * 366


def apply_access(
    db: Session,
    city: CityChannel,
    consumer: Consumer,
    *,
    products: Sequence[str],
    fields: dict[str, list[str]] | None,
    purpose: str,
    legal_basis: str,
    usage: str,
    days: int,
    actor: str,
    now: datetime | None = None,
) -> AccessApplication:
    """Applies to use products for one purpose; the providing department reviews first."""
    now = as_utc(now or utcnow())
    wanted = _check_products(city, products, local_today(now))
    zones = member_zones(db, consumer.id)
    for code in wanted:
        zone = city.products.by_code[code].zone
        if zone not in zones:
            raise invalid("products", f"{code}: 须先加入{city.zones.by_code[zone].name_zh}")
    chosen = _check_fields(city, wanted, fields or {})
    text = authorisations.normalise_purpose(purpose)
    if not text:
        raise invalid("purpose", Text("必须填写", "required"))
    if not legal_basis.strip() or len(legal_basis) > 1024:
        raise invalid("legal_basis", Text("1 到 1024 个字", "1-1024 characters"))
    if usage not in USAGES:
        raise invalid(
            "usage", Text("必须是以下之一：" + codes(USAGES), f"one of {', '.join(USAGES)}")
        )
    if not 1 <= days <= MAX_DAYS:
        raise invalid("days", f"1-{MAX_DAYS}")
    application = AccessApplication(
        code=new_code("SQ", now),
        consumer_id=consumer.id,
        products=as_json(wanted),
        fields=as_json(chosen),
        purpose=text,
        legal_basis=legal_basis.strip(),
        usage=usage,
        days=days,
        status="department_review",
        applicant=actor,
        submitted_at=now,
        history=as_json([{"at": now.isoformat(), "by": actor, "step": "submitted"}]),
    )
    application.status = first_status(city, application)
    db.add(application)
    db.flush()
    ledger.record(
        db,
        actor,
        "channel.application.submitted",
        purpose=text,
        detail={
            "application": application.code,
            "consumer": consumer.credit_code,
            "products": wanted,
            "usage": usage,
        },
    )
    return application


def _check_products(city: CityChannel, products: Sequence[str], today: date) -> list[str]:
    wanted = sorted(set(products))
    if not wanted:
        raise invalid("products", Text("至少选择一个产品", "at least one product"))
    for code in wanted:
        product = city.products.get(code)
        if product is None or not product.in_force(today):
            raise invalid("products", Text(f"没有编号为 {code} 的产品", f"{code}: no such product"))
    return wanted


def _check_fields(
    city: CityChannel, products: list[str], fields: dict[str, list[str]]
) -> dict[str, list[str]]:
    """The output fields asked for, per product (all of them where none are named)."""
    chosen: dict[str, list[str]] = {}
    for code, names in fields.items():
        if code not in products:
            raise invalid(
                "fields",
                Text(
                    f"{code} 不在所申请的产品之中", f"{code}: not one of the products applied for"
                ),
            )
        known = city.products.by_code[code].output_names
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise invalid(
                "fields",
                Text(
                    f"产品 {code} 没有这些输出字段：{codes(unknown)}",
                    f"{code}: no output field {', '.join(unknown)}",
                ),
            )
    for code in products:
        names = fields.get(code) or list(city.products.by_code[code].output_names)
        chosen[code] = sorted(set(names))
    return chosen


def application_products(application: AccessApplication | Grant) -> list[str]:
    return list(json.loads(application.products))


def application_history(application: AccessApplication) -> list[dict[str, Any]]:
    return list(json.loads(application.history))


def _approved_by(short: str, recorded: str) -> bool:
    """Whether a department step recorded in an application's history is that department's.
    Steps are recorded with the department's short name; those recorded before the short names
    came from content hold the name less its city prefix ("卫生健康委员会" for 市卫生健康委员会),
    and stored history is not rewritten, so they still count as that department's."""
    return bool(recorded) and (recorded == short or short.endswith(recorded))


def organisation_reviewer(credit_code: str) -> str:
    """A providing organisation as :func:`providers_to_review` names it."""
    return ORGANISATION + credit_code


def providers_to_review(city: CityChannel, application: AccessApplication) -> set[str]:
    """The providers that must still approve: the departments of its products that are not
    open data (short names), and the organisations of its hosted products whose terms ask
    for their review (:func:`organisation_reviewer`), less those that approved since the
    application was last submitted."""
    needed: set[str] = set()
    for code in application_products(application):
        product = city.products.by_code.get(code)
        if product is None or product.kind == "open":
            continue
        if product.kind == "hosted":
            if product.provider_reviews and product.provider_code:
                needed.add(organisation_reviewer(product.provider_code))
        else:
            needed.add(city.department(product.provider))
    for step in reversed(application_history(application)):
        if step.get("step") in ("submitted", "resubmitted"):
            break
        if step.get("decision") != "approve":
            continue
        if step.get("step") == "department":
            recorded = str(step.get("department", ""))
            needed = {d for d in needed if not _approved_by(d, recorded)}
        elif step.get("step") == "provider":
            needed.discard(organisation_reviewer(str(step.get("organisation", ""))))
    return needed


def providing_departments(city: CityChannel, application: AccessApplication) -> set[str]:
    """The departments (short names) whose data the application's products are made from."""
    return {
        city.department(product.provider)
        for code in application_products(application)
        if (product := city.products.by_code.get(code)) is not None and product.kind != "hosted"
    }


def providing_organisations(city: CityChannel, application: AccessApplication) -> set[str]:
    """The organisations (credit codes) whose hosted data the application's products are."""
    return {
        product.provider_code
        for code in application_products(application)
        if (product := city.products.by_code.get(code)) is not None
        and product.provider_code is not None
    }


def visible_to(
    city: CityChannel,
    application: AccessApplication,
    department: str | None,
    is_bureau: bool,
    organisation: str | None = None,
) -> bool:
    """Whether a reviewer may see an application, its purpose and legal basis: the data bureau
    (the channel's owner) every one, an officer those made of their department's data, an
    organisation those made of the data it hosts."""
    if is_bureau:
        return True
    if organisation and organisation in providing_organisations(city, application):
        return True
    return bool(department) and city.department(department or "") in providing_departments(
        city, application
    )


def reviewer_scope(user: User) -> tuple[str | None, bool]:
    """What a reviewer reviews for: an officer's department, and whether the user is the data
    bureau (who sees every application)."""
    department = user.department if Role.officer in user.role_set else None
    return department, Role.data_operator in user.role_set


def reviewer_applications(
    db: Session,
    city: CityChannel,
    department: str | None,
    is_bureau: bool,
    organisation: str | None = None,
) -> list[AccessApplication]:
    """The applications a reviewer sees (:func:`visible_to`), newest first."""
    return [a for a in applications(db) if visible_to(city, a, department, is_bureau, organisation)]


def reviewer_application(
    db: Session,
    city: CityChannel,
    code: str,
    department: str | None,
    is_bureau: bool,
    organisation: str | None = None,
) -> AccessApplication:
    """One application as a reviewer may see it: another department's is not found, as if
    it did not exist (its code says nothing to an officer it does not concern)."""
    application = application_by_code(db, code)
    if not visible_to(city, application, department, is_bureau, organisation):
        raise Problem("not-found", detail=f"没有申请 {code}")
    return application


def first_status(city: CityChannel, application: AccessApplication) -> str:
    """Open data needs no provider's consent: the bureau alone reviews its use."""
    return "department_review" if providers_to_review(city, application) else "bureau_review"


def reviewer_step(
    city: CityChannel,
    application: AccessApplication,
    department: str | None,
    is_bureau: bool,
    organisation: str | None = None,
) -> str | None:
    """Which step this reviewer may take now: 'department' for an officer of a providing
    department that has not approved yet, 'provider' for an organisation whose hosted data
    it is and whose review its terms ask for, while the application awaits the providers
    (each of them must approve); 'bureau' for the data bureau after that."""
    if application.status == "bureau_review" and is_bureau:
        return "bureau"
    if application.status != "department_review" or not (department or organisation):
        return None
    needed = providers_to_review(city, application)
    if organisation and organisation_reviewer(organisation) in needed:
        return "provider"
    if department and city.department(department) in needed:
        return "department"
    return None


def review_access(
    db: Session,
    city: CityChannel,
    code: str,
    *,
    decision: str,
    reason: str,
    actor: str,
    department: str | None,
    is_bureau: bool,
    organisation: str | None = None,
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE,
    monthly_quota: int = DEFAULT_MONTHLY_QUOTA,
    privacy_budget: float | None = None,
    now: datetime | None = None,
) -> AccessApplication:
    """approve | reject | return, by the providing departments and organisations
    (``organisation``: the credit code a hosted product's provider reviews for) and then the
    data bureau; the bureau's approval makes the grant. ``privacy_budget``: the ε the consumer
    may spend on each noised product per version of its tables (None: each product's
    default)."""
    now = as_utc(now or utcnow())
    application = reviewer_application(db, city, code, department, is_bureau, organisation)
    step = reviewer_step(city, application, department, is_bureau, organisation)
    if step is None:
        raise Problem(
            "forbidden",
            detail=f"该申请处于“{APPLICATION_STATES[application.status][0]}”，您不能审核",
        )
    if decision not in ("approve", "reject", "return"):
        raise invalid("decision", Text("请选择批准、驳回或退回", "approve, reject or return"))
    if decision != "approve" and not reason.strip():
        raise invalid("reason", Text("驳回或退回时请说明原因", "a rejection or return says why"))
    if len(reason) > 1024:
        raise invalid("reason", Text("最多 1024 个字", "at most 1024 characters"))
    if not 1 <= rate_per_minute <= 100_000:
        raise invalid("rate_per_minute", "1-100000")
    if not 1 <= monthly_quota <= 100_000_000:
        raise invalid("monthly_quota", "1-100000000")
    if privacy_budget is not None:
        _check_privacy_budget(city, application, privacy_budget)
    history = application_history(application)
    entry: dict[str, Any] = {
        "at": now.isoformat(),
        "by": actor,
        "step": step,
        "decision": decision,
        "reason": reason.strip(),
    }
    if step == "department":
        assert department is not None
        entry["department"] = city.department(department)
    elif step == "provider":
        assert organisation is not None
        entry["organisation"] = organisation
    history.append(entry)
    application.history = as_json(history)
    if decision == "reject":
        application.status = "rejected"
    elif decision == "return":
        application.status = "returned"
    elif step in ("department", "provider"):
        # The bureau reviews once every providing department and organisation has approved.
        if not providers_to_review(city, application):
            application.status = "bureau_review"
    else:
        application.status = "approved"
        grant = Grant(
            code=new_code("SQX", now),
            consumer_id=application.consumer_id,
            products=application.products,
            fields=application.fields,
            purpose=application.purpose,
            usage=application.usage,
            valid_from=now,
            valid_to=now + timedelta(days=application.days),
            rate_per_minute=rate_per_minute,
            monthly_quota=monthly_quota,
            privacy_budget=privacy_budget,
            status="active",
            granted_at=now,
        )
        db.add(grant)
        db.flush()
        bump(db)
        application.grant_id = grant.id
        ledger.record(
            db,
            actor,
            "channel.grant.issued",
            purpose=grant.purpose,
            grant=grant.code,
            detail={
                "application": application.code,
                "consumer": application.consumer.credit_code,
                "products": application_products(application),
                "usage": grant.usage,
                "valid_to": grant.valid_to.isoformat(),
                "privacy_budget": None if privacy_budget is None else f"{privacy_budget:g}",
            },
        )
    db.flush()
    ledger.record(
        db,
        actor,
        f"channel.application.{decision}",
        purpose=application.purpose,
        detail={"application": application.code, "step": step, "reason": reason.strip()},
    )
    return application


def _check_privacy_budget(
    city: CityChannel, application: AccessApplication, epsilon: float
) -> None:
    """A budget is a positive ε no larger than the cap, and allows at least one query of each
    noised product applied for."""
    if not 0 < epsilon <= MAX_PRIVACY_BUDGET:  # NaN fails this too
        raise invalid(
            "privacy_budget",
            Text(
                f"应大于 0、不超过 {MAX_PRIVACY_BUDGET:g}",
                f"above 0, at most {MAX_PRIVACY_BUDGET:g}",
            ),
        )
    products = [city.products.get(code) for code in application_products(application)]
    per_query = max((p.privacy.epsilon or 0.0 for p in products if p is not None), default=0.0)
    if epsilon < per_query:
        raise invalid(
            "privacy_budget",
            Text(
                f"至少为一次查询的隐私损失 ε = {per_query:g}",
                f"at least one query's epsilon ({per_query:g})",
            ),
        )


def resubmit(
    db: Session,
    city: CityChannel,
    code: str,
    consumer: Consumer,
    *,
    legal_basis: str,
    note: str,
    actor: str,
    now: datetime | None = None,
) -> AccessApplication:
    """A returned application, completed, goes back to the providing department."""
    now = as_utc(now or utcnow())
    application = db.scalar(select(AccessApplication).where(AccessApplication.code == code))
    if application is None or application.consumer_id != consumer.id:
        raise Problem("not-found", detail=f"没有申请 {code}")
    if application.status != "returned":
        raise Problem("conflict", detail="只有退回的申请可以补充后重新提交")
    if not legal_basis.strip() or len(legal_basis) > 1024:
        raise invalid("legal_basis", Text("1 到 1024 个字", "1-1024 characters"))
    application.legal_basis = legal_basis.strip()
    history = application_history(application)
    history.append(
        {"at": now.isoformat(), "by": actor, "step": "resubmitted", "reason": note.strip()}
    )
    application.history = as_json(history)
    application.status = first_status(city, application)
    ledger.record(db, actor, "channel.application.resubmitted", detail={"application": code})
    return application


def applications(
    db: Session, *, consumer_id: int | None = None, statuses: Sequence[str] | None = None
) -> list[AccessApplication]:
    query = select(AccessApplication).order_by(AccessApplication.submitted_at.desc())
    if consumer_id is not None:
        query = query.where(AccessApplication.consumer_id == consumer_id)
    if statuses:
        query = query.where(AccessApplication.status.in_(statuses))
    return list(db.scalars(query))


def grants(db: Session, consumer_id: int | None = None) -> list[Grant]:
    query = select(Grant).order_by(Grant.granted_at.desc())
    if consumer_id is not None:
        query = query.where(Grant.consumer_id == consumer_id)
    return list(db.scalars(query))


def revoke_grant(
    db: Session, code: str, *, reason: str, actor: str, now: datetime | None = None
) -> Grant:
    now = as_utc(now or utcnow())
    grant = db.scalar(select(Grant).where(Grant.code == code))
    if grant is None:
        raise Problem("not-found", detail=f"没有授权 {code}")
    if grant.status != "active":
        raise Problem("conflict", detail="该授权已撤销")
    if not reason.strip():
        raise invalid("reason", Text("撤销时请说明原因", "a revocation says why"))
    grant.status, grant.revoked_at, grant.revoked_reason = "revoked", now, reason.strip()
    bump(db)
    ledger.record(db, actor, "channel.grant.revoked", grant=code, detail={"reason": reason.strip()})
    return grant


def approved_purposes(
    db: Session, city: CityChannel, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Each consumer's purposes approved by a grant in force, word for word as a call must state
    them, with the products about a person they cover and the certificate-use type each needs
    (what the person's authorisation must name). Grants of open or aggregate products only are
    left out: no person authorises those."""
    now = as_utc(now or utcnow())
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for grant in db.scalars(select(Grant).where(Grant.status == "active").order_by(Grant.id)):
        if not grant_active(grant, now):
            continue
        about_people = [
            p
            for p in (city.products.get(code) for code in application_products(grant))
            if p is not None and p.consent is not None
        ]
        if not about_people:
            continue
        key = (grant.consumer.credit_code, grant.purpose)
        row = found.setdefault(
            key,
            {
                "credit_code": grant.consumer.credit_code,
                "consumer_name": grant.consumer.name,
                "purpose": grant.purpose,
                "products": [],
                "certificate_types": [],
            },
        )
        for p in about_people:
            if p.name_zh not in row["products"]:
                row["products"].append(p.name_zh)
            if p.consent not in row["certificate_types"]:
                row["certificate_types"].append(p.consent)
    return list(found.values())


def grant_by_code(db: Session, code: str) -> Grant:
    grant = db.scalar(select(Grant).where(Grant.code == code))
    if grant is None:
        raise Problem("not-found", detail=f"没有授权 {code}")
    return grant


def application_by_code(db: Session, code: str) -> AccessApplication:
    application = db.scalar(select(AccessApplication).where(AccessApplication.code == code))
    if application is None:
        raise Problem("not-found", detail=f"没有申请 {code}")
    return application


def grant_active(grant: Grant, now: datetime) -> bool:
    return grant.status == "active" and grant.valid_from <= now < grant.valid_to
