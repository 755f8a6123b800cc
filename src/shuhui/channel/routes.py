"""The data channel over HTTP: the gateway (one endpoint per data product, API keys), and the
API behind the consumer console and the data bureau's review queue and dashboard. The gateway's
outcome becomes a response here: its status, and the rate-limit and quota headers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session, sessionmaker

from shuhui.channel import billing, calls, gateway, grants, keys, onboarding, payload, privacy
from shuhui.channel.city import CityChannel
from shuhui.channel.deps import (
    Bureau,
    ConsumerUser,
    Reviewer,
    city_now,
    city_of,
    consumer_of,
    engine_of,
    parse_month,
)
from shuhui.channel.schemas import (
    ApplicationIn,
    ApplicationReviewIn,
    ConsumerIn,
    KeyIn,
    KeyOut,
    MembershipIn,
    MembershipReviewIn,
    ResubmitIn,
    RevokeIn,
    ShownDays,
    application_out,
    consumer_out,
    grant_out,
    key_out,
    membership_out,
    product_out,
    statement_out,
)
from shuhui.core.bounds import Id, Month
from shuhui.core.clock import local_today, utcnow
from shuhui.core.db import reads_factory, transaction
from shuhui.core.errors import PROBLEM_TYPES, Problem, invalid
from shuhui.core.i18n import Text
from shuhui.core.requestbody import accepts
from shuhui.trust.identity.deps import DB, CurrentUser
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role, roles_needed

api = APIRouter(prefix="/api/v1/channel", tags=["data channel"])

PROBLEM_JSON = "application/problem+json"


# --- the API ----------------------------------------------------------------------------------


@api.get("/products", summary="The data products, their parameters, output and prices")
def list_products(request: Request, db: DB) -> list[dict[str, Any]]:
    today = local_today(utcnow())
    return [product_out(p) for p in city_now(request, db).products.in_force(today)]


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
        for z in city_of(request).zones
    ]


@api.post("/consumers", status_code=201, summary="Register the account's organisation")
def register(body: ConsumerIn, db: DB, user: ConsumerUser) -> dict[str, Any]:
    if not user.credit_code:
        raise invalid(
            "credit_code",
            Text(
                "这个账户没有登记单位的统一社会信用代码",
                "the account has no organisation credit code",
            ),
        )
    consumer = onboarding.register_consumer(
        db, credit_code=user.credit_code, actor=user.username, **body.model_dump()
    )
    return consumer_out(consumer)


@api.get("/consumers/me", summary="The account's organisation")
def me(db: DB, user: ConsumerUser) -> dict[str, Any]:
    return consumer_out(consumer_of(db, user))


@api.post("/memberships", status_code=201, summary="Apply to join a zone")
def join(body: MembershipIn, request: Request, db: DB, user: ConsumerUser) -> dict[str, Any]:
    consumer = consumer_of(db, user)
    held = onboarding.apply_membership(
        db, city_now(request, db), consumer, body.zone, body.statement, actor=user.username
    )
    return membership_out(held)


@api.get("/memberships", summary="Zone applications (a consumer's own; all for the bureau)")
def list_memberships(db: DB, user: CurrentUser) -> list[dict[str, Any]]:
    if Role.data_operator in user.role_set:
        return [membership_out(m) for m in onboarding.memberships(db)]
    if Role.consumer in user.role_set:
        return [membership_out(m) for m in onboarding.memberships(db, consumer_of(db, user).id)]
    raise Problem("forbidden", detail=roles_needed(Role.consumer, Role.data_operator))


@api.post("/memberships/{membership_id}/review", summary="Approve or reject a zone application")
def review_join(
    membership_id: Id, body: MembershipReviewIn, db: DB, user: Bureau
) -> dict[str, Any]:
    held = onboarding.review_membership(
        db,
        membership_id,
        approve=body.decision == "approve",
        reason=body.reason,
        actor=user.username,
    )
    return membership_out(held)


@api.post("/applications", status_code=201, summary="Apply to use data products")
def apply(body: ApplicationIn, request: Request, db: DB, user: ConsumerUser) -> dict[str, Any]:
    application = grants.apply_access(
        db, city_now(request, db), consumer_of(db, user), actor=user.username, **body.model_dump()
    )
    return application_out(application)


def _reviewer(user: User) -> tuple[str | None, bool]:
    """An officer's department and whether the user is the data bureau; refused for anyone
    who is neither (nor the consumer, who is answered before this is asked)."""
    if not user.role_set & {Role.data_operator, Role.officer}:
        raise Problem(
            "forbidden", detail=roles_needed(Role.consumer, Role.data_operator, Role.officer)
        )
    return grants.reviewer_scope(user)


@api.get(
    "/applications",
    summary="Access applications (own; an officer's department's; all for the bureau)",
)
def list_applications(request: Request, db: DB, user: CurrentUser) -> list[dict[str, Any]]:
    if Role.consumer in user.role_set:
        found = grants.applications(db, consumer_id=consumer_of(db, user).id)
        return [application_out(a) for a in found]
    department, is_bureau = _reviewer(user)
    city = city_now(request, db)
    return [
        {**application_out(a), "my_step": grants.reviewer_step(city, a, department, is_bureau)}
        for a in grants.reviewer_applications(db, city, department, is_bureau)
    ]


@api.get(
    "/applications/{code}",
    summary="One access application (own; an officer's department's; any for the bureau)",
)
def get_application(code: str, request: Request, db: DB, user: CurrentUser) -> dict[str, Any]:
    if Role.consumer in user.role_set:
        found = grants.application_by_code(db, code)
        if found.consumer_id != consumer_of(db, user).id:
            raise Problem("not-found", detail=f"没有申请 {code}")
        return application_out(found)
    department, is_bureau = _reviewer(user)
    city = city_now(request, db)
    found = grants.reviewer_application(db, city, code, department, is_bureau)
    return {
        **application_out(found),
        "my_step": grants.reviewer_step(city, found, department, is_bureau),
    }


@api.post("/applications/{code}/review", summary="Review: approve, reject or return")
def review(
    code: str, body: ApplicationReviewIn, request: Request, db: DB, user: Reviewer
) -> dict[str, Any]:
    application = grants.review_access(
        db,
        city_now(request, db),
        code,
        decision=body.decision,
        reason=body.reason,
        actor=user.username,
        department=user.department if Role.officer in user.role_set else None,
        is_bureau=Role.data_operator in user.role_set,
        rate_per_minute=body.rate_per_minute,
        monthly_quota=body.monthly_quota,
        privacy_budget=body.privacy_budget,
    )
    return application_out(application)


@api.post("/applications/{code}/resubmit", summary="Complete a returned application")
def resubmit(
    code: str, body: ResubmitIn, request: Request, db: DB, user: ConsumerUser
) -> dict[str, Any]:
    application = grants.resubmit(
        db,
        city_now(request, db),
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
        return [grant_out(g) for g in grants.grants(db)]
    if Role.consumer in user.role_set:
        return [grant_out(g) for g in grants.grants(db, consumer_of(db, user).id)]
    raise Problem("forbidden", detail=roles_needed(Role.consumer, Role.data_operator))


@api.post("/grants/{code}/revoke", summary="Revoke a grant")
def revoke_grant(code: str, body: RevokeIn, db: DB, user: Bureau) -> dict[str, Any]:
    return grant_out(grants.revoke_grant(db, code, reason=body.reason, actor=user.username))


@api.post("/keys", status_code=201, summary="Issue an API key (the secret is shown once)")
def issue_key(body: KeyIn, db: DB, user: ConsumerUser) -> KeyOut:
    key, secret = keys.issue_key(
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
    return [key_out(k) for k in keys.consumer_keys(db, consumer_of(db, user).id)]


@api.post("/keys/{prefix}/rotate", summary="Replace a key; the old one stops at once")
def rotate_key(prefix: str, db: DB, user: ConsumerUser) -> KeyOut:
    key, secret = keys.rotate_key(db, consumer_of(db, user), prefix, actor=user.username)
    return key_out(key, secret)


@api.post("/keys/{prefix}/revoke", summary="Revoke a key")
def revoke_key(prefix: str, db: DB, user: ConsumerUser) -> KeyOut:
    return key_out(keys.revoke_key(db, consumer_of(db, user), prefix, actor=user.username))


@api.get("/usage", summary="Calls per day and product, answered and refused")
def usage(db: DB, user: ConsumerUser, days: ShownDays = 30) -> list[dict[str, Any]]:
    since = utcnow() - timedelta(days=days)
    return billing.usage_by_day(db, consumer_of(db, user).id, since)


@api.get("/statements/{month}", summary="A month's statement (YYYY-MM)")
def statement(month: Month, request: Request, db: DB, user: ConsumerUser) -> dict[str, Any]:
    found = billing.statement(db, city_now(request, db), consumer_of(db, user), parse_month(month))
    return statement_out(found)


@api.get(
    "/statements/{month}/sealed",
    summary="An issued statement as sealed: the document's exact text and its e-seal envelope",
)
def sealed_statement(month: Month, request: Request, db: DB, user: ConsumerUser) -> dict[str, Any]:
    found = billing.statement(db, city_now(request, db), consumer_of(db, user), parse_month(month))
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
def issue_statements(month: Month, request: Request, db: DB, user: Bureau) -> dict[str, Any]:
    done = billing.issue_statements(
        db,
        city_now(request, db),
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


@api.get("/dashboard", summary="Calls by zone, product and consumer; refusals by reason")
def dashboard(db: DB, user: Bureau, days: ShownDays = 30) -> dict[str, Any]:
    return billing.dashboard(db, utcnow() - timedelta(days=days))


# --- the gateway ------------------------------------------------------------------------------


def _readers(app: FastAPI) -> sessionmaker[Session]:
    """The sessions the gateway decides in (:func:`shuhui.core.db.reads_factory`), made once
    per app."""
    found: sessionmaker[Session] | None = getattr(app.state, "channel_readers", None)
    if found is None:
        found = app.state.channel_readers = reads_factory(app.state.engine)
    return found


def _decide(app: FastAPI, api_key: str | None, product: str, called: Any) -> calls.Pending:
    with transaction(_readers(app)) as db:
        return gateway.decide_call(
            db,
            app.state.city_channel,
            engine_of(app),
            api_key=api_key,
            product_code=product,
            payload=called,
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
    city = app.state.city_channel
    product = city.products.get(code) or city.hosted.peek(code)
    if product is None or product.kind == "open":
        return False
    return engine_of(app).ready(product, local_today(utcnow()))


# The body is bounded in size before this reads it; its JSON is checked here (depth, strings),
# not by the middleware, so that a malformed call is refused like any other: metered, recorded.
@accepts(own_json=True)
async def call_product(request: Request, product: str) -> Response:
    # A body that is not JSON is answered as a 422 naming the body, metered and in the ledger
    # once the key is known (the gateway checks what a parsed body holds).
    called: Any = payload.read(await request.body())
    app = request.app
    api_key = request.headers.get("x-api-key")
    if _decides_at_once(app, product):
        pending = _decide(app, api_key, product, called)
    else:
        # The channel's own threads: a plain executor hands work over with less overhead than
        # the general thread pool (about 5 % of a call's CPU, measured).
        pending = await asyncio.get_running_loop().run_in_executor(
            app.state.channel_deciders, _decide, app, api_key, product, called
        )
    # Recorded by the process's writer with the calls waiting alongside (shuhui.channel.writes).
    outcome: calls.Outcome = await asyncio.wrap_future(app.state.channel_writer.submit(pending))
    return response_of(outcome)


def response_of(outcome: calls.Outcome) -> JSONResponse:
    """A call's outcome as the gateway answers it: the answer, or the refusal's problem
    details with the problem's status; the key's limits as headers once the call counted."""
    headers = limit_headers(outcome.limits) | budget_headers(outcome.budget)
    if outcome.problem is None:
        return JSONResponse(outcome.body, status_code=200, headers=headers)
    return JSONResponse(
        outcome.body,
        status_code=outcome.problem.http_status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def limit_headers(limits: calls.Limits | None) -> dict[str, str]:
    """The rate limit and quota left, and for a call over one of them when to try again; the
    month's answered calls (what the quota counts) and its refused calls (which it does not)."""
    if limits is None:
        return {}
    headers = {
        "X-RateLimit-Limit": str(limits.rate_limit),
        "X-RateLimit-Remaining": str(limits.rate_remaining),
        "X-RateLimit-Reset": str(limits.reset_seconds),
        "X-Quota-Limit": str(limits.quota_limit),
        "X-Quota-Remaining": str(limits.quota_remaining),
        "X-Quota-Used": str(limits.quota_used),
        "X-Quota-Refused": str(limits.refused),
    }
    if limits.retry_after is not None:
        headers["Retry-After"] = str(limits.retry_after)
    return headers


