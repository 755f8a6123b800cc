"""The data channel over HTTP: the gateway (one endpoint per data product, API keys), and the
API behind the consumer console and the data bureau's review queue and dashboard."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from shuhui.core.clock import local_today, utcnow
from shuhui.core.db import transaction
from shuhui.core.errors import PROBLEM_TYPES, Problem, invalid
from shuhui.exchange import service
from shuhui.exchange.engine import Engine
from shuhui.exchange.models import (
    APPLICATION_STATES,
    CONSUMER_TYPES,
    AccessApplication,
    ApiKey,
    Consumer,
    Grant,
    Membership,
)
from shuhui.exchange.products import Product
from shuhui.exchange.schemas import (
    ApplicationIn,
    ApplicationReviewIn,
    ConsumerIn,
    KeyIn,
    KeyOut,
    MembershipIn,
    MembershipReviewIn,
    ResubmitIn,
    RevokeIn,
)
from shuhui.trust.identity.deps import DB, CurrentUser, require_role
from shuhui.trust.identity.models import Role, User

api = APIRouter(prefix="/api/v1/channel", tags=["data channel"])

ConsumerUser = Annotated[User, Depends(require_role(Role.consumer))]
Bureau = Annotated[User, Depends(require_role(Role.data_operator))]
Reviewer = Annotated[User, Depends(require_role(Role.data_operator, Role.officer))]
PROBLEM_JSON = "application/problem+json"


def exchange_of(request: Request) -> service.CityExchange:
    found: service.CityExchange = request.app.state.city_exchange
    return found


def engine_of(app: FastAPI) -> Engine:
    found: Engine = app.state.channel_engine
    return found


def consumer_of(db: Session, user: User) -> Consumer:
    """The organisation a consumer account acts for (registered once, by its credit code)."""
    if not user.credit_code:
        raise Problem("forbidden", detail="该账户未绑定机构统一社会信用代码")
    consumer = service.consumer_by_code(db, user.credit_code)
    if consumer is None:
        raise Problem("not-found", detail="本机构尚未登记为数据使用方，请先登记")
    return consumer


# --- shapes ---------------------------------------------------------------------------------


def consumer_out(c: Consumer) -> dict[str, Any]:
    return {
        "credit_code": c.credit_code,
        "name": c.name,
        "type": c.type,
        "type_zh": CONSUMER_TYPES[c.type][0],
        "contact_name": c.contact_name,
        "contact_phone": c.contact_phone,
        "contact_email": c.contact_email,
    }


def membership_out(m: Membership) -> dict[str, Any]:
    return {
        "id": m.id,
        "consumer": m.consumer.credit_code,
        "consumer_name": m.consumer.name,
        "zone": m.zone,
        "status": m.status,
        "statement": m.statement,
        "applied_at": m.applied_at.isoformat(),
        "reviewer": m.reviewer,
        "review_reason": m.review_reason,
    }


def application_out(a: AccessApplication) -> dict[str, Any]:
    return {
        "code": a.code,
        "consumer": a.consumer.credit_code,
        "consumer_name": a.consumer.name,
        "products": service.application_products(a),
        "fields": json.loads(a.fields),
        "purpose": a.purpose,
        "legal_basis": a.legal_basis,
        "usage": a.usage,
        "days": a.days,
        "status": a.status,
        "status_zh": APPLICATION_STATES[a.status][0],
        "submitted_at": a.submitted_at.isoformat(),
        "history": service.application_history(a),
    }


def grant_out(g: Grant) -> dict[str, Any]:
    return {
        "code": g.code,
        "consumer": g.consumer.credit_code,
        "products": service.application_products(g),
        "fields": json.loads(g.fields),
        "purpose": g.purpose,
        "usage": g.usage,
        "valid_from": g.valid_from.isoformat(),
        "valid_to": g.valid_to.isoformat(),
        "rate_per_minute": g.rate_per_minute,
        "monthly_quota": g.monthly_quota,
        "status": g.status,
        "active": service.grant_active(g, utcnow()),
        "revoked_reason": g.revoked_reason,
    }


def key_out(k: ApiKey, secret: str | None = None) -> KeyOut:
    return KeyOut(
        prefix=k.prefix,
        label=k.label,
        grants=json.loads(k.grants),
        created_at=k.created_at.isoformat(),
        expires_at=k.expires_at.isoformat(),
        revoked_at=None if k.revoked_at is None else k.revoked_at.isoformat(),
        replaced_by=k.replaced_by,
        secret=secret,
    )


def product_out(p: Product) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name_zh,
        "name_en": p.name_en,
        "kind": p.kind,
        "zone": p.zone,
        "provider": p.provider,
        "summary": p.summary,
        "consent": p.consent,
        "params": [
            {"name": x.name, "type": x.type, "required": x.required, "title": x.title_zh}
            for x in p.params
        ],
        "output": [{"name": f.name, "type": f.type, "title": f.title_zh} for f in p.output],
        "pricing": {
            "tiers": [{"up_to": t.up_to, "fen": t.fen} for t in p.tiers],
            "public_governance_fen": p.public_governance_fen,
        },
        "reference": p.item.reference,
        "endpoint": f"/api/v1/channel/products/{p.code}",
    }


# --- the API ----------------------------------------------------------------------------------


@api.get("/products", summary="The data products, their parameters, output and prices")
def list_products(request: Request) -> list[dict[str, Any]]:
    return [product_out(p) for p in exchange_of(request).products.in_force(date.today())]


@api.get("/zones", summary="The zones and who may join them")
def list_zones(request: Request) -> list[dict[str, Any]]:
    return [
        {
            "code": z.code,
            "name": z.name_zh,
            "name_en": z.name_en,
            "consumer_types": z.attrs.get("consumer_types", []),
            "reference": z.reference,
        }
        for z in exchange_of(request).zones
    ]


@api.post("/consumers", status_code=201, summary="Register the account's organisation")
def register(body: ConsumerIn, db: DB, user: ConsumerUser) -> dict[str, Any]:
    if not user.credit_code:
        raise invalid("credit_code", "the account has no organisation credit code")
    consumer = service.register_consumer(
        db, credit_code=user.credit_code, actor=user.username, **body.model_dump()
    )
    return consumer_out(consumer)


@api.get("/consumers/me", summary="The account's organisation")
def me(db: DB, user: ConsumerUser) -> dict[str, Any]:
    return consumer_out(consumer_of(db, user))


@api.post("/memberships", status_code=201, summary="Apply to join a zone")
def join(body: MembershipIn, request: Request, db: DB, user: ConsumerUser) -> dict[str, Any]:
    consumer = consumer_of(db, user)
    held = service.apply_membership(
        db, exchange_of(request), consumer, body.zone, body.statement, actor=user.username
    )
    return membership_out(held)


@api.get("/memberships", summary="Zone applications (a consumer's own; all for the bureau)")
def list_memberships(db: DB, user: CurrentUser) -> list[dict[str, Any]]:
    if Role.data_operator in user.role_set:
        return [membership_out(m) for m in service.memberships(db)]
    if Role.consumer in user.role_set:
        return [membership_out(m) for m in service.memberships(db, consumer_of(db, user).id)]
    raise Problem("forbidden", detail="需要以下角色之一：consumer、data_operator")


@api.post("/memberships/{membership_id}/review", summary="Approve or reject a zone application")
def review_join(
    membership_id: int, body: MembershipReviewIn, db: DB, user: Bureau
) -> dict[str, Any]:
    held = service.review_membership(
        db,
        membership_id,
        approve=body.decision == "approve",
        reason=body.reason,
        actor=user.username,
    )
    return membership_out(held)


@api.post("/applications", status_code=201, summary="Apply to use data products")
def apply(body: ApplicationIn, request: Request, db: DB, user: ConsumerUser) -> dict[str, Any]:
    application = service.apply_access(
        db, exchange_of(request), consumer_of(db, user), actor=user.username, **body.model_dump()
    )
    return application_out(application)


@api.get("/applications", summary="Access applications (own, or the reviewer's queue)")
def list_applications(request: Request, db: DB, user: CurrentUser) -> list[dict[str, Any]]:
    if Role.consumer in user.role_set:
        found = service.applications(db, consumer_id=consumer_of(db, user).id)
        return [application_out(a) for a in found]
    if user.role_set & {Role.data_operator, Role.officer}:
        exchange = exchange_of(request)
        is_bureau = Role.data_operator in user.role_set
        return [
            {
                **application_out(a),
                "my_step": service.reviewer_step(exchange, a, user.department, is_bureau),
            }
            for a in service.applications(db)
        ]
    raise Problem("forbidden", detail="需要以下角色之一：consumer、data_operator、officer")


@api.post("/applications/{code}/review", summary="Review: approve, reject or return")
def review(
    code: str, body: ApplicationReviewIn, request: Request, db: DB, user: Reviewer
) -> dict[str, Any]:
    application = service.review_access(
        db,
        exchange_of(request),
        code,
        decision=body.decision,
        reason=body.reason,
        actor=user.username,
        department=user.department if Role.officer in user.role_set else None,
        is_bureau=Role.data_operator in user.role_set,
        rate_per_minute=body.rate_per_minute,
        monthly_quota=body.monthly_quota,
    )
    return application_out(application)


@api.post("/applications/{code}/resubmit", summary="Complete a returned application")
def resubmit(
    code: str, body: ResubmitIn, request: Request, db: DB, user: ConsumerUser
) -> dict[str, Any]:
    application = service.resubmit(
        db,
        exchange_of(request),
        code,
        consumer_of(db, user),
        legal_basis=body.legal_basis,
        note=body.note,
        actor=user.username,
    )
    return application_out(application)


@api.get("/grants", summary="Grants (a consumer's own; all for the bureau)")
def list_grants(db: DB, user: CurrentUser) -> list[dict[str, Any]]:
    if Role.data_operator in user.role_set:
        return [grant_out(g) for g in service.grants(db)]
    if Role.consumer in user.role_set:
        return [grant_out(g) for g in service.grants(db, consumer_of(db, user).id)]
    raise Problem("forbidden", detail="需要以下角色之一：consumer、data_operator")


@api.post("/grants/{code}/revoke", summary="Revoke a grant")
def revoke_grant(code: str, body: RevokeIn, db: DB, user: Bureau) -> dict[str, Any]:
    return grant_out(service.revoke_grant(db, code, reason=body.reason, actor=user.username))


@api.post("/keys", status_code=201, summary="Issue an API key (the secret is shown once)")
def issue_key(body: KeyIn, db: DB, user: ConsumerUser) -> KeyOut:
    key, secret = service.issue_key(
        db,
        consumer_of(db, user),
        grant_codes=body.grants,
        label=body.label,
        days=body.days,
        actor=user.username,
    )
    return key_out(key, secret)


@api.get("/keys", summary="The organisation's keys (never their secrets)")
def list_keys(db: DB, user: ConsumerUser) -> list[KeyOut]:
    return [key_out(k) for k in service.keys(db, consumer_of(db, user).id)]


@api.post("/keys/{prefix}/rotate", summary="Replace a key; the old one stops at once")
def rotate_key(prefix: str, db: DB, user: ConsumerUser) -> KeyOut:
    key, secret = service.rotate_key(db, consumer_of(db, user), prefix, actor=user.username)
    return key_out(key, secret)


@api.post("/keys/{prefix}/revoke", summary="Revoke a key")
def revoke_key(prefix: str, db: DB, user: ConsumerUser) -> KeyOut:
    return key_out(service.revoke_key(db, consumer_of(db, user), prefix, actor=user.username))


@api.get("/usage", summary="Calls per day and product, answered and refused")
def usage(db: DB, user: ConsumerUser, days: int = 30) -> list[dict[str, Any]]:
    if not 1 <= days <= 366:
        raise invalid("days", "1-366")
    since = utcnow() - timedelta(days=days)
    return service.usage_by_day(db, consumer_of(db, user).id, since)


def parse_month(month: str) -> date:
    try:
        parsed = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise invalid("month", "YYYY-MM") from None
    return parsed


@api.get("/statements/{month}", summary="A month's statement (YYYY-MM)")
def statement(month: str, request: Request, db: DB, user: ConsumerUser) -> dict[str, Any]:
    found = service.statement(db, exchange_of(request), consumer_of(db, user), parse_month(month))
    return statement_out(found)


@api.get(
    "/statements/{month}/sealed",
    summary="An issued statement as sealed: the document's exact text and its e-seal envelope",
)
def sealed_statement(month: str, request: Request, db: DB, user: ConsumerUser) -> dict[str, Any]:
    found = service.statement(db, exchange_of(request), consumer_of(db, user), parse_month(month))
    if found.issued is None:
        raise Problem("not-found", detail=f"{month} 的对账单尚未出具 (not issued yet)")
    return {
        "code": found.issued.code,
        "document": found.issued.document,
        "seal": json.loads(found.issued.seal),
    }


@api.post(
    "/statements/{month}/issue",
    summary="Issue the month's statements (the data bureau; only a month that is over)",
)
def issue_statements(month: str, request: Request, db: DB, user: Bureau) -> dict[str, Any]:
    done = service.issue_statements(
        db,
        exchange_of(request),
        Path(request.app.state.settings.data_dir),
        parse_month(month),
        actor=user.username,
    )
    return {
        "month": month,
        "issued": [
            {"code": x.code, "consumer_id": x.consumer_id, "total_fen": x.total_fen}
            for x in done.issued
        ],
        "already_issued": done.already,
    }


def statement_out(s: service.Statement) -> dict[str, Any]:
    out: dict[str, Any] = service.statement_body(s)
    out["issued"] = (
        None
        if s.issued is None
        else {
            "code": s.issued.code,
            "issued_at": s.issued.issued_at.isoformat(),
            "issued_by": s.issued.issued_by,
            "seal": {"code": service.BILLING_SEAL, "name": service.BILLING_SEAL_NAME},
        }
    )
    return out


@api.get("/dashboard", summary="Calls by zone, product and consumer; refusals by reason")
def dashboard(db: DB, user: Bureau, days: int = 30) -> dict[str, Any]:
    if not 1 <= days <= 366:
        raise invalid("days", "1-366")
    return service.dashboard(db, utcnow() - timedelta(days=days))


# --- the gateway ------------------------------------------------------------------------------


def _decide(app: FastAPI, api_key: str | None, product: str, payload: Any) -> service.Pending:
    with transaction(app.state.session_factory) as db:
        return service.decide_call(
            db,
            app.state.city_exchange,
            engine_of(app),
            api_key=api_key,
            product_code=product,
            payload=payload,
            keys=app.state.channel_keys,
        )


def _decides_at_once(app: FastAPI, code: str) -> bool:
    """Whether the call is decided on the event loop rather than handed to a thread: when the
    operational database is SQLite (reads are local, microseconds, and never wait for a
    writer in WAL mode) and the product answers from a table already prepared and checked.
    The decision then takes about a millisecond of CPU and waits for nothing, and handing it
    to a thread and back cost about a tenth of a call's CPU (measured). Anything that may
    wait — PostgreSQL's round trips, preparing a table, reading the data core for open
    data — goes to the channel's threads."""
    if not app.state.channel_local_db:
        return False
    product = app.state.city_exchange.products.get(code)
    if product is None or product.kind == "open":
        return False
    return engine_of(app).ready(product, local_today(utcnow()))


async def call_product(request: Request, product: str) -> Response:
    body = await request.body()
    try:
        payload: Any = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        payload = None  # answered as a 422 naming the body, and metered
    app = request.app
    api_key = request.headers.get("x-api-key")
    if _decides_at_once(app, product):
        pending = _decide(app, api_key, product, payload)
    else:
        # The channel's own threads: a plain executor hands work over with less overhead than
        # the general thread pool (about 5 % of a call's CPU, measured).
        pending = await asyncio.get_running_loop().run_in_executor(
            app.state.channel_deciders, _decide, app, api_key, product, payload
        )
    # Recorded by the process's writer with the calls waiting alongside (shuhui.exchange.writes).
    outcome: service.Outcome = await asyncio.wrap_future(app.state.channel_writer.submit(pending))
    return JSONResponse(
        outcome.body,
        status_code=outcome.status,
        headers=outcome.headers,
        media_type=PROBLEM_JSON if outcome.status >= 400 else "application/json",
    )


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; refusals also carry `reason` (a stable code) and "
    "`reason_zh`",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "reason": {"type": "string", "enum": list(service.REASONS)},
        "reason_zh": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}


def _responses() -> dict[int | str, dict[str, Any]]:
    def problem(slug: str, why: str) -> dict[str, Any]:
        return {
            "description": f"{PROBLEM_TYPES[slug].title}: {why}",
            "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
        }

    return {
        200: {"description": "The computed answer, its grant and its SHA-256"},
        401: problem("unauthenticated", "no key, a wrong, revoked or expired key"),
        403: problem(
            "forbidden",
            "outside the grant's products or purpose, not a zone member, or "
            "(authorisation-refused) without the subject's authorisation",
        ),
        404: problem("not-found", "no such product"),
        422: problem("validation", "a parameter is missing or malformed; `errors` names it"),
        429: problem("rate-limited", "rate limit or monthly quota used up; see Retry-After"),
    }