def budget_headers(budget: privacy.Budget | None) -> dict[str, str]:
    """A noised product's privacy budget (ε) on the current table version, after the call."""
    if budget is None:
        return {}
    return {
        "X-Privacy-Budget-Total": privacy.shown(budget.total),
        "X-Privacy-Budget-Remaining": privacy.shown(budget.remaining),
        "X-Privacy-Epsilon-Spent": privacy.shown(budget.charged),
    }


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


# The headers a counted call answers with (OpenAPI), beside the problem or the answer.
LIMIT_HEADERS: dict[str, Any] = {
    "X-RateLimit-Limit": _header("calls a minute the key's grants allow"),
    "X-RateLimit-Remaining": _header("calls left this minute"),
    "X-RateLimit-Reset": _header("seconds until this minute's window closes"),
    "X-Quota-Limit": _header("calls a month the key's grants allow"),
    "X-Quota-Remaining": _header("calls left this month"),
    "X-Quota-Used": _header("calls answered this month (only answers spend the quota)"),
    "X-Quota-Refused": _header("calls refused this month (not counted in the quota)"),
}
BUDGET_HEADERS: dict[str, Any] = {
    "X-Privacy-Budget-Total": _header(
        "noised products: the ε the grant allows on this product per version of its tables"
    ),
    "X-Privacy-Budget-Remaining": _header("noised products: the ε left on the current version"),
    "X-Privacy-Epsilon-Spent": _header(
        "noised products: the ε this call spent (0 when a query already answered is answered "
        "again, identically)"
    ),
}


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; refusals also carry `reason` (a stable code) and "
    "`reason_zh`",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "reason": {"type": "string", "enum": [r.value for r in calls.Refusal]},
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