def _endpoint(code: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await call_product(request, code)

    endpoint.__name__ = f"call_{code.replace('-', '_')}"
    return endpoint


def gateway_router(exchange: service.CityExchange) -> APIRouter:
    """One documented endpoint per product (its parameters in the request schema), and a
    catch-all that answers unknown products the same way (metered, in the ledger)."""
    router = APIRouter(prefix="/api/v1/channel/products", tags=["data channel: products"])
    for product in exchange.products:
        schema = {
            "type": "object",
            "required": ["purpose", "params"],
            "properties": {
                "purpose": {"type": "string", "description": "the grant's purpose"},
                "params": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [p.name for p in product.params if p.required],
                    "properties": {p.name: p.json_schema() for p in product.params},
                },
            },
        }
        consent = (
            f" Needs the subject's certificate-use authorisation of type {product.consent}."
            if product.consent
            else ""
        )
        router.add_api_route(
            f"/{product.code}",
            _endpoint(product.code),
            methods=["POST"],
            name=f"channel_{product.code}",
            summary=f"{product.name_zh} · {product.name_en}",
            description=(
                f"{product.summary}\n\nKind: {product.kind}; zone: {product.zone}; provider: "
                f"{product.provider}. Needs `X-API-Key`; the call's purpose must be the "
                f"grant's.{consent}"
            ),
            responses=_responses(),
            response_class=JSONResponse,
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": schema}},
                },
                "parameters": [
                    {
                        "name": "X-API-Key",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
            },
        )
    router.add_api_route("/{product}", call_product, methods=["POST"], include_in_schema=False)
    return router