def _responses(noised: bool) -> dict[int | str, dict[str, Any]]:
    """The answers a product's endpoint gives; ``noised``: it spends a privacy budget."""
    budget = BUDGET_HEADERS if noised else {}

    def problem(slug: str, why: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "description": f"{PROBLEM_TYPES[slug].title}: {why}",
            "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
            "headers": headers or {},
        }

    return {
        200: {
            "description": "The computed answer, its grant and its SHA-256",
            "headers": {**LIMIT_HEADERS, **budget},
        },
        401: problem("unauthenticated", "no key, a wrong, revoked or expired key"),
        403: problem(
            "forbidden",
            "outside the grant's products or purpose, not a zone member, or "
            "(authorisation-refused) without the subject's authorisation, or "
            "(privacy-budget-spent) a noised product's privacy budget spent on the current "
            "version of its tables",
            {**LIMIT_HEADERS, **budget},
        ),
        404: problem("not-found", "no such product", LIMIT_HEADERS),
        422: problem(
            "validation",
            "the body is not JSON or holds what no call may (nesting deeper than 8, a lone "
            "surrogate or NUL, an integer outside 64 bits), or a parameter is missing or "
            "malformed; `errors` names it",
            LIMIT_HEADERS,
        ),
        429: problem(
            "rate-limited",
            "rate limit or monthly quota used up; see Retry-After",
            {**LIMIT_HEADERS, "Retry-After": _header("seconds until a call may succeed")},
        ),
    }


def _endpoint(code: str) -> Callable[[Request], Awaitable[Response]]:
    @accepts(own_json=True)
    async def endpoint(request: Request) -> Response:
        return await call_product(request, code)

    endpoint.__name__ = f"call_{code.replace('-', '_')}"
    return endpoint


def gateway_router(city: CityChannel) -> APIRouter:
    """One documented endpoint per product (its parameters in the request schema), and a
    catch-all that answers unknown products the same way (metered, in the ledger)."""
    router = APIRouter(prefix="/api/v1/channel/products", tags=["data channel: products"])
    for product in city.products:
        schema = {
            "type": "object",
            "required": ["purpose", "params"],
            "properties": {
                "purpose": {
                    "type": "string",
                    "pattern": calls.PURPOSE_PATTERN,
                    "description": "the grant's approved purpose, word for word "
                    "(用途须与获批用途一字不差)",
                },
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
                f"{product.provider}. Needs `X-API-Key`.\n\nThe purpose rule: the call's "
                "`purpose` must be the grant's approved purpose word for word (spaces "
                "collapsed), and for a product about one person also the purpose of that "
                "person's signed certificate-use authorisation naming you; any other text is "
                "refused (403 `purpose-mismatch` or `authorisation-refused`). 用途须与数据局批准"
                f"的用途、与本人用证授权中的用途一字不差。{consent}"
            ),
            responses=_responses(
                product.kind == "aggregate" and product.privacy.epsilon is not None
            ),
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
